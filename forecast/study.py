"""Sensitivity studies: one base configuration, factors to vary, every combination fitted.

A study runs the model once per *scenario* (one level of each factor) and collects P(win) and
share intervals into one ``xarray.Dataset`` with a dimension per factor (docs/studies.md)::

    from forecast.study import Study
    study = Study("polls/mx2018", factors={"drop_pollster": ["none", "Reforma"],
                                           "polling_error_scale": [1, 1.5, 2]},
                  seed=1, spec_changes={"draws": 500})
    ds = study.run()                       # local processes (one per core)
    ds = study.run(client=dask_client)     # or a Dask cluster (a Client or "tcp://host:8786")

Factors are handlers in a registry (:data:`FACTORS`, :func:`register_factor`): each turns a
level into a change of the scenario's :class:`Setup` (poll table, model spec, as-of date,
keyword arguments of :func:`forecast.simulate.simulate`, and ``extra`` for later stages). A
handler marked ``refit=False`` acts at simulation time only: scenarios that differ only in such
factors share one fit.

Seeds are derived from the study seed and the scenario's levels (a hash, never the execution
order), so a study gives identical results serially, on local processes and on a Dask cluster.

``forecast study SPEC.toml --out FILE.nc [--scheduler tcp://...] [--workers N]`` runs a study
file (:func:`main`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .election import Election
from .fit import Fit, fit
from .pipeline import Inputs, load_inputs
from .polls import PollTable
from .problems import InputError, Problem
from .simulate import QUANTILES, beta_parameters, simulate
from .spec import SAMPLERS, ModelSpec

SCHEMA = "forecast.study/1"
DEFAULT_SEED = 20180701
EXIT_INPUT = 2
EXIT_RUNTIME = 1
EXIT_NOT_CONVERGED = 3


# --------------------------------------------------------------------------------------------
# Scenario set-up and the factor registry
# --------------------------------------------------------------------------------------------


@dataclass
class Setup:
    """Everything one scenario is computed from; factor handlers return changed copies.

    Attributes
    ----------
    polls
        The poll table the model is fitted to (filters remove rows from it).
    election
        The election definition.
    spec
        Model settings.
    as_of
        Fit only polls ended by this date (``None``: the last poll).
    simulate
        Keyword arguments of :func:`forecast.simulate.simulate` besides the seed
        (e.g. ``polling_error_scale``).
    extra
        Settings for stages after simulation (e.g. a seat model), set by their factors' handlers
        and read by their summaries (:func:`register_summary`).
    """

    polls: PollTable
    election: Election
    spec: ModelSpec
    as_of: dt.date | None = None
    simulate: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class LevelError(ValueError):
    """A factor level that cannot be used; the message says what was expected."""


@dataclass(frozen=True)
class Factor:
    """A factor a study can vary.

    Attributes
    ----------
    name
        The factor's name (the dimension of the result).
    apply
        ``apply(setup, level) -> Setup``: the scenario's set-up with this level applied.
    parse
        ``parse(value, inputs) -> level``: the level normalised (e.g. ``1`` -> ``1.0``), or
        :class:`LevelError` with what was expected. ``inputs`` (the study's election, polls and
        base spec) allows checking names against the data.
    refit
        False when the factor acts at simulation time only (scenarios share the fit).
    help
        One line for ``--help`` and docs.
    """

    name: str
    apply: Callable[[Setup, object], Setup]
    parse: Callable[[object, Inputs], object]
    refit: bool = True
    help: str = ""


#: Factors a study may vary, by name (extend with :func:`register_factor`).
FACTORS: dict[str, Factor] = {}


def register_factor(name: str, *, parse: Callable[[object, Inputs], object], refit: bool = True,
                    help: str = "") -> Callable:
    """Decorator registering ``apply(setup, level) -> Setup`` as the handler of a factor.

    Example (a later seat-model factor, acting after simulation)::

        @register_factor("seat_rule", parse=_one_of("law_2018", "pure_pr"), refit=False)
        def _seat_rule(setup, level):
            return replace(setup, extra={**setup.extra, "seat_rule": level})
    """

    def decorate(apply: Callable[[Setup, object], Setup]) -> Callable[[Setup, object], Setup]:
        FACTORS[name] = Factor(name=name, apply=apply, parse=parse, refit=refit, help=help)
        return apply

    return decorate


#: Per-scenario summaries: ``fn(draws, fit, setup) -> {name: DataArray}`` (no factor dims).
SUMMARIES: list[Callable[[xr.Dataset, Fit, Setup], dict[str, xr.DataArray]]] = []


def register_summary(fn: Callable[[xr.Dataset, Fit, Setup], dict[str, xr.DataArray]]
                     ) -> Callable:
    """Add variables to every scenario's result (e.g. a seat model's seat quantiles)."""
    SUMMARIES.append(fn)
    return fn


def _with_polls(setup: Setup, keep: pd.Series) -> Setup:
    polls = setup.polls
    table = polls.table[keep.to_numpy()].reset_index(drop=True)
    return replace(setup, polls=PollTable(table, list(polls.warnings), polls.path,
                                          list(polls.candidates)))


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


# ---- ModelSpec settings ------------------------------------------------------------------

_SPEC_FIELDS = {f.name: f.type for f in fields(ModelSpec) if f.name != "source"}
_UNIT_INTERVAL = ("target_accept", "invalid_share_mean")


def check_setting(name: str, value: object) -> object:
    """A ModelSpec setting's value, normalised, or :class:`LevelError` (rules of load_spec)."""
    kind = _SPEC_FIELDS[name]
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return int(value)
        raise LevelError(f"{value!r}: expected a positive integer")
    if kind == "float":
        if _is_number(value) and value > 0:
            if name in _UNIT_INTERVAL and not value < 1:
                raise LevelError(f"{value!r}: expected a number between 0 and 1")
            return float(value)
        if name in _UNIT_INTERVAL:
            raise LevelError(f"{value!r}: expected a number between 0 and 1")
        raise LevelError(f"{value!r}: expected a positive number")
    if name == "sampler":
        if isinstance(value, str) and value in SAMPLERS:
            return value
        raise LevelError(f"{value!r}: expected one of {', '.join(SAMPLERS)}")
    if isinstance(value, str):
        return value
    raise LevelError(f"{value!r}: expected a string")


