"""The poll-aggregation model (PyMC): polls + spec -> posterior over daily support.

Structure (full account in ``docs/model.md``):

* latent support: each candidate's centred log-share on weekly knots from the first poll to
  election day, a Gaussian random walk anchored at the median poll (non-centred; its daily sd is
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
import xarray as xr
from scipy.special import gammaln

from .election import Election
from .polls import PollTable
from .spec import SAMPLER_KEYS, ModelSpec


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
    anchor: int  # knot where the walk is anchored: the knot nearest the median poll
    # Where election day is read before the election-day error: the left knot and the weight
    # of the right one (forecast.model.build_model).
    horizon_index: int = 0
    horizon_weight: float = 1.0
    # Pollsters and modes of the whole poll file (the compiled model's axes; those with no poll
    # by the as-of date get no house / mode effect). Default: the as-of ones.
    file_pollsters: list[str] | None = None
    file_modes: list[str] | None = None

    def __post_init__(self) -> None:
        if self.file_pollsters is None:
            self.file_pollsters = list(self.pollsters)
        if self.file_modes is None:
            self.file_modes = list(self.modes)

    def to_dataset(self) -> xr.Dataset:
        """Every array as one labelled Dataset (stored in the fit; :meth:`from_dataset`)."""
        return xr.Dataset(
            {
                "counts": (("poll", "candidate"), self.counts.astype(np.int64)),
                "offered": (("poll", "candidate"), self.offered.astype(bool)),
                "knot_index": ("poll", self.knot_index.astype(np.int64)),
                "knot_weight": ("poll", self.knot_weight.astype(np.float64)),
                "pollster_index": ("poll", np.asarray(self.pollster_index, dtype=np.int64)),
                "mode_index": ("poll", np.asarray(self.mode_index, dtype=np.int64)),
                "available": (("date", "candidate"), self.available.astype(bool)),
                "step_active": (("step", "candidate"), self.step_active.astype(np.float64)),
                "interpolation": (("date", "knot"), self.interpolation.astype(np.float64)),
                "ballot_candidates": ("ballot", np.array(self.ballot, dtype=object)),
                "pollster_names": ("pollster", np.array(self.pollsters, dtype=object)),
                "mode_names": ("mode", np.array(self.modes, dtype=object)),
                "file_pollster_names": ("file_pollster",
                                        np.array(self.file_pollsters, dtype=object)),
                "file_mode_names": ("file_mode", np.array(self.file_modes, dtype=object)),
            },
            coords={"candidate": np.array(self.candidates, dtype=object),
                    "knot": self.knots.values.astype("datetime64[ns]"),
                    "step": np.arange(len(self.knots) - 1),
                    "date": self.dates.values.astype("datetime64[ns]"),
                    "poll": np.arange(len(self.counts))},
            attrs={"as_of": self.as_of.isoformat(), "anchor": int(self.anchor),
                   "horizon_index": int(self.horizon_index),
                   "horizon_weight": float(self.horizon_weight)},
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, polls: pd.DataFrame) -> ModelData:
        """Rebuild model data stored by :meth:`to_dataset` (``polls``: the stored poll table)."""
        def names(var: str) -> list[str]:
            return [str(v) for v in ds[var].values]

        return cls(
            as_of=dt.date.fromisoformat(str(ds.attrs["as_of"])),
            candidates=[str(c) for c in ds["candidate"].values], ballot=names("ballot_candidates"),
            knots=pd.DatetimeIndex(ds["knot"].values), dates=pd.DatetimeIndex(ds["date"].values),
            pollsters=names("pollster_names"), modes=names("mode_names"), polls=polls,
            counts=ds["counts"].values.astype(np.int64), offered=ds["offered"].values.astype(bool),
            knot_index=ds["knot_index"].values.astype(np.int64),
            knot_weight=ds["knot_weight"].values.astype(np.float64),
            pollster_index=ds["pollster_index"].values.astype(np.int64),
            mode_index=ds["mode_index"].values.astype(np.int64),
            available=ds["available"].values.astype(bool),
            step_active=ds["step_active"].values.astype(np.float64),
            interpolation=ds["interpolation"].values.astype(np.float64),
            anchor=int(ds.attrs["anchor"]), horizon_index=int(ds.attrs["horizon_index"]),
            horizon_weight=float(ds.attrs["horizon_weight"]),
            file_pollsters=names("file_pollster_names"),
            file_modes=names("file_mode_names"))


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
        Use only polls public by this date (published, or fieldwork ended when no publication
        date is given: :func:`known_dates`); default the last such date.
    """
    table = polls.table
    known = known_dates(table)
    if as_of is None:
        as_of = known.max().date()
    table = table[(known <= pd.Timestamp(as_of)).to_numpy()].reset_index(drop=True)
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
    dates = pd.date_range(max(knots[0], table["field_start"].min()), as_of_ts, freq="D")

    position = (table["midpoint"] - knots[0]).dt.days.to_numpy() / step
    # The walk is anchored at the knot nearest the median poll (fieldwork midpoint) of the polls
    # used, never after the as-of date: the level there is identified by polls on both sides
    # and every knot is a short sum of innovations away from it (docs/model.md, geometry).
    last = int(np.searchsorted(knots, as_of_ts, side="left"))
    anchor = int(np.clip(np.rint(np.median(position)), 0, last))
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
    counts = round_preserving_total(frac * table["n_decided"].to_numpy()[:, None],
                                     table["n_decided"].to_numpy())
    pollsters = sorted(table["pollster"].unique())
    modes = sorted(table["mode"].unique())
    available = np.array([[c.available_on(d.date()) for c in election.candidates]
                          for d in dates])
    # What was known on the as-of date: the ballot is the candidates in the race that day (later
    # entries and withdrawals were not known then), and a candidate in the race is assumed to stay
    # to election day; past entries and withdrawals are facts.
    # A candidate in the race whom no poll used offers (Rodríguez Calderón on 9 Apr 2018, the
    # day the tribunal put him on the ballot) has only the level's prior (sd 1.5 on the log
    # scale): his P(win) would be the prior's, and the prior-only direction stalls the sampler
    # (R-hat 1.06). He is left out of that forecast until a poll measures him; the report says so.
    polled = offered.any(axis=0)
    ballot = [c.key for c, seen in zip(election.candidates, polled, strict=True)
              if c.available_on(as_of) and seen]
    if len(ballot) < 2:
        raise ValueError(f"fewer than two polled candidates in the race on {as_of}")
    in_race = np.array([[_known_in_race(c, k.date(), as_of) and seen
                         for c, seen in zip(election.candidates, polled, strict=True)]
                        for k in knots])
    step_active = (in_race[:-1] | in_race[1:]).astype(float)
    horizon = max(as_of_ts, day - pd.Timedelta(days=spec.polling_error_horizon_days))
    h_pos = min((horizon - knots[0]).days / step, n_steps)
    h_left = min(int(np.floor(h_pos)), n_steps - 1)
    return ModelData(
        as_of=as_of, candidates=candidates, ballot=ballot, knots=knots, dates=dates,
        pollsters=pollsters, modes=modes, polls=table, counts=counts, offered=offered,
        knot_index=left, knot_weight=weight,
        pollster_index=table["pollster"].map({p: i for i, p in enumerate(pollsters)}).to_numpy(),
        mode_index=table["mode"].map({m: i for i, m in enumerate(modes)}).to_numpy(),
        available=available, step_active=step_active, interpolation=interp, anchor=anchor,
        horizon_index=h_left, horizon_weight=float(h_pos - h_left),
        file_pollsters=sorted(polls.table["pollster"].unique()),
        file_modes=sorted(polls.table["mode"].unique()),
    )


