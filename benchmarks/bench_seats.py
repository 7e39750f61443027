"""Speed and memory of the seat allocation over simulated draws (Chamber + Senate).

Run: .venv/bin/python benchmarks/bench_seats.py [--draws 10000]

Draws are the official 2018 inputs with each party's votes scaled by a random factor (sd 15%)
and district / state seats re-dealt at random around the official ones, so that caps and
thresholds bind in some draws and not in others. Prints wall time and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.seats import allocate_chamber, allocate_senate

RESULTS = Path(__file__).resolve().parents[1] / "polls" / "mx2018" / "results"


def _deal(rng: np.random.Generator, expected: np.ndarray, total: int, n: int) -> np.ndarray:
    """Seats per party per draw: multinomial around the official shares, summing to total."""
    p = (expected + 0.5) / (expected + 0.5).sum()
    return rng.multinomial(total, p, size=n)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.draws
    dep = pd.read_csv(RESULTS / "deputies_2018_allocate_input.csv", keep_default_na=False)
    sen = pd.read_csv(RESULTS / "senate_2018_allocate_input.csv", keep_default_na=False)
    dep = dep[~dep["party"].isin(["independent", "unregistered", "null"])]
    sen = sen[~sen["party"].isin(["independent", "unregistered", "null"])]
    dep_votes = np.rint(dep["votes"].to_numpy() * rng.lognormal(0, 0.15, (n, len(dep))))
    sen_votes = np.rint(sen["votes"].to_numpy() * rng.lognormal(0, 0.15, (n, len(sen))))
    districts = _deal(rng, dep["district_seats"].to_numpy(), 300, n)
    plurality = _deal(rng, sen["plurality_seats"].to_numpy(), 64, n)
    minority = _deal(rng, sen["first_minority_seats"].to_numpy(), 32, n)
    tracemalloc.start()
    start = time.perf_counter()
    chamber = allocate_chamber(dep_votes.astype(np.int64), districts)
    senate = allocate_senate(sen_votes.astype(np.int64), plurality, minority)
    wall = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total_c = np.asarray(chamber.total_seats).sum(axis=1)
    total_s = np.asarray(senate.total_seats).sum(axis=1)
    print(f"{n} draws of Chamber (500) + Senate (128) allocation: {wall:.3f} s; "
          f"peak traced memory {peak / 2**20:.1f} MiB; process max RSS {rss:.0f} MiB")
    print(f"check: Chamber totals all 500: {bool((total_c == 500).all())}; "
          f"Senate totals all 128: {bool((total_s == 128).all())}")


if __name__ == "__main__":
    main()
