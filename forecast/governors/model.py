"""Hierarchical model of the state polls (PyMC): baseline + swing + local effect + house effects.

Structure (full account in ``docs/governors.md``; priors in ``models/governors.toml``):

* support in state *s* for candidacy *k*: ``softmax_k(log b[s,k] + swing[bloc(k)] + local[s,k])``
  over the candidacies on the ballot, where ``b`` is the 2015 federal-deputies vote mapped onto
  the candidacies, ``swing`` the change since 2015 of each national bloc (common to all states)
  and ``local[s,k] = local_sd * z`` the state's own deviation (candidate, local machine), with
  ``local_sd`` estimated across states (partial pooling: a state without polls gets the prior
  ``local_sd``, a well-polled state its polls);
* poll *i* by pollster *j* sees ``softmax(eta[s] + house[j])`` grouped into the slots it
  reported (an option, an option that then included a later split-off, or "the rest"),
  renormalised over them; house effects are shared by a pollster across states;
* counts of decided respondents are Dirichlet-multinomial; older polls get a lower concentration
  (``exp(-age / age_scale_days)``): the campaign moved, and one weekly walk per state cannot be
  estimated from one to seven polls.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..fit import Diagnostics, judge
from ..model import round_preserving_total
from ..sampling import SamplerSettings, sample
from ..seeds import DEFAULT_SEED
from ..settings import Settings, load_settings
from ..storage import (
    canonical_draws,
    canonical_table,
    digest,
    read_groups,
    table_from_dataset,
    table_to_dataset,
    write_groups,
)
from .polls import GovernorPolls
from .races import GovernorRaces

REST = "rest"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GovernorSpec(Settings):
    """Priors and sampler settings of the governor model (``models/governors.toml``)."""

    swing_sigma: float = 1.0
    local_sd_median: float = 0.45
    local_sd_log_sd: float = 0.5
    house_effect_sigma: float = 0.15
    concentration_median: float = 150.0
    concentration_log_sd: float = 0.7
    age_scale_days: float = 45.0
    final_poll_error_sigma: float = 0.33
    main_share: float = 0.10
    sampler: str = "nutpie"
    chains: int = 4
    draws: int = 2000
    tune: int = 1500
    target_accept: float = 0.95
    adaptation: str = "diag"
    source: str = field(default="defaults", compare=False)


_LAYOUT = {
    ("baseline", "swing_sigma"): "swing_sigma",
    ("baseline", "local_sd_median"): "local_sd_median",
    ("baseline", "local_sd_log_sd"): "local_sd_log_sd",
    ("house_effect", "sigma"): "house_effect_sigma",
    ("poll_noise", "concentration_median"): "concentration_median",
    ("poll_noise", "concentration_log_sd"): "concentration_log_sd",
    ("poll_noise", "age_scale_days"): "age_scale_days",
    ("election_day", "final_poll_error_sigma"): "final_poll_error_sigma",
    ("election_day", "main_share"): "main_share",
    ("sampler", "name"): "sampler",
    ("sampler", "chains"): "chains",
    ("sampler", "draws"): "draws",
    ("sampler", "tune"): "tune",
    ("sampler", "target_accept"): "target_accept",
    ("sampler", "adaptation"): "adaptation",
}
ADAPTATIONS = ("diag", "low_rank")


def _expected(name: str, kind: str, value: object) -> str | None:
    number = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value))  # TOML has inf and nan
    if name in ("target_accept", "main_share"):
        ok = number and 0 < value < 1
        expected = "a number between 0 and 1"
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        expected = "a positive integer"
    elif kind == "float":
        ok = number and value > 0
        expected = "a positive number"
    elif name == "adaptation":
        ok = value in ADAPTATIONS
        expected = "one of " + ", ".join(ADAPTATIONS)
    else:
        ok = value in ("nutpie", "pymc")
        expected = "'nutpie' or 'pymc'"
    return None if ok else expected


def load_governor_spec(path: str | Path) -> GovernorSpec:
    """Read ``models/governors.toml``, checking every key and value.

    Raises
    ------
    InputError
        Unknown sections or keys, wrong types or out-of-range values, with file and line.
    """
    return load_settings(path, GovernorSpec, _LAYOUT, _expected,
                         missing="model specification not found")


@dataclass
class GovernorData:
    """Arrays the governor model is built from."""

    as_of: dt.date
    states: list[str]
    options: list[str]
    blocs: list[str]
    pollsters: list[str]
    polls: pd.DataFrame
    ballot: np.ndarray  # (state, option) bool: on the ballot as of the as-of date
    log_baseline: np.ndarray  # (state, option) log baseline share over the ballot (0 off it)
    bloc_matrix: np.ndarray  # (state, option, bloc) one-hot
    counts: np.ndarray  # (poll, slot) decided respondents per reported slot
    groups: np.ndarray  # (poll, slot, option) 1 where the slot holds the option
    state_index: np.ndarray
    pollster_index: np.ndarray
    weight: np.ndarray  # (poll,) concentration multiplier for the poll's age
    polls_by_state: dict[str, int]

    def to_dataset(self) -> xr.Dataset:
        """Every array as one labelled Dataset (stored in the fit; :meth:`from_dataset`)."""
        return xr.Dataset(
            {
                "ballot": (("state", "option"), self.ballot.astype(bool)),
                "log_baseline": (("state", "option"), self.log_baseline.astype(np.float64)),
                "bloc_matrix": (("state", "option", "bloc"),
                                self.bloc_matrix.astype(np.float64)),
                "counts": (("poll", "slot"), self.counts.astype(np.int64)),
                "groups": (("poll", "slot", "option"), self.groups.astype(np.float64)),
                "state_index": ("poll", self.state_index.astype(np.int64)),
                "pollster_index": ("poll", self.pollster_index.astype(np.int64)),
                "weight": ("poll", self.weight.astype(np.float64)),
                "polls_by_state": ("state", np.array([self.polls_by_state[s]
                                                      for s in self.states], dtype=np.int64)),
                "pollster_names": ("pollster", np.array(self.pollsters, dtype=object)),
            },
            coords={"state": np.array(self.states, dtype=object),
                    "option": np.array(self.options, dtype=object),
                    "bloc": np.array(self.blocs, dtype=object),
                    "slot": np.arange(self.counts.shape[1]),
                    "poll": np.arange(len(self.counts))},
            attrs={"as_of": self.as_of.isoformat()})

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, polls: pd.DataFrame) -> GovernorData:
        """Rebuild data stored by :meth:`to_dataset` (``polls``: the stored poll table)."""
        states = [str(s) for s in ds["state"].values]
        by_state = ds["polls_by_state"].values
        return cls(
            as_of=dt.date.fromisoformat(str(ds.attrs["as_of"])), states=states,
            options=[str(o) for o in ds["option"].values],
            blocs=[str(b) for b in ds["bloc"].values],
            pollsters=[str(p) for p in ds["pollster_names"].values], polls=polls,
            ballot=ds["ballot"].values.astype(bool),
            log_baseline=ds["log_baseline"].values.astype(np.float64),
            bloc_matrix=ds["bloc_matrix"].values.astype(np.float64),
            counts=ds["counts"].values.astype(np.int64),
            groups=ds["groups"].values.astype(np.float64),
            state_index=ds["state_index"].values.astype(np.int64),
            pollster_index=ds["pollster_index"].values.astype(np.int64),
            weight=ds["weight"].values.astype(np.float64),
            polls_by_state={s: int(n) for s, n in zip(states, by_state, strict=True)})

    @property
    def pollsters_by_state(self) -> dict[str, int]:
        """Distinct pollsters among each state's polls."""
        if not len(self.polls):
            return {s: 0 for s in self.states}
        counts = self.polls.groupby("state")["pollster"].nunique()
        return {s: int(counts.get(s, 0)) for s in self.states}

    @property
    def observed(self) -> np.ndarray:
        """(state, option) bool: on the ballot and in a slot of some poll."""
        seen = np.zeros(self.ballot.shape, bool)
        for i, s in enumerate(self.state_index):
            seen[s] |= self.groups[i].sum(axis=0) > 0
        return seen & self.ballot


