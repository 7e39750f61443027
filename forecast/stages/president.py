"""The presidential race as a stage: poll file -> poll-model fit -> plurality outcomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import xarray as xr

from ..election import Election
from ..fit import Fit, fit_data, fit_key, load_fit, save_fit
from ..model import known_dates, prepare
from ..polls import PollTable, read_polls
from ..problems import InputError, Problem
from ..seeds import derive_seed
from ..simulate import simulate, summarize
from ..spec import ModelSpec, election_model_file, find_model_file, load_spec
from ..storage import canonical_table, digest
from .base import Options, Prepared, StageResult, used_warnings

DEFAULT_MODEL = Path("models") / "president.toml"


@dataclass
class PresidentInputs:
    """The election, its presidential polls and the model settings, validated."""

    election: Election
    polls: PollTable
    spec: ModelSpec


#: The note of a forecast made without any model file (docs/model.md, "Model files").
NO_MODEL_FILE = ("no model file: the documented defaults are used (docs/model.md); their "
                 "polling-error scale is Mexico's")


def default_spec(election: Election) -> ModelSpec:
    """The election's model settings: the file ``model_file`` in ``election.toml`` names
    (:func:`forecast.spec.election_model_file`; an error when it does not exist), else
    ``models/president.toml`` next to the election's ``polls/`` tree, else the defaults
    (``source == "defaults"``: the forecast notes it)."""
    named = election_model_file(election)
    if named is not None:
        return load_spec(named)
    path = find_model_file(election.directory, DEFAULT_MODEL)
    return load_spec(path) if path is not None else ModelSpec()


def unpolled_notes(result: Fit) -> list[str]:
    """Notes for candidates in the race on the as-of date whom no poll used offers.

    They are not in the forecast (forecast.model.prepare): the polls say nothing about them yet.
    """
    return [f"{c.name} ({c.key}) is in the race on {result.as_of} but no poll used offers this "
            f"candidate: left out of this forecast until a poll measures them"
            for c in result.election.candidates
            if c.available_on(result.as_of) and c.key not in result.ballot]


class PresidentStage:
    """The presidential race (every election has it)."""

    name = "president"
    fit_file = "fit.nc"
    poll_label = "presidential polls"

    def load(self, election: Election, options: Options) -> PresidentInputs:
        problems: list[Problem] = []
        try:
            polls = read_polls(election.poll_path, election)
        except InputError as exc:
            problems.extend(exc.problems)
        try:
            spec = (load_spec(options.model_file) if options.model_file
                    else default_spec(election))
        except InputError as exc:
            problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        if options.spec_changes:
            spec = spec.with_(**options.spec_changes)
        if spec.source == "defaults":
            # The note travels with the poll file's warnings (a line-0 warning reaches the
            # forecast's notes, summary.json and the terminal, and `forecast validate`); first,
            # as the terminal shows only the first five.
            note = Problem(str(election.directory / "election.toml"), 0, "model_file",
                           NO_MODEL_FILE, severity="warning")
            polls = replace(polls, warnings=[note, *polls.warnings])
        return PresidentInputs(election, polls, spec)

    def known(self, inputs: PresidentInputs) -> pd.Series:
        return known_dates(inputs.polls.table)

    def warnings(self, inputs: PresidentInputs) -> list[Problem]:
        return list(inputs.polls.warnings)

    def prepare(self, inputs: PresidentInputs, as_of: dt.date, seed: int) -> Prepared:
        data = prepare(inputs.polls, inputs.election, inputs.spec, as_of)
        fit_seed = derive_seed(seed, f"{self.name}/fit")
        return Prepared(data, fit_key(data, inputs.spec, fit_seed, inputs.election), fit_seed)

    def fit(self, inputs: PresidentInputs, prepared: Prepared, progress: bool | None) -> Fit:
        result = fit_data(prepared.data, inputs.election, inputs.spec, seed=prepared.seed,
                          progress=progress)
        return replace(result, meta=self._meta(inputs, result))

    def reuse(self, stored: Fit, prepared: Prepared, inputs: PresidentInputs) -> Fit:
        data = replace(prepared.data, polls=canonical_table(prepared.data.polls))
        result = replace(stored, data=data, election=inputs.election)
        return replace(result, meta=self._meta(inputs, result))

    def _meta(self, inputs: PresidentInputs, result: Fit) -> dict:
        used = {int(v) for v in result.polls["line"]} if "line" in result.polls else set()
        return {"poll_warnings": used_warnings(inputs.polls.warnings, used,
                                               inputs.election.directory),
                "notes": unpolled_notes(result),
                "poll_file": Path(inputs.polls.path).name,
                "polls_in_file": len(inputs.polls)}

    def save_fit(self, result: Fit, path: Path, attrs: dict[str, str]) -> Path:
        return save_fit(result, path, attrs=attrs)

    def load_fit(self, path: Path, inputs: PresidentInputs) -> Fit:
        return load_fit(path, inputs.election.directory)

    def definition_key(self, inputs: PresidentInputs) -> str:
        e = inputs.election
        return digest("president", e.key, e.election_day.isoformat(),
                      [(c.key, c.coalition, c.available_from.isoformat(),
                        c.available_until.isoformat()) for c in e.candidates])

    def simulate(self, result: Fit, inputs: PresidentInputs, upstream: dict[str, StageResult],
                 seed: int, settings: dict) -> xr.Dataset:
        return simulate(result, seed=derive_seed(seed, f"{self.name}/simulate"),
                        polling_error_scale=float(settings.get("polling_error_scale", 1.0)))

    def summarise(self, draws: xr.Dataset, result: Fit, inputs: PresidentInputs) -> dict:
        election = result.election
        summary = summarize(draws)
        for key, block in summary["candidates"].items():
            cand = election.candidate(key)
            block["name"] = cand.name
            block["coalition"] = cand.coalition
        summary["invalid_share"] = {"mean": float(draws["invalid_share"].mean())}
        summary["diagnostics"] = result.diagnostics.as_dict(timings=False)
        summary["model"] = result.spec.as_dict()
        return summary
