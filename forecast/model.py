"""The poll-aggregation model (PyMC): polls + spec -> posterior over daily support.

Structure (full account in ``docs/model.md``):

* latent support: each candidate's centred log-share on weekly knots from the first poll to
  election day, a Gaussian random walk anchored at the as-of date (non-centred; its daily sd is
  estimated), linearly interpolated to days; support on a day is the softmax over the candidates
  in the race then;
* poll *i* by pollster *j* in mode *m* sees ``softmax(eta(t_i) + house[j] + mode[m])`` restricted
  to the candidates it offered and renormalised; house and mode effects are zero-sum over
  pollsters/modes and candidates;
* counts of decided respondents are Dirichlet-multinomial (extra variance beyond sampling);
* election day: the walk carried to election day plus a polling-error term with a historical
  prior; shares of the valid vote over the candidates on the ballot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from .election import Election
from .polls import PollTable
from .spec import ModelSpec


@dataclass
class ModelData:
    """Arrays the model is built from (also stored beside the posterior)."""

    as_of: dt.date
    candidates: list[str]
    ballot: list[str]
    knots: pd.DatetimeIndex
    dates: pd.DatetimeIndex
    pollsters: list[str]
    modes: list[str]
    polls: pd.DataFrame
    counts: np.ndarray  # (poll, candidate) decided respondents, 0 where not offered
    offered: np.ndarray  # (poll, candidate) bool
    knot_index: np.ndarray  # (poll,) left knot
    knot_weight: np.ndarray  # (poll,) weight of the right knot
    pollster_index: np.ndarray
    mode_index: np.ndarray
    available: np.ndarray  # (date, candidate) bool: in the race that day
    step_active: np.ndarray  # (step, candidate) 1.0 where the walk moves
    interpolation: np.ndarray  # (date, knot)
    anchor: int  # knot where the walk is anchored: the first knot on or after the as-of date


def prepare(polls: PollTable, election: Election, spec: ModelSpec,
            as_of: dt.date | None = None) -> ModelData:
    """Turn validated polls into model arrays for a fit as of a date.

    Parameters
    ----------
    polls
        Validated polls (all of them: those not ended by ``as_of`` are left out here).
    election
        The election definition.
    spec
        Model settings (knot spacing).
    as_of
        Use only polls whose fieldwork ended by this date; default the last poll's end.
    """
    table = polls.table
    if as_of is None:
        as_of = table["field_end"].max().date()
    table = table[table["field_end"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    if len(table) < 2:
        raise ValueError(f"only {len(table)} poll(s) ended by {as_of}: need at least two to fit")
    if as_of > election.election_day:
        raise ValueError(f"as-of date {as_of} is after election day {election.election_day}")
    candidates = election.candidate_keys
    step = spec.step_days
    # One knot grid per poll file: weekly back from election day to the first poll's start. It
    # does not depend on the as-of date or on polls added later, so as-of fits and refits share
    # one compiled model; knots after the as-of date are driven by the walk's prior alone, which
    # is the forecast's drift to election day.
    day = pd.Timestamp(election.election_day)
    first = min(polls.table["field_start"].min(), polls.table["midpoint"].min())
    n_steps = max(1, int(np.ceil((day - first).days / step)))
    knots = pd.DatetimeIndex([day - pd.Timedelta(days=step * (n_steps - t))
                              for t in range(n_steps + 1)])
    as_of_ts = pd.Timestamp(as_of)
    anchor = int(np.searchsorted(knots, as_of_ts, side="left"))
    dates = pd.date_range(max(knots[0], table["field_start"].min()), as_of_ts, freq="D")

    position = (table["midpoint"] - knots[0]).dt.days.to_numpy() / step
    left = np.clip(np.floor(position).astype(int), 0, n_steps - 1)
    weight = position - left

    day_pos = (dates - knots[0]).days.to_numpy() / step
    day_left = np.clip(np.floor(day_pos).astype(int), 0, n_steps - 1)
    interp = np.zeros((len(dates), len(knots)))
    interp[np.arange(len(dates)), day_left] = 1 - (day_pos - day_left)
    interp[np.arange(len(dates)), day_left + 1] += day_pos - day_left

    shares = table[candidates].to_numpy(dtype=float)
    offered = ~np.isnan(shares)
    shares = np.where(offered, shares, 0.0)
    frac = shares / shares.sum(axis=1, keepdims=True)
    counts = _round_preserving_total(frac * table["n_decided"].to_numpy()[:, None],
                                     table["n_decided"].to_numpy())
    pollsters = sorted(table["pollster"].unique())
    modes = sorted(table["mode"].unique())
    available = np.array([[c.available_on(d.date()) for c in election.candidates]
                          for d in dates])
    # What was known on the as-of date: the ballot is the candidates in the race that day (later
    # entries and withdrawals were not known then), and a candidate in the race is assumed to stay
    # to election day; past entries and withdrawals are facts.
    ballot = [c.key for c in election.candidates if c.available_on(as_of)]
    if len(ballot) < 2:
        raise ValueError(f"fewer than two candidates in the race on {as_of}")
    in_race = np.array([[_known_in_race(c, k.date(), as_of) for c in election.candidates]
                        for k in knots])
    step_active = (in_race[:-1] | in_race[1:]).astype(float)
    return ModelData(
        as_of=as_of, candidates=candidates, ballot=ballot, knots=knots, dates=dates,
        pollsters=pollsters, modes=modes, polls=table, counts=counts, offered=offered,
        knot_index=left, knot_weight=weight,
        pollster_index=table["pollster"].map({p: i for i, p in enumerate(pollsters)}).to_numpy(),
        mode_index=table["mode"].map({m: i for i, m in enumerate(modes)}).to_numpy(),
        available=available, step_active=step_active, interpolation=interp, anchor=anchor,
    )


def _known_in_race(candidate, day: dt.date, as_of: dt.date) -> bool:
    """Whether ``candidate`` is in the race on ``day`` as far as was known on ``as_of``."""
    if candidate.available_from > as_of:
        return False  # not yet an entrant: unknown on the as-of date
    if candidate.available_until < as_of:
        return candidate.available_on(day)  # withdrawal already happened: a fact
    return candidate.available_from <= day  # in the race: assumed to stay to election day


def _round_preserving_total(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Round rows to integers that still sum to ``totals`` (largest remainders get the rest)."""
    floor = np.floor(values).astype(np.int64)
    short = totals.astype(np.int64) - floor.sum(axis=1)
    order = np.argsort(-(values - floor), axis=1, kind="stable")
    out = floor.copy()
    for i, k in enumerate(short):
        out[i, order[i, :k]] += 1
    return out


