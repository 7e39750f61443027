"""Benchmark the 2018 presidential fit: compile time, sampling time, ESS, ESS/s, tree depth.

Run: .venv/bin/python benchmarks/bench_fit.py [--sampler nutpie|pymc] [--draws N] [--tune N]
Prints one block of figures per sampler. Compile time depends on the on-disk cache of compiled
kernels (~/.pytensor): the first run on a fresh machine is slower (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from forecast.election import load_election
from forecast.fit import fit
from forecast.polls import read_polls
from forecast.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sampler", nargs="*", default=["nutpie"], choices=["nutpie", "pymc"])
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--tune", type=int, default=None)
    parser.add_argument("--as-of", default=None)
    args = parser.parse_args()
    election = load_election(ROOT / "polls" / "mx2018")
    polls = read_polls(election.poll_path, election)
    spec = load_spec(ROOT / "models" / "president.toml")
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v}
    import datetime as dt

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    for sampler in args.sampler:
        s = spec.with_(sampler=sampler, **changes)
        start = time.perf_counter()
        result = fit(polls, election, s, as_of=as_of, seed=1, progress=False)
        wall = time.perf_counter() - start
        d = result.diagnostics
        compile_s = d.compile_seconds
        sampling = wall - compile_s if compile_s == compile_s else float("nan")
        print(f"sampler: {sampler}")
        print(f"  polls: {len(result.polls)}, as of {result.as_of}")
        print(f"  chains x draws: {d.chains} x {d.draws} (tune {s.tune})")
        print(f"  compile time: {compile_s:.1f} s")
        print(f"  sampling wall time: {sampling:.1f} s (total fit {wall:.1f} s)")
        print(f"  min ESS bulk, election-day shares: {d.min_ess_bulk:.0f}")
        print(f"  min ESS bulk, all parameters: {d.min_ess_bulk_all:.0f}")
        print(f"  ESS/s (election-day shares / total fit wall time): {d.min_ess_bulk / wall:.1f}")
        print(f"  ESS/s (all parameters / total fit wall time): {d.min_ess_bulk_all / wall:.1f}")
        print(f"  mean tree depth: {d.mean_tree_depth:.2f}")
        print(f"  max R-hat: {d.max_rhat:.4f}, divergences: {d.divergences}, "
              f"converged: {d.converged}")


if __name__ == "__main__":
    main()
