"""Refit speed: compile once vs per refit, refit after one new poll, the weekly timeline.

Run: .venv/bin/python benchmarks/bench_refit.py [--draws N] [--tune N]
         [--target-accept P] [--timeline] [--workers 1 2 ...]

Prints: the first fit's compile and sampling time; a refit after one new poll (same process, the
compiled model reused through pm.Data) with its compile time and ESS; and, with --timeline, the
wall time of the weekly as-of fits of the 2018 campaign (forecast/timeline.py) for each number
of worker processes given (1 = serial in this process), with how many fits converged and how
many compiles each run paid.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from forecast.election import load_election
from forecast.fit import fit
from forecast.polls import read_polls
from forecast.spec import load_spec
from forecast.timeline import run_timeline, weekly_dates

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--tune", type=int, default=None)
    parser.add_argument("--target-accept", type=float, default=None)
    parser.add_argument("--timeline", action="store_true")
    parser.add_argument("--workers", type=int, nargs="*", default=[2])
    parser.add_argument("--skip-refit", action="store_true")
    args = parser.parse_args()
    election_dir = ROOT / "polls" / "mx2018"
    election = load_election(election_dir)
    polls = read_polls(election.poll_path, election)
    spec = load_spec(ROOT / "models" / "president.toml")
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                 ("target_accept", args.target_accept)) if v}
    spec = spec.with_(**changes)
    print(f"2018 data, {len(polls.table)} polls, {spec.chains} chains x {spec.draws} draws "
          f"(tune {spec.tune}), {os.cpu_count()} cores")
    if not args.skip_refit:
        _refit(polls, election, spec)
    if args.timeline:
        dates = weekly_dates(polls, election)
        for workers in args.workers:
            start = time.perf_counter()
            frame = run_timeline(election_dir, dates, out_dir=ROOT / "reports", seed=1,
                                 spec_changes=changes or None, progress=False, workers=workers)
            wall = time.perf_counter() - start
            records = run_timeline.fit_records
            compiles = sum(r.compile_seconds > 1.0 for r in records)
            converged = frame.groupby("as_of")["converged"].first().sum()
            print(f"timeline: {len(dates)} weekly as-of fits ({dates[0]} ... {dates[-1]}), "
                  f"{workers} worker process(es): {wall:.0f} s ({wall / len(dates):.1f} s per "
                  f"fit); {converged} of {len(dates)} converged; {compiles} compiles "
                  f"({sum(r.compile_seconds for r in records):.0f} s), sampling "
                  f"{sum(r.fit_seconds - r.compile_seconds for r in records):.0f} s")
        print(pd.pivot_table(frame, index="as_of", columns="candidate", values="p_win")
              .round(3).to_string())
        print(frame.groupby("as_of")[["converged", "polls_used"]].first().to_string())


def _refit(polls, election, spec) -> None:
    # All polls but the last one, then all of them: a refit after one new poll.
    last_end = polls.table["field_end"].max()
    before = replace(polls, table=polls.table.iloc[:-1].reset_index(drop=True))
    as_of = last_end.date()
    start = time.perf_counter()
    first = fit(before, election, spec, as_of=as_of, seed=1, progress=False)
    first_wall = time.perf_counter() - start
    start = time.perf_counter()
    refit = fit(polls, election, spec, as_of=as_of, seed=1, progress=False)
    refit_wall = time.perf_counter() - start
    d1, d2 = first.diagnostics, refit.diagnostics
    print(f"first fit ({len(before.table)} polls): {first_wall:.1f} s "
          f"(compile {d1.compile_seconds:.1f} s, sampling {first_wall - d1.compile_seconds:.1f} s)")
    print(f"refit after one new poll ({len(polls.table)} polls): {refit_wall:.1f} s "
          f"(compile {d2.compile_seconds:.1f} s), min ESS bulk election-day shares "
          f"{d2.min_ess_bulk:.0f}, max R-hat {d2.max_rhat:.4f}, divergences {d2.divergences}, "
          f"mean tree depth {d2.mean_tree_depth:.2f}")
    print(f"compile once: {d1.compile_seconds:.1f} s; per refit: {d2.compile_seconds:.2f} s")


if __name__ == "__main__":
    main()
