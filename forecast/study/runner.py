"""Planning and running a study: scenarios, seeds, and fits serially, on local processes or on
a Dask cluster.

Seeds are derived from the study seed and the scenario's levels (a hash, never the execution
order), so a study gives identical results serially, on local processes and on a Dask cluster.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..engine import (
    Forecast,
    ForecastInputs,
    MemoryFits,
    check_as_of,
    default_as_of,
    fit_stages,
    prepare_stages,
    simulate_stages,
)
from ..engine import load_inputs as load_forecast_inputs
from ..model import known_dates
from ..problems import InputError, Problem
from ..report.study_chart import _fmt_level
from ..seeds import DEFAULT_SEED, derive_seed
from ..simulate import QUANTILES, beta_parameters
from ..spec import SAMPLER_KEYS
from ..stages import Options
from ..stages.president import PresidentInputs
from .factors import (
    _SPEC_FIELDS,
    FACTORS,
    SUMMARIES,
    LevelError,
    Setup,
    _parse_date_or,
    check_setting,
    register_summary,
)

SCHEMA = "forecast.study/1"
#: Fits a study may plan unless told otherwise (``--max-fits``): each takes ~15-40 s.
MAX_FITS = 100
#: Scenarios a study may have (simulation-time factors multiply them without a fit each).
MAX_SCENARIOS = 100_000


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
    inputs: ForecastInputs
    as_of: dt.date | None
    seed: int  # the group's forecast seed: presidential fit and every simulation
    shared_seed: int  # fits of the other stages (shared by every group of the study)
    scenarios: list[tuple[int, Setup]]  # (scenario number, set-up)
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
                 keep_draws: bool = False, seats: bool = True, governors: bool | None = None,
                 max_fits: int = MAX_FITS, source: str = "Study",
                 _locate: Callable[[str, str | None], int] | None = None):
        locate = _locate or (lambda section, key: 0)
        problems: list[Problem] = []

        def problem(section: str, key: str | None, message: str) -> None:
            column = f"{section}.{key}" if section and key else (key or section)
            problems.append(Problem(source, locate(section, key), column, message))

        factors = dict(factors or {})
        changes = dict(spec_changes or {})
        # Sampler settings ([base] or the command line) apply to every poll model of the
        # forecast; the other model settings are the presidential model's factors.
        sampler = {k: v for k, v in changes.items() if k in SAMPLER_KEYS}
        # Seat projections and governor races cost a fit per process and as-of date; a caller
        # that only wants the presidential race (the timeline) turns them off.
        self.seats = bool(seats)
        self.governors = bool(seats) if governors is None else bool(governors)
        self.forecast_inputs = load_forecast_inputs(election, Options(
            model_file=str(model_file) if model_file else None, spec_changes=sampler,
            congress=self.seats, governors=self.governors))
        self.inputs: PresidentInputs = self.forecast_inputs.stage("president")
        self.election_dir = Path(election)
        self.seed = int(seed)
        self.keep_draws = bool(keep_draws)
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
        # Limits before planning: a study of 1,000 x 1,000 levels is a million scenarios.
        names = list(self.factors)
        n_scenarios = int(np.prod([len(self.factors[n]) for n in names])) if names else 0
        n_fits = int(np.prod([len(self.factors[n]) for n in self.refit_factors]))
        if n_scenarios > MAX_SCENARIOS:
            problem("factors", None, f"{n_scenarios:,} scenarios: more than {MAX_SCENARIOS:,}; "
                    "vary fewer levels at a time")
            raise InputError(problems)
        if n_fits > max_fits:
            problem("factors", None, f"{n_fits:,} fits planned (one per combination of "
                    f"{', '.join(self.refit_factors)}): more than the limit of {max_fits} "
                    "(--max-fits); raise it or vary fewer levels")
            raise InputError(problems)
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
                     as_of=self.as_of, extra={"seats": self.seats, "governors": self.governors})

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
                known = known_dates(table) if len(table) else pd.Series([], dtype="M8[ns]")
                day = setup.as_of or (known.max().date() if len(table) else None)
                used = int((known <= pd.Timestamp(day)).sum()) if day else 0
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
                # The forecast seed of the scenario's fit group: its presidential fit and every
                # simulation (common random numbers: scenarios sharing a fit share the
                # simulation seed, so simulation-time factors are compared on the same draws).
                fit_seed=derive_seed(self.seed, "fit", fit_levels),
                simulate_seed=derive_seed(self.seed, "fit", fit_levels),
                polls_used=polls_used[key]))
        self._group_setups = group_setups

    def estimate_seconds(self, workers: int) -> float:
        """A rough run time: ~20 s to compile a model structure in each process, ~15 s of
        sampling per fit at 4 chains x 2,300 iterations on 2 cores (docs/benchmarks.md),
        scaled by the draws asked for; seat and governor fits once per process and date."""
        spec = self.spec
        per_fit = 15.0 * (spec.draws + spec.tune) * spec.chains / (2300 * 4)
        fits = len(self.groups) * (1 + 0.8 * self.seats + 0.8 * self.governors)
        return (20.0 * workers + fits * per_fit) / max(1, workers)

    def scenarios(self) -> pd.DataFrame:
        """The plan: one row per scenario (levels, shared fit, seeds, polls used)."""
        return pd.DataFrame([{**s.levels, "fit_group": s.group, "fit_seed": s.fit_seed,
                              "simulate_seed": s.simulate_seed, "polls_used": s.polls_used}
                             for s in self.scenario_list])

    def _tasks(self) -> list[_FitTask]:
        tasks = []
        shared = derive_seed(self.seed, "shared fits")
        for g, key in enumerate(self.groups):
            members = [(i, self._setup(s.levels)) for i, s in enumerate(self.scenario_list)
                       if s.group == g]
            seed = next(s.fit_seed for s in self.scenario_list if s.group == g)
            setup = self._group_setups[key]
            stages = dict(self.forecast_inputs.stages)
            stages["president"] = PresidentInputs(setup.election, setup.polls, setup.spec)
            inputs = replace(self.forecast_inputs, stages=stages)
            tasks.append(_FitTask(group=g, inputs=inputs, as_of=setup.as_of, seed=seed,
                                  shared_seed=shared, scenarios=members,
                                  keep_draws=self.keep_draws, summaries=list(SUMMARIES)))
        return tasks

    # -- running ---------------------------------------------------------------------------

    def local_workers(self, workers: int | None = None) -> int:
        """Local processes ``run(workers=workers)`` uses; 1 means serially, in this process.

        Default ``os.cpu_count() // min(chains, os.cpu_count())``, at least 1 (with the most
        chains of any fit): each fit already samples its chains on parallel threads. Never more
        processes than fits.
        """
        chains = max(setup.spec.chains for setup in self._group_setups.values())
        return _local_workers(workers, chains, len(self.groups))

    def run(self, client: object | str | None = None, *, workers: int | None = None,
            progress: bool | None = None) -> xr.Dataset:
        """Run every scenario and collect the results.

        Parameters
        ----------
        client
            A ``distributed.Client`` or a scheduler address (``"tcp://host:8786"``): run the
            fits on that Dask cluster. Default: local processes.
        workers
            Local processes (default: :meth:`local_workers`); ``1`` runs serially in this
            process.
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


