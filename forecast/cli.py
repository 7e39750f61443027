"""The ``forecast`` command. Thin: parses arguments and calls the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .dates import iso_date
from .problems import InputError

DEFAULT_ELECTION = "polls/mx2018"
DEFAULT_SEED = 20180701
EXIT_INPUT = 2
EXIT_NOT_CONVERGED = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast",
        description="Bayesian election forecasting: polls -> fit -> simulate -> report.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("election_dir", nargs="?", default=DEFAULT_ELECTION,
                       help=f"election folder (default {DEFAULT_ELECTION})")
        p.add_argument("--out", default="reports", help="output folder (default reports/)")
        p.add_argument("--seed", type=int, default=None,
                       help="random seed (default 20180701; update: the forecast's own)")
        p.add_argument("--model", default=None, help="model spec TOML (default "
                       "models/president.toml)")
        p.add_argument("--draws", type=int, default=None, help="draws per chain (override)")
        p.add_argument("--tune", type=int, default=None, help="tuning steps per chain (override)")
        p.add_argument("--chains", type=int, default=None, help="chains (override)")

    run = sub.add_parser("run", help="fit, simulate and write the report")
    common(run)
    run.add_argument("--as-of", type=iso_date, default=None,
                     help="use only polls whose fieldwork ended by this date")
    run.add_argument("--no-congress", action="store_true",
                     help="skip the Congress projection (party polls and seats)")
    run.add_argument("--no-governors", action="store_true",
                     help="skip the governor races (state polls)")
    run.add_argument("--strict", action="store_true",
                     help="exit non-zero (3) when the fit fails its convergence checks")

    tl = sub.add_parser("timeline", help="fit as of a series of dates; store P(win) over time")
    common(tl)
    tl.add_argument("--every", type=int, default=7, help="days between as-of dates")
    tl.add_argument("--start", type=iso_date, default=None)
    tl.add_argument("--end", type=iso_date, default=None)
    tl.add_argument("--dates", type=iso_date, nargs="*", default=None, help="explicit dates")
    tl.add_argument("--workers", type=int, default=None,
                    help="local processes (default: cores / cores used by one fit)")
    tl.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://...)")

    up = sub.add_parser("update", help="refit after new polls and re-render the report "
                        "(adds this as-of point to timeline.csv when a timeline exists)")
    common(up)
    up.add_argument("--strict", action="store_true")
    up.add_argument("--no-congress", action="store_true")
    up.add_argument("--no-governors", action="store_true")

    polls = sub.add_parser("polls", help="manage poll files")
    polls_sub = polls.add_subparsers(dest="polls_command", required=True)
    add = polls_sub.add_parser("add", help="validate new rows and append them atomically")
    add.add_argument("election_dir")
    add.add_argument("rows", help="CSV of new polls in the poll file's own columns")

    rep = sub.add_parser("report", help="re-simulate and re-write the report from a saved fit")
    rep.add_argument("--fit", default="reports/fit.nc", help="saved fit (netCDF)")
    rep.add_argument("--out", default="reports")
    rep.add_argument("--seed", type=int, default=None,
                     help="seed of the simulation (default: the forecast's own)")
    rep.add_argument("--election-dir", default=None)

    val = sub.add_parser("validate", help="check an election's definition and poll file")
    val.add_argument("election_dir", nargs="?", default=DEFAULT_ELECTION)

    ini = sub.add_parser("init", help="write a commented template election folder to fill in "
                         "(docs/new-election.md)")
    ini.add_argument("election_dir", help="the new election folder")
    ini.add_argument("--key", default=None, help="election key (default: from the folder name)")
    ini.add_argument("--name", default=None, help="display name")

    sub.add_parser("backtest", help="score forecasts against official results; several "
                   "elections give a calibration table (forecast backtest DIR [DIR ...] "
                   "[--days-before N | --as-of DATE ...] [--json])")
    sub.add_parser("study", help="sensitivity study: scenarios x factors -> xarray netCDF "
                   "(forecast study SPEC.toml --out FILE.nc [--scheduler tcp://...])")
    seats = sub.add_parser("seats", help="seat allocation under the electoral law")
    seats.add_argument("seats_args", nargs=argparse.REMAINDER)
    return parser


def _overrides(args: argparse.Namespace) -> dict:
    return {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                              ("chains", args.chains)) if v is not None}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``forecast`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["seats", "allocate"]:
        from .seats.allocate_cli import main as allocate_main

        return allocate_main(argv[2:])
    if argv[:1] == ["backtest"]:
        from .backtest import main as backtest_main

        return backtest_main(argv[1:])
    if argv[:1] == ["study"]:
        from .study import main as study_main

        return study_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "init":
            from .init import init_election

            made = init_election(args.election_dir, key=args.key, name=args.name)
            print(f"wrote {', '.join(p.name for p in made.files)} in {made.directory} (election "
                  f"{made.key}); next: fill in election.toml, then run `forecast validate "
                  f"{made.directory}` and follow what it asks for (docs/new-election.md)")
            return 0
        if args.command == "run":
            return _run(args)
        if args.command == "timeline":
            return _timeline(args)
        if args.command == "update":
            return _update(args)
        if args.command == "polls":
            from .poll_file import add_polls

            added = add_polls(args.election_dir, args.rows)
            for warning in added.warnings:
                print(warning, file=sys.stderr)
            print(f"added {added.rows} poll(s) to {added.poll_file}: {added.polls_before} -> "
                  f"{added.polls_after} polls")
            return 0
        if args.command == "report":
            from .pipeline import rereport

            forecast = rereport(args.fit, args.out, seed=args.seed,
                                election_dir=args.election_dir)
            print(f"report written to {Path(args.out) / 'index.html'} (as of "
                  f"{forecast.as_of})")
            return 0
        if args.command == "seats":
            print("usage: forecast seats allocate --chamber deputies|senate --votes FILE "
                  "[--rules FILE | --year 2018|2021|2024]", file=sys.stderr)
            return EXIT_INPUT
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"forecast: {errors} error(s) in the input; nothing was written", file=sys.stderr)
        return EXIT_INPUT
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .engine import load_inputs
    from .stages import Options

    inputs = load_inputs(args.election_dir, Options(congress=False, governors=False)
                         ).stage("president")
    for w in inputs.polls.warnings:
        print(w, file=sys.stderr)
    print(f"{inputs.polls.path}: {len(inputs.polls)} polls OK "
          f"({len(inputs.polls.warnings)} warning(s))")
    return 0


def _print_summary(summary: dict) -> None:
    print(f"\n{summary['election']} — forecast as of {summary['as_of']} "
          f"({summary['polls_used']} polls)")
    print(f"{'candidate':<14}{'P(win)':>8}{'total q05':>11}{'q50':>8}{'q95':>8}"
          f"{'valid q50':>11}")
    for key, c in sorted(summary["candidates"].items(), key=lambda kv: -kv[1]["p_win"]):
        st = c["share_total"]
        print(f"{key:<14}{c['p_win']:>8.1%}{st['q05']:>11.1%}{st['q50']:>8.1%}{st['q95']:>8.1%}"
              f"{c['share_valid']['q50']:>11.1%}")
    print(f"P(winner under a third of the total vote): {summary['p_winner_under_third']:.1%}")
    chambers = summary.get("chambers")
    if chambers:
        print(f"\n{'seats':<14}{'chamber':<10}{'q05':>6}{'q50':>6}{'q95':>6}"
              f"{'P(majority)':>13}{'P(2/3)':>9}")
        for chamber in ("deputies", "senate"):
            for key, c in chambers[chamber]["coalitions"].items():
                q = c["seats"]
                print(f"{key:<14}{chamber:<10}{q['q05']:>6.0f}{q['q50']:>6.0f}{q['q95']:>6.0f}"
                      f"{c['p_majority']:>13.1%}{c['p_two_thirds']:>9.1%}")
    governors = summary.get("governors")
    if governors:
        print("\ngovernors: P(win) of the favourite per state")
        for state, v in governors.items():
            if isinstance(v, dict) and "p_win" in v:
                lead = max(v["p_win"], key=v["p_win"].get)
                print(f"  {state:<12}{lead:<6}{v['p_win'][lead]:>7.1%}  "
                      f"({v['polls_used']} polls)")
        for key, c in governors["count"].items():
            if c["mean"] >= 0.05:
                print(f"  count {key:<6} median {c['q50']:.0f} (90%: {c['q05']:.0f}–"
                      f"{c['q95']:.0f}), P(>= 5) {c['p_at_least'][5]:.1%}")


def _describe(d: dict) -> str:
    state = "converged" if d["converged"] else "NOT CONVERGED"
    return (f"fit {state}: max R-hat {d['max_rhat']:.4f}, divergences {d['divergences']}, "
            f"min ESS bulk (election-day shares) {d['min_ess_bulk']:.0f}, "
            f"{d['chains']}x{d['draws']} draws in {d['fit_seconds']:.1f} s")


def _report_diagnostics(diagnostics) -> None:
    print(diagnostics.describe())
    if not diagnostics.converged:
        print("\n" + "!" * 72 + "\nWARNING: THE MODEL DID NOT CONVERGE — the forecast below is "
              "not reliable.\n" + "\n".join(diagnostics.problems) + "\n" + "!" * 72,
              file=sys.stderr)


def _print_warnings(summary: dict) -> None:
    warnings = summary["poll_warnings"]
    if warnings:
        print(f"{len(warnings)} poll-file warning(s) (treatments applied; see the report):",
              file=sys.stderr)
        for w in warnings[:5]:
            print(f"  {w}", file=sys.stderr)
        if len(warnings) > 5:
            print(f"  ... and {len(warnings) - 5} more", file=sys.stderr)


def _print_forecast(forecast, out: str) -> bool:
    """Terminal output of a forecast; returns whether every fit converged."""
    summary = forecast.summary
    _print_warnings(summary)
    ok = True
    for name, result in forecast.results.items():
        d = result.fit.diagnostics
        label = {"president": "", "congress": "party polls: ",
                 "governors": "state polls (governors): "}.get(name, f"{name}: ")
        if result.reused:
            print(f"{label}fit reused from {out} (same polls, settings and seed): "
                  f"{'converged' if d.converged else 'NOT CONVERGED'}, max R-hat "
                  f"{d.max_rhat:.4f}")
        else:
            print(label, end="")
            _report_diagnostics(d)
        ok = ok and d.converged
    _print_summary(summary)
    print(f"\nreport: {Path(out) / 'index.html'}")
    return ok


def _run(args: argparse.Namespace) -> int:
    from .pipeline import run

    seed = DEFAULT_SEED if args.seed is None else args.seed
    forecast = run(args.election_dir, as_of=args.as_of, out_dir=args.out, seed=seed,
                   model_file=args.model, spec_changes=_overrides(args),
                   congress=not getattr(args, "no_congress", False),
                   governors=not getattr(args, "no_governors", False))
    ok = _print_forecast(forecast, args.out)
    if args.strict and not ok:
        return EXIT_NOT_CONVERGED
    return 0


def _update(args: argparse.Namespace) -> int:
    from .pipeline import update

    plan, previous, forecast = update(args.election_dir, out_dir=args.out, seed=args.seed,
                                      model_file=args.model, spec_changes=_overrides(args),
                                      congress=not args.no_congress,
                                      governors=not args.no_governors)
    if forecast is None:
        print(f"no new polls since the forecast as of {plan.previous_as_of}: nothing to do "
              f"({Path(args.out) / 'index.html'} is up to date)")
        return 0
    ok = _print_forecast(forecast, args.out)
    if args.strict and not ok:
        return EXIT_NOT_CONVERGED
    return 0


def _timeline(args: argparse.Namespace) -> int:
    from .engine import load_inputs
    from .stages import Options
    from .timeline import run_timeline, weekly_dates

    inputs = load_inputs(args.election_dir, Options(model_file=args.model, congress=False,
                                                    governors=False)).stage("president")
    dates = args.dates or weekly_dates(inputs.polls, inputs.election, every_days=args.every,
                                       start=args.start, end=args.end)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    frame = run_timeline(args.election_dir, dates, out_dir=args.out, seed=seed,
                         model_file=args.model, spec_changes=_overrides(args),
                         client=args.scheduler, workers=args.workers)
    wide = frame.pivot(index="as_of", columns="candidate", values="p_win")
    print(wide.to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"timeline written to {Path(args.out) / 'timeline.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
