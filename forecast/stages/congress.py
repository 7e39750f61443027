"""Congress as a stage: party polls -> national vote tied to the presidential draws -> seats.

The stage's fit is the party-preference poll fit (the presidential poll model with the parties
as options, models/party.toml); its simulation pairs it with the presidential stage's draws
(forecast.congress.vote), projects districts and Senate races and applies the allocation law
(forecast.congress.project), draw by draw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..congress.definition import (
    CongressDefinition,
    CongressSpec,
    load_congress,
    load_congress_spec,
)
from ..congress.project import project_congress
from ..congress.summary import chambers_summary, coalition_seats
from ..congress.vote import national_vote
from ..election import Election, load_election
from ..fit import Fit, fit_data, fit_key, load_fit, save_fit
from ..model import known_dates, prepare
from ..polls import PollTable, read_polls
from ..problems import Problem
from ..seats.law import rules_for_election
from ..seeds import derive_seed
from ..simulate import quantile_summary
from ..spec import ModelSpec, find_model_file, load_spec
from ..storage import canonical_table, digest
from .base import Options, Prepared, StageResult, used_warnings

SUBDIRECTORY = "congress"
PARTY_MODEL = Path("models") / "party.toml"
CONGRESS_MODEL = Path("models") / "congress.toml"


@dataclass
class CongressInputs:
    """Everything the Congress stage reads, validated."""

    definition: CongressDefinition
    election: Election  # the party-poll "election" (options are parties)
    polls: PollTable
    party_spec: ModelSpec
    spec: CongressSpec
    president: Election | None = None  # the presidential election (coalitions of candidates)


def congress_directory(election: Election) -> Path | None:
    """``<election>/congress`` when it holds a ``congress.toml``, else None (no Congress)."""
    path = election.directory / SUBDIRECTORY
    return path if (path / "congress.toml").is_file() else None


def load_congress_inputs(election: Election, *, party_model: str | Path | None = None,
                         congress_model: str | Path | None = None,
                         spec_changes: dict | None = None) -> CongressInputs | None:
    """Read the Congress definition, party polls and both model files (None without Congress).

    Raises
    ------
    InputError
        Any problem in those files, with file and line.
    """
    directory = congress_directory(election)
    if directory is None:
        return None
    definition = load_congress(directory)
    definition.rules = {chamber: rules_for_election(election, chamber)
                        for chamber in ("deputies", "senate")}
    party_election = load_election(directory)
    polls = read_polls(party_election.poll_path, party_election)
    party_file = party_model or find_model_file(election.directory, PARTY_MODEL)
    congress_file = congress_model or find_model_file(election.directory, CONGRESS_MODEL)
    party_spec = load_spec(party_file) if party_file else ModelSpec()
    if spec_changes:
        party_spec = party_spec.with_(**spec_changes)
    spec = load_congress_spec(congress_file) if congress_file else CongressSpec()
    return CongressInputs(definition, party_election, polls, party_spec, spec, election)


def president_coalitions(election: Election, winners: np.ndarray) -> np.ndarray:
    """Coalition key of each draw's presidential winner (``""`` for an independent)."""
    by_candidate = {c.key: c.coalition for c in election.candidates}
    return np.array([by_candidate.get(str(w).split("=")[0], "") for w in winners])


def congress_draws(president: Fit, party: Fit, definition: CongressDefinition,
                   spec: CongressSpec, *, seed: int, winners: np.ndarray | None = None,
                   polling_error_scale: float = 1.0) -> xr.Dataset:
    """National vote and seats in both chambers, one draw per presidential draw.

    Parameters
    ----------
    president, party
        Presidential and party-poll fits (same as-of date).
    definition, spec
        Congress facts and settings.
    seed
        Seed of every random step (pairing, ticket splitting, swing noise, siglado draws).
    winners
        (draw,) presidential winner of each draw, for the seats of the president's coalition
        (``president_coalition`` variable).
    polling_error_scale
        Multiplies the presidential election-day polling error.

    Returns
    -------
    xarray.Dataset
        The projection (forecast.congress.project) with ``national_share``,
        ``national_bloc_share``, ``ticket_split``, ``<chamber>_coalition_seats`` and
        ``president_coalition``.
    """
    national = national_vote(president, party, definition, spec,
                             seed=derive_seed(seed, "congress/vote"),
                             polling_error_scale=polling_error_scale)
    ds = project_congress(national, definition, spec, seed=derive_seed(seed, "congress/seats"))
    ds["national_share"] = national["share"]
    ds["national_bloc_share"] = national["bloc_share"]
    ds["national_bloc_share_now"] = national["bloc_share_now"]
    ds["ticket_split"] = national["ticket_split"]
    for chamber in ("deputies", "senate"):
        ds[f"{chamber}_coalition_seats"] = coalition_seats(ds, definition, chamber)
    if winners is not None:
        ds["president_coalition"] = ("draw", president_coalitions(president.election, winners))
    return ds