def known_dates(table: pd.DataFrame) -> pd.Series:
    """When each poll was public: its publication date, else the end of its fieldwork.

    An as-of forecast uses the polls known by its date (no look-ahead: a poll published two
    days after its fieldwork is not in a forecast of the day its fieldwork ended)."""
    if "known" in table:
        return pd.to_datetime(table["known"])
    published = pd.to_datetime(table["published"]) if "published" in table else None
    ends = pd.to_datetime(table["field_end"])
    return ends if published is None else published.fillna(ends)


def _known_in_race(candidate, day: dt.date, as_of: dt.date) -> bool:
    """Whether ``candidate`` is in the race on ``day`` as far as was known on ``as_of``."""
    if candidate.available_from > as_of:
        return False  # not yet an entrant: unknown on the as-of date
    if candidate.available_until < as_of:
        return candidate.available_on(day)  # withdrawal already happened: a fact
    return candidate.available_from <= day  # in the race: assumed to stay to election day


#: The mode of a poll whose file leaves its mode blank.
UNKNOWN_MODE = "unknown"


def round_preserving_total(values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Round rows to integers that still sum to ``totals`` (largest remainders get the rest).

    Poll shares x decided respondents -> counts, for every model of the project."""
    floor = np.floor(values).astype(np.int64)
    short = totals.astype(np.int64) - floor.sum(axis=1)
    order = np.argsort(-(values - floor), axis=1, kind="stable")
    out = floor.copy()
    for i, k in enumerate(short):
        out[i, order[i, :k]] += 1
    return out


POLL_ARRAY_NAMES = ("poll_counts", "offered", "knot_index", "knot_weight", "pollster_index",
                    "mode_index", "level_embedding", "pollster_embedding", "mode_embedding",
                    "entry_poll", "entry_candidate", "log_coefficient", "step_active", "anchor",
                    "horizon_index", "horizon_weight")


def poll_arrays(data: ModelData, mode_effects: str = "nested") -> dict[str, np.ndarray]:
    """The model's data variables (names as in the PyMC model), for building or swapping in.

    Pollster and mode indices point into the poll file's lists (``file_pollsters``,
    ``file_modes``), so as-of fits with different pollster sets share one compiled model.
    """
    pollster_pos = {p: i for i, p in enumerate(data.file_pollsters)}
    mode_pos = {m: i for i, m in enumerate(data.file_modes)}
    entry_poll, entry_candidate = np.nonzero(data.offered)
    counts = data.counts.astype("int64")
    # The multinomial coefficient log(n! / prod x!) does not depend on the parameters: it is
    # computed here once instead of in every gradient evaluation.
    log_coefficient = float(np.sum(gammaln(counts.sum(axis=1) + 1.0))
                            - np.sum(gammaln(counts + 1.0)))
    return {
        "poll_counts": counts,
        "offered": data.offered.astype("float64"),
        "knot_index": data.knot_index.astype("int64"),
        "knot_weight": data.knot_weight.astype("float64"),
        "pollster_index": np.array([pollster_pos[data.pollsters[i]]
                                    for i in data.pollster_index], dtype="int64"),
        "mode_index": np.array([mode_pos[data.modes[i]] for i in data.mode_index],
                               dtype="int64"),
        "level_embedding": zero_sum_embedding(data.candidates, [
            c for c, on in zip(data.candidates, data.step_active.any(axis=0)
                               | data.offered.any(axis=0), strict=True) if on]),
        "pollster_embedding": zero_sum_embedding(data.file_pollsters, data.pollsters),
        # "nested": a blank mode ("unknown") is no mode: its polls get no mode effect.
        "mode_embedding": zero_sum_embedding(data.file_modes, [
            m for m in data.modes if mode_effects != "nested" or m != UNKNOWN_MODE]),
        "entry_poll": entry_poll.astype("int64"),
        "entry_candidate": entry_candidate.astype("int64"),
        "log_coefficient": np.asarray(log_coefficient, dtype="float64"),
        "step_active": data.step_active.astype("float64"),
        "anchor": np.asarray(data.anchor, dtype="int64"),
        "horizon_index": np.asarray(data.horizon_index, dtype="int64"),
        "horizon_weight": np.asarray(data.horizon_weight, dtype="float64"),
    }


def zero_sum_embedding(groups: list[str], active: list[str]) -> np.ndarray:
    """(groups, groups - 1) matrix: iid normals -> zero-sum over the active groups, 0 elsewhere.

    With n active groups, the first n - 1 columns are ZeroSumNormal's own orthonormal embedding
    of R^(n-1) into the zero-sum vectors of R^n (PyMC's ZeroSumTransform.extend_axis), placed on
    the active groups in order; the other columns are 0 (their normals are prior-only). So
    ``embedding @ z`` for iid normal z is exactly ZeroSumNormal on the active groups, with the
    same unconstrained geometry; with every group active it is ZeroSumNormal itself.
    """
    size = len(groups)
    on = np.isin(groups, active)
    n = int(on.sum())
    out = np.zeros((size, max(size - 1, 0)))
    if n >= 2:
        eye = np.eye(n - 1)
        total = eye.sum(axis=0, keepdims=True)
        norm = total / (np.sqrt(n) + n)
        fill = norm - total / np.sqrt(n)
        out[np.flatnonzero(on), :n - 1] = np.concatenate([eye, fill], axis=0) - norm
    return out


def structure_key(data: ModelData, spec: ModelSpec) -> tuple:
    """What a compiled model depends on besides its data: equal keys can share one compile."""
    settings = tuple(sorted((k, v) for k, v in spec.as_dict().items() if k not in SAMPLER_KEYS))
    return (tuple(data.candidates), tuple(data.ballot), len(data.knots),
            tuple(data.file_pollsters), tuple(data.file_modes), settings)


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
        "pollster": data.file_pollsters,
        "mode": data.file_modes,
    }
    with pm.Model(coords=coords) as model:
        # Everything that depends on the poll set is data, not a constant of the graph, so a
        # compiled model can be reused for new polls and as-of dates of the same structure
        # (see structure_key and forecast/fit.py).
        d = {name: pm.Data(name, value)
             for name, value in poll_arrays(data, spec.mode_effects).items()}
        # The level is zero-sum over the candidates in the race at some point (as known on the
        # as-of date); one not yet in the race has no polls and is not on the ballot, and a
        # level shared with the others' zero sum left a prior-only direction of sd ~1.5 mixed
        # into the identified ones (as of 2018-02-26: R-hat of `level` 1.04-1.08, ESS 43-98).
        level_raw = pm.Normal("level_raw", 0.0, spec.level_sigma, shape=(K - 1,))
        level = pm.Deterministic("level", pt.sum(d["level_embedding"] * level_raw[None, :], axis=1),
                                 dims="candidate")
        innovation = pm.ZeroSumNormal("innovation", sigma=1.0, dims=("step", "candidate"))
        rw_sd = pm.HalfNormal("random_walk_sd", sigma=spec.random_walk_sigma)
        step_sd = rw_sd * np.sqrt(spec.step_days)
        # The walk is anchored in the middle of the polls (the knot nearest the median poll):
        # the level there is identified by polls on both sides and other knots are offsets from
        # it, at most half the polled period of innovations away. Anchoring at the as-of date
        # (before) or at the first, sparsely polled week made every poll's knot a long sum of
        # innovations: on the 2018 data 109 gradients per draw and ESS 2,100-2,400 instead of
        # 64 and ~6,000. Knots after the last poll carry the forecast to election day with the
        # walk's own scale.
        # A candidate's walk is frozen outside their window (before entering the race, after
        # leaving it): nothing observes it there, and a free walk would leave e.g. a withdrawn
        # candidate's current level identified only through months of innovations.
        prefix = pt.concatenate(
            [pt.zeros((1, K)), pt.cumsum(innovation * d["step_active"], axis=0)], axis=0)
        eta = level[None, :] + step_sd * (prefix - prefix[d["anchor"]][None, :])
        pm.Deterministic("latent", eta, dims=("knot", "candidate"))

        # House effects are zero-sum over the pollsters with polls by the as-of date (and over
        # candidates). The model's pollster axis is the poll file's, so as-of fits share one
        # compiled model: see _zero_sum_over_active for how the zero sum over a data-dependent
        # set of pollsters is built (exactly ZeroSumNormal on them; no effect for the others).
        house_sd = pm.HalfNormal("house_effect_sd", sigma=spec.house_effect_sigma)
        if len(data.file_pollsters) > 1:
            house_raw = pm.Normal("house_effect_raw", 0.0, 1.0,
                                  shape=(len(data.file_pollsters) - 1, K - 1))
            house_std = _zero_sum_over_active(house_raw, d, "pollster")
        else:  # a single pollster: zero-sum means no house effect
            house_std = pt.zeros((1, K))
        house = pm.Deterministic("house_effect", house_sd * house_std,
                                 dims=("pollster", "candidate"))
        if len(data.file_modes) > 1 and spec.mode_effects != "none":
            # Fixed prior scale (not a hyperparameter): a pollster rarely changes mode, so a
            # mode effect is confounded with house effects and an estimated scale only adds a
            # funnel. Zero-sum over the modes in use by the as-of date (one mode: no effect).
            # "nested": a mode effect is the mean house effect of the pollsters using that
            # mode, a blank mode is not a mode (its polls get none: they are of some unknown
            # mix of modes); "separate": blank is a level of its own (docs/model.md).
            mode_raw = pm.Normal("mode_effect_raw", 0.0, 1.0,
                                 shape=(len(data.file_modes) - 1, K - 1))
            mode = pm.Deterministic(
                "mode_effect", spec.mode_effect_sigma * _zero_sum_over_active(mode_raw, d, "mode"),
                dims=("mode", "candidate"))
        else:
            mode = pt.zeros((len(data.file_modes), K))
        log_conc = pm.Normal("log_concentration", mu=np.log(spec.concentration_median),
                             sigma=spec.concentration_log_sd)
        concentration = pm.Deterministic("concentration", pt.exp(log_conc))
        # The Dirichlet-multinomial caps a poll's information near its concentration: an
        # opt-in online poll of 28,000 interviews counts as a concentration, not as 28,000.
        # With concentration_by = "pollster" (or "mode") that concentration is its pollster's
        # (mode's), hierarchical around the common one: groups whose polls scatter more
        # around the trend count for less.
        group = {"pollster": "pollster", "mode": "mode"}.get(spec.concentration_by)
        by_group = group is not None and len(
            data.file_pollsters if group == "pollster" else data.file_modes) > 1
        if by_group:
            conc_raw = pm.Normal(f"concentration_{group}_raw", 0.0, 1.0, dims=group)
            poll_conc = pt.exp(log_conc + spec.concentration_pollster_sd
                               * conc_raw[d[f"{group}_index"]])
            pm.Deterministic(f"{group}_concentration",
                             pt.exp(log_conc + spec.concentration_pollster_sd * conc_raw),
                             dims=group)
        else:
            poll_conc = concentration

        w = d["knot_weight"][:, None]
        eta_poll = ((1 - w) * eta[d["knot_index"]] + w * eta[d["knot_index"] + 1]
                    + house[d["pollster_index"]] + mode[d["mode_index"]])
        # Each poll is compared with the candidates it offered only: the softmax is renormalised
        # over the offered set. Options not offered get a vanishing Dirichlet weight and zero
        # counts, which contributes exactly nothing to the likelihood (gammaln(0 + a) - gammaln(a))
        # and lets one Dirichlet-multinomial node cover every candidate set (one small graph to
        # compile instead of one per set). The log-density is evaluated on the offered entries
        # only, with the parameter-free multinomial coefficient precomputed (_dm_logp): the same
        # density at about 60% of the special-function evaluations per gradient.
        offered = d["offered"]
        expo = pt.exp(eta_poll - pt.max(eta_poll, axis=-1, keepdims=True)) * offered
        p = expo / pt.sum(expo, axis=-1, keepdims=True)
        conc = poll_conc[:, None] if by_group else poll_conc
        pm.CustomDist(
            "polls", d["poll_counts"].sum(axis=1), (p + 1e-9 * (1 - offered)) * conc,
            dist=_dm_dist, logp=_dm_logp(d), signature="(),(k)->(k)",
            observed=d["poll_counts"])

        # Election day: the latent support at the polling-error horizon (election day minus
        # the days between the final polls and the vote in the elections the error was
        # measured on, or the as-of date when later), plus the historical election-day error.
        # That error was measured on final polls, so it already holds the last days' swing:
        # the walk runs only up to the horizon, and the late swing is counted once
        # (docs/calibration.md). Its scale has its own uncertainty (log-normal) and grows for
        # small candidates (size exponent); the standardised error is kept so a study can
        # rescale it without refitting.
        hw = d["horizon_weight"]
        eta_h = (1 - hw) * eta[d["horizon_index"]] + hw * eta[d["horizon_index"] + 1]
        eta_hb = eta_h[ballot_idx]
        pm.Deterministic("latent_horizon", eta_hb, dims="ballot")
        share_h = pt.special.softmax(eta_hb, axis=-1)
        if spec.polling_error_log_sd > 0:
            log_sigma = pm.Normal("polling_error_log_sigma", np.log(spec.polling_error_sigma),
                                  spec.polling_error_log_sd)
        else:
            log_sigma = pt.as_tensor(np.log(spec.polling_error_sigma))
        size = (pt.maximum(share_h, 0.005) / spec.polling_error_reference_share) ** (
            -spec.polling_error_size_exponent)
        error_sd = pm.Deterministic("polling_error_sd", pt.exp(log_sigma) * size, dims="ballot")
        error = pm.Normal("polling_error_raw", 0.0, 1.0, dims="ballot")
        pm.Deterministic("vote_share_valid", pt.special.softmax(eta_hb + error_sd * error,
                                                                axis=-1), dims="ballot")
    return model


def _zero_sum_over_active(raw: pt.TensorVariable, d: dict, group: str) -> pt.TensorVariable:
    """(groups of the file, candidate) effects, zero-sum over the active groups and candidates.

    ``raw`` (groups - 1, candidates - 1) is iid standard normal; the data embedding
    (:func:`zero_sum_embedding`) maps it onto the active groups and ZeroSumNormal's embedding
    onto the candidates: on the active groups this is exactly
    ``ZeroSumNormal(sigma=1, n_zerosum_axes=2)``; inactive groups get 0.
    """
    k = int(raw.type.shape[1]) + 1
    return _matmul(_matmul(d[f"{group}_embedding"], raw),
                   pt.as_tensor(_candidate_embedding(k)).T)


def _matmul(a: pt.TensorVariable, b: pt.TensorVariable) -> pt.TensorVariable:
    """a @ b as an elementwise product and a sum, not BLAS: BLAS kernels may round differently
    with the arrays' memory alignment, and a reused compiled model must give the same draws
    as a fresh compile (serial and parallel timelines and studies are identical)."""
    return pt.sum(a[:, :, None] * b[None, :, :], axis=1)


def _candidate_embedding(k: int) -> np.ndarray:
    return zero_sum_embedding([str(i) for i in range(k)], [str(i) for i in range(k)])


def _dm_dist(n, a, size):
    return pm.DirichletMultinomial.dist(n=n, a=a, size=size)


def _dm_logp(d: dict):
    """Dirichlet-multinomial log-density of the poll counts, over the offered entries only.

    Equal to ``DirichletMultinomial.logp``: entries not offered have zero counts and add
    gammaln(0 + a) - gammaln(a) = 0, and log(n! / prod x!) is the data ``log_coefficient``
    (valid for the observed counts, the only value this density is evaluated at).
    """
    def logp(value, n, a):
        rows, cols = d["entry_poll"], d["entry_candidate"]
        a_e = a[rows, cols]
        x_e = pt.cast(value[rows, cols], "float64")
        a0 = pt.sum(a, axis=-1)
        per_poll = pt.gammaln(a0) - pt.gammaln(n + a0)
        per_poll = pt.inc_subtensor(per_poll[rows], pt.gammaln(x_e + a_e) - pt.gammaln(a_e))
        # The constant is spread over the polls so the density keeps its per-poll shape.
        return per_poll + d["log_coefficient"] / pt.cast(n.shape[0], "float64")

    return logp
