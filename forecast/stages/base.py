"""What every stage of a forecast has in common (docs/architecture.md, "Stages").

A *stage* is one linked part of a forecast: the presidential race, Congress, the governor races.
Each has the same small interface, and every command (run, update, report, backtest, study,
timeline) drives the stages through forecast/engine.py rather than wiring them by hand:

``load(election, options) -> inputs | None``
    validated inputs of the stage (None: the election has no such part);
``known(inputs) -> dates``
    when each of its polls was public (the forecast's default as-of date is the latest);
``prepare(inputs, as_of, seed) -> Prepared``
    the model data of a fit as of a date and its key (cheap: no sampling);
``fit(inputs, prepared, progress) -> fit``, ``reuse(stored, prepared) -> fit``
    a fresh fit, or a stored one with the same key;
``save_fit(fit, path, attrs)``, ``load_fit(path, inputs) -> fit``
    the fit file of the forecast folder;
``simulate(fit, inputs, upstream, seed, settings) -> xarray.Dataset``
    election-day draws, given the upstream stages' results (dims ``draw``, ...);
``summarise(draws, fit, inputs) -> dict``
    the stage's block of ``summary.json``;
``definition_key(inputs) -> str``
    digest of what the simulation reads besides the fit (a saved fit is only simulated again
    with the same definitions).

Presentation lives in forecast/report/ (one section module per stage).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import xarray as xr

from ..problems import Problem


@dataclass
class Prepared:
    """The model data of a fit as of a date, and the key of the fit it would give."""

    data: Any
    key: str
    seed: int


@dataclass
class StageResult:
    """One stage of one forecast: its fit, election-day draws and summary block."""

    name: str
    fit: Any
    draws: xr.Dataset
    summary: dict
    reused: bool = False


@dataclass(frozen=True)
class Options:
    """Choices of a forecast besides its as-of date and seed.

    Attributes
    ----------
    model_file
        Model file of the presidential polls (default: the election's ``model_file``, else
        ``models/president.toml``, else the documented defaults; docs/model.md).
    spec_changes
        Settings changed in every poll model (e.g. ``{"draws": 500}``).
    congress, governors
        Include these stages when the election has them.
    """

    model_file: str | None = None
    spec_changes: dict = field(default_factory=dict)
    congress: bool = True
    governors: bool = True


class Stage(Protocol):
    """The interface every stage implements (see the module docstring)."""

    name: str
    fit_file: str
    poll_label: str

    def load(self, election: Any, options: Options) -> Any | None: ...

    def known(self, inputs: Any) -> pd.Series: ...

    def prepare(self, inputs: Any, as_of: dt.date, seed: int) -> Prepared: ...

    def fit(self, inputs: Any, prepared: Prepared, progress: bool | None) -> Any: ...

    def reuse(self, stored: Any, prepared: Prepared) -> Any: ...

    def save_fit(self, fit: Any, path: Any, attrs: dict[str, str]) -> Any: ...

    def load_fit(self, path: Any, inputs: Any) -> Any: ...

    def simulate(self, fit: Any, inputs: Any, upstream: dict[str, StageResult], seed: int,
                 settings: dict) -> xr.Dataset: ...

    def summarise(self, draws: xr.Dataset, fit: Any, inputs: Any) -> dict: ...

    def definition_key(self, inputs: Any) -> str: ...

    def warnings(self, inputs: Any) -> list[Problem]: ...


def used_warnings(problems: list[Problem], used_lines: set[int], election_dir) -> list[str]:
    """The poll-file warnings about the polls a fit used (or about the file as a whole), with
    file names relative to the election folder (a forecast's summary names no machine path)."""
    import os
    from dataclasses import replace

    def relative(p: Problem) -> Problem:
        try:
            path = os.path.relpath(os.path.abspath(p.path), os.path.abspath(election_dir))
        except ValueError:
            return p
        return replace(p, path=path if not path.startswith("..") else p.path)

    return [str(relative(p)) for p in problems if p.line == 0 or p.line in used_lines]
