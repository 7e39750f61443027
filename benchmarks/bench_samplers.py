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


def _nowcast(tree, position: float | None, ballot_idx: np.ndarray):
    """Support at the as-of date (no election-day error): what the polls actually identify."""
    post = tree["posterior"]
    if "nowcast" in post:
        return post["nowcast"].values
    left = int(np.floor(position))
    w = position - left
    latent = post["latent"].values
    eta = ((1 - w) * latent[:, :, left, :] + w * latent[:, :, left + 1, :])[..., ballot_idx]
    expo = np.exp(eta - eta.max(axis=-1, keepdims=True))
    return expo / expo.sum(axis=-1, keepdims=True)


def _figures(tree, wall: float, compile_s: float, nowcast: np.ndarray) -> dict:
    ess = float(np.nanmin(az.ess(tree, var_names=["vote_share_valid"])["vote_share_valid"].values))
    now_ess = float(min(az.ess(nowcast[:, :, k]) for k in range(nowcast.shape[-1])))
    stats = tree["sample_stats"]
    depth_name = "depth" if "depth" in stats else "tree_depth"
    steps_name = "n_steps" if "n_steps" in stats else None
    div = "diverging" if "diverging" in stats else "divergences"
    sampling = wall - (compile_s if compile_s == compile_s else 0.0)
    return {"ess": ess, "wall": wall, "compile": compile_s, "ess_per_s": ess / wall,
            "ess_per_sampling_s": ess / sampling,
            "now_ess": now_ess, "now_per_s": now_ess / wall,
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
    data = prepare(polls, election, spec)
    ballot_idx = np.array([data.candidates.index(c) for c in data.ballot])
    position = (np.datetime64(data.as_of) - data.knots[0].to_datetime64()) / np.timedelta64(
        data.knots[1] - data.knots[0])
    for sampler in ("nutpie", "pymc"):
        start = time.perf_counter()
        r = fit(polls, election, spec.with_(sampler=sampler), seed=1, progress=False)
        wall = time.perf_counter() - start
        results[f"shipped model / {sampler}"] = _figures(
            r.posterior, wall, r.diagnostics.compile_seconds,
            _nowcast(r.posterior, position, ballot_idx))
    for name in ("numpyro", "blackjax"):
        if importlib.util.find_spec(name) is None or importlib.util.find_spec("jax") is None:
            results[f"shipped model / {name}"] = {"skipped": f"{name}/jax not installed"}
    if not args.skip_baseline:
        from baseline_daily_walk import build_baseline

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = pm.sample(draws=args.draws, tune=args.tune, chains=4, cores=2, random_seed=1,
                             progressbar=False, model=build_baseline(data, spec),
                             nuts_sampler="pymc", compute_convergence_checks=False)
        wall = time.perf_counter() - start
        results["baseline daily walk / pymc"] = _figures(tree, wall, float("nan"),
                                                         _nowcast(tree, None, ballot_idx))
    base = results.get("baseline daily walk / pymc", {})
    print(f"2018 data, {len(polls.table)} polls, 4 chains x {args.draws} draws (tune {args.tune})")
    print("ESS: min bulk ESS of the election-day shares; now ESS: of the support at the as-of date;"
          " ESS/s per second of total wall time (compile included); w/o comp: per second of wall"
          " time after compiling (a refit of a compiled model; PyMC's compile is not separable)")
    print(f"{'configuration':<32}{'compile s':>10}{'wall s':>9}{'ESS':>7}{'ESS/s':>8}"
          f"{'x base':>7}{'w/o comp':>9}{'x base':>7}{'now ESS':>9}{'now/s':>7}{'x base':>7}"
          f"{'depth':>7}{'grads':>7}{'div':>5}")
    for name, f in results.items():
        if "skipped" in f:
            print(f"{name:<32}  skipped: {f['skipped']}")
            continue
        ratio = f["ess_per_s"] / base["ess_per_s"] if base else float("nan")
        now_ratio = f["now_per_s"] / base["now_per_s"] if base else float("nan")
        warm_ratio = f["ess_per_sampling_s"] / base["ess_per_s"] if base else float("nan")
        print(f"{name:<32}{f['compile']:>10.1f}{f['wall']:>9.1f}{f['ess']:>7.0f}"
              f"{f['ess_per_s']:>8.1f}{ratio:>7.1f}{f['ess_per_sampling_s']:>9.1f}{warm_ratio:>7.1f}"
              f"{f['now_ess']:>9.0f}{f['now_per_s']:>7.1f}"
              f"{now_ratio:>7.1f}{f['depth']:>7.2f}{f['grads']:>7.1f}{f['divergences']:>5}")


if __name__ == "__main__":
    main()
