"""The Congress step of the main job: party polls -> national vote tied to the presidential draws
-> seats -> summary block, tables and report section."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..election import Election, load_election
from ..fit import Fit, csv_bytes, fit
from ..polls import PollTable, read_polls
from ..simulate import quantile_summary
from ..spec import ModelSpec, find_model_file, load_spec
from .definition import CongressDefinition, CongressSpec, load_congress, load_congress_spec
from .project import project_congress
from .summary import chambers_summary, coalition_seats, district_table, seat_table
from .vote import national_vote

SUBDIRECTORY = "congress"
PARTY_MODEL = Path("models") / "party.toml"
CONGRESS_MODEL = Path("models") / "congress.toml"


@dataclass
class CongressInputs:
    """Everything the Congress step reads, validated."""

    definition: CongressDefinition
    election: Election  # the party-poll "election" (options are parties)
    polls: PollTable
    party_spec: ModelSpec
    spec: CongressSpec


@dataclass
class CongressResult:
    """One Congress forecast: national vote draws, the seat projection and its summary."""

    national: xr.Dataset
    projection: xr.Dataset
    summary: dict
    definition: CongressDefinition
    names: dict[str, str] = field(default_factory=dict)  # display names of parties


def congress_directory(election: Election) -> Path | None:
    """``<election>/congress`` when it holds a ``congress.toml``, else None (no Congress)."""
    path = election.directory / SUBDIRECTORY
    return path if (path / "congress.toml").is_file() else None


def load_congress_inputs(election: Election, *, party_model: str | Path | None = None,
                         congress_model: str | Path | None = None) -> CongressInputs | None:
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
    party_election = load_election(directory)
    polls = read_polls(party_election.poll_path, party_election)
    party_file = party_model or find_model_file(election.directory, PARTY_MODEL)
    congress_file = congress_model or find_model_file(election.directory, CONGRESS_MODEL)
    party_spec = load_spec(party_file) if party_file else ModelSpec()
    spec = load_congress_spec(congress_file) if congress_file else CongressSpec()
    return CongressInputs(definition, party_election, polls, party_spec, spec)


def fit_party_polls(inputs: CongressInputs, *, as_of: dt.date | None, seed: int = 20180701,
                    progress: bool | None = None) -> Fit:
    """Fit the party-preference polls with the presidential model (same machinery)."""
    return fit(inputs.polls, inputs.election, inputs.party_spec, as_of=as_of, seed=seed,
               progress=progress)


def _party_fit_key(inputs: CongressInputs, as_of: dt.date | None, seed: int) -> dict:
    """What a party-poll fit depends on: the polls it uses, the knot it is anchored at, the
    settings and the seed (the as-of date itself only matters through these)."""
    from ..model import prepare

    data = prepare(inputs.polls, inputs.election, inputs.party_spec, as_of)
    polls = data.polls.drop(columns=[c for c in data.polls.columns if c == "source"])
    digest = hashlib.sha256(polls.to_csv(index=False).encode()).hexdigest()
    spec = {k: v for k, v in inputs.party_spec.as_dict().items() if k != "source"}
    return {"polls_sha256": digest, "anchor": str(data.knots[data.anchor].date()),
            "spec": spec, "seed": int(seed)}


def party_fit_for(inputs: CongressInputs, path: Path, *, as_of: dt.date | None,
                  seed: int = 20180701, progress: bool | None = None) -> tuple[Fit, bool]:
    """The party-poll fit for a forecast, reusing the one saved at ``path`` when nothing it
    depends on changed (same party polls used, anchor knot, settings and seed: the refit
    would be identical). Returns (fit, reused).

    A refit after a new presidential poll then costs one fit, not two. The key is stored beside
    the fit (``party_fit.json``); the fit is written by the caller.
    """
    from ..fit import load_fit

    key = _party_fit_key(inputs, as_of, seed)
    sidecar = path.with_suffix(".json")
    if path.is_file() and sidecar.is_file():
        try:
            same = json.loads(sidecar.read_text()) == json.loads(json.dumps(key, default=str))
            if same:
                return load_fit(path, inputs.election.directory), True
        except (ValueError, OSError, KeyError):
            pass  # unreadable or stale: refit
    return fit_party_polls(inputs, as_of=as_of, seed=seed, progress=progress), False


def save_party_fit(inputs: CongressInputs, result: Fit, path: Path, *, seed: int) -> None:
    """Save the party-poll fit and its reuse key (both atomically)."""
    from ..fit import atomic_write_bytes, save_fit

    save_fit(result, path)
    key = _party_fit_key(inputs, result.as_of, seed)
    atomic_write_bytes(path.with_suffix(".json"),
                       json.dumps(key, indent=1, default=str).encode())


def president_coalitions(president: Fit, winners: np.ndarray) -> np.ndarray:
    """Coalition key of each draw's presidential winner (``""`` for an independent)."""
    by_candidate = {c.key: c.coalition for c in president.election.candidates}
    return np.array([by_candidate.get(str(w).split("=")[0], "") for w in winners])