def _register_setting(name: str) -> None:
    def apply(setup: Setup, level: object) -> Setup:
        return replace(setup, spec=setup.spec.with_(**{name: level}))

    register_factor(name, parse=lambda value, inputs: check_setting(name, value),
                    help=f"model setting {name} (models/president.toml)")(apply)


for _name in _SPEC_FIELDS:
    _register_setting(_name)


# ---- poll filters ------------------------------------------------------------------------


def _parse_pollster(value: object, inputs: Inputs) -> str:
    pollsters = sorted(inputs.polls.table["pollster"].unique())
    if isinstance(value, str) and (value == "none" or value in pollsters):
        return value
    raise LevelError(f"{value!r}: expected \"none\" or a pollster of {inputs.polls.path} "
                     f"({', '.join(pollsters)})")


@register_factor("drop_pollster", parse=_parse_pollster,
                 help='leave out every poll of one pollster ("none": keep all)')
def _drop_pollster(setup: Setup, level: object) -> Setup:
    if level == "none":
        return setup
    return _with_polls(setup, setup.polls.table["pollster"] != level)


def _parse_mode(value: object, inputs: Inputs) -> str:
    modes = sorted(inputs.polls.table["mode"].unique())
    if isinstance(value, str) and (value == "all" or value in modes):
        return value
    raise LevelError(f"{value!r}: expected \"all\" or a survey mode of {inputs.polls.path} "
                     f"({', '.join(modes)})")


@register_factor("mode", parse=_parse_mode,
                 help='only polls of one survey mode ("unknown": blank mode; "all": every poll)')
def _mode(setup: Setup, level: object) -> Setup:
    if level == "all":
        return setup
    return _with_polls(setup, setup.polls.table["mode"] == level)


def _parse_date_or(word: str) -> Callable[[object, Inputs], str]:
    def parse(value: object, inputs: Inputs) -> str:
        if value == word:
            return word
        day = _as_date(value)
        if day is None:
            raise LevelError(f"{value!r}: expected a date YYYY-MM-DD or \"{word}\"")
        if day > inputs.election.election_day:
            raise LevelError(f"{day} is after election day {inputs.election.election_day}")
        return day.isoformat()

    return parse


@register_factor("polls_after", parse=_parse_date_or("all"),
                 help='only polls whose fieldwork ended on or after a date ("all": every poll)')
def _polls_after(setup: Setup, level: object) -> Setup:
    if level == "all":
        return setup
    return _with_polls(setup, setup.polls.table["field_end"] >= pd.Timestamp(str(level)))


@register_factor("as_of", parse=_parse_date_or("latest"),
                 help='fit only polls ended by a date ("latest": the last poll)')
def _as_of(setup: Setup, level: object) -> Setup:
    return replace(setup, as_of=None if level == "latest" else dt.date.fromisoformat(str(level)))


# ---- undecided respondents -----------------------------------------------------------------

#: Levels of the ``undecided`` factor and what they mean (docs/studies.md).
UNDECIDED_LEVELS = {
    "proportional": "the model's treatment: undecided respondents leave the decided base, i.e. "
                    "they split like the decided",
    "equal": "each poll's undecided share (reported, or the election's default_undecided_share "
             "for an effective-basis poll that does not report one) split equally among the "
             "candidates the poll offered; they join the decided base",
    "exclude_effective": "drop effective-basis polls (the pollster removed the undecided by "
                         "its own rule)",
    "exclude_imputed": "drop effective-basis polls that do not report an undecided share (their "
                       "decided base rests on default_undecided_share)",
}


def _one_of(*levels: str) -> Callable[[object, Inputs], str]:
    def parse(value: object, inputs: Inputs) -> str:
        if isinstance(value, str) and value in levels:
            return value
        raise LevelError(f"{value!r}: expected one of {', '.join(levels)}")

    return parse


@register_factor("undecided", parse=_one_of(*UNDECIDED_LEVELS),
                 help="allocation of undecided respondents: " + ", ".join(UNDECIDED_LEVELS))
