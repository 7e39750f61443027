"""Full simulation-based calibration run: prints coverage and rank-uniformity figures.

Run: .venv/bin/python benchmarks/calibration.py [--replications 100] [--design synthetic|mx2018]
     [--out benchmarks/out/calibration]

The design is a poll schedule (dates, pollsters, modes, sample sizes, candidate sets, a
withdrawal): `synthetic` is a 60-poll election from forecast.synthetic, `mx2018` the real 2018
schedule. Prints, per group of quantities (election-day shares, house effects, random-walk sd):
50% and 90% interval coverage and the chi-square p-value of the rank histogram; writes the ranks
(netCDF) and the rank histograms (PNG).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from forecast.calibration import plot_rank_histograms, run_calibration, summarize_calibration
from forecast.election import load_election
from forecast.model import prepare
from forecast.polls import read_polls
from forecast.spec import load_spec
from forecast.synthetic import write_synthetic_election

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--design", choices=["synthetic", "mx2018"], default="synthetic")
    # Default: the shipped sampler schedule (models/president.toml), so the figures are the
    # shipped model's.
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--tune", type=int, default=None)
    parser.add_argument("--chains", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "calibration"))
    args = parser.parse_args()
    if args.design == "synthetic":
        directory = Path(tempfile.mkdtemp()) / "synthetic"
        write_synthetic_election(directory, seed=args.seed, n_polls=60, days=120)
    else:
        directory = ROOT / "polls" / "mx2018"
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    spec = load_spec(ROOT / "models" / "president.toml")
    spec = spec.with_(**{k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                           ("chains", args.chains)) if v is not None})
    data = prepare(polls, election, spec)
    start = time.perf_counter()
    result = run_calibration(data, election, spec, replications=args.replications,
                             seed=args.seed, progress=True)
    seconds = time.perf_counter() - start
    summary = summarize_calibration(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.to_netcdf(out / "sbc_ranks.nc")
    plot_rank_histograms(result, out / "sbc_rank_histograms.png")
    (out / "sbc_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"design: {args.design} ({len(data.polls)} polls), replications: {args.replications}, "
          f"{spec.chains}x{spec.draws} draws (tune {spec.tune}), {seconds:.0f} s")
    print(f"converged fits: {summary['converged']}/{summary['replications']} (median max R-hat "
          f"{summary['max_rhat_median']:.4f}; fits with divergences: "
          f"{summary['with_divergences']})")
    for group in ("vote_share_valid", "house_effect", "random_walk_sd"):
        g = summary[group]
        print(f"{group:>18}: n={g['values']:>5}  coverage 50% {g['coverage_50']:.3f}  "
              f"90% {g['coverage_90']:.3f}  rank-uniformity chi2 p={g['chi2_pvalue']:.3f}  "
              f"histogram {g['rank_histogram']}")


if __name__ == "__main__":
    main()