def _core_summary(forecast: Forecast, setup: Setup) -> dict[str, xr.DataArray]:
    president = forecast.results["president"]
    draws, result = president.draws, president.fit
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


#: Fits made in this process, by stage and key (a worker reuses the party-poll and governor
#: fits of an as-of date for every scenario it is given).
_FITS = MemoryFits()


def scenario_settings(setup: Setup) -> dict:
    """Simulation-time settings of a scenario for forecast.engine.simulate_stages."""
    settings = dict(setup.simulate)
    congress = dict(setup.extra.get("congress", {}))
    if "noise_scale" in congress:
        congress["noise_scale"] = float(congress["noise_scale"])
    if congress:
        settings["congress"] = congress
    return settings


def _run_task(task: _FitTask) -> _TaskResult:
    """Fit one group and summarise each of its scenarios (runs in a worker)."""
    import socket

    start = time.perf_counter()
    inputs = task.inputs
    as_of = task.as_of or default_as_of(inputs)
    check_as_of(inputs, as_of)
    seeds = {name: task.shared_seed for name in inputs.stages if name != "president"}
    prepared, notes = prepare_stages(inputs, as_of, task.seed, seeds=seeds)
    fits = fit_stages(inputs, prepared, stored=_FITS.find, keep=_FITS.keep, progress=False)
    out = []
    for number, setup in task.scenarios:
        forecast = simulate_stages(inputs, fits, as_of=as_of, seed=task.seed,
                                   settings=scenario_settings(setup), notes=notes)
        variables: dict[str, xr.DataArray] = {}
        for summary in task.summaries or SUMMARIES:
            variables.update(summary(forecast, setup))
        if task.keep_draws:
            draws = forecast.results["president"].draws
            for var in ("share_valid", "share_total"):
                variables[f"{var}_draws"] = draws[var].transpose("draw", "candidate")
        out.append((number, xr.Dataset(variables)))
    d = fits["president"][0].diagnostics
    record = FitRecord(group=task.group, levels={}, seconds=time.perf_counter() - start,
                       fit_seconds=d.fit_seconds, compile_seconds=d.compile_seconds,
                       worker=f"{socket.gethostname()} pid {os.getpid()}")
    return _TaskResult(record, out)


def _default_workers(chains: int) -> int:
    """Local processes by default for fits of ``chains`` chains (at least 1).

    Each fit already samples ``min(chains, cores)`` chains on parallel threads, so more processes
    than ``cores // min(chains, cores)`` would only make fits compete for the cores (and each
    process compiles its own models).
    """
    cores = os.cpu_count() or 1
    return max(1, cores // min(chains, cores))


def _local_workers(workers: int | None, chains: int, fits: int) -> int:
    """Processes for ``fits`` fits: ``workers`` (default :func:`_default_workers`), at most one
    per fit."""
    workers = _default_workers(chains) if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    return min(workers, fits)


def _execute(tasks: list[_FitTask], *, client: object | str | None, workers: int | None):
    """Yield each task's results as it completes (serial, local processes or Dask)."""
    if client is not None:
        yield from _execute_dask(tasks, client)
        return
    chains = max((task.inputs.stage("president").spec.chains for task in tasks), default=1)
    workers = _local_workers(workers, chains, len(tasks))
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