def _undecided(setup: Setup, level: object) -> Setup:
    table = setup.polls.table
    if level == "proportional":
        return setup
    if level == "exclude_effective":
        return _with_polls(setup, table["basis"] != "effective")
    if level == "exclude_imputed":
        return _with_polls(setup, ~((table["basis"] == "effective") & table["undecided"].isna()))
    # equal: candidates' shares of all respondents plus an equal part of the undecided
    table = table.copy()
    candidates = [c for c in setup.polls.candidates if c in table]
    shares = table[candidates].to_numpy(dtype=float)
    offered = ~np.isnan(shares)
    decided = np.nansum(shares, axis=1)
    default = 100.0 * setup.election.default_undecided_share
    undecided = table["undecided"].to_numpy(dtype=float)
    undecided = np.where(np.isnan(undecided),
                         np.where(table["basis"].to_numpy() == "effective", default, 0.0),
                         undecided)
    scale = 100.0 * table["decided_share"].to_numpy() / np.maximum(decided, 1e-9)
    new = shares * scale[:, None] + (undecided / offered.sum(axis=1))[:, None]
    table[candidates] = np.where(offered, new, np.nan)
    share = np.minimum(table["decided_share"].to_numpy() + undecided / 100.0, 1.0)
    table["decided_share"] = share
    table["n_decided"] = np.maximum(1, np.round(table["sample_size"].to_numpy() * share)
                                    ).astype(int)
    table["undecided"] = 0.0
    polls = setup.polls
    return replace(setup, polls=PollTable(table, list(polls.warnings), polls.path,
                                          list(polls.candidates)))


# ---- simulation-time factors ---------------------------------------------------------------


def _parse_scale(value: object, inputs: Inputs) -> float:
    if _is_number(value) and value >= 0:
        return float(value)
    raise LevelError(f"{value!r}: expected a non-negative number (1 = the historical polling "
                     "error)")


@register_factor("polling_error_scale", parse=_parse_scale, refit=False,
                 help="multiplies the election-day polling error (no refit)")
def _polling_error_scale(setup: Setup, level: object) -> Setup:
    return replace(setup, simulate={**setup.simulate, "polling_error_scale": float(level)})


# --------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------