def congress_forecast(president: Fit, party: Fit, definition: CongressDefinition,
                      spec: CongressSpec, *, seed: int = 20180701,
                      polling_error_scale: float = 1.0,
                      winners: np.ndarray | None = None) -> CongressResult:
    """National vote, seats and the ``chambers`` summary block for one as-of date.

    Parameters
    ----------
    president, party
        Presidential and party-poll fits.
    definition, spec
        Congress facts and settings.
    seed
        Seed of every random step (pairing, ticket splitting, swing noise, siglado draws).
    polling_error_scale
        Multiplies the presidential election-day polling error.
    winners
        (draw,) presidential winner of each draw (``simulate(...)["winner"]``), for the seats
        of the president's coalition.
    """
    national = national_vote(president, party, definition, spec, seed=seed,
                             polling_error_scale=polling_error_scale)
    projection = project_congress(national, definition, spec, seed=seed + 1)
    coalitions = president_coalitions(president, winners) if winners is not None else None
    summary = chambers_summary(projection, definition, coalitions)
    summary["vote"] = {
        "share_valid": {p: quantile_summary(national["share"].sel(party=p).values)
                        for p in national.coords["party"].values},
        "coalitions": {b: quantile_summary(national["bloc_share"].sel(bloc=b).values)
                       for b in national.coords["bloc"].values},
        "ticket_split": {k: quantile_summary(national["ticket_split"].sel(coalition=k).values)
                         for k in national.coords["coalition"].values},
    }
    summary["party_poll_fit"] = party.diagnostics.as_dict()
    summary["party_poll_fit"]["polls_used"] = int(len(party.polls))
    names = {c.key: getattr(c, "name", c.key) for c in party.election.candidates}
    return CongressResult(national, projection, summary, definition, names)


def congress_tables(result: CongressResult) -> dict[str, bytes]:
    """CSV files of the report: seat quantiles, district win probabilities, seats per draw."""
    per_draw = []
    for chamber in ("deputies", "senate"):
        seats = result.projection[f"{chamber}_seats"].to_pandas()
        seats.insert(0, "chamber", chamber)
        per_draw.append(seats.reset_index())
    return {
        "seats.csv": csv_bytes(seat_table(result.projection, result.definition)),
        "districts.csv": csv_bytes(district_table(result.projection)),
        "seats_draws.csv": csv_bytes(pd.concat(per_draw, ignore_index=True)),
    }


def congress_dataset(result: CongressResult) -> xr.Dataset:
    """Everything per draw as one labelled dataset (written as ``congress.nc``)."""
    ds = result.projection.copy()
    ds["national_share"] = result.national["share"]
    ds["national_bloc_share"] = result.national["bloc_share"]
    ds["ticket_split"] = result.national["ticket_split"]
    for chamber in ("deputies", "senate"):
        ds[f"{chamber}_coalition_seats"] = coalition_seats(result.projection, result.definition,
                                                           chamber)
    return ds


def congress_section(result: CongressResult, names: dict[str, str] | None = None):
    """The report's Congress section: seat tables, histograms, hemicycles, district table."""
    import html

    from ..report.congress_charts import (
        district_table_html,
        plot_hemicycle,
        plot_seat_histograms,
        seat_table_html,
    )
    from ..report.page import Section
    from ..seats.apportion import largest_remainder_scalar
    from .summary import CHAMBERS

    definition = result.definition
    names = {**result.names, **(names or {})}
    names.update({k: r.name for k, r in definition.coalitions.items()})
    figures = {}
    for chamber, (total, majority, two_thirds) in CHAMBERS.items():
        label = "Chamber of Deputies" if chamber == "deputies" else "Senate"
        seats = coalition_seats(result.projection, definition, chamber)
        figures[f"seats_{chamber}"] = (
            f"{label}: distribution of seats per coalition; dashed lines at a simple majority "
            f"({majority}) and two thirds ({two_thirds}).",
            plot_seat_histograms(seats, chamber=label, total=total, majority=majority,
                                 two_thirds=two_thirds, names=names))
        medians = result.projection[f"{chamber}_seats"].median("draw").values
        # Medians need not add up to the chamber: scale them to it by largest remainder so
        # the hemicycle shows every seat once.
        rounded = largest_remainder_scalar(
            [int(round(m * 1000)) for m in medians], total) if medians.sum() > 0 else medians
        ordered = _left_to_right(definition)
        seat_map = {p: int(rounded[definition.parties.index(p)]) for p in ordered}
        figures[f"hemicycle_{chamber}"] = (
            f"{label}: median seats per party (scaled to {total} seats).",
            plot_hemicycle(seat_map, total=total, title=f"{label}: median seats", names=names))
    s = result.summary
    fit_box = s["party_poll_fit"]
    e = html.escape
    if fit_box["converged"]:
        diag = (f"<p class='sub'>Party-poll fit: {fit_box['polls_used']} polls, converged (max "
                f"R-hat {fit_box['max_rhat']:.3f}).</p>")
    else:
        diag = ("<div class='warn' id='party-fit-diagnostics'><strong>WARNING: the party-poll "
                "model did not converge — do not publish these seat numbers.</strong> "
                + e("; ".join(fit_box.get("problems", []))) + "</div>")
    body = (diag + seat_table_html({k: s[k] for k in CHAMBERS}, names=names)
            + "<details><summary>Districts: probability that each bloc's candidacy wins (300 "
            "districts)</summary>"
            + district_table_html(district_table(result.projection),
                                  blocs=definition.blocs, names=names) + "</details>")
    section = Section("congress", "Congress: Chamber of Deputies and Senate", body, figures)
    return section


def _left_to_right(definition: CongressDefinition) -> list[str]:
    """Parties ordered for a hemicycle: coalition by coalition in definition order."""
    order = [p for rule in definition.coalitions.values() for p in rule.parties]
    return order + [p for p in definition.parties if p not in order]
