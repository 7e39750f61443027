"""The Congress part of the report: seat tables, histograms, hemicycles, district table."""

from __future__ import annotations

import html

import pandas as pd

from ..congress.summary import CHAMBERS, district_table, seat_table
from ..fit import csv_bytes
from ..seats.apportion import largest_remainder_scalar
from .congress_charts import (
    district_table_html,
    plot_hemicycle,
    plot_seat_histograms,
    seat_table_html,
)
from .page import Section


def congress_names(forecast) -> dict[str, str]:
    """Display names of parties (the party-poll options) and coalitions."""
    inputs = forecast.inputs.stage("congress")
    names = {c.key: c.name for c in inputs.election.candidates}
    names.update({k: r.name for k, r in inputs.definition.coalitions.items()})
    return names


def congress_section(forecast) -> Section:
    """The report's Congress section."""
    result = forecast.results["congress"]
    draws, s = result.draws, result.summary
    definition = forecast.inputs.stage("congress").definition
    names = congress_names(forecast)
    figures = {}
    for chamber in CHAMBERS:
        total, majority, two_thirds = definition.thresholds(chamber)
        label = "Chamber of Deputies" if chamber == "deputies" else "Senate"
        seats = draws[f"{chamber}_coalition_seats"]
        figures[f"seats_{chamber}"] = (
            f"{label}: distribution of seats per coalition; dashed lines at a simple majority "
            f"({majority}) and two thirds ({two_thirds}).",
            plot_seat_histograms(seats, chamber=label, total=total, majority=majority,
                                 two_thirds=two_thirds, names=names))
        medians = draws[f"{chamber}_seats"].median("draw").values
        # Medians need not add up to the chamber: scale them to it by largest remainder so
        # the hemicycle shows every seat once.
        rounded = largest_remainder_scalar(
            [int(round(m * 1000)) for m in medians], total) if medians.sum() > 0 else medians
        ordered = _left_to_right(definition)
        seat_map = {p: int(rounded[definition.parties.index(p)]) for p in ordered}
        figures[f"hemicycle_{chamber}"] = (
            f"{label}: median seats per party (scaled to {total} seats).",
            plot_hemicycle(seat_map, total=total, title=f"{label}: median seats", names=names))
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
            + district_table_html(district_table(draws), blocs=definition.blocs, names=names)
            + "</details>")
    return Section("congress", "Congress: Chamber of Deputies and Senate", body, figures)


def congress_tables(forecast) -> dict[str, bytes]:
    """CSV files: seat quantiles, district win probabilities, seats per draw."""
    draws = forecast.results["congress"].draws
    definition = forecast.inputs.stage("congress").definition
    per_draw = []
    for chamber in ("deputies", "senate"):
        seats = draws[f"{chamber}_seats"].to_pandas()
        seats.insert(0, "chamber", chamber)
        per_draw.append(seats.reset_index())
    return {
        "seats.csv": csv_bytes(seat_table(draws, definition)),
        "districts.csv": csv_bytes(district_table(draws)),
        "seats_draws.csv": csv_bytes(pd.concat(per_draw, ignore_index=True)),
    }


def _left_to_right(definition) -> list[str]:
    """Parties ordered for a hemicycle: coalition by coalition in definition order."""
    order = [p for rule in definition.coalitions.values() for p in rule.parties]
    return order + [p for p in definition.parties if p not in order]