def derive_seed(seed: int, levels: dict[str, object], purpose: str) -> int:
    """A seed from the study seed and factor levels (order-free), for ``purpose``.

    The same (seed, levels, purpose) always gives the same 32-bit seed, wherever and in whatever
    order scenarios run.
    """
    text = json.dumps({"seed": int(seed), "purpose": purpose,
                       "levels": {k: levels[k] for k in sorted(levels)}}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "little")


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One combination of factor levels.

    ``position`` is its index along each factor dimension; ``group`` the fit it shares with the
    scenarios that differ from it only in simulation-time factors.
    """

    position: tuple[int, ...]
    levels: dict
    group: int
    fit_seed: int
    simulate_seed: int
    polls_used: int


@dataclass
class _FitTask:
    """What a worker needs to fit one group and summarise its scenarios (picklable)."""

    group: int
    setup: Setup
    fit_seed: int
    scenarios: list[tuple[int, Setup, int]]  # (scenario number, set-up, simulate seed)
    keep_draws: bool
    summaries: list[Callable] = field(default_factory=list)  # pickled by reference


class Study:
    """A sensitivity study: base configuration x factors (docs/studies.md).

    Parameters
    ----------
    election
        Election folder (e.g. ``"polls/mx2018"``).
    factors
        ``{factor: [levels...]}``; every combination is a scenario. Factor names: see
        :data:`FACTORS` (ModelSpec settings, ``drop_pollster``, ``mode``, ``polls_after``,
        ``as_of``, ``undecided``, ``polling_error_scale``).
    seed
        Study seed; each scenario's seeds are derived from it and the scenario's levels.
    spec_changes
        ModelSpec settings for every scenario (e.g. ``{"draws": 500}``).
    model_file
        Model spec TOML (default ``models/president.toml``).
    as_of
        As-of date of every scenario (unless ``as_of`` is a factor).
    keep_draws
        Also keep every draw of ``share_valid`` and ``share_total``.
    source
        Name used in problem messages (the study file when loaded by :func:`load_study`).

    Raises
    ------
    InputError
        Unknown factors or settings, bad levels, scenarios with fewer than two polls.
    """

    def __init__(self, election: str | Path, factors: dict[str, Iterable] | None = None, *,
                 seed: int = DEFAULT_SEED, spec_changes: dict | None = None,
                 model_file: str | Path | None = None, as_of: dt.date | str | None = None,
                 keep_draws: bool = False, source: str = "Study",
                 _locate: Callable[[str, str | None], int] | None = None):
        locate = _locate or (lambda section, key: 0)
        problems: list[Problem] = []

        def problem(section: str, key: str | None, message: str) -> None:
            column = f"{section}.{key}" if section and key else (key or section)
            problems.append(Problem(source, locate(section, key), column, message))

        self.inputs = load_inputs(election, model_file)
        self.election_dir = Path(election)
        self.seed = int(seed)
        self.keep_draws = bool(keep_draws)
        factors = dict(factors or {})
        changes = dict(spec_changes or {})
        if not factors:
            problem("factors", None, "no factors: expected at least one factor to vary")
        clean_changes: dict[str, object] = {}
        for key, value in changes.items():
            if key not in _SPEC_FIELDS:
                problem("base", key, "unknown model setting: expected one of "
                        + ", ".join(_SPEC_FIELDS))
                continue
            try:
                clean_changes[key] = check_setting(key, value)
            except LevelError as exc:
                problem("base", key, str(exc))
        self.as_of: dt.date | None = None
        if as_of is not None:
            try:
                level = _parse_date_or("latest")(as_of, self.inputs)
                self.as_of = None if level == "latest" else dt.date.fromisoformat(level)
            except LevelError as exc:
                problem("", "as_of", str(exc))
        self.factors: dict[str, list] = {}
        for name, levels in factors.items():
            handler = FACTORS.get(name)
            if handler is None:
                problem("factors", name, "unknown factor: expected one of "
                        + ", ".join(sorted(FACTORS)))
                continue
            if name in changes:
                problem("factors", name, "also set in [base] (spec_changes): set it in one "
                        "place")
                continue
            if name == "as_of" and as_of is not None:
                problem("factors", name, "as_of is also set for the whole study: set it in "
                        "one place")
                continue
            if isinstance(levels, (str, bytes)) or not isinstance(levels, Iterable):
                problem("factors", name, f"{levels!r}: expected a list of levels")
                continue
            levels = list(levels)
            if not levels:
                problem("factors", name, "empty list: expected at least one level")
                continue
            parsed = []
            for value in levels:
                try:
                    level = handler.parse(value, self.inputs)
                except LevelError as exc:
                    problem("factors", name, str(exc))
                    continue
                if level in parsed:
                    problem("factors", name, f"level {value!r} appears more than once")
                    continue
                parsed.append(level)
            self.factors[name] = parsed
        if problems:
            raise InputError(problems)
        self.spec = self.inputs.spec.with_(**clean_changes)
        self.spec_changes = clean_changes
        self._plan(problem)
        if problems:
            raise InputError(problems)

    # -- planning --------------------------------------------------------------------------

    @property
    def refit_factors(self) -> list[str]:
        """Factors that need a fit of their own (the others act at simulation time)."""
        return [n for n in self.factors if FACTORS[n].refit]

    def _base_setup(self) -> Setup:
        return Setup(polls=self.inputs.polls, election=self.inputs.election, spec=self.spec,
                     as_of=self.as_of)

    def _setup(self, levels: dict, *, refit_only: bool = False) -> Setup:
        setup = self._base_setup()
        for name, level in levels.items():
            if refit_only and not FACTORS[name].refit:
                continue
            setup = FACTORS[name].apply(setup, level)
        return setup

    def _plan(self, problem: Callable[[str, str | None, str], None]) -> None:
        names = list(self.factors)
        refit = self.refit_factors
        self.scenario_list: list[Scenario] = []
        self.groups: list[tuple] = []
        group_setups: dict[tuple, Setup] = {}
        polls_used: dict[tuple, int] = {}
        for position in itertools.product(*(range(len(self.factors[n])) for n in names)):
            levels = {n: self.factors[n][i] for n, i in zip(names, position, strict=True)}
            key = tuple((n, levels[n]) for n in refit)
            if key not in group_setups:
                setup = self._setup(levels, refit_only=True)
                group_setups[key] = setup
                self.groups.append(key)
                table = setup.polls.table
                day = setup.as_of or (table["field_end"].max().date() if len(table) else None)
                used = int((table["field_end"] <= pd.Timestamp(day)).sum()) if day else 0
                polls_used[key] = used
                label = ", ".join(f"{n}={v}" for n, v in key) or "base"
                if used < 2:
                    problem("factors", None, f"scenario {label}: {used} poll(s) left to fit: "
                            "need at least two")
                try:
                    beta_parameters(setup.spec.invalid_share_mean, setup.spec.invalid_share_sd)
                except ValueError as exc:
                    problem("factors", None, f"scenario {label}: {exc}")
            fit_levels = dict(key)
            self.scenario_list.append(Scenario(
                position=position, levels=levels, group=self.groups.index(key),
                fit_seed=derive_seed(self.seed, fit_levels, "fit"),
                # Common random numbers: scenarios sharing a fit share the simulation seed, so
                # simulation-time factors are compared on the same draws.
                simulate_seed=derive_seed(self.seed, fit_levels, "simulate"),
                polls_used=polls_used[key]))
        self._group_setups = group_setups

    def scenarios(self) -> pd.DataFrame:
        """The plan: one row per scenario (levels, shared fit, seeds, polls used)."""
        return pd.DataFrame([{**s.levels, "fit_group": s.group, "fit_seed": s.fit_seed,
                              "simulate_seed": s.simulate_seed, "polls_used": s.polls_used}
                             for s in self.scenario_list])

    def _tasks(self) -> list[_FitTask]:
        tasks = []
        for g, key in enumerate(self.groups):
            members = [(i, self._setup(s.levels), s.simulate_seed)
                       for i, s in enumerate(self.scenario_list) if s.group == g]
            seed = next(s.fit_seed for s in self.scenario_list if s.group == g)
            tasks.append(_FitTask(group=g, setup=self._group_setups[key], fit_seed=seed,
                                  scenarios=members, keep_draws=self.keep_draws,
                                  summaries=list(SUMMARIES)))
        return tasks

    # -- running ---------------------------------------------------------------------------

    def run(self, client: object | str | None = None, *, workers: int | None = None,
            progress: bool | None = None) -> xr.Dataset:
        """Run every scenario and collect the results.

        Parameters
        ----------
        client
            A ``distributed.Client`` or a scheduler address (``"tcp://host:8786"``): run the
            fits on that Dask cluster. Default: local processes.
        workers
            Local processes (default ``os.cpu_count()``); ``1`` runs serially in this process.
        progress
            Progress bar on stderr (default: only when stderr is a terminal).

        Returns
        -------
        xarray.Dataset
            See docs/studies.md. Identical whichever way it was run.
        """
        import multiprocessing

        if getattr(multiprocessing.process.current_process(), "_inheriting", False):
            raise RuntimeError(_GUARD_HINT)
        if progress is None:
            progress = sys.stderr.isatty()
        tasks = self._tasks()
        results: dict[int, xr.Dataset] = {}
        records: list[FitRecord] = []
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is optional: no progress bar without it
            progress, tqdm = False, _NoBar

        with tqdm(total=len(self.scenario_list), desc="study", unit="scenario",
                  disable=not progress, file=sys.stderr) as bar:
            for done in _execute(tasks, client=client, workers=workers):
                for number, ds in done.scenarios:
                    results[number] = ds
                records.append(replace(done.record, levels=dict(self.groups[done.record.group])))
                bar.update(len(done.scenarios))
        #: How each fit ran (timings, worker), by fit group; not part of the Dataset.
        self.fit_records = sorted(records, key=lambda r: r.group)
        return self._assemble(results)

    def _assemble(self, results: dict[int, xr.Dataset]) -> xr.Dataset:
        names = list(self.factors)
        shape = tuple(len(self.factors[n]) for n in names)
        parts = [results[i] for i in range(len(self.scenario_list))]
        stacked = xr.concat(parts, dim="scenario", join="outer", data_vars="all",
                            coords="minimal", compat="override")
        variables = {}
        for var in stacked.data_vars:
            da = stacked[var]
            rest = [d for d in da.dims if d != "scenario"]
            da = da.transpose("scenario", *rest)
            variables[var] = ((*names, *rest), da.values.reshape(shape + da.shape[1:]))
        plan = {"fit_group": "group", "fit_seed": "fit_seed", "simulate_seed": "simulate_seed"}
        for var, attr in plan.items():
            values = np.array([getattr(s, attr) for s in self.scenario_list], dtype=np.int64)
            variables[var] = (tuple(names), values.reshape(shape))
        coords: dict[str, object] = {n: _coordinate(self.factors[n]) for n in names}
        for c in stacked.coords:
            if c != "scenario" and "scenario" not in stacked[c].dims:
                coords[c] = stacked[c]
        election = self.inputs.election
        if "candidate" in coords:
            keys = [str(c) for c in np.asarray(coords["candidate"])]
            coords["candidate_name"] = ("candidate", [election.candidate(c).name for c in keys])
        ds = xr.Dataset(variables, coords=coords)
        ds = ds[[*_ORDER_FIRST, *[v for v in ds.data_vars if v not in _ORDER_FIRST]]]
        ds.attrs = {
            "schema": SCHEMA,
            "election": election.key,
            "election_name": election.name,
            "election_dir": str(self.election_dir),
            "seed": self.seed,
            "factors": json.dumps(self.factors, ensure_ascii=False),
            "refit_factors": json.dumps(self.refit_factors),
            "base_spec": json.dumps(self.spec.as_dict()),
            "as_of": self.as_of.isoformat() if self.as_of else "latest",
            "keep_draws": int(self.keep_draws),
        }
        return ds


class _NoBar:
    """Stands in for tqdm when it is not installed."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int = 1) -> None:
        pass


