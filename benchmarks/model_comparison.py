"""Out-of-sample comparison of model variants: how well each predicts the polls it has not seen.

Rolling origin: for each as-of date, fit the presidential model on the polls public by then and
score the polls published in the next ``--horizon`` days by their log predictive density
(Dirichlet-multinomial counts, the model's own likelihood), averaged over the posterior draws:
the latent support on the poll's date (the walk carries it past the as-of date), the poll's
house effect (a pollster not seen yet: drawn from the fitted house-effect scale), mode effect
and concentration. Higher is better; differences of a few units summed over ~100 polls are
noise. docs/calibration.md records the result and the choice it supports.

    .venv/bin/python benchmarks/model_comparison.py polls/mx2018 \\
        --origins 2018-03-01 2018-04-01 2018-05-01 2018-06-01 --horizon 28
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecast.election import load_election  # noqa: E402
from forecast.fit import fit  # noqa: E402
from forecast.model import UNKNOWN_MODE, known_dates, prepare  # noqa: E402
from forecast.polls import read_polls  # noqa: E402
from forecast.spec import load_spec  # noqa: E402

VARIANTS = {
    "separate modes, one concentration": {"mode_effects": "separate", "concentration_by": "all"},
    "no mode effects, one concentration": {"mode_effects": "none", "concentration_by": "all"},
    "nested modes, one concentration": {"mode_effects": "nested", "concentration_by": "all"},
    "nested modes, per-pollster concentration": {"mode_effects": "nested",
                                                 "concentration_by": "pollster"},
    "no mode effects, per-pollster concentration": {"mode_effects": "none",
                                                    "concentration_by": "pollster"},
    "no mode effects, per-mode concentration": {"mode_effects": "none",
                                                "concentration_by": "mode"},
}


def _dm_logpmf(counts: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Dirichlet-multinomial log pmf; counts (k,), alpha (draws, k) -> (draws,)."""
    n = counts.sum()
    a0 = alpha.sum(axis=1)
    return (gammaln(n + 1) - gammaln(counts + 1).sum() + gammaln(a0) - gammaln(n + a0)
            + (gammaln(counts + alpha) - gammaln(alpha)).sum(axis=1))


def score(result, held: pd.DataFrame, election, spec, rng: np.random.Generator) -> np.ndarray:
    """Log predictive density of each held-out poll (array over the polls)."""
    post = result.posterior["posterior"]
    latent = post["latent"].stack(sample=("chain", "draw")).transpose("sample", "knot",
                                                                     "candidate")
    knots = pd.DatetimeIndex(latent.coords["knot"].values)
    candidates = [str(c) for c in latent.coords["candidate"].values]
    eta_knots = latent.values
    n = eta_knots.shape[0]
    house = post["house_effect"].stack(sample=("chain", "draw")).transpose(
        "sample", "pollster", "candidate")
    known_pollsters = [str(p) for p in house.coords["pollster"].values]
    house_sd = post["house_effect_sd"].stack(sample=("chain", "draw")).values
    mode = (post["mode_effect"].stack(sample=("chain", "draw")).transpose(
        "sample", "mode", "candidate") if "mode_effect" in post else None)
    modes = [str(m) for m in mode.coords["mode"].values] if mode is not None else []
    conc = post["concentration"].stack(sample=("chain", "draw")).values
    pollster_conc = (post["pollster_concentration"].stack(sample=("chain", "draw")).transpose(
        "sample", "pollster") if "pollster_concentration" in post else None)
    mode_conc = (post["mode_concentration"].stack(sample=("chain", "draw")).transpose(
        "sample", "mode") if "mode_concentration" in post else None)
    out = []
    for row in held.itertuples():
        shares = np.array([getattr(row, c) for c in candidates], dtype=float)
        offered = ~np.isnan(shares)
        if offered.sum() < 2:
            continue
        frac = np.where(offered, shares, 0.0)
        frac = frac / frac.sum()
        counts = np.round(frac * row.n_decided)[offered]
        pos = (row.midpoint - knots[0]).days / spec.step_days
        left = int(np.clip(np.floor(pos), 0, len(knots) - 2))
        w = pos - left
        eta = (1 - w) * eta_knots[:, left] + w * eta_knots[:, left + 1]
        if mode_conc is not None:
            c = (mode_conc.sel(mode=row.mode).values
                 if row.mode in [str(m) for m in mode_conc.coords["mode"].values]
                 else conc * np.exp(spec.concentration_pollster_sd * rng.standard_normal(n)))
        if row.pollster in known_pollsters:
            eta = eta + house.sel(pollster=row.pollster).values
            if mode_conc is None:
                c = (pollster_conc.sel(pollster=row.pollster).values
                     if pollster_conc is not None else conc)
        else:  # a pollster not seen by the as-of date: its house effect from the fitted scale
            eta = eta + rng.standard_normal(eta.shape) * house_sd[:, None]
            if mode_conc is None:
                c = (conc * np.exp(spec.concentration_pollster_sd * rng.standard_normal(n))
                     if pollster_conc is not None else conc)
        if mode is not None and row.mode in modes and not (
                spec.mode_effects == "nested" and row.mode == UNKNOWN_MODE):
            eta = eta + mode.sel(mode=row.mode).values
        eta = eta[:, offered]
        p = np.exp(eta - eta.max(axis=1, keepdims=True))
        p = p / p.sum(axis=1, keepdims=True)
        out.append(float(logsumexp(_dm_logpmf(counts, p * c[:, None])) - np.log(n)))
    return np.array(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("election")
    parser.add_argument("--origins", nargs="+", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--model", default="models/president.toml")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", nargs="+", default=None,
                        help="names of the variants to run (default: all)")
    args = parser.parse_args(argv)
    variants = {k: v for k, v in VARIANTS.items()
                if args.variants is None or k in args.variants}
    election = load_election(args.election)
    polls = read_polls(election.poll_path, election)
    base = load_spec(args.model).with_(draws=args.draws, tune=300, chains=2)
    table = polls.table.assign(known=known_dates(polls.table))
    totals = {name: 0.0 for name in variants}
    counted = 0
    for origin in args.origins:
        held = table[(table["known"] > pd.Timestamp(origin))
                     & (table["known"] <= pd.Timestamp(origin + dt.timedelta(args.horizon)))]
        line = [f"{origin} ({len(held)} polls ahead)"]
        for name, changes in variants.items():
            spec = base.with_(**changes)
            start = time.perf_counter()
            result = fit(polls, election, spec, as_of=origin, seed=args.seed, progress=False)
            data = prepare(polls, election, spec, origin)
            assert len(data.polls) == len(result.polls)
            lpd = score(result, held, election, spec, np.random.default_rng(args.seed))
            totals[name] += lpd.sum()
            line.append(f"  {name}: {lpd.sum():9.1f}  (R-hat {result.diagnostics.max_rhat:.3f},"
                        f" {time.perf_counter() - start:.0f} s)")
        counted += len(held)
        print("\n".join(line), flush=True)
    print(f"\ntotal log predictive density over {counted} held-out polls (higher is better):")
    for name, total in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {total:10.1f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
