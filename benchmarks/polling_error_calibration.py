"""Election-day polling error of the model itself, election by election (docs/calibration.md).

For each election folder given, fit the presidential model as of its last poll, read the latent
support of the ballot on that date (posterior mean of the log-shares; its posterior sd too) and
compare it with the official result, renormalised over the candidates the model covers. Prints
one row per candidate: share in the model and in the result, the centred log-ratio error
``c = log(result / model) - mean`` (what the model's election-day error term must cover), the
posterior sd of the model's log-share, and the days from the as-of date to election day.

    .venv/bin/python benchmarks/polling_error_calibration.py polls/mx2000 polls/mx2006 \\
        polls/mx2012 polls/mx2018 --record polls/mx-record/presidential/model_errors.csv

``--scales`` (without elections: from the record) prints the scale fitted to 2000-2012 (the
shipped models/president.toml, which forecasts 2018) and, leaving one election out at a time,
the scale each past election's backtest uses; ``--write-models`` writes those into
models/mx/president-<year>.toml (the model_file of polls/mx<year>). 2018 joins the record for
later elections and for the backtests of earlier ones, never for its own forecast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecast.backtest import read_results, results_path  # noqa: E402
from forecast.election import load_election  # noqa: E402
from forecast.fit import fit, latent_on  # noqa: E402
from forecast.polling_error import ErrorScale, fit_error_scale, leave_one_out  # noqa: E402
from forecast.polls import read_polls  # noqa: E402
from forecast.spec import ModelSpec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "polls" / "mx-record" / "presidential" / "model_errors.csv"
MODELS = ROOT / "models"
#: The elections before the one the shipped models/president.toml forecasts (2018).
BEFORE_2018 = ("mx2000", "mx2006", "mx2012")


def model_errors(directory: str, *, seed: int = 1, draws: int = 1000) -> list[dict]:
    """One row per ballot candidate of the model: its error against the official result."""
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    result = fit(polls, election, ModelSpec(draws=draws, tune=300, chains=4), seed=seed,
                 progress=False)
    official = read_results(results_path(election), election)
    ballot = [c for c in result.ballot if c in official.votes]
    eta = latent_on(result, result.as_of).sel(candidate=ballot).values  # (sample, candidate)
    centred = eta - eta.mean(axis=1, keepdims=True)
    model_clr = centred.mean(axis=0)
    model_sd = centred.std(axis=0)
    shares = np.exp(model_clr) / np.exp(model_clr).sum()
    votes = np.array([official.votes[c] for c in ballot], dtype=float)
    actual = votes / votes.sum()
    actual_clr = np.log(actual) - np.log(actual).mean()
    error = actual_clr - model_clr
    days = (election.election_day - result.as_of).days
    return [{"election": election.key, "candidate": c, "model_share": float(shares[i]),
             "actual_share": float(actual[i]), "clr_error": float(error[i]),
             "posterior_sd": float(model_sd[i]), "k": len(ballot), "days_out": days,
             "converged": bool(result.diagnostics.converged)}
            for i, c in enumerate(ballot)]


def _read_record(path: Path) -> list[dict]:
    import pandas as pd

    return pd.read_csv(path).to_dict("records")


def model_file_text(base: str, scale: ErrorScale, horizon: int, label: str) -> str:
    """models/president.toml with the [election_day] error scale of ``scale``."""
    lines = []
    for line in base.split("\n"):
        key = line.split("=")[0].strip()
        if key == "polling_error_sigma":
            line = f"polling_error_sigma = {scale.sigma:.3f}"
        elif key == "polling_error_log_sd":
            line = f"polling_error_log_sd = {scale.log_sd:.3f}"
        elif key == "size_exponent":
            line = f"size_exponent = {scale.exponent:.3f}"
        elif key == "horizon_days":
            line = f"horizon_days = {horizon}"
        lines.append(line)
    head = (f"# {label}: the shipped model (models/president.toml) with the election-day error "
            f"fitted to {', '.join(scale.elections)}\n# ({scale.values} candidate errors, "
            f"{scale.dof} degrees of freedom; benchmarks/polling_error_calibration.py "
            "--write-models wrote this file).\n")
    return head + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("elections", nargs="*")
    parser.add_argument("--record", default=None, help="write the rows to this CSV")
    parser.add_argument("--scales", action="store_true", help="fit the error scales")
    parser.add_argument("--write-models", action="store_true",
                        help="write models/mx/president-<year>.toml (leave-one-out scales)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rows = []
    for directory in args.elections:
        rows += model_errors(directory, seed=args.seed)
    if rows:
        print(f"{'election':<9}{'cand':<12}{'model':>7}{'actual':>8}{'clr err':>9}"
              f"{'post sd':>9}{'days':>6}")
        for r in rows:
            print(f"{r['election']:<9}{r['candidate']:<12}{100 * r['model_share']:>7.1f}"
                  f"{100 * r['actual_share']:>8.1f}{r['clr_error']:>+9.3f}"
                  f"{r['posterior_sd']:>9.3f}{r['days_out']:>6}")
    if args.record and rows:
        import pandas as pd

        pd.DataFrame(rows).to_csv(args.record, index=False, float_format="%.6g",
                                  lineterminator="\n")
    if not (args.scales or args.write_models):
        return 0
    record = rows or _read_record(RECORD)
    shipped = fit_error_scale([r for r in record if r["election"] in BEFORE_2018])
    days = [r["days_out"] for r in record if r["election"] in BEFORE_2018]
    horizon = int(round(sum(days) / len(days)))
    print(f"\nfor 2018 (from {', '.join(shipped.elections)}): sigma {shipped.sigma:.3f}, "
          f"log sd {shipped.log_sd:.3f}, size exponent {shipped.exponent:.3f}; horizon "
          f"{horizon} days (mean days from the last poll to the election)")
    loo = leave_one_out(record)
    for election, scale in loo.items():
        print(f"backtest of {election} (from {', '.join(scale.elections)}): sigma "
              f"{scale.sigma:.3f}, log sd {scale.log_sd:.3f}, exponent {scale.exponent:.3f}")
    if args.write_models:
        base = (MODELS / "president.toml").read_text(encoding="utf-8")
        (MODELS / "mx").mkdir(exist_ok=True)
        for election, scale in loo.items():
            if election == "mx2018":
                continue  # its forecast uses models/president.toml (2000-2012 only)
            year = election[2:]
            path = MODELS / "mx" / f"president-{year}.toml"
            path.write_text(model_file_text(base, scale, horizon,
                                            f"Backtest model for Mexico {year}"),
                            encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
