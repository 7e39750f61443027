"""Score a Congress projection against the official seats (backtests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..election import show_value
from ..files import read_csv_rows, whole_number
from ..problems import InputError, Problem
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
    """Per chamber, coalition and party: actual seats, forecast interval, in_50 / in_90, and
    the probability the forecast gave to the actual majority status of each coalition."""
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
            q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
            e = {"actual": real, "q05": float(q[0]), "q25": float(q[1]), "q50": float(q[2]),
                 "q75": float(q[3]), "q95": float(q[4]), "mean": float(values.mean()),
                 "in_50": bool(q[1] <= real <= q[3]), "in_90": bool(q[0] <= real <= q[4])}
            if kind == "coalitions":
                has_majority = real >= majority
                has_two_thirds = real >= two_thirds
                p_maj = float(np.mean(values >= majority))
                p_two = float(np.mean(values >= two_thirds))
                e["p_actual_majority_status"] = p_maj if has_majority else 1 - p_maj
                e["p_actual_two_thirds_status"] = p_two if has_two_thirds else 1 - p_two
            block[kind][key] = e
        for kind in ("coalitions", "parties"):
            block[f"n_in_90_{kind}"] = sum(v["in_90"] for v in block[kind].values())
            block[f"n_in_50_{kind}"] = sum(v["in_50"] for v in block[kind].values())
        out[chamber] = block
    return out