POLL_ARRAY_NAMES = ("poll_counts", "offered", "knot_index", "knot_weight", "pollster_index",
                    "mode_index", "step_active", "anchor")


def poll_arrays(data: ModelData) -> dict[str, np.ndarray]:
    """The model's data variables (names as in the PyMC model), for building or swapping in."""
    return {
        "poll_counts": data.counts.astype("int64"),
        "offered": data.offered.astype("float64"),
        "knot_index": data.knot_index.astype("int64"),
        "knot_weight": data.knot_weight.astype("float64"),
        "pollster_index": data.pollster_index.astype("int64"),
        "mode_index": data.mode_index.astype("int64"),
        "step_active": data.step_active.astype("float64"),
        "anchor": np.asarray(data.anchor, dtype="int64"),
    }


def structure_key(data: ModelData, spec: ModelSpec) -> tuple:
    """What a compiled model depends on besides its data: equal keys can share one compile."""
    sampler_only = {"sampler", "chains", "draws", "tune", "target_accept"}
    settings = tuple(sorted((k, v) for k, v in spec.as_dict().items() if k not in sampler_only))
    return (tuple(data.candidates), tuple(data.ballot), len(data.knots), tuple(data.pollsters),
            tuple(data.modes), settings)


def build_model(data: ModelData, spec: ModelSpec) -> pm.Model:
    """Build the PyMC model for prepared poll data.

    The posterior has ``latent`` (knot, candidate), ``house_effect`` (pollster, candidate),
    ``mode_effect`` (mode, candidate), ``random_walk_sd``, ``concentration`` and the
    election-day ``vote_share_valid`` (ballot).
    """
    K = len(data.candidates)
    ballot_idx = np.array([data.candidates.index(c) for c in data.ballot])
    coords = {
        "candidate": data.candidates,
        "ballot": data.ballot,
        "knot": data.knots,
        "step": data.knots[:-1],
        "pollster": data.pollsters,
        "mode": data.modes,
    }
    with pm.Model(coords=coords) as model:
        # Everything that depends on the poll set is data, not a constant of the graph, so a
        # compiled model can be reused for new polls and as-of dates of the same structure
        # (see structure_key and forecast/fit.py).
        d = {name: pm.Data(name, value) for name, value in poll_arrays(data).items()}
        level = pm.ZeroSumNormal("level", sigma=spec.level_sigma, dims="candidate")
        innovation = pm.ZeroSumNormal("innovation", sigma=1.0, dims=("step", "candidate"))
        rw_sd = pm.HalfNormal("random_walk_sd", sigma=spec.random_walk_sigma)
        step_sd = rw_sd * np.sqrt(spec.step_days)
        # The walk is anchored at the as-of date (the first knot on or after it), where polls are
        # densest: the level there is well identified and other knots are offsets from it
        # (better geometry than anchoring at the first, sparsely polled week). Knots after the
        # anchor carry the forecast to election day with the walk's own scale.
        # A candidate's walk is frozen outside their window (before entering the race, after
        # leaving it): nothing observes it there, and a free walk would leave e.g. a withdrawn
        # candidate's current level identified only through months of innovations.
        prefix = pt.concatenate(
            [pt.zeros((1, K)), pt.cumsum(innovation * d["step_active"], axis=0)], axis=0)
        eta = level[None, :] + step_sd * (prefix - prefix[d["anchor"]][None, :])
        pm.Deterministic("latent", eta, dims=("knot", "candidate"))

        house_sd = pm.HalfNormal("house_effect_sd", sigma=spec.house_effect_sigma)
        house = pm.Deterministic(
            "house_effect",
            house_sd * pm.ZeroSumNormal("house_effect_raw", sigma=1.0, n_zerosum_axes=2,
                                        dims=("pollster", "candidate")),
            dims=("pollster", "candidate"))
        if len(data.modes) > 1:
            # Fixed prior scale (not a hyperparameter): every pollster has one mode, so a mode
            # effect is confounded with house effects and an estimated scale only adds a funnel.
            mode = pm.Deterministic(
                "mode_effect",
                spec.mode_effect_sigma * pm.ZeroSumNormal(
                    "mode_effect_raw", sigma=1.0, n_zerosum_axes=2, dims=("mode", "candidate")),
                dims=("mode", "candidate"))
        else:
            mode = pt.zeros((1, K))
        log_conc = pm.Normal("log_concentration", mu=np.log(spec.concentration_median),
                             sigma=spec.concentration_log_sd)
        concentration = pm.Deterministic("concentration", pt.exp(log_conc))

        w = d["knot_weight"][:, None]
        eta_poll = ((1 - w) * eta[d["knot_index"]] + w * eta[d["knot_index"] + 1]
                    + house[d["pollster_index"]] + mode[d["mode_index"]])
        # Each poll is compared with the candidates it offered only: the softmax is renormalised
        # over the offered set. Options not offered get a vanishing Dirichlet weight and zero
        # counts, which contributes exactly nothing to the likelihood (gammaln(0 + a) - gammaln(a))
        # and lets one Dirichlet-multinomial node cover every candidate set (one small graph to
        # compile instead of one per set).
        offered = d["offered"]
        expo = pt.exp(eta_poll - pt.max(eta_poll, axis=-1, keepdims=True)) * offered
        p = expo / pt.sum(expo, axis=-1, keepdims=True)
        pm.DirichletMultinomial(
            "polls", n=d["poll_counts"].sum(axis=1), a=(p + 1e-9 * (1 - offered)) * concentration,
            observed=d["poll_counts"])

        # Election day (the last knot) plus the historical polling error on the log-share
        # scale; the standardised error is kept so a study can rescale it without refitting.
        error = pm.ZeroSumNormal("polling_error_raw", sigma=1.0, dims="candidate")
        eta_day_e = eta[-1] + spec.polling_error_sigma * error
        pm.Deterministic("vote_share_valid",
                         pt.special.softmax(eta_day_e[ballot_idx], axis=-1), dims="ballot")
    return model