_GUARD_HINT = ("a study was started while a worker process was importing your script: put the "
               "code that runs it under `if __name__ == \"__main__\":` (worker processes start "
               "by importing the main script; see docs/studies.md)")
_ORDER_FIRST = ["p_win", "share_valid", "share_total", "converged", "max_rhat"]


def _coordinate(levels: list) -> np.ndarray:
    if all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        return np.array(levels, dtype=np.int64)
    if all(isinstance(v, float) for v in levels):
        return np.array(levels, dtype=np.float64)
    return np.array([str(v) for v in levels], dtype=str)


# --------------------------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------------------------


def _core_summary(draws: xr.Dataset, result: Fit, setup: Setup) -> dict[str, xr.DataArray]:
    candidates = [str(c) for c in draws["candidate"].values]
    out: dict[str, xr.DataArray] = {
        "p_win": xr.DataArray(draws["win"].values.mean(axis=0), dims="candidate",
                              coords={"candidate": candidates}),
    }
    for var in ("share_valid", "share_total"):
        values = draws[var].values
        out[var] = xr.DataArray(np.quantile(values, QUANTILES, axis=0).T,
                                dims=("candidate", "quantile"),
                                coords={"candidate": candidates, "quantile": list(QUANTILES)})
        out[f"{var}_mean"] = xr.DataArray(values.mean(axis=0), dims="candidate",
                                          coords={"candidate": candidates})
    out["p_winner_under_third"] = xr.DataArray(
        float(np.mean(draws["winner_share_total"].values < 1 / 3)))
    d = result.diagnostics
    out["converged"] = xr.DataArray(bool(d.converged))
    out["max_rhat"] = xr.DataArray(float(d.max_rhat))
    out["divergences"] = xr.DataArray(int(d.divergences))
    out["min_ess_bulk"] = xr.DataArray(float(d.min_ess_bulk))
    out["polls_used"] = xr.DataArray(int(len(result.polls)))
    return out


register_summary(_core_summary)


