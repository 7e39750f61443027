"""Election-day polling error of the model itself, election by election (docs/calibration.md).

For each election folder given, fit the presidential model as of its last poll, read the latent
support of the ballot on that date (posterior mean of the log-shares; its posterior sd too) and
compare it with the official result, renormalised over the candidates the model covers. Prints
one row per candidate: share in the model and in the result, the centred log-ratio error
``c = log(result / model) - mean`` (what the model's election-day error term must cover), the
posterior sd of the model's log-share, and the days from the as-of date to election day.

    .venv/bin/python benchmarks/polling_error_calibration.py polls/mx2000 polls/mx2006 \\
        polls/mx2012 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecast.backtest import read_results, results_path  # noqa: E402
from forecast.election import load_election  # noqa: E402
from forecast.fit import fit, latent_on  # noqa: E402
from forecast.polls import read_polls  # noqa: E402
from forecast.spec import ModelSpec  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("elections", nargs="+")
    parser.add_argument("--json", default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rows = []
    for directory in args.elections:
        rows += model_errors(directory, seed=args.seed)
    print(f"{'election':<9}{'cand':<12}{'model':>7}{'actual':>8}{'clr err':>9}{'post sd':>9}"
          f"{'days':>6}")
    for r in rows:
        print(f"{r['election']:<9}{r['candidate']:<12}{100 * r['model_share']:>7.1f}"
              f"{100 * r['actual_share']:>8.1f}{r['clr_error']:>+9.3f}{r['posterior_sd']:>9.3f}"
              f"{r['days_out']:>6}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
