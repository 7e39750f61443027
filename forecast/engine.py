"""The one driver of every command: load the stages' inputs, fit (or reuse) each stage's model as
of one date, simulate the stages in order, and assemble the forecast's summary.

``forecast run``, ``update``, ``report``, ``backtest``, ``study`` and ``timeline`` differ only in
which fits they make or load and where the result goes; the order of the stages (president ->
Congress -> governors, each taking its upstream results) is written once, here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .election import Election, load_election
from .problems import InputError, Problem
from .seeds import DEFAULT_SEED
from .stages import STAGES, Options, Prepared, StageResult
from .storage import digest, read_attrs

log = logging.getLogger(__name__)

SCHEMA = "forecast.summary/2"


@dataclass
class ForecastInputs:
    """An election and the validated inputs of each of its stages (in stage order)."""

    election: Election
    options: Options
    stages: dict[str, Any]

    def stage(self, name: str) -> Any:
        """The inputs of a stage (KeyError when the forecast does not have it)."""
        return self.stages[name]


@dataclass
class Forecast:
    """One forecast: its as-of date and seed, and each stage's fit, draws and summary."""

    inputs: ForecastInputs
    as_of: dt.date
    seed: int
    results: dict[str, StageResult]
    notes: list[str] = field(default_factory=list)

    @property
    def election(self) -> Election:
        return self.inputs.election

    @property
    def key(self) -> str:
        """Digest of the as-of date, the seed and every stage's fit key: the same for every
        file of one forecast (:func:`forecast.output.write_forecast` stores it)."""
        return forecast_key(self.as_of, self.seed, {n: r.fit.key for n, r in
                                                     self.results.items()})

    @property
    def summary(self) -> dict:
        return build_summary(self)


def forecast_key(as_of: dt.date, seed: int, fit_keys: dict[str, str]) -> str:
    """The key of a forecast from its parts (see :attr:`Forecast.key`)."""
    return digest("forecast", __version__, as_of.isoformat(), int(seed), fit_keys)


def stage_by_name(name: str):
    """The stage object called ``name``."""
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(name)


def load_inputs(election_dir: str | Path, options: Options | None = None) -> ForecastInputs:
    """Read and validate the election and every stage's inputs (raises InputError listing the
    problems of every file at once)."""
    options = options or Options()
    election = load_election(election_dir)
    stages: dict[str, Any] = {}
    problems: list[Problem] = []
    for stage in STAGES:
        try:
            inputs = stage.load(election, options)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if inputs is not None:
            stages[stage.name] = inputs
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return ForecastInputs(election, options, stages)


def default_as_of(inputs: ForecastInputs) -> dt.date:
    """The latest date a poll of any of the forecast's poll files was public (published, or
    fieldwork ended when no publication date is given), at most election day."""
    latest = max(stage_by_name(n).known(i).max() for n, i in inputs.stages.items())
    return min(pd.Timestamp(latest).date(), inputs.election.election_day)


def check_as_of(inputs: ForecastInputs, as_of: dt.date) -> None:
    """Refuse an as-of date the forecast cannot be made on (InputError with what to do)."""
    election = inputs.election
    shown = str(election.directory / "election.toml")
    if as_of > election.election_day:
        raise InputError([Problem(shown, 0, "as_of", f"as-of date {as_of} is after election "
                                  f"day {election.election_day}: expected a date before it")])
    president = inputs.stage("president")
    known = stage_by_name("president").known(president).sort_values()
    used = int((known <= pd.Timestamp(as_of)).sum())
    if used < 2:
        first = known.iloc[min(1, len(known) - 1)].date() if len(known) else None
        raise InputError([Problem(president.polls.path, 0, "as_of",
                                  f"as-of date {as_of}: only {used} poll(s) public by then: "
                                  f"expected at least two (the second is public on {first})")])


def prepare_stages(inputs: ForecastInputs, as_of: dt.date, seed: int, *,
                   seeds: dict[str, int] | None = None
                   ) -> tuple[dict[str, Prepared], list[str]]:
    """Model data and fit keys of every stage as of ``as_of`` (no sampling), and notes on the
    stages left out (a downstream stage whose polls cannot be fitted yet).

    Each stage derives its fit seed from ``seed`` (or from ``seeds[stage]``: a study shares the
    downstream fits between its scenarios)."""
    prepared: dict[str, Prepared] = {}
    notes: list[str] = []
    for name, stage_inputs in inputs.stages.items():
        stage = stage_by_name(name)
        try:
            prepared[name] = stage.prepare(stage_inputs, as_of, (seeds or {}).get(name, seed))
        except ValueError as exc:
            if name == "president":
                raise InputError([Problem(str(inputs.election.directory), 0, "as_of",
                                          f"as-of date {as_of}: {exc}")]) from None
            notes.append(f"{name} left out of the forecast as of {as_of}: {exc}")
    return prepared, notes