@dataclass
class FitRecord:
    """How one fit of a study ran (timings are not part of the result Dataset)."""

    group: int
    levels: dict
    seconds: float
    fit_seconds: float
    compile_seconds: float
    worker: str

    def describe(self) -> str:
        label = ", ".join(f"{k}={_fmt_level(v)}" for k, v in self.levels.items()) or "base"
        return (f"fit {self.group} ({label}): {self.seconds:.1f} s, of which compile "
                f"{self.compile_seconds:.1f} s, on {self.worker}")


@dataclass
class _TaskResult:
    record: FitRecord
    scenarios: list[tuple[int, xr.Dataset]]


def _run_task(task: _FitTask) -> _TaskResult:
    """Fit one group and summarise each of its scenarios (runs in a worker)."""
    import socket

    start = time.perf_counter()
    s = task.setup
    result = fit(s.polls, s.election, s.spec, as_of=s.as_of, seed=task.fit_seed, progress=False)
    out = []
    for number, setup, seed in task.scenarios:
        draws = simulate(result, seed=seed, **setup.simulate)
        variables: dict[str, xr.DataArray] = {}
        for summary in task.summaries or SUMMARIES:
            variables.update(summary(draws, result, setup))
        if task.keep_draws:
            for var in ("share_valid", "share_total"):
                variables[f"{var}_draws"] = draws[var].transpose("draw", "candidate")
        out.append((number, xr.Dataset(variables)))
    d = result.diagnostics
    record = FitRecord(group=task.group, levels={}, seconds=time.perf_counter() - start,
                       fit_seconds=d.fit_seconds, compile_seconds=d.compile_seconds,
                       worker=f"{socket.gethostname()} pid {os.getpid()}")
    return _TaskResult(record, out)


