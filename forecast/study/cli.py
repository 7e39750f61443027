"""The ``forecast study`` command (also ``python -m forecast.study``)."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import xarray as xr

from ..files import atomic_write_bytes
from ..problems import InputError
from ..report.study_chart import _factor_dims, plot_study, scenario_labels
from ..report.study_page import study_page, study_styles
from .files import load_study, save_study

EXIT_INPUT = 2
EXIT_RUNTIME = 1
EXIT_NOT_CONVERGED = 3


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast study",
        description="Run a sensitivity study (base configuration x factors) and save one "
                    "netCDF dataset with a dimension per factor, plus a comparison chart (PNG "
                    "next to it). Format: docs/studies.md.")
    parser.add_argument("spec", metavar="SPEC.toml", help="study specification (TOML)")
    parser.add_argument("--out", required=True, metavar="FILE.nc",
                        help="result file (netCDF); the chart is written next to it as .png")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:8786): run the fits there")
    parser.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                        help="local processes (default: cores // min(chains, cores), at "
                             "least 1: each fit samples its chains on parallel threads; "
                             "1 = serial)")
    parser.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                        help="draws per chain (overrides [base])")
    parser.add_argument("--tune", type=_positive_int, default=None, metavar="N",
                        help="tuning steps per chain (overrides [base])")
    parser.add_argument("--chains", type=_positive_int, default=None, metavar="N",
                        help="chains (overrides [base])")
    parser.add_argument("--max-fits", type=_positive_int, default=None, metavar="N",
                        help="refuse a study that plans more fits than this (default 100: "
                             "each fit takes 15-40 s)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 3 when any scenario's fit fails its convergence checks")
    return parser


def format_table(ds: xr.Dataset) -> str:
    """P(win) per scenario and candidate, as a text table."""
    dims = _factor_dims(ds)
    candidates = [str(c) for c in ds["candidate"].values]
    n = int(np.prod([ds.sizes[d] for d in dims])) if dims else 1
    p = ds["p_win"].transpose(*dims, "candidate").values.reshape(n, len(candidates))
    ok = ds["converged"].values.reshape(n)
    used = ds["polls_used"].values.reshape(n)
    labels = scenario_labels(ds)
    width = max(len("scenario"), *(len(s) for s in labels))
    head = f"{'scenario':<{width}}  " + "".join(f"{c[:10]:>11}" for c in candidates)
    lines = [head + f"{'polls':>7}  converged", "-" * (len(head) + 18)]
    for i, label in enumerate(labels):
        row = f"{label:<{width}}  " + "".join(f"{x:>11.1%}" for x in p[i])
        lines.append(row + f"{used[i]:>7}  {'yes' if ok[i] else 'NO'}")
    if "seats" in ds and "chamber" in ds.dims:
        lines += ["", _seat_table(ds, dims, labels, width)]
    return "\n".join(lines)


def _seat_table(ds: xr.Dataset, dims: list[str], labels: list[str], width: int) -> str:
    """Median seats and P(two-thirds) per scenario, chamber and coalition; and the president's
    coalition's P(two-thirds) per chamber."""
    chambers = [str(c) for c in ds["chamber"].values]
    coalitions = [str(c) for c in ds["coalition"].values]
    qdim = next(d for d in ds["seats"].dims if d not in (*dims, "chamber", "coalition"))
    qs = [str(q) for q in ds[qdim].values]
    mid = qs.index("q50") if "q50" in qs else qs.index("0.5")
    n = len(labels)
    seats = ds["seats"].transpose(*dims, "chamber", "coalition", qdim).values.reshape(
        n, len(chambers), len(coalitions), len(qs))[..., mid]
    two = (ds["p_two_thirds"].transpose(*dims, "chamber", "coalition").values.reshape(
        n, len(chambers), len(coalitions)) if "p_two_thirds" in ds else None)
    pres = (ds["p_president_two_thirds"].transpose(*dims, "chamber").values.reshape(
        n, len(chambers)) if "p_president_two_thirds" in ds else None)
    cols = [f"{ch[:3]} {k[:5]}" for ch in chambers for k in coalitions]
    head = f"{'median seats (P two-thirds)':<{width}}  " + "".join(f"{c:>14}" for c in cols)
    if pres is not None:
        head += "".join(f"{'pres. 2/3 ' + ch[:3]:>15}" for ch in chambers)
    lines = [head, "-" * len(head)]
    for i, label in enumerate(labels):
        row = f"{label:<{width}}  "
        for j in range(len(chambers)):
            for k in range(len(coalitions)):
                cell = f"{seats[i, j, k]:.0f}"
                if two is not None:
                    cell += f" ({two[i, j, k]:.0%})"
                row += f"{cell:>14}"
        if pres is not None:
            row += "".join(f"{pres[i, j]:>15.1%}" for j in range(len(chambers)))
        lines.append(row)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``forecast study``; returns the exit code (0, 1 cluster, 2 input, 3)."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.scheduler and args.workers is not None:
        parser.error("--workers sets local processes; with --scheduler the cluster's workers "
                     "run the scenarios")
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                 ("chains", args.chains)) if v is not None}
    try:
        study = load_study(args.spec, spec_changes=changes, max_fits=args.max_fits)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"forecast study: {errors} error(s) in the input; nothing was written",
              file=sys.stderr)
        return EXIT_INPUT
    n = len(study.scenario_list)
    where = (f"Dask scheduler {args.scheduler}" if args.scheduler else
             "1 process" if args.workers == 1 else
             f"{study.local_workers(args.workers)} local process(es)")
    estimate = "" if args.scheduler else (
        f"; about {study.estimate_seconds(study.local_workers(args.workers)) / 60:.0f} min "
        "(an estimate)")
    print(f"study {args.spec}: {n} scenario(s), {len(study.groups)} fit(s), on {where}"
          f"{estimate}", file=sys.stderr)
    start = time.perf_counter()
    try:
        ds = study.run(client=args.scheduler, workers=args.workers)
    except (OSError, TimeoutError) as exc:
        if not args.scheduler:
            raise
        print(f"forecast study: cannot use the Dask scheduler {args.scheduler}: {exc}",
              file=sys.stderr)
        return EXIT_RUNTIME
    seconds = time.perf_counter() - start
    for record in study.fit_records:
        print(record.describe(), file=sys.stderr)
    out = save_study(ds, args.out)
    cand, coal = study_styles(ds)
    png = plot_study(ds, out.with_suffix(".png"), style=cand)
    page = out.with_suffix(".html")
    atomic_write_bytes(page, study_page(ds, cand=cand, coal=coal))
    print(format_table(ds))
    print(f"\n{n} scenario(s) in {seconds:.1f} s; wrote {out}, {png} and {page}")
    bad = int((~ds["converged"].values.astype(bool)).sum())
    if bad:
        print("\n" + "!" * 72 + f"\nWARNING: {bad} of {n} scenario(s) DID NOT CONVERGE — their "
              "results are not reliable (see max_rhat, divergences, min_ess_bulk).\n"
              + "!" * 72, file=sys.stderr)
        if args.strict:
            return EXIT_NOT_CONVERGED
    return 0