def fit_stages(inputs: ForecastInputs, prepared: dict[str, Prepared], *,
               stored: Callable[[str, str], Any | None] | None = None,
               keep: Callable[[str, Any], None] | None = None,
               progress: bool | None = None) -> dict[str, tuple[Any, bool]]:
    """A fit per stage: the stored one when ``stored(stage, key)`` has one with the key the
    fresh fit would have (same draws), else a fresh fit (passed to ``keep(stage, fit)``).
    Returns ``{stage: (fit, reused)}``."""
    out: dict[str, tuple[Any, bool]] = {}
    for name, prep in prepared.items():
        stage = stage_by_name(name)
        found = stored(name, prep.key) if stored is not None else None
        if found is not None:
            log.info("%s: reusing the stored fit (same polls, settings and seed)", name)
            out[name] = (stage.reuse(found, prep, inputs.stage(name)), True)
        else:
            log.info("%s: fitting %s", name, stage.poll_label)
            result = stage.fit(inputs.stage(name), prep, progress)
            if keep is not None:
                keep(name, result)
            out[name] = (result, False)
    return out


class MemoryFits:
    """Fits kept in this process by stage and key (studies and timelines reuse them)."""

    def __init__(self, size: int = 16):
        self.size = size
        self._fits: dict[tuple[str, str], Any] = {}

    def find(self, name: str, key: str) -> Any | None:
        return self._fits.get((name, key))

    def keep(self, name: str, result: Any) -> None:
        self._fits[(name, result.key)] = result
        while len(self._fits) > self.size:
            self._fits.pop(next(iter(self._fits)))


def simulate_stages(inputs: ForecastInputs, fits: dict[str, tuple[Any, bool]], *,
                    as_of: dt.date, seed: int, settings: dict | None = None,
                    notes: list[str] | None = None) -> Forecast:
    """Simulate every stage in order, each with its upstream stages' results.

    ``settings`` are simulation-time changes (studies): ``polling_error_scale`` (president and
    Congress), ``congress`` (Congress setting changes), ``state_error_scale`` (governors).
    """
    results: dict[str, StageResult] = {}
    for name, (result, reused) in fits.items():
        stage = stage_by_name(name)
        stage_inputs = inputs.stage(name)
        if result.as_of != as_of:
            raise ValueError(f"the {name} fit is as of {result.as_of}, the forecast as of "
                             f"{as_of}: one forecast has one as-of date")
        draws = stage.simulate(result, stage_inputs, results, seed, settings or {})
        results[name] = StageResult(name, result, draws,
                                    stage.summarise(draws, result, stage_inputs), reused)
    return Forecast(inputs, as_of, seed, results, list(notes or []))


def compute(inputs: ForecastInputs, *, as_of: dt.date | None = None, seed: int = DEFAULT_SEED,
            stored: Callable[[str, str], Any | None] | None = None,
            settings: dict | None = None, progress: bool | None = None) -> Forecast:
    """Fit (or reuse) and simulate every stage as of ``as_of`` (default :func:`default_as_of`).

    Raises
    ------
    InputError
        An as-of date the forecast cannot be made on.
    """
    as_of = as_of or default_as_of(inputs)
    check_as_of(inputs, as_of)
    prepared, notes = prepare_stages(inputs, as_of, seed)
    fits = fit_stages(inputs, prepared, stored=stored, progress=progress)
    return simulate_stages(inputs, fits, as_of=as_of, seed=seed, settings=settings,
                           notes=notes)


def stored_fits(folder: str | Path, inputs: ForecastInputs) -> Callable[[str, str], Any | None]:
    """A ``stored`` callback for :func:`compute`: the fit in ``folder`` of a stage when its key
    is the one asked for (else None)."""
    folder = Path(folder)

    def find(name: str, key: str) -> Any | None:
        stage = stage_by_name(name)
        path = folder / stage.fit_file
        if not path.is_file():
            return None
        try:
            attrs = read_attrs(path)
            if attrs.get("fit_key") != key:
                return None
            return stage.load_fit(path, inputs.stage(name))
        except (InputError, OSError, ValueError, KeyError) as exc:
            log.info("%s: stored fit %s not reusable (%s): refitting", name, path, exc)
            return None

    return find


