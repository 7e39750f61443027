"""The Congress part of the report: seat tables, histograms, hemicycles, district table."""

from __future__ import annotations

import html

import pandas as pd

from ..congress.summary import CHAMBERS, district_table, seat_table
from ..fit import csv_bytes
from .congress_charts import (
    diagram_seats,
    district_table_html,
    hemicycle_chart,
    seat_distribution_chart,
    seat_table_html,
)
from .page import Section
from .style import Style, congress_style


def congress_section(forecast, style: Style | None = None) -> Section:
    """The report's Congress section: seat tables (with the hemicycle's numbers), seat
    distributions and hemicycles per chamber, the district table."""
    result = forecast.results["congress"]
    draws, s = result.draws, result.summary
    definition = forecast.inputs.stage("congress").definition
    style = style or congress_style(forecast)
    names = {**style.names, "other": "Other parties"}
    charts = []
    diagram: dict[str, dict[str, int]] = {}
    ordered = _left_to_right(definition)
    coalition_of = {p: k for k, r in definition.coalitions.items() for p in r.parties}
    for chamber in CHAMBERS:
        total, majority, two_thirds = definition.thresholds(chamber)
        charts.append(seat_distribution_chart(
            draws[f"{chamber}_coalition_seats"], chamber=chamber, total=total,
            majority=majority, two_thirds=two_thirds, style=style))
        # The medians the table prints, as whole seats (diagram_seats: rounded half up; cut
        # down in proportion only if they add up to more than the chamber).
        medians = {p: s[chamber]["parties"][p]["seats"]["q50"] for p in ordered
                   if p in s[chamber]["parties"]}
        seat_map = diagram_seats(medians, total)
        diagram[chamber] = {**seat_map, **{k: sum(seat_map.get(p, 0) for p in r.parties)
                                           for k, r in definition.coalitions.items()}}
        charts.append(hemicycle_chart(seat_map, medians, chamber=chamber, total=total,
                                      style=style, coalition_of=coalition_of))
    fit_box = s["party_poll_fit"]
    e = html.escape
    if fit_box["converged"]:
        diag = (f"<p class='sub'>Party-poll fit: {fit_box['polls_used']} polls, converged (max "
                f"R-hat {fit_box['max_rhat']:.3f}).</p>")
    else:
        diag = ("<div class='warn' id='party-fit-diagnostics'><strong>WARNING: the party-poll "
                "model did not converge — do not publish these seat numbers.</strong> "
                + e("; ".join(fit_box.get("problems", []))) + "</div>")
    note = ("<p class='sub'>Median seats and 90% intervals; P(majority) and P(two-thirds): "
            "share of simulated elections in which the coalition or party reaches that many "
            "seats. <em>Diagram</em>: the whole seats the hemicycle shows (each party's median "
            "rounded half up; the coalition rows add up their parties).</p>")
    body = (diag + note + seat_table_html({k: s[k] for k in CHAMBERS}, names=names,
                                          diagram=diagram)
            + "<details><summary>Districts: probability that each bloc's candidacy wins (300 "
            "districts)</summary><div class='scroll'>"
            + district_table_html(district_table(draws), blocs=definition.blocs, names=names)
            + "</div></details>")
    return Section("congress", "Congress: Chamber of Deputies and Senate", body, charts=charts)


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
