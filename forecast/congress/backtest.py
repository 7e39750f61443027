"""Score a Congress projection against the official seats (backtests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..election import show_value
from ..files import read_csv_rows, whole_number
from ..problems import InputError, Problem
from ..scoring import interval_block
from .definition import CongressDefinition
from .summary import CHAMBERS, coalition_seats


def read_official_seats(path: str | Path, definition: CongressDefinition) -> pd.DataFrame:
    """Official seats per chamber and party (columns ``chamber, party, seats_total``).

    Raises
    ------
    InputError
        Missing columns, unknown chamber or party, or non-integer seats, with file and line.
    """
    shown = str(path)
    problems: list[Problem] = []
    # Read with the project's CSV reader (pandas raised its own errors on ragged or binary files).
    rows = read_csv_rows(path, problems, required=("chamber", "party", "seats_total"),
                         missing="official seat file not found")
    if rows is None:
        raise InputError(problems)
    for line, row in rows:
        if row["chamber"] not in CHAMBERS:
            problems.append(Problem(shown, line, "chamber",
                                    f"{show_value(row['chamber'])}: expected one of "
                                    f"{list(CHAMBERS)}"))
        if row["party"] not in definition.parties:
            problems.append(Problem(shown, line, "party",
                                    f"{show_value(row['party'])}: expected one of "
                                    f"{definition.parties}"))
        if whole_number(row["seats_total"]) is None:
            problems.append(Problem(shown, line, "seats_total",
                                    f"{show_value(row['seats_total'])}: expected a whole number "
                                    "of seats"))
    if problems:
        raise InputError(problems)
    columns = list(rows[0][1]) if rows else ["chamber", "party", "seats_total"]
    frame = pd.DataFrame([row for _, row in rows], columns=columns, dtype=object)
    return frame.assign(seats_total=frame["seats_total"].map(whole_number).astype(int))


def score_seats(projection: xr.Dataset, definition: CongressDefinition,
                official: pd.DataFrame) -> dict:
    """Per chamber, coalition and party: actual seats, the forecast's mean and quantiles, the
    central 50/80/90% interval checks and interval scores (:func:`forecast.scoring.interval_block`),
    and the probability the forecast gave to the actual majority status of each coalition."""
    out: dict = {}
    for chamber in CHAMBERS:
        _total, majority, two_thirds = definition.thresholds(chamber)
        actual = official[official["chamber"] == chamber].set_index("party")["seats_total"]
        if actual.empty:
            continue
        block: dict = {"coalitions": {}, "parties": {}}
        seats = projection[f"{chamber}_seats"]
        coalitions = coalition_seats(projection, definition, chamber)
        entries = [("coalitions", str(k), coalitions.sel(coalition=k).values,
                    int(sum(actual.get(p, 0) for p in definition.coalitions[str(k)].parties)))
                   for k in coalitions.coords["coalition"].values]
        entries += [("parties", p, seats.sel(party=p).values, int(actual.get(p, 0)))
                    for p in definition.parties]
        for kind, key, values, real in entries:
            e = interval_block(values, real)
            if kind == "coalitions":
                has_majority = real >= majority
                has_two_thirds = real >= two_thirds
                p_maj = float(np.mean(values >= majority))
                p_two = float(np.mean(values >= two_thirds))
                e["p_actual_majority_status"] = p_maj if has_majority else 1 - p_maj
                e["p_actual_two_thirds_status"] = p_two if has_two_thirds else 1 - p_two
            block[kind][key] = e
        for kind in ("coalitions", "parties"):
            for level in (90, 80, 50):
                block[f"n_in_{level}_{kind}"] = sum(v[f"in_{level}"] for v in block[kind].values())
        out[chamber] = block
    return out


def read_official_votes(path: str | Path, definition: CongressDefinition) -> dict[str, int]:
    """Official national vote per party (``party,votes``; an optional ``note`` column): a row
    for every party of the definition and its independent option (0 if none). Backtests only.

    Raises
    ------
    InputError
        Missing columns, unknown or repeated options, missing ones, or votes that are not whole
        numbers, with file and line.
    """
    shown = str(path)
    problems: list[Problem] = []
    rows = read_csv_rows(path, problems, required=("party", "votes"), lower=True,
                         missing="official party-vote file not found")
    if rows is None:
        raise InputError(problems)
    options = [*definition.parties, definition.independent]
    votes: dict[str, int] = {}
    for line, row in rows:
        party = row["party"].strip().lower()
        if party not in options:
            problems.append(Problem(shown, line, "party", f"{show_value(row['party'])}: "
                                    f"expected one of {', '.join(options)}"))
            continue
        if party in votes:
            problems.append(Problem(shown, line, "party", f"{party!r} appears twice"))
            continue
        count = whole_number(row["votes"])
        if count is None:
            problems.append(Problem(shown, line, "votes", f"{show_value(row['votes'])}: "
                                    "expected a whole number of votes"))
            continue
        votes[party] = count
    for party in options:
        if party not in votes and not any(p.line for p in problems):
            problems.append(Problem(shown, 0, "party", f"no row for {party!r}: expected one "
                                    "(0 if none)"))
    if not problems and sum(votes.values()) <= 0:
        problems.append(Problem(shown, 0, "votes", "no votes: expected a positive total"))
    if problems:
        raise InputError(problems)
    return votes


def score_party_vote(projection: xr.Dataset, official: dict[str, int]) -> dict:
    """The national vote per party (``national_share``: shares of the valid vote of the parties
    and the independent option) against the official vote, each as an interval block
    (:func:`forecast.scoring.interval_block`); ``n_in_50/80/90``."""
    shares = projection["national_share"]
    total = sum(official.values())
    parties = [str(p) for p in shares.coords["party"].values]
    out: dict = {"parties": {p: interval_block(shares.sel(party=p).values,
                                               official.get(p, 0) / total) for p in parties}}
    for level in (50, 80, 90):
        out[f"n_in_{level}"] = sum(b[f"in_{level}"] for b in out["parties"].values())
    return out
