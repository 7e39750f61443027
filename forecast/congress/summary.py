"""The ``chambers`` block of ``summary.json`` and the seat tables, from a Congress projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .definition import CongressDefinition

#: The chambers, in the order of every table (their sizes and majorities come from the seat law
#: of the election: CongressDefinition.thresholds).
CHAMBERS = ("deputies", "senate")


def coalition_seats(projection: xr.Dataset, definition: CongressDefinition, chamber: str
                    ) -> xr.DataArray:
    """(draw, coalition) seats of each coalition's parties in one chamber."""
    seats = projection[f"{chamber}_seats"]
    keys = list(definition.coalitions)
    return xr.concat([seats.sel(party=list(definition.coalitions[k].parties)).sum("party")
                      for k in keys], dim=pd.Index(keys, name="coalition")).transpose(
        "draw", "coalition")


def _entry(values: np.ndarray, majority: int, two_thirds: int) -> dict:
    q05, q50, q95 = np.quantile(values, [0.05, 0.5, 0.95])
    return {"seats": {"q05": float(q05), "q50": float(q50), "q95": float(q95),
                      "mean": float(np.mean(values))},
            "p_majority": float(np.mean(values >= majority)),
            "p_two_thirds": float(np.mean(values >= two_thirds))}


def chambers_summary(projection: xr.Dataset, definition: CongressDefinition,
                     president_coalition: np.ndarray | None = None) -> dict:
    """Per chamber: seat quantiles and majority probabilities for parties and coalitions.

    Parameters
    ----------
    projection
        From :func:`forecast.congress.project.project_congress`.
    definition
        Congress facts (coalition membership).
    president_coalition
        (draw,) key of the coalition whose candidate won the presidency in each draw (same
        draw order as the projection); adds a ``president`` entry: the seats of the winner's
        coalition, draw by draw.
    """
    out: dict = {}
    for chamber in CHAMBERS:
        total, majority, two_thirds = definition.thresholds(chamber)
        seats = projection[f"{chamber}_seats"]
        coalitions = coalition_seats(projection, definition, chamber)
        block: dict = {"total": total, "majority": majority, "two_thirds": two_thirds,
                       "parties": {}, "coalitions": {}}
        for p in definition.parties:
            block["parties"][p] = _entry(seats.sel(party=p).values, majority, two_thirds)
        for k in coalitions.coords["coalition"].values:
            entry = _entry(coalitions.sel(coalition=k).values, majority, two_thirds)
            entry["name"] = definition.coalitions[str(k)].name
            block["coalitions"][str(k)] = entry
        if president_coalition is not None:
            keys = list(coalitions.coords["coalition"].values)
            table = coalitions.values
            values = np.array([table[i, keys.index(c)] if c in keys else 0
                               for i, c in enumerate(president_coalition)])
            block["president"] = _entry(values, majority, two_thirds)
        out[chamber] = block
    return out


def seat_table(projection: xr.Dataset, definition: CongressDefinition) -> pd.DataFrame:
    """One row per chamber and party or coalition: seat quantiles and majority probabilities."""
    rows = []
    for chamber, block in chambers_summary(projection, definition).items():
        for kind in ("coalitions", "parties"):
            for key, e in block[kind].items():
                rows.append({"chamber": chamber,
                             "kind": "party" if kind == "parties" else "coalition",
                             "key": key, **e["seats"],
                             "p_majority": e["p_majority"], "p_two_thirds": e["p_two_thirds"]})
    return pd.DataFrame(rows)


def district_table(projection: xr.Dataset) -> pd.DataFrame:
    """Per district: state, number and each bloc's win probability (``p_<bloc>``)."""
    codes = projection.coords["district"].values.astype(int)
    frame = pd.DataFrame({"district_code": codes,
                          "state": projection.coords["district_state"].values,
                          "district": codes % 100})
    for b in projection.coords["bloc"].values:
        frame[f"p_{b}"] = projection["district_win"].sel(bloc=b).values
    return frame
