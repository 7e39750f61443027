"""Refit speed: compile once vs per refit, refit after one new poll, the weekly timeline.

Run: .venv/bin/python benchmarks/bench_refit.py [--timeline] [--draws N]

Prints: the first fit's compile and sampling time; a refit after one new poll (same process, the
compiled model reused through pm.Data) with its ESS; and, with --timeline, the wall time of the
weekly as-of fits of the 2018 campaign.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from forecast.election import load_election
from forecast.fit import fit
from forecast.pipeline import timeline, weekly_dates
from forecast.polls import read_polls
from forecast.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--timeline", action="store_true")
    args = parser.parse_args()
    election_dir = ROOT / "polls" / "mx2018"
    election = load_election(election_dir)
    polls = read_polls(election.poll_path, election)
    spec = load_spec(ROOT / "models" / "president.toml")
    if args.draws:
        spec = spec.with_(draws=args.draws)
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
          f"{d2.min_ess_bulk:.0f}, max R-hat {d2.max_rhat:.4f}, divergences {d2.divergences}")
    if args.timeline:
        dates = weekly_dates(polls, election)
        start = time.perf_counter()
        frame = timeline(election_dir, dates, out_dir=ROOT / "reports", seed=1, progress=False)
        wall = time.perf_counter() - start
        converged = frame.groupby("as_of")["converged"].first().sum()
        print(f"timeline: {len(dates)} weekly as-of fits in {wall:.0f} s "
              f"({wall / len(dates):.1f} s per fit; {converged} converged); "
              f"written to reports/timeline.csv")
        print(pd.pivot_table(frame, index="as_of", columns="candidate", values="p_win")
              .round(3).to_string())


if __name__ == "__main__":
    main()