def load_forecast(folder: str | Path, inputs: ForecastInputs, *, seed: int | None = None
                  ) -> Forecast:
    """Simulate again from the fits of a forecast folder (``forecast report``).

    Every fit of the folder must belong to one forecast (same as-of date and forecast key) and
    the election's definitions must be those the fits were made with.

    Raises
    ------
    InputError
        Missing or mismatched fit files, or definitions changed since.
    """
    folder = Path(folder)
    fits: dict[str, tuple[Any, bool]] = {}
    attrs: dict[str, dict] = {}
    problems: list[Problem] = []
    for name, stage_inputs in inputs.stages.items():
        stage = stage_by_name(name)
        path = folder / stage.fit_file
        if not path.is_file():
            if name == "president":
                problems.append(Problem(str(path), 0, "", "fit file not found"))
            continue
        attrs[name] = read_attrs(path)
        current = stage.definition_key(stage_inputs)
        if attrs[name].get("definition_key") not in (None, current):
            problems.append(Problem(str(path), 0, "definition_key",
                                    f"the {name} definition files have changed since this fit "
                                    f"was made: run `forecast run` again"))
            continue
        fits[name] = (stage.load_fit(path, stage_inputs), True)
    if problems:
        raise InputError(problems)
    keys = {a.get("forecast_key") for a in attrs.values()}
    dates = {a.get("as_of") for a in attrs.values()}
    if len(keys) > 1 or len(dates) > 1:
        detail = ", ".join(f"{stage_by_name(n).fit_file} as of {a.get('as_of')}"
                           for n, a in attrs.items())
        raise InputError([Problem(str(folder), 0, "", f"the fit files are not of one forecast "
                                  f"({detail}): run `forecast run` again")])
    president = attrs["president"]
    as_of = dt.date.fromisoformat(president["as_of"])
    run_seed = int(president.get("forecast_seed", DEFAULT_SEED)) if seed is None else seed
    notes = [str(n) for n in _json_list(president.get("forecast_notes", "[]"))]
    forecast = simulate_stages(inputs, fits, as_of=as_of, seed=run_seed, notes=notes)
    stored_key = president.get("forecast_key")
    if seed is None and stored_key and stored_key != forecast.key:
        raise InputError([Problem(str(folder), 0, "forecast_key",
                                  "the fit files do not make up the forecast they were saved "
                                  "with: run `forecast run` again")])
    return forecast


def _json_list(text: str) -> list:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def polls_block(forecast: Forecast) -> dict:
    """Per stage: the poll file, polls in it, polls used, and those left out (not public by the
    as-of date)."""
    out = {}
    for name, result in forecast.results.items():
        meta = result.fit.meta
        in_file = int(meta.get("polls_in_file", len(result.fit.polls)))
        used = int(len(result.fit.polls))
        out[name] = {"file": meta.get("poll_file", ""), "in_file": in_file, "used": used,
                     "left_out": in_file - used}
    return out


def build_summary(forecast: Forecast) -> dict:
    """The ``summary.json`` document (schema in docs/outputs.md).

    Every figure in it is a function of the fits, the seed and the definitions only (no timings,
    no paths of this machine): every path to one forecast gives the same document.
    """
    election = forecast.election
    president = forecast.results["president"]
    warnings: list[str] = []
    for result in forecast.results.values():
        warnings += list(result.fit.meta.get("notes", []))
    warnings += list(forecast.notes)
    for result in forecast.results.values():
        warnings += list(result.fit.meta.get("poll_warnings", []))
    summary = {
        "schema": SCHEMA,
        "election": election.name,
        "election_key": election.key,
        "election_day": election.election_day.isoformat(),
        "as_of": forecast.as_of.isoformat(),
        "seed": int(forecast.seed),
        "forecast_key": forecast.key,
        "polls_used": int(len(president.fit.polls)),
        "polls": polls_block(forecast),
        **president.summary,
    }
    if "congress" in forecast.results:
        summary["chambers"] = forecast.results["congress"].summary
    if "governors" in forecast.results:
        summary["governors"] = forecast.results["governors"].summary
    summary["poll_warnings"] = warnings
    return summary
