"""The plain baselines the shipped model is measured against (issue: 10x ESS/s).

``build_plain_baseline``: the daily walk as the issue states it (``pm.GaussianRandomWalk``,
centred, no zero-sum). ``build_baseline``, the stronger one: a daily Gaussian random walk on the
softmax scale (one latent value per day and candidate from the first poll to the last, zero-sum,
non-centred innovations). Both have zero-sum house effects, a Dirichlet-multinomial likelihood
over each poll's offered candidates, election-day shares from the last day plus the same
historical polling error, and are sampled with PyMC's default NUTS. Same data and priors as the
shipped model; only the latent process (daily, forward from the first day, no knots) and the
sampler differ.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from forecast.model import ModelData
from forecast.spec import ModelSpec


def build_baseline(data: ModelData, spec: ModelSpec) -> pm.Model:
    """Daily-walk baseline (zero-sum, non-centred innovations) on the shipped model's data."""
    def walk(days: pd.DatetimeIndex) -> pt.TensorVariable:
        start = pm.ZeroSumNormal("start", sigma=spec.level_sigma, dims="candidate")
        rw_sd = pm.HalfNormal("random_walk_sd", sigma=spec.random_walk_sigma)
        steps = pm.ZeroSumNormal("steps", sigma=1.0, dims=("day", "candidate"))
        return start[None, :] + rw_sd * pt.cumsum(steps, axis=0)

    return _daily_walk_model(data, spec, walk)


def build_plain_baseline(data: ModelData, spec: ModelSpec) -> pm.Model:
    """The plain daily walk as the issue states it, as one would first write it.

    ``pm.GaussianRandomWalk`` (centred: the daily values themselves are the parameters, their
    sd a hyperparameter) on the softmax scale of every candidate, with no zero-sum constraint
    (the softmax's common direction is held only by the prior). House effects, likelihood,
    priors and the election-day error are those of :func:`build_baseline`: only the latent
    process differs, so the comparison isolates the walk's geometry.
    """
    def walk(days: pd.DatetimeIndex) -> pt.TensorVariable:
        rw_sd = pm.HalfNormal("random_walk_sd", sigma=spec.random_walk_sigma)
        return pm.GaussianRandomWalk(
            "latent", sigma=rw_sd, init_dist=pm.Normal.dist(0.0, spec.level_sigma),
            dims=("candidate", "day"), steps=len(days) - 1).T

    return _daily_walk_model(data, spec, walk)


def _daily_walk_model(data: ModelData, spec: ModelSpec,
                      walk: Callable[[pd.DatetimeIndex], pt.TensorVariable]) -> pm.Model:
    """A model whose latent (day, candidate) log-shares come from ``walk``, with the shared
    house effects, Dirichlet-multinomial likelihood and election-day error."""
    first = data.polls["field_start"].min()
    days = pd.date_range(first, pd.Timestamp(data.as_of), freq="D")
    day_index = (data.polls["midpoint"] - first).dt.days.to_numpy()
    ballot_idx = np.array([data.candidates.index(c) for c in data.ballot])
    coords = {"candidate": data.candidates, "day": days, "pollster": data.pollsters,
              "ballot": data.ballot}
    with pm.Model(coords=coords) as model:
        eta = walk(days)
        house_sd = pm.HalfNormal("house_effect_sd", sigma=spec.house_effect_sigma)
        house = house_sd * pm.ZeroSumNormal("house_raw", sigma=1.0, n_zerosum_axes=2,
                                            dims=("pollster", "candidate"))
        conc = pm.Deterministic("concentration", pt.exp(pm.Normal(
            "log_concentration", np.log(spec.concentration_median), spec.concentration_log_sd)))
        eta_poll = eta[day_index] + house[data.pollster_index]
        offered = data.offered.astype(float)
        expo = pt.exp(eta_poll - eta_poll.max(axis=-1, keepdims=True)) * offered
        p = expo / expo.sum(axis=-1, keepdims=True)
        pm.DirichletMultinomial("polls", n=data.counts.sum(axis=1),
                                a=(p + 1e-9 * (1 - offered)) * conc, observed=data.counts)
        pm.Deterministic("nowcast", pt.special.softmax(eta[-1][ballot_idx]), dims="ballot")
        error = pm.ZeroSumNormal("polling_error_raw", sigma=1.0, dims="candidate")
        eta_e = eta[-1] + spec.polling_error_sigma * error
        pm.Deterministic("vote_share_valid", pt.special.softmax(eta_e[ballot_idx]),
                         dims="ballot")
    return model