def prepare_governors(races: GovernorRaces, polls: GovernorPolls, spec: GovernorSpec,
                      as_of: dt.date | None = None) -> GovernorData:
    """Model arrays from the races and the polls public by ``as_of``.

    Parameters
    ----------
    races, polls, spec
        Race definitions, validated state polls (all of them) and model settings.
    as_of
        Use only polls public by this date (published, or fieldwork ended when no publication
        date is given); default: the last poll's date.
    """
    table = polls.table
    if as_of is None:
        as_of = table["known"].max().date() if len(table) else races.election_day
    if as_of > races.election_day:
        raise ValueError(f"as-of date {as_of} is after election day {races.election_day}")
    table = table[table["known"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    states, options, blocs = races.states, races.options, races.bloc_keys
    S, K, B = len(states), len(options), len(blocs)
    ballot = np.zeros((S, K), bool)
    log_base = np.zeros((S, K))
    bloc_matrix = np.zeros((S, K, B))
    for s, race in enumerate(races.races):
        on = race.ballot(as_of)
        if len(on) < 2:
            raise ValueError(f"fewer than two candidates in {race.state} on {as_of}")
        total = sum(race.baseline[k] for k in on)
        for k in on:
            j = options.index(k)
            ballot[s, j] = True
            log_base[s, j] = np.log(race.baseline[k] / total)
        for c in race.candidates:
            bloc_matrix[s, options.index(c.key), blocs.index(c.bloc)] = 1.0
    pollsters = sorted(table["pollster"].unique()) if len(table) else []
    N = len(table)
    groups = np.zeros((N, K + 1, K))
    values = np.zeros((N, K + 1))
    for i, row in enumerate(table.itertuples()):
        s = states.index(row.state)
        race = races.races[s]
        reference = row.reference.date() if pd.notna(row.reference) else as_of
        covered = set()
        for k in race.keys:
            share = getattr(row, k)
            if not np.isfinite(share) or not ballot[s, options.index(k)]:
                continue
            j = options.index(k)
            groups[i, j, j] = 1.0
            values[i, j] = share
            covered.add(k)
            # A candidacy that split off later was inside this one when the poll was taken.
            for c in race.candidates:
                if (c.split_from == k and not c.available_on(reference)
                        and ballot[s, options.index(c.key)]):
                    groups[i, j, options.index(c.key)] = 1.0
                    covered.add(c.key)
        rest = [k for k in race.ballot(as_of) if k not in covered]
        if np.isfinite(row.rest) and rest:
            for k in rest:
                groups[i, K, options.index(k)] = 1.0
            values[i, K] = row.rest
    totals = values.sum(axis=1, keepdims=True)
    frac = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    n = table["n_decided"].to_numpy(dtype=float) if N else np.zeros(0)
    counts = round_preserving_total(frac * n[:, None], n.astype(np.int64)) if N else \
        np.zeros((0, K + 1), np.int64)
    # Ages are counted back from the newest poll used, not from the as-of date: a later as-of
    # date with no new state poll scales every weight alike, which the concentration absorbs,
    # so the fit (and its key) stays the same and can be reused.
    newest = table["known"].max() if N else pd.Timestamp(as_of)
    age = ((newest - table["reference"]).dt.days.clip(lower=0).to_numpy(float)
           if N else np.zeros(0))
    return GovernorData(
        as_of=as_of, states=states, options=options, blocs=blocs, pollsters=pollsters,
        polls=table, ballot=ballot, log_baseline=log_base, bloc_matrix=bloc_matrix,
        counts=counts.astype(np.int64), groups=groups,
        state_index=np.array([states.index(s) for s in table["state"]], dtype=np.int64),
        pollster_index=np.array([pollsters.index(p) for p in table["pollster"]], dtype=np.int64),
        weight=np.exp(-age / spec.age_scale_days),
        polls_by_state={s: int((table["state"] == s).sum()) for s in states})


def build_governor_model(data: GovernorData, spec: GovernorSpec) -> pm.Model:
    """The PyMC model (see the module docstring and ``docs/governors.md``).

    The posterior has ``swing`` (bloc; the first, ``jhh``, is the reference 0), ``local_sd``,
    ``local`` (state, option), ``house_effect`` (pollster, option), ``concentration`` and
    ``support`` (state, option): shares of the valid vote over each state's ballot as the polls
    see it (0 off the ballot).
    """
    coords = {"state": data.states, "option": data.options, "bloc": data.blocs,
              "pollster": data.pollsters, "slot": [*data.options, REST]}
    ballot = data.ballot.astype(float)
    with pm.Model(coords=coords) as model:
        # The first bloc (jhh) is the reference, swing 0: shares depend on differences only.
        # With a zero-sum swing (or "other" as the reference) the direction "all main blocs
        # together" was identified only by the few independent/PH candidacies and coupled to
        # every local effect of a polled state: R-hat 1.015-1.025 on the 2018 data. Now only
        # "other" is weakly identified, and it touches only its own candidacies.
        free = pm.Normal("swing_free", 0.0, spec.swing_sigma, shape=len(data.blocs) - 1)
        swing = pm.Deterministic("swing", pt.concatenate([pt.zeros(1), free]), dims="bloc")
        local_sd = pm.LogNormal("local_sd", mu=np.log(spec.local_sd_median),
                                sigma=spec.local_sd_log_sd)
        # Non-centred: most states have one to three polls, or none, where a centred local
        # effect and its scale form a funnel. (A centred parametrisation of the poll-observed
        # cells was tried: the state-wide level of the log-shares, which polls do not identify,
        # then mixed worse, ESS ~50; so did centring the local effects within each state.)
        local_raw = pm.Normal("local_raw", 0.0, 1.0, dims=("state", "option"))
        local = pm.Deterministic("local", local_sd * local_raw * ballot, dims=("state", "option"))
        eta = (data.log_baseline + pt.tensordot(pt.as_tensor(data.bloc_matrix), swing,
                                                axes=[[2], [0]]) + local)
        expo = pt.exp(eta - pt.max(eta, axis=-1, keepdims=True)) * ballot
        pm.Deterministic("support", expo / pt.sum(expo, axis=-1, keepdims=True),
                         dims=("state", "option"))
        if len(data.polls) == 0:
            return model
        if len(data.pollsters) > 1:
            house_sd = pm.HalfNormal("house_effect_sd", sigma=spec.house_effect_sigma)
            house = pm.Deterministic(
                "house_effect",
                house_sd * pm.ZeroSumNormal("house_effect_raw", sigma=1.0, n_zerosum_axes=2,
                                            dims=("pollster", "option")),
                dims=("pollster", "option"))
        else:
            house = pt.zeros((1, len(data.options)))
        log_conc = pm.Normal("log_concentration", mu=np.log(spec.concentration_median),
                             sigma=spec.concentration_log_sd)
        pm.Deterministic("concentration", pt.exp(log_conc))
        eta_poll = eta[data.state_index] + house[data.pollster_index]
        on = ballot[data.state_index]
        e = pt.exp(eta_poll - pt.max(eta_poll, axis=-1, keepdims=True)) * on
        p = e / pt.sum(e, axis=-1, keepdims=True)
        # Each poll is compared with the slots it reported, renormalised over them; a slot it
        # did not report has zero counts and a vanishing weight, which adds nothing to the
        # likelihood, so one Dirichlet-multinomial node covers every candidate set.
        groups = pt.as_tensor(data.groups)
        slot_p = pt.sum(groups * p[:, None, :], axis=-1)
        active = (data.groups.sum(axis=-1) > 0).astype(float)
        slot_p = slot_p / pt.sum(slot_p, axis=-1, keepdims=True)
        a = (slot_p + 1e-9 * (1 - active)) * pt.exp(log_conc) * data.weight[:, None]
        pm.DirichletMultinomial("polls", n=data.counts.sum(axis=1), a=a, observed=data.counts)
    return model


@dataclass
class GovernorFit:
    """A fitted governor model: canonical posterior draws, the data, settings and diagnostics.

    Like the poll-model :class:`~forecast.fit.Fit`, a fresh fit holds exactly what its file
    holds (:func:`save_governor_fit`, :func:`load_governor_fit`), and ``key`` identifies it.
    """

    posterior: xr.DataTree
    races: GovernorRaces
    spec: GovernorSpec
    data: GovernorData
    diagnostics: Diagnostics
    seed: int = 0
    key: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date:
        """The forecast date: the model used the state polls public by then."""
        return self.data.as_of

    @property
    def polls(self) -> pd.DataFrame:
        """The polls the fit used."""
        return self.data.polls


#: Posterior variables a governor fit keeps (the simulation reads local, swing and local_sd;
#: support is the state-level estimate the polls see).
STORED = ("local", "swing", "local_sd", "concentration", "support")
FIT_KIND = "forecast.governor_fit/2"


def governor_fit_key(data: GovernorData, spec: GovernorSpec, seed: int) -> str:
    """What a governor fit's draws depend on (model arrays, settings, seed, version)."""
    from .. import __version__

    ds = data.to_dataset()
    return digest("governor-model", __version__,
                  {name: ds[name].values for name in ds.data_vars},
                  {name: ds[name].values for name in ds.coords}, spec.as_dict(), int(seed))


_PARAMETERS = ("swing_free", "local_sd", "local_raw", "house_effect_sd", "house_effect_raw",
               "log_concentration")


def _diagnose(tree: xr.DataTree, data: GovernorData, *, sampler: str, fit_seconds: float,
              compile_seconds: float) -> Diagnostics:
    post = tree["posterior"]
    names = [v for v in _PARAMETERS if v in post.data_vars]
    with warnings.catch_warnings():
        # Off-ballot cells are constant: their R-hat divides 0 by 0 (NaN, ignored below).
        warnings.simplefilter("ignore", category=RuntimeWarning)
        rhat = az.rhat(tree, var_names=[*names, "support"])
        ess_all = az.ess(tree, var_names=names, method="bulk")
        ess_support = az.ess(tree, var_names=["support"], method="bulk")["support"].values
    # Off-ballot cells are constant zeros (NaN R-hat and ESS): only ballot cells are judged.
    max_rhat = float(max(np.nanmax(np.where(
        data.ballot if v == "support" else True, rhat[v].values, np.nan))
        for v in rhat.data_vars))
    min_share = float(np.nanmin(np.where(data.ballot, ess_support, np.nan)))
    min_all = float(min(np.nanmin(ess_all[v].values) for v in ess_all.data_vars))
    return judge(tree, max_rhat=max_rhat, min_ess_bulk=min_share, min_ess_bulk_all=min_all,
                 quantity="state support", sampler=sampler, fit_seconds=fit_seconds,
                 compile_seconds=compile_seconds)


def fit_governors(races: GovernorRaces, polls: GovernorPolls, spec: GovernorSpec, *,
                  as_of: dt.date | None = None, seed: int = DEFAULT_SEED,
                  progress: bool | None = None) -> GovernorFit:
    """Fit the governor model to the state polls public by ``as_of``.

    Parameters
    ----------
    races, polls, spec
        Race definitions, validated state polls and model settings.
    as_of
        Only polls public by this date are used (default: the last poll's date).
    seed
        Sampler seed: the same inputs and seed give the same draws.
    progress
        Show the sampler's progress bar (default: only on a terminal).

    Returns
    -------
    GovernorFit
        A fit that fails its diagnostics (R-hat > 1.01, any divergence, ESS of the state
        support < 400) is returned, not raised: ``diagnostics.converged`` is False and a
        warning is logged.
    """
    data = prepare_governors(races, polls, spec, as_of)
    return fit_governors_data(data, races, spec, seed=seed, progress=progress)


def fit_governors_data(data: GovernorData, races: GovernorRaces, spec: GovernorSpec, *,
                       seed: int = DEFAULT_SEED, progress: bool | None = None) -> GovernorFit:
    """Fit prepared governor data (see :func:`fit_governors`)."""
    settings = SamplerSettings(sampler=spec.sampler, chains=spec.chains, draws=spec.draws,
                               tune=spec.tune, target_accept=spec.target_accept,
                               adaptation=spec.adaptation)
    sampled = sample(lambda: build_governor_model(data, spec), settings=settings, seed=seed,
                     progress=progress)
    tree = sampled.tree
    diagnostics = _diagnose(tree, data, sampler=spec.sampler, fit_seconds=sampled.fit_seconds,
                            compile_seconds=sampled.compile_seconds)
    if not diagnostics.converged:
        log.warning("governor model %s", diagnostics.describe())
    post = tree["posterior"].to_dataset()
    post = canonical_draws(post[[v for v in STORED if v in post]].drop_attrs(deep=False))
    data = replace(data, polls=canonical_table(data.polls))
    return GovernorFit(posterior=xr.DataTree.from_dict({"/posterior": post}), races=races,
                       spec=spec, data=data, diagnostics=diagnostics, seed=int(seed),
                       key=governor_fit_key(data, spec, seed))


def save_governor_fit(result: GovernorFit, path: str | Path, *,
                      attrs: dict[str, str] | None = None) -> Path:
    """Save a governor fit (posterior, model data, poll table, settings, key) to netCDF."""
    from .. import __version__

    meta = {"kind": FIT_KIND, "version": __version__, "as_of": result.as_of.isoformat(),
            "seed": str(result.seed), "fit_key": result.key,
            "spec": json.dumps(result.spec.as_dict()),
            "diagnostics": json.dumps(result.diagnostics.as_dict()),
            "meta": json.dumps(result.meta), **(attrs or {})}
    groups = {"posterior": result.posterior["posterior"].to_dataset(),
              "model_data": result.data.to_dataset(),
              "polls": table_to_dataset(result.data.polls, "row")}
    return write_groups(Path(path), groups, meta)


def load_governor_fit(path: str | Path, races: GovernorRaces) -> GovernorFit:
    """A fit saved by :func:`save_governor_fit` (``races``: the election's race definitions).

    Raises
    ------
    InputError
        Not a governor fit file.
    """
    groups, attrs = read_groups(path, kind=FIT_KIND)
    spec = GovernorSpec(**json.loads(attrs["spec"]), source=str(path))
    polls = table_from_dataset(groups["polls"], "row")
    data = GovernorData.from_dataset(groups["model_data"], polls)
    return GovernorFit(posterior=xr.DataTree.from_dict({"/posterior": groups["posterior"]}),
                       races=races, spec=spec, data=data,
                       diagnostics=Diagnostics(**json.loads(attrs["diagnostics"])),
                       seed=int(attrs["seed"]), key=str(attrs["fit_key"]),
                       meta=json.loads(attrs.get("meta", "{}")))
