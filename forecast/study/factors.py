"""What a study varies: the scenario set-up, the factor registry and the built-in factors.

A factor's handler turns a level into a change of the scenario's :class:`Setup`; one marked
``refit=False`` acts at simulation time only, so scenarios that differ only in such factors
share one fit. :func:`register_summary` adds per-scenario outputs (docs/studies.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
import xarray as xr

from ..election import Election
from ..polls import PollTable
from ..spec import ModelSpec, _is_number, setting_problem
from ..stages.president import PresidentInputs as Inputs


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


#: Per-scenario summaries: ``fn(forecast, setup) -> {name: DataArray}`` (no factor dims); the
#: forecast (forecast.engine.Forecast) holds every stage's fit, draws and summary block.
SUMMARIES: list[Callable[[object, Setup], dict[str, xr.DataArray]]] = []


def register_summary(fn: Callable[[object, Setup], dict[str, xr.DataArray]]) -> Callable:
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


# ---- ModelSpec settings ------------------------------------------------------------------

_SPEC_FIELDS = {f.name: f.type for f in fields(ModelSpec) if f.name != "source"}


def check_setting(name: str, value: object) -> object:
    """A ModelSpec setting's value, normalised, or :class:`LevelError` (rules of load_spec)."""
    want = setting_problem(name, value)
    if want is not None:
        raise LevelError(f"{value!r}: expected {want}")
    return {"int": int, "float": float}.get(_SPEC_FIELDS[name], str)(value)


def _register_setting(name: str) -> None:
    def apply(setup: Setup, level: object) -> Setup:
        return replace(setup, spec=setup.spec.with_(**{name: level}))

    register_factor(name, parse=lambda value, inputs: check_setting(name, value),
                    help=f"model setting {name} (models/president.toml)")(apply)


for _name in _SPEC_FIELDS:
    _register_setting(_name)


# ---- poll filters ------------------------------------------------------------------------


def _poll_column_or(column: str, word: str, what: str) -> Callable[[object, Inputs], str]:
    """Parser of a level that is ``word`` or a value of the poll table's ``column``."""

    def parse(value: object, inputs: Inputs) -> str:
        known = sorted(inputs.polls.table[column].unique())
        if isinstance(value, str) and (value == word or value in known):
            return value
        raise LevelError(f"{value!r}: expected \"{word}\" or {what} of {inputs.polls.path} "
                         f"({', '.join(known)})")

    return parse


@register_factor("drop_pollster", parse=_poll_column_or("pollster", "none", "a pollster"),
                 help='leave out every poll of one pollster ("none": keep all)')
def _drop_pollster(setup: Setup, level: object) -> Setup:
    if level == "none":
        return setup
    return _with_polls(setup, setup.polls.table["pollster"] != level)


@register_factor("mode", parse=_poll_column_or("mode", "all", "a survey mode"),
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
