"""From the posterior to election-day outcomes under plurality rule, and their summaries."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import xarray as xr

from .fit import Fit, election_day_shares
from .seeds import DEFAULT_SEED

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def beta_parameters(mean: float, sd: float) -> tuple[float, float]:
    """Beta(a, b) with the given mean and sd."""
    var = sd**2
    if not 0 < mean < 1 or var >= mean * (1 - mean):
        raise ValueError(f"no Beta distribution has mean {mean} and sd {sd}")
    k = mean * (1 - mean) / var - 1
    return mean * k, (1 - mean) * k


def simulate(fit: Fit, *, seed: int = DEFAULT_SEED, polling_error_scale: float = 1.0) -> xr.Dataset:
    """Election-day draws: shares of the valid and total vote, winner, order and margin.

    Parameters
    ----------
    fit
        A fitted (or loaded) model.
    seed
        Seed for the invalid-vote share drawn per draw.
    polling_error_scale
        Multiplies the election-day polling error (1 = the historical prior); uses the stored
        standardised errors, so no refit is needed.

    Returns
    -------
    xarray.Dataset
        Dimensions ``draw`` and ``candidate`` (the ballot): ``share_valid``, ``share_total``,
        ``invalid_share``, ``winner``, ``order``, ``margin``.
    """
    shares = election_day_shares(fit, polling_error_scale)
    valid = shares.values
    rng = np.random.default_rng(seed)
    a, b = beta_parameters(fit.spec.invalid_share_mean, fit.spec.invalid_share_sd)
    invalid = rng.beta(a, b, size=valid.shape[0])
    return outcomes(valid, [str(c) for c in shares.coords["option"].values], invalid)


def outcomes(valid: np.ndarray, candidates: list[str], invalid: np.ndarray | float = 0.0
             ) -> xr.Dataset:
    """Plurality outcomes of given draws of valid-vote shares.

    Parameters
    ----------
    valid
        (draw, candidate) shares of the valid vote (rows sum to 1).
    candidates
        Candidate keys (columns of ``valid``).
    invalid
        Share of the total vote that is not valid (null + non-registered), per draw or one value.

    Notes
    -----
    Plurality: the most votes wins. An exact tie for first (only possible with hand-made draws)
    is split: each tied candidate gets ``1/m`` of that draw's win (``win`` variable), and the
    ``winner`` label lists them joined by ``=``.
    """
    valid = np.asarray(valid, dtype=float)
    n, k = valid.shape
    invalid = np.broadcast_to(np.asarray(invalid, dtype=float), (n,))
    total = valid * (1 - invalid)[:, None]
    top = valid.max(axis=1, keepdims=True)
    tied = np.isclose(valid, top, rtol=0, atol=1e-12)
    win = tied / tied.sum(axis=1, keepdims=True)
    order_idx = np.argsort(-valid, axis=1, kind="stable")
    ordered = np.take_along_axis(valid, order_idx, axis=1)
    margin = ordered[:, 0] - ordered[:, 1] if k > 1 else ordered[:, 0]
    names = np.array(candidates)
    winner = np.array(["=".join(names[row]) for row in tied])
    order = np.array([">".join(names[row]) for row in order_idx])
    coords = {"draw": np.arange(n), "candidate": candidates}
    return xr.Dataset(
        {
            "share_valid": (("draw", "candidate"), valid),
            "share_total": (("draw", "candidate"), total),
            "win": (("draw", "candidate"), win),
            "invalid_share": ("draw", invalid.copy()),
            "winner": ("draw", winner),
            "order": ("draw", order),
            "margin": ("draw", margin),
            "winner_share_total": ("draw", np.take_along_axis(total, order_idx[:, :1],
                                                              axis=1)[:, 0]),
        },
        coords=coords,
    )


def quantile_summary(values: np.ndarray) -> dict[str, float]:
    """Mean and the QUANTILES (q05, q25, q50, q75, q95) of draws, as a JSON-ready dict."""
    q = np.quantile(values, QUANTILES)
    out = {"mean": float(np.mean(values))}
    out.update({f"q{int(round(p * 100)):02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)})
    return out


def summarize(draws: xr.Dataset) -> dict:
    """Summaries of simulated outcomes: P(win), shares, orders, margin, P(winner < 1/3).

    Returns
    -------
    dict
        ``candidates.<key>`` with ``p_win``, ``share_valid`` and ``share_total`` (mean and
        quantiles, fractions); ``orders`` (each finishing order's probability, most likely
        first); ``margin`` (first minus second, valid-vote share); ``p_winner_under_third``.
    """
    candidates = [str(c) for c in draws["candidate"].values]
    out: dict = {"candidates": {}}
    p_win = draws["win"].mean("draw").values
    for i, c in enumerate(candidates):
        out["candidates"][c] = {
            "p_win": float(p_win[i]),
            "share_valid": quantile_summary(draws["share_valid"].values[:, i]),
            "share_total": quantile_summary(draws["share_total"].values[:, i]),
        }
    counts = Counter(draws["order"].values.tolist())
    n = draws.sizes["draw"]
    out["orders"] = [{"order": o.split(">"), "p": c / n} for o, c in counts.most_common()]
    out["margin"] = quantile_summary(draws["margin"].values)
    out["p_winner_under_third"] = float(np.mean(draws["winner_share_total"].values < 1 / 3))
    return out


def all_orders(candidates: list[str]) -> list[tuple[str, ...]]:
    """Every finishing order of the candidates (for tables that list zero-probability ones)."""
    return list(itertools.permutations(candidates))


def daily_support(fit: Fit) -> xr.DataArray:
    """Posterior draws of daily support (date, candidate, sample) among candidates in the race.

    The latent log-shares on knots are linearly interpolated to days; on each day the softmax is
    taken over the candidates whose window contains that day.
    """
    latent = fit.posterior["posterior"]["latent"].to_dataset()["latent"]
    latent = latent.stack(sample=("chain", "draw"))
    knots = pd.DatetimeIndex(latent.coords["knot"].values)
    first = fit.polls["field_start"].min() if len(fit.polls) else knots[0]
    dates = pd.date_range(max(knots[0], first), pd.Timestamp(fit.as_of), freq="D")
    daily = latent.interp(knot=dates.values).rename(knot="date")
    candidates = [str(c) for c in daily.coords["candidate"].values]
    mask = np.array([[fit.election.candidate(c).available_on(d.date()) for c in candidates]
                     for d in dates])
    mask_da = xr.DataArray(mask, coords={"date": dates.values, "candidate": candidates},
                           dims=("date", "candidate"))
    expo = np.exp(daily - daily.max("candidate")).where(mask_da, 0.0)
    return (expo / expo.sum("candidate")).transpose("date", "candidate", "sample")
