"""Compare samplers (and the plain daily-walk baseline) on the 2018 data in one run.

Run: .venv/bin/python benchmarks/bench_samplers.py [--draws 1000 --tune 1000] [--skip-baseline]

For each configuration prints compile time, sampling time, min bulk ESS of the election-day
shares, ESS per second of total wall time, mean tree depth / gradients per draw, divergences, and
the ratio to the baseline (daily Gaussian random walk, PyMC's default NUTS). Samplers whose
packages are not installed (numpyro, blackjax need JAX) are reported as skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm

from forecast.election import load_election
from forecast.fit import fit
from forecast.model import prepare
from forecast.polls import read_polls
from forecast.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def _figures(tree, wall: float, compile_s: float) -> dict:
    ess = float(np.nanmin(az.ess(tree, var_names=["vote_share_valid"])["vote_share_valid"].values))
    stats = tree["sample_stats"]
    depth_name = "depth" if "depth" in stats else "tree_depth"
    steps_name = "n_steps" if "n_steps" in stats else None
    div = "diverging" if "diverging" in stats else "divergences"
    return {"ess": ess, "wall": wall, "compile": compile_s, "ess_per_s": ess / wall,
            "depth": float(stats[depth_name].mean()),
            "grads": float(stats[steps_name].mean()) if steps_name else float("nan"),
            "divergences": int(stats[div].values.astype(bool).sum())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    election = load_election(ROOT / "polls" / "mx2018")
    polls = read_polls(election.poll_path, election)
    spec = load_spec(ROOT / "models" / "president.toml").with_(draws=args.draws, tune=args.tune)
    results: dict[str, dict] = {}
    for sampler in ("nutpie", "pymc"):
        start = time.perf_counter()
        r = fit(polls, election, spec.with_(sampler=sampler), seed=1, progress=False)
        wall = time.perf_counter() - start
        results[f"shipped model / {sampler}"] = _figures(
            r.posterior, wall, r.diagnostics.compile_seconds)
    for name in ("numpyro", "blackjax"):
        if importlib.util.find_spec(name) is None or importlib.util.find_spec("jax") is None:
            results[f"shipped model / {name}"] = {"skipped": f"{name}/jax not installed"}
    if not args.skip_baseline:
        from baseline_daily_walk import build_baseline

        data = prepare(polls, election, spec)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = pm.sample(draws=args.draws, tune=args.tune, chains=4, cores=2, random_seed=1,
                             progressbar=False, model=build_baseline(data, spec),
                             nuts_sampler="pymc", compute_convergence_checks=False)
        wall = time.perf_counter() - start
        results["baseline daily walk / pymc"] = _figures(tree, wall, float("nan"))
    base = results.get("baseline daily walk / pymc", {}).get("ess_per_s")
    print(f"2018 data, {len(polls.table)} polls, 4 chains x {args.draws} draws (tune {args.tune})")
    print(f"{'configuration':<32}{'compile s':>10}{'wall s':>9}{'min ESS':>9}{'ESS/s':>8}"
          f"{'depth':>7}{'grads':>7}{'div':>5}{'x base':>8}")
    for name, f in results.items():
        if "skipped" in f:
            print(f"{name:<32}  skipped: {f['skipped']}")
            continue
        ratio = f["ess_per_s"] / base if base else float("nan")
        print(f"{name:<32}{f['compile']:>10.1f}{f['wall']:>9.1f}{f['ess']:>9.0f}"
              f"{f['ess_per_s']:>8.1f}{f['depth']:>7.2f}{f['grads']:>7.1f}{f['divergences']:>5}"
              f"{ratio:>8.1f}")


if __name__ == "__main__":
    main()
