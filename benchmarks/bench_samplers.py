"""Compare samplers (and the plain daily-walk baselines) on the 2018 data in one run.

Run: .venv/bin/python benchmarks/bench_samplers.py [--draws 1000 --tune 1000] [--skip-baseline]
(numpyro and blackjax need JAX: ``bash scripts/setup.sh jax`` installs the ``jax`` extra.)

For each configuration prints compile time, sampling time, min bulk ESS of the election-day
shares, ESS per second of total wall time, mean tree depth / gradients per draw, divergences, and
the ratio to the two baselines (daily Gaussian random walks sampled with PyMC's default NUTS):
``plain``, the walk as the issue states it (``pm.GaussianRandomWalk``, centred), and ``zero-sum``,
a stronger daily walk with the shipped model's zero-sum, non-centred innovations. Samplers whose
packages are not installed are reported as skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
import warnings
from pathlib import Path

# JAX samplers run their chains in parallel on host "devices": one per core, set before JAX loads.
os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={os.cpu_count()}")

import arviz as az
import numpy as np
import pymc as pm

from forecast.election import load_election
from forecast.fit import fit
from forecast.model import build_model, prepare
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


def _sample_pymc_model(model: pm.Model, spec, sampler: str, seed: int):
    """Sample a PyMC model with PyMC's NUTS or a JAX sampler (chains in parallel on the cores)."""
    kwargs = {}
    if sampler == "numpyro":
        kwargs = {"nuts_sampler_kwargs": {"chain_method": "parallel"}}
    elif sampler == "blackjax":
        kwargs = {"nuts_sampler_kwargs": {"chain_method": "vectorized"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(draws=spec.draws, tune=spec.tune, chains=spec.chains,
                         cores=min(spec.chains, os.cpu_count() or 1), random_seed=seed,
                         progressbar=False, model=model, nuts_sampler=sampler,
                         target_accept=spec.target_accept, compute_convergence_checks=False,
                         **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=None, help="default: the shipped spec's")
    parser.add_argument("--tune", type=int, default=None, help="default: the shipped spec's")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    election = load_election(ROOT / "polls" / "mx2018")
    polls = read_polls(election.poll_path, election)
    spec = load_spec(ROOT / "models" / "president.toml")
    spec = spec.with_(**{k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v})
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
    jax = importlib.util.find_spec("jax") is not None
    if jax:
        import nutpie

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = nutpie.compile_pymc_model(build_model(data, spec), backend="jax",
                                                 gradient_backend="jax")
            compile_s = time.perf_counter() - start
            tree = nutpie.sample(compiled, draws=spec.draws, tune=spec.tune, chains=spec.chains,
                                 cores=min(spec.chains, os.cpu_count() or 1), seed=1,
                                 progress_bar=False, target_accept=spec.target_accept)
        results["shipped model / nutpie, JAX"] = _figures(
            tree, time.perf_counter() - start, compile_s, _nowcast(tree, position, ballot_idx))
    else:
        results["shipped model / nutpie, JAX"] = {"skipped": "jax not installed"}
    for name in ("numpyro", "blackjax"):
        if not jax or importlib.util.find_spec(name) is None:
            results[f"shipped model / {name}"] = {"skipped": f"{name}/jax not installed"}
            continue
        start = time.perf_counter()
        try:  # JAX compile is inside PyMC's call: wall time only
            tree = _sample_pymc_model(build_model(data, spec), spec, name, 1)
        except Exception as exc:  # a version mismatch must not hide the other figures
            results[f"shipped model / {name}"] = {"skipped": f"failed: {exc!r}"[:120]}
            continue
        results[f"shipped model / {name}"] = _figures(
            tree, time.perf_counter() - start, float("nan"), _nowcast(tree, position, ballot_idx))
    if not args.skip_baseline:
        from baseline_daily_walk import build_baseline, build_plain_baseline

        # PyMC's default NUTS, as the issue states: its default tune, draws and target_accept.
        base_spec = spec.with_(draws=1000, tune=1000, target_accept=0.8)
        for label, build in (("plain", build_plain_baseline), ("zero-sum", build_baseline)):
            start = time.perf_counter()
            tree = _sample_pymc_model(build(data, spec), base_spec, "pymc", 1)
            results[f"baseline {label} daily walk / pymc"] = _figures(
                tree, time.perf_counter() - start, float("nan"), _nowcast(tree, None, ballot_idx))
    plain = results.get("baseline plain daily walk / pymc", {})
    zero = results.get("baseline zero-sum daily walk / pymc", {})

    def ratio(value: float, base: dict, key: str = "ess_per_s") -> float:
        return value / base[key] if base else float("nan")

    print(f"2018 data, {len(polls.table)} polls, {spec.chains} chains x {spec.draws} draws "
          f"(tune {spec.tune}), target_accept {spec.target_accept} (baselines: PyMC's defaults,"
          f" 1000 + 1000, 0.8), "
          f"{os.cpu_count()} cores")
    print("ESS: min bulk ESS of the election-day shares; ESS/s per second of total wall time"
          " (compile included); w/o comp: per second of wall time after compiling (a refit of a"
          " compiled model; not separable for PyMC/JAX samplers); x plain / x zs: ratio to the"
          " plain / zero-sum baseline's ESS/s; now ESS: of the support at the as-of date")
    print(f"{'configuration':<36}{'compile s':>10}{'wall s':>8}{'ESS':>7}{'ESS/s':>8}"
          f"{'x plain':>8}{'x zs':>6}{'w/o comp':>9}{'x plain':>8}{'x zs':>6}{'now ESS':>8}"
          f"{'x plain':>8}{'depth':>6}{'grads':>7}{'div':>5}")
    for name, f in results.items():
        if "skipped" in f:
            print(f"{name:<36}  skipped: {f['skipped']}")
            continue
        print(f"{name:<36}{f['compile']:>10.1f}{f['wall']:>8.1f}{f['ess']:>7.0f}"
              f"{f['ess_per_s']:>8.1f}{ratio(f['ess_per_s'], plain):>8.1f}"
              f"{ratio(f['ess_per_s'], zero):>6.1f}{f['ess_per_sampling_s']:>9.1f}"
              f"{ratio(f['ess_per_sampling_s'], plain):>8.1f}"
              f"{ratio(f['ess_per_sampling_s'], zero):>6.1f}{f['now_ess']:>8.0f}"
              f"{ratio(f['now_per_s'], plain, 'now_per_s'):>8.1f}{f['depth']:>6.2f}"
              f"{f['grads']:>7.1f}{f['divergences']:>5}")


if __name__ == "__main__":
    main()