def chambers_block(draws: xr.Dataset, definition: CongressDefinition, party: Fit) -> dict:
    """The ``chambers`` block of ``summary.json``: seats per chamber, the vote, the fit."""
    coalitions = draws["president_coalition"].values if "president_coalition" in draws else None
    summary = chambers_summary(draws, definition, coalitions)
    summary["vote"] = {
        "share_valid": {str(p): quantile_summary(draws["national_share"].sel(party=p).values)
                        for p in draws.coords["party"].values},
        "coalitions": {str(b): quantile_summary(draws["national_bloc_share"].sel(bloc=b).values)
                       for b in draws.coords["bloc"].values},
        "ticket_split": {str(k): quantile_summary(draws["ticket_split"].sel(coalition=k).values)
                         for k in draws.coords["coalition"].values},
    }
    if coalitions is not None:
        # Draw by draw: the president's coalition holds a majority / two thirds of *both*
        # chambers in the same draw (not the product of the two chambers' probabilities).
        both = {}
        for label, index in (("majority", 1), ("two_thirds", 2)):
            hold = np.ones(len(coalitions), dtype=bool)
            for chamber in ("deputies", "senate"):
                need = definition.thresholds(chamber)[index]
                seats = draws[f"{chamber}_coalition_seats"]
                keys = [str(k) for k in seats.coords["coalition"].values]
                table = seats.transpose("draw", "coalition").values
                held = np.array([table[i, keys.index(c)] if c in keys else 0
                                 for i, c in enumerate(coalitions)])
                hold &= held >= need
            both[label] = float(np.mean(hold))
        summary["president_both_majority"] = both["majority"]
        summary["president_both_two_thirds"] = both["two_thirds"]
    summary["party_poll_fit"] = party.diagnostics.as_dict(timings=False)
    summary["party_poll_fit"]["polls_used"] = int(len(party.polls))
    return summary


def congress_settings(spec: CongressSpec, changes: dict) -> CongressSpec:
    """Settings with a study's changes: CongressSpec fields, and ``noise_scale`` multiplying
    the state, district and Senate-race noise."""
    changes = dict(changes)
    scale = float(changes.pop("noise_scale", 1.0))
    spec = spec.with_(**changes) if changes else spec
    if scale != 1.0:
        spec = spec.with_(state_noise_k=spec.state_noise_k * scale,
                          district_noise_k=spec.district_noise_k * scale,
                          senate_noise_k=spec.senate_noise_k * scale)
    return spec


def _law(rules) -> dict:
    """The numbers of a seat law (not where they were read from)."""
    return {f.name: str(getattr(rules, f.name)) for f in fields(rules) if f.name != "source"}


class CongressStage:
    """Congress: Chamber of Deputies and Senate (elections with a ``congress/`` folder)."""

    name = "congress"
    fit_file = "party_fit.nc"
    poll_label = "party polls"

    def load(self, election: Election, options: Options) -> CongressInputs | None:
        if not options.congress:
            return None
        return load_congress_inputs(election, spec_changes=options.spec_changes)

    def known(self, inputs: CongressInputs) -> pd.Series:
        return known_dates(inputs.polls.table)

    def warnings(self, inputs: CongressInputs) -> list[Problem]:
        return list(inputs.polls.warnings)

    def prepare(self, inputs: CongressInputs, as_of: dt.date, seed: int) -> Prepared:
        data = prepare(inputs.polls, inputs.election, inputs.party_spec, as_of)
        fit_seed = derive_seed(seed, f"{self.name}/fit")
        return Prepared(data, fit_key(data, inputs.party_spec, fit_seed, inputs.election),
                        fit_seed)

    def fit(self, inputs: CongressInputs, prepared: Prepared, progress: bool | None) -> Fit:
        result = fit_data(prepared.data, inputs.election, inputs.party_spec,
                          seed=prepared.seed, progress=progress)
        return replace(result, meta=self._meta(inputs, result))

    def reuse(self, stored: Fit, prepared: Prepared, inputs: CongressInputs) -> Fit:
        data = replace(prepared.data, polls=canonical_table(prepared.data.polls))
        result = replace(stored, data=data, election=inputs.election)
        return replace(result, meta=self._meta(inputs, result))

    def _meta(self, inputs: CongressInputs, result: Fit) -> dict:
        used = {int(v) for v in result.polls["line"]} if "line" in result.polls else set()
        return {"poll_warnings": used_warnings(inputs.polls.warnings, used,
                                               inputs.president.directory
                                               if inputs.president else inputs.election.directory),
                "notes": [],
                "poll_file": f"{SUBDIRECTORY}/{Path(inputs.polls.path).name}",
                "polls_in_file": len(inputs.polls)}

    def save_fit(self, result: Fit, path: Path, attrs: dict[str, str]) -> Path:
        return save_fit(result, path, attrs=attrs)

    def load_fit(self, path: Path, inputs: CongressInputs) -> Fit:
        return load_fit(path, inputs.election.directory)

    def definition_key(self, inputs: CongressInputs) -> str:
        d = inputs.definition
        return digest("congress", d.parties, d.independent,
                      {k: [list(r.parties), r.candidate, r.baseline]
                       for k, r in d.coalitions.items()},
                      d.baseline, d.party_fraction.reset_index(),
                      d.district_coalitions.reset_index(), d.senate_coalitions.reset_index(),
                      d.siglado, d.senate_formulas, inputs.spec.as_dict(),
                      {c: _law(d.chamber_rules(c)) for c in ("deputies", "senate")})

    def simulate(self, party: Fit, inputs: CongressInputs, upstream: dict[str, StageResult],
                 seed: int, settings: dict) -> xr.Dataset:
        president = upstream["president"]
        spec = congress_settings(inputs.spec, settings.get("congress", {}))
        return congress_draws(president.fit, party, inputs.definition, spec, seed=seed,
                              winners=president.draws["winner"].values,
                              polling_error_scale=float(settings.get("polling_error_scale",
                                                                     1.0)))

    def summarise(self, draws: xr.Dataset, party: Fit, inputs: CongressInputs) -> dict:
        return chambers_block(draws, inputs.definition, party)
