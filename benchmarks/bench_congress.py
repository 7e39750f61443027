"""Speed and memory of the full Congress projection over simulated draws.

Run: .venv/bin/python benchmarks/bench_congress.py [--draws 10000] [--fits reports]

Full projection = national vote per draw -> 300 district races and 32 Senate races (uniform swing
with state, district and race noise; siglado, unknown slots drawn) -> Chamber and Senate
allocation under the law -> the ``chambers`` summary block. With ``--fits DIR`` holding
``fit.nc`` and ``party_fit.nc`` from ``forecast run``, the national vote comes from those
posteriors (resampled to --draws); otherwise from a Dirichlet around the 2018 polls (the
projection's cost does not depend on the values). Prints wall time per stage and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import xarray as xr

from forecast.congress.definition import load_congress, load_congress_spec
from forecast.congress.project import project_congress
from forecast.congress.summary import chambers_summary

ROOT = Path(__file__).resolve().parents[1]


def _synthetic(definition, n: int, rng: np.random.Generator) -> xr.Dataset:
    parties = [*definition.parties, definition.independent]
    alpha = np.array([38, 18, 16, 4, 4, 4, 4, 2, 3, 5], dtype=float) * 10
    share = rng.dirichlet(alpha, size=n)
    blocs = np.stack([share[:, [parties.index(p) for p in r.parties]].sum(1)
                      for r in definition.coalitions.values()] + [share[:, -1]], axis=1)
    return xr.Dataset({"share": (("draw", "party"), share),
                       "bloc_share": (("draw", "bloc"), blocs)},
                      coords={"party": parties, "bloc": definition.blocs})


def _from_fits(directory: Path, definition, spec, n: int, seed: int) -> xr.Dataset:
    from forecast.congress.vote import national_vote
    from forecast.fit import load_fit

    pres = load_fit(directory / "fit.nc", ROOT / "polls" / "mx2018")
    party = load_fit(directory / "party_fit.nc", ROOT / "polls" / "mx2018" / "congress")
    nat = national_vote(pres, party, definition, spec, seed=seed)
    pick = np.random.default_rng(seed).integers(0, nat.sizes["draw"], size=n)
    return nat.isel(draw=pick).assign_coords(draw=np.arange(n))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fits", type=Path, default=None)
    args = parser.parse_args()
    definition = load_congress(ROOT / "polls" / "mx2018" / "congress")
    spec = load_congress_spec(ROOT / "models" / "congress.toml")
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    if args.fits is not None:
        national = _from_fits(args.fits, definition, spec, args.draws, args.seed)
        source = f"posteriors in {args.fits}"
    else:
        national = _synthetic(definition, args.draws, rng)
        source = "synthetic Dirichlet"
    t1 = time.perf_counter()
    tracemalloc.start()
    projection = project_congress(national, definition, spec, seed=args.seed)
    t2 = time.perf_counter()
    summary = chambers_summary(projection, definition)
    t3 = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"national vote ({source}): {t1 - t0:.2f} s")
    print(f"{args.draws} draws: districts + Senate races + allocation of both chambers "
          f"{t2 - t1:.2f} s; summary {t3 - t2:.2f} s; total projection {t3 - t1:.2f} s "
          f"(target < 10 s on 2 cores)")
    print(f"peak traced memory {peak / 2**20:.0f} MiB, max RSS {rss:.0f} MiB (target < 2 GB)")
    dep = projection["deputies_seats"].sum("party")
    sen = projection["senate_seats"].sum("party")
    print(f"check: Chamber totals in [{int(dep.min())}, {int(dep.max())}], Senate totals in "
          f"[{int(sen.min())}, {int(sen.max())}] (500 / 128 minus independent wins); "
          f"JHH Chamber median {summary['deputies']['coalitions']['jhh']['seats']['q50']:.0f}")


if __name__ == "__main__":
    main()