def _execute(tasks: list[_FitTask], *, client: object | str | None, workers: int | None):
    """Yield each task's results as it completes (serial, local processes or Dask)."""
    if client is not None:
        yield from _execute_dask(tasks, client)
        return
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    workers = min(workers, len(tasks))
    if workers <= 1:
        for task in tasks:
            yield _run_task(task)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: the parent may hold threads (samplers, Dask, progress bars).
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_task, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool as exc:
            raise RuntimeError("a worker process died (its error is printed above). If the "
                               "study runs from a script: " + _GUARD_HINT) from exc
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _execute_dask(tasks: list[_FitTask], client: object | str):
    from distributed import Client, as_completed

    own = isinstance(client, str)
    dask_client = Client(client) if own else client
    try:
        futures = [dask_client.submit(_run_task, task, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
    finally:
        if own:
            dask_client.close()


# --------------------------------------------------------------------------------------------
# Study files
# --------------------------------------------------------------------------------------------

_TOP_KEYS = ("election", "seed", "model", "as_of", "keep_draws", "base", "factors")
_HEADER = re.compile(r"^\[\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*\]\s*(#.*)?$")


def _locator(text: str) -> Callable[[str, str | None], int]:
    """``locate(section, key)``: 1-based line of a key in a [section] (0 when not found)."""
    lines = text.split("\n")

    def locate(section: str, key: str | None) -> int:
        current = ""
        fallback = 0
        for i, raw in enumerate(lines):
            s = raw.strip()
            header = _HEADER.match(s)
            if header:
                current = header.group(1).strip('"')
                if key is None and current == section:
                    return i + 1
                continue
            if key is None:
                continue
            pattern = rf"^(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*="
            dotted = rf"^{re.escape(section)}\s*\.\s*{re.escape(key)}\s*=" if section else None
            if current == section and re.match(pattern, s):
                return i + 1
            if dotted and current == "" and re.match(dotted, s):
                return i + 1
            if not fallback and re.match(rf"^(.*\.)?\s*{re.escape(key)}\s*=", s):
                fallback = i + 1
        return fallback

    return locate


def _read_toml(path: Path, shown: str) -> tuple[dict, str]:
    if not path.is_file():
        raise InputError([Problem(shown, 0, "", "study specification not found")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(shown, line, "", "not UTF-8 text: save the file as UTF-8")]
                         ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 0
        raise InputError([Problem(shown, line, "", f"not valid TOML: {exc}")]) from None
    except (RecursionError, ValueError) as exc:
        raise InputError([Problem(shown, 0, "", f"not valid TOML: {exc.__class__.__name__}")]
                         ) from None


def load_study(path: str | Path, *, spec_changes: dict | None = None) -> Study:
    """Read and check a study file (TOML; format in docs/studies.md).

    ``election`` and ``model`` paths are relative to the current directory. ``spec_changes``
    (e.g. from the command line) are applied on top of the file's ``[base]``.

    Raises
    ------
    InputError
        Every problem found, as ``FILE:LINE:KEY: message``.
    """
    path = Path(path)
    shown = str(path)
    data, text = _read_toml(path, shown)
    locate = _locator(text)
    problems: list[Problem] = []

    def problem(section: str, key: str | None, message: str) -> None:
        column = f"{section}.{key}" if section and key else (key or section)
        problems.append(Problem(shown, locate(section, key), column, message))

    for key in data:
        if key not in _TOP_KEYS:
            problem("", key, f"unknown key: expected one of {', '.join(_TOP_KEYS)}")
    election = data.get("election")
    if election is None:
        problems.append(Problem(shown, 0, "election", "missing: expected the election folder, "
                                "e.g. election = \"polls/mx2018\""))
    elif not isinstance(election, str) or not election.strip():
        problem("", "election", f"{election!r}: expected the election folder as a string")
    elif not Path(election).is_dir():
        problem("", "election", f"{election!r}: no such folder (relative to the current "
                                f"directory {Path.cwd()})")
    seed = data.get("seed", DEFAULT_SEED)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problem("", "seed", f"{seed!r}: expected a non-negative integer")
    model = data.get("model")
    if model is not None and not (isinstance(model, str) and model.strip()):
        problem("", "model", f"{model!r}: expected the path of a model spec file")
    keep_draws = data.get("keep_draws", False)
    if not isinstance(keep_draws, bool):
        problem("", "keep_draws", f"{keep_draws!r}: expected true or false")
    as_of = data.get("as_of")
    if as_of is not None and _as_date(as_of) is None:
        problem("", "as_of", f"{as_of!r}: expected a date YYYY-MM-DD")
    base = data.get("base", {})
    if not isinstance(base, dict):
        problem("", "base", "expected a [base] table of model settings")
        base = {}
    factors = data.get("factors")
    if factors is None:
        problems.append(Problem(shown, 0, "factors", "missing: expected a [factors] table with "
                                "at least one factor"))
    elif not isinstance(factors, dict):
        problem("", "factors", "expected a [factors] table of factor = [levels]")
    elif not factors:
        problem("factors", None, "no factors: expected at least one factor to vary")
    for name, levels in (factors.items() if isinstance(factors, dict) else ()):
        if not isinstance(levels, list):
            problem("factors", name, f"{levels!r}: expected a list of levels, e.g. "
                    f"{name} = [...]")
        elif not levels:
            problem("factors", name, "empty list: expected at least one level")
    if problems:
        raise InputError(problems)
    factors = {k: v for k, v in factors.items()}
    return Study(election, factors, seed=seed, spec_changes={**base, **(spec_changes or {})},
                 model_file=model, as_of=as_of, keep_draws=keep_draws, source=shown,
                 _locate=locate)


# --------------------------------------------------------------------------------------------
# Output: netCDF and chart
# --------------------------------------------------------------------------------------------


def save_study(ds: xr.Dataset, path: str | Path) -> Path:
    """Write the study result to netCDF through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="netcdf4")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def scenario_labels(ds: xr.Dataset, sep: str = ", ") -> list[str]:
    """``factor=level, ...`` for each scenario (first factor slowest, as in the Dataset)."""
    names = json.loads(ds.attrs.get("factors", "{}")) or {}
    names = [n for n in names if n in ds.dims] or [d for d in ds["p_win"].dims
                                                  if d != "candidate"]
    labels = []
    for combo in itertools.product(*(ds[n].values.tolist() for n in names)):
        labels.append(sep.join(f"{n}={_fmt_level(v)}" for n, v in zip(names, combo,
                                                                    strict=True)))
    return labels


def _fmt_level(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _factor_dims(ds: xr.Dataset) -> list[str]:
    return [d for d in ds["p_win"].dims if d != "candidate"]


def plot_study(ds: xr.Dataset, path: str | Path):
    """Chart comparing scenarios: P(win) and the 90%/50% valid-vote share intervals.

    Written as PNG at ``path`` (through a temporary file and a rename); returns the path.
    """
    from .fit import atomic_write_bytes
    from .report.charts import candidate_colors, plt
    from .report.page import figure_png

    dims = _factor_dims(ds)
    p_win = ds["p_win"].transpose(*dims, "candidate")
    shares = ds["share_valid"].transpose(*dims, "candidate", "quantile")
    candidates = [str(c) for c in ds["candidate"].values]
    k = len(candidates)
    n = int(np.prod([ds.sizes[d] for d in dims])) if dims else 1
    p = p_win.values.reshape(n, k)
    q = shares.values.reshape(n, k, -1)
    quantiles = [float(x) for x in ds["quantile"].values]
    i05, i25, i50, i75, i95 = (quantiles.index(x) for x in QUANTILES)
    labels = scenario_labels(ds, sep="\n") if dims else ["base"]
    converged = ds["converged"].values.reshape(n) if "converged" in ds else np.ones(n, bool)
    labels = [lab + ("" if ok else "\n(NOT CONVERGED)") for lab, ok in zip(labels, converged,
                                                                         strict=True)]
    names = (dict(zip(candidates, [str(x) for x in ds["candidate_name"].values], strict=True))
             if "candidate_name" in ds.coords else {})
    colors = candidate_colors(candidates)
    row = max(0.3 * k, 0.25 * max(len(dims), 1) + 0.2)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 1.6 + row * n), layout="constrained",
                                   sharey=True)
    y = np.arange(n)[::-1].astype(float)
    # first candidate on top within each scenario, as in the legend
    offsets = -(np.arange(k) - (k - 1) / 2) * (0.75 / max(k, 1))
    for j, c in enumerate(candidates):
        yy = y + offsets[j]
        ax1.barh(yy, p[:, j], height=0.75 / k, color=colors[c], label=names.get(c, c))
        ax2.hlines(yy, q[:, j, i05], q[:, j, i95], color=colors[c], lw=1.5)
        ax2.hlines(yy, q[:, j, i25], q[:, j, i75], color=colors[c], lw=4.5)
        ax2.plot(q[:, j, i50], yy, "o", color="white", mec=colors[c], ms=5)
        for yi, pi in zip(yy, p[:, j], strict=True):
            if pi >= 0.005:
                text = f"{pi:.0%}" if 0.015 <= pi <= 0.985 else f"{pi:.1%}"
                ax1.text(min(pi, 0.87) + 0.01, yi, text,
                         va="center", fontsize="x-small",
                         color="white" if pi > 0.88 else "0.2")
    ax1.set_yticks(y, labels, fontsize="small")
    ax1.set_ylim(-0.6, n - 0.4)
    ax1.set_xlim(0, 1)
    ax1.set_title("P(win)")
    ax2.set_title("Share of the valid vote: median, 50% and 90% intervals")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.grid(axis="x", alpha=0.3)
        for b in y[:-1] - 0.5:
            ax.axhline(b, color="0.85", lw=0.8)
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=min(k, 4),
               fontsize="small", frameon=False)
    title = ds.attrs.get("election_name", "")
    fig.suptitle(f"Sensitivity study{': ' + title if title else ''}")
    path = Path(path)
    atomic_write_bytes(path, figure_png(fig))
    return path


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast study",
        description="Run a sensitivity study (base configuration x factors) and save one "
                    "netCDF dataset with a dimension per factor, plus a comparison chart (PNG "
                    "next to it). Format: docs/studies.md.")
    parser.add_argument("spec", metavar="SPEC.toml", help="study specification (TOML)")
    parser.add_argument("--out", required=True, metavar="FILE.nc",
                        help="result file (netCDF); the chart is written next to it as .png")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:8786): run the fits there")
    parser.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                        help="local processes (default: one per core; 1 = serial)")
    parser.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                        help="draws per chain (overrides [base])")
    parser.add_argument("--tune", type=_positive_int, default=None, metavar="N",
                        help="tuning steps per chain (overrides [base])")
    parser.add_argument("--chains", type=_positive_int, default=None, metavar="N",
                        help="chains (overrides [base])")
    parser.add_argument("--strict", action="store_true",
                        help="exit 3 when any scenario's fit fails its convergence checks")
    return parser


def format_table(ds: xr.Dataset) -> str:
    """P(win) per scenario and candidate, as a text table."""
    dims = _factor_dims(ds)
    candidates = [str(c) for c in ds["candidate"].values]
    n = int(np.prod([ds.sizes[d] for d in dims])) if dims else 1
    p = ds["p_win"].transpose(*dims, "candidate").values.reshape(n, len(candidates))
    ok = ds["converged"].values.reshape(n)
    used = ds["polls_used"].values.reshape(n)
    labels = scenario_labels(ds)
    width = max(len("scenario"), *(len(s) for s in labels))
    head = f"{'scenario':<{width}}  " + "".join(f"{c[:10]:>11}" for c in candidates)
    lines = [head + f"{'polls':>7}  converged", "-" * (len(head) + 18)]
    for i, label in enumerate(labels):
        row = f"{label:<{width}}  " + "".join(f"{x:>11.1%}" for x in p[i])
        lines.append(row + f"{used[i]:>7}  {'yes' if ok[i] else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``forecast study``; returns the exit code (0, 1 cluster, 2 input, 3)."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.scheduler and args.workers is not None:
        parser.error("--workers sets local processes; with --scheduler the cluster's workers "
                     "run the scenarios")
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                 ("chains", args.chains)) if v is not None}
    try:
        study = load_study(args.spec, spec_changes=changes)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"forecast study: {errors} error(s) in the input; nothing was written",
              file=sys.stderr)
        return EXIT_INPUT
    n = len(study.scenario_list)
    where = (f"Dask scheduler {args.scheduler}" if args.scheduler else
             "1 process" if args.workers == 1 else
             f"{min(args.workers or os.cpu_count() or 1, len(study.groups))} local process(es)")
    print(f"study {args.spec}: {n} scenario(s), {len(study.groups)} fit(s), on {where}",
          file=sys.stderr)
    start = time.perf_counter()
    try:
        ds = study.run(client=args.scheduler, workers=args.workers)
    except (OSError, TimeoutError) as exc:
        if not args.scheduler:
            raise
        print(f"forecast study: cannot use the Dask scheduler {args.scheduler}: {exc}",
              file=sys.stderr)
        return EXIT_RUNTIME
    seconds = time.perf_counter() - start
    for record in study.fit_records:
        print(record.describe(), file=sys.stderr)
    out = save_study(ds, args.out)
    png = plot_study(ds, out.with_suffix(".png"))
    print(format_table(ds))
    print(f"\n{n} scenario(s) in {seconds:.1f} s; wrote {out} and {png}")
    bad = int((~ds["converged"].values.astype(bool)).sum())
    if bad:
        print("\n" + "!" * 72 + f"\nWARNING: {bad} of {n} scenario(s) DID NOT CONVERGE — their "
              "results are not reliable (see max_rhat, divergences, min_ess_bulk).\n"
              + "!" * 72, file=sys.stderr)
        if args.strict:
            return EXIT_NOT_CONVERGED
    return 0


__all__ = ["FACTORS", "SUMMARIES", "UNDECIDED_LEVELS", "Factor", "FitRecord", "LevelError",
           "Scenario", "Setup", "Study", "check_setting", "derive_seed", "format_table",
           "load_study", "main", "plot_study", "register_factor", "register_summary",
           "save_study", "scenario_labels"]


if __name__ == "__main__":
    # Run through the package module so worker processes unpickle forecast.study, not __main__.
    from forecast.study import main as _main

    raise SystemExit(_main())
