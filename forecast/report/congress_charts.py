"""Charts and HTML tables for the Congress seat projection (Chamber of Deputies and Senate).

Same conventions as :mod:`forecast.report.charts`: one function per chart, each takes results
(never fits) and returns a matplotlib Figure drawn with ``layout="constrained"``.  The table
functions return HTML snippets with every piece of text escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import altair as alt  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from ..colors import NEUTRAL, assign_colors  # noqa: E402
from .charts import PICK_TITLE, color_scale, legend_pick  # noqa: E402
from .headline import CHAMBER_LABELS, seats_text  # noqa: E402
from .headline import chance as format_probability  # noqa: E402
from .vega import Chart, csv_name, to_spec  # noqa: E402

__all__ = [
    "UNASSIGNED_COLOR",
    "diagram_seats",
    "district_table_html",
    "format_probability",
    "hemicycle_chart",
    "hemicycle_layout",
    "plot_hemicycle",
    "plot_seat_histograms",
    "seat_distribution_chart",
    "seat_table_html",
]

UNASSIGNED_COLOR = NEUTRAL
UNASSIGNED_LABEL = "left over (medians need not add up)"


def _colors_for(keys, colors: Mapping[str, str] | None) -> dict[str, str]:
    """The given colours, defaults (forecast.colors) for keys without one."""
    return assign_colors([str(k) for k in keys], dict(colors or {}))


def _whole(x: float) -> float:
    """An interval end as a whole seat count (quantiles interpolate between draws)."""
    x = float(x)
    return x if math.isnan(x) else float(math.floor(x + 0.5))


def _chamber_label(chamber: str) -> str:
    return CHAMBER_LABELS.get(str(chamber).lower(), str(chamber))


# ----------------------------------------------------------------------------------------------
# Seat histograms
# ----------------------------------------------------------------------------------------------


def plot_seat_histograms(seats: xr.DataArray, *, chamber: str, total: int, majority: int,
                         two_thirds: int, names: dict[str, str] | None = None,
                         colors: Mapping[str, str] | None = None) -> Figure:
    """Seat distributions, one panel row per coalition, with majority thresholds.

    Parameters
    ----------
    seats
        Integer seats per simulated draw, dims ``("draw", "coalition")`` (any order).  Every
        key of the ``coalition`` coordinate gets a panel, in coordinate order.
    chamber
        The chamber, for the title: ``"deputies"`` / ``"senate"`` are spelt out, anything else
        is used as given.
    total, majority, two_thirds
        Seats in the chamber, and the seat counts of a simple and of a two-thirds majority.
    names
        Display names by coalition key.
    colors
        Colours by coalition key (from the election's files; defaults for the others).

    Returns
    -------
    Figure
        One axes per coalition (shared x axis 0..``total``), each holding one filled
        :class:`~matplotlib.patches.StepPatch` whose bins are the probability of exactly that
        many seats; each panel's title gives the median, the 90% interval and
        P(seats >= majority), P(seats >= two-thirds).

    Raises
    ------
    ValueError
        If the dims are wrong, there are no draws or coalitions, or a value is not a whole
        number in 0..``total``.
    """
    names = names or {}
    if set(seats.dims) != {"draw", "coalition"}:
        raise ValueError(f"seats must have dims ('draw', 'coalition'), got {seats.dims}")
    if not 0 < majority <= two_thirds <= total:
        raise ValueError(f"need 0 < majority <= two_thirds <= total, got {majority}, "
                         f"{two_thirds}, {total}")
    seats = seats.transpose("draw", "coalition")
    values = np.asarray(seats.values, dtype=float)
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError("seats has no draws or no coalitions")
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise ValueError("seats must be whole numbers (no NaN)")
    if values.min() < 0 or values.max() > total:
        raise ValueError(f"seats must lie in 0..{total}")
    counts = values.astype(np.int64)
    coalitions = [str(c) for c in seats.coords["coalition"].values]
    palette = _colors_for(coalitions, colors)
    n_draws = counts.shape[0]

    fig, axes = plt.subplots(len(coalitions), 1, figsize=(10, 1.9 * len(coalitions) + 1.0),
                             sharex=True, squeeze=False, layout="constrained")
    axes = axes[:, 0]
    edges = np.arange(total + 2) - 0.5  # one bin per whole seat count 0..total
    for j, (ax, c) in enumerate(zip(axes, coalitions, strict=True)):
        v = counts[:, j]
        prob = np.bincount(v, minlength=total + 1) / n_draws
        ax.stairs(prob, edges, fill=True, color=palette[c], linewidth=0)
        lo, med, hi = np.quantile(v, [0.05, 0.5, 0.95])
        p_maj = float(np.mean(v >= majority))
        p_two = float(np.mean(v >= two_thirds))
        for threshold in (majority, two_thirds):
            ax.axvline(threshold, color="black", lw=0.8, ls="--")
            ax.text(threshold, 0.97, f" {threshold}", transform=ax.get_xaxis_transform(),
                    ha="left", va="top", fontsize=8)
        ax.set_title(f"{names.get(c, c)}: median {seats_text(med)}, 90% interval "
                     f"{seats_text(lo)}–{seats_text(hi)}; P(majority) "
                     f"{format_probability(p_maj)}, P(two-thirds) {format_probability(p_two)}",
                     fontsize=9, loc="left")
        ax.set_ylim(0, None)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.grid(alpha=0.3, axis="x")
    axes[-1].set_xlim(-0.5, total + 0.5)
    axes[-1].set_xlabel(f"seats (of {total}; majority {majority}, two-thirds {two_thirds})")
    fig.suptitle(f"{_chamber_label(chamber)}: seat distribution by coalition "
                 f"({n_draws} simulated draws)")
    return fig


# ----------------------------------------------------------------------------------------------
# Hemicycle
# ----------------------------------------------------------------------------------------------

_INNER_RADIUS = 0.4  # inner row radius as a fraction of the outer one


def _row_radii(n_rows: int) -> NDArray[np.float64]:
    if n_rows == 1:
        return np.array([1.0])
    return np.linspace(_INNER_RADIUS, 1.0, n_rows)


def _row_capacity(n_rows: int) -> float:
    """About how many dots fit with arc spacing equal to the row spacing."""
    if n_rows == 1:
        return 8.0
    radii = _row_radii(n_rows)
    gap = radii[1] - radii[0]
    return float(np.sum(np.pi * radii / gap + 1.0))


def _split_proportional(total: int, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """Largest-remainder split of ``total`` in proportion to ``weights``."""
    quota = total * weights / weights.sum()
    out = np.floor(quota).astype(np.int64)
    short = total - int(out.sum())
    order = np.argsort(-(quota - out), kind="stable")
    out[order[:short]] += 1
    return out


def hemicycle_layout(total: int) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Seat positions of a parliament diagram, ordered left to right.

    The number of rows is the smallest for which dots spaced along each arc about as far apart
    as the rows fit; seats are shared among rows in proportion to the row radius (largest
    remainder), so the dots fill the arc evenly.  Seats are then ordered by angle, from the
    left end (angle pi) to the right end (angle 0), inner rows first at equal angles.

    Returns
    -------
    x, y, diameter
        Coordinates (outer radius 1) of the ``total`` seats in left-to-right order, and a dot
        diameter in the same units that leaves a gap between neighbours.
    """
    if total < 1:
        raise ValueError(f"total must be at least 1, got {total}")
    n_rows = 1
    while _row_capacity(n_rows) < total:
        n_rows += 1
    radii = _row_radii(n_rows)
    per_row = _split_proportional(total, radii)
    angles: list[NDArray[np.float64]] = []
    rads: list[NDArray[np.float64]] = []
    spacing = [radii[1] - radii[0]] if n_rows > 1 else [0.6]
    for r, n in zip(radii, per_row, strict=True):
        if n == 0:
            continue
        theta = np.array([np.pi / 2]) if n == 1 else np.linspace(np.pi, 0.0, n)
        if n > 1:
            spacing.append(2 * r * np.sin(np.pi / (2 * (n - 1))))  # chord between neighbours
        angles.append(theta)
        rads.append(np.full(n, r))
    theta = np.concatenate(angles)
    radius = np.concatenate(rads)
    order = np.lexsort((radius, -np.round(theta, 12)))
    theta, radius = theta[order], radius[order]
    diameter = 0.8 * float(min(spacing))
    return radius * np.cos(theta), radius * np.sin(theta), diameter


def plot_hemicycle(median_seats: Mapping[str, int], *, total: int, title: str,
                   names: dict[str, str] | None = None,
                   colors: Mapping[str, str] | None = None) -> Figure:
    """A parliament (hemicycle) diagram of median seats.

    Parameters
    ----------
    median_seats
        Seats by party or coalition key; seats are filled left to right in the mapping's order.
    total
        Seats in the chamber: exactly ``total`` dots are drawn.  Seats the mapping does not
        cover (medians need not add up to the total) are drawn in light grey as
        "unassigned (median rounding)".
    title
        Figure title.
    names
        Display names by key.

    Returns
    -------
    Figure
        One axes; one :class:`~matplotlib.collections.EllipseCollection` per key with at least
        one seat (its ``gid`` is the key) plus one with gid ``"unassigned"`` when needed.

    Raises
    ------
    ValueError
        If a seat count is negative or not a whole number, or the counts add up to more than
        ``total`` (the diagram cannot show more seats than the chamber has; pass counts that
        were rounded to add up, e.g. by largest remainder).
    """
    names = names or {}
    counts: dict[str, int] = {}
    for key, value in median_seats.items():
        v = float(value)
        if not math.isfinite(v) or v != round(v) or v < 0:
            raise ValueError(f"seats for {key!r} must be a non-negative whole number, "
                             f"got {value!r}")
        counts[str(key)] = int(round(v))
    assigned = sum(counts.values())
    if assigned > total:
        raise ValueError(f"median seats add up to {assigned}, more than the {total} seats")
    x, y, diameter = hemicycle_layout(total)

    fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
    handles: list[Line2D] = []
    start = 0
    palette = _colors_for(counts, colors)
    groups = [(k, n, palette[k], f"{names.get(k, k)} ({n})") for k, n in counts.items()]
    if assigned < total:
        groups.append(("unassigned", total - assigned, UNASSIGNED_COLOR,
                       f"{UNASSIGNED_LABEL} ({total - assigned})"))
    for key, n, color, label in groups:
        if n > 0:
            offsets = np.column_stack([x[start:start + n], y[start:start + n]])
            coll = EllipseCollection(widths=diameter, heights=diameter, angles=0.0, units="xy",
                                     offsets=offsets, offset_transform=ax.transData,
                                     facecolors=color, edgecolors="white", linewidths=0.3)
            coll.set_gid(key)
            ax.add_collection(coll)
            start += n
        handles.append(Line2D([], [], ls="none", marker="o", ms=9, color=color, label=label))
    pad = diameter
    ax.set_xlim(-1 - pad, 1 + pad)
    ax.set_ylim(-0.22, 1 + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.text(0, 0.05, f"{total} seats", ha="center", va="bottom", fontsize=14)
    ax.text(0, -0.1, f"majority {total // 2 + 1}", ha="center", va="center", fontsize=11)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=min(4, len(handles)), frameon=False)
    ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------------------------
# HTML tables
# ----------------------------------------------------------------------------------------------


def district_table_html(table: pd.DataFrame, *, blocs: list[str],
                        names: dict[str, str] | None = None,
                        max_rows: int | None = None) -> str:
    """Per-district win probabilities as ``<table id='districts'>``.

    Parameters
    ----------
    table
        Columns ``district_code`` (int), ``state`` (str), ``district`` (int) and ``p_<bloc>``
        (win probability in [0, 1]) for each bloc.
    blocs
        Bloc keys, in column order.
    names
        Display names by bloc key.
    max_rows
        Show at most this many districts (after sorting by ``district_code``); a last row says
        how many were left out.

    Returns
    -------
    str
        The HTML.  Each district row is ``<tr data-district='<code>'>``; a probability cell has
        class ``lead`` when p >= 0.5; the "favourite" column names the bloc with the highest
        probability (ties: the tied blocs joined by " / "; "–" when all are missing).

    Raises
    ------
    ValueError
        If a column is missing, a probability lies outside [0, 1], or ``max_rows`` < 0.
    """
    names = names or {}
    e = html.escape
    p_cols = [f"p_{b}" for b in blocs]
    missing = [c for c in ["district_code", "state", "district", *p_cols] if c not in table]
    if missing:
        raise ValueError(f"district table lacks columns {missing}")
    if max_rows is not None and max_rows < 0:
        raise ValueError(f"max_rows must be >= 0, got {max_rows}")
    probs = table[p_cols].to_numpy(dtype=float)
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError("win probabilities must lie in [0, 1]")
    ordered = table.sort_values("district_code", kind="stable")
    shown = ordered if max_rows is None else ordered.iloc[:max_rows]
    n_cols = 4 + len(blocs)
    head = ("<tr><th>District code</th><th>State</th><th>District</th>"
            + "".join(f"<th>{e(names.get(b, b))}</th>" for b in blocs)
            + "<th>Favourite</th></tr>")
    body = []
    for rec in shown.to_dict(orient="records"):
        p = np.array([float(rec[c]) for c in p_cols])
        cells = []
        for b, value in zip(blocs, p, strict=True):
            cls = " class='lead'" if value >= 0.5 else ""
            cells.append(f"<td{cls} data-bloc='{e(b)}'>{e(format_probability(value))}</td>")
        if np.all(np.isnan(p)):
            favourite = "–"
        else:
            best = np.nanmax(p)
            favourite = " / ".join(names.get(b, b) for b, v in zip(blocs, p, strict=True)
                                   if v == best)
        code = e(str(rec["district_code"]))
        body.append(f"<tr data-district='{code}'><td>{code}</td><td>{e(str(rec['state']))}</td>"
                    f"<td>{e(str(rec['district']))}</td>{''.join(cells)}"
                    f"<td class='favourite'>{e(favourite)}</td></tr>")
    left_out = len(ordered) - len(shown)
    if left_out > 0:
        body.append(f"<tr class='truncated'><td colspan='{n_cols}'>… {left_out} more "
                    f"district{'s' if left_out != 1 else ''} not shown</td></tr>")
    return f"<table id='districts'>{head}{''.join(body)}</table>"


def seat_table_html(summary_block: dict, *, names: dict[str, str] | None = None,
                    diagram: Mapping[str, Mapping[str, int]] | None = None) -> str:
    """Seat projections by chamber, one ``<table id='seats-<chamber>'>`` per chamber.

    Parameters
    ----------
    summary_block
        The ``chambers`` block of ``summary.json`` (a whole summary holding a ``chambers`` key
        is accepted too): chamber key -> ``{"total", "majority", "two_thirds", "coalitions",
        "parties"}``, where each coalition / party has ``seats`` (``q05``, ``q50``, ``q95``,
        ``mean``), ``p_majority`` and ``p_two_thirds``.
    names
        Display names by party / coalition key.
    diagram
        Per chamber, the whole seats the hemicycle shows by party and coalition key
        (:func:`diagram_seats`): adds a "Diagram" column so the chart and the table tell the
        same numbers.

    Returns
    -------
    str
        The HTML: rows are coalitions first, then parties (``<tr class='coalition'|'party'
        data-key='...'>``); columns are median seats, 90% interval, mean, P(majority) and
        P(two-thirds).
    """
    names = names or {}
    e = html.escape
    chambers = summary_block.get("chambers")
    block = chambers if isinstance(chambers, dict) else summary_block
    out = []
    for chamber, info in block.items():
        caption = (f"{_chamber_label(chamber)}: {info['total']} seats, majority "
                   f"{info['majority']}, two-thirds {info['two_thirds']}")
        rows = []
        shown = (diagram or {}).get(chamber)
        for kind, group in (("coalition", info.get("coalitions") or {}),
                            ("party", info.get("parties") or {})):
            for key, r in group.items():
                s = r["seats"]
                cell = "" if shown is None else f"<td>{e(str(shown.get(key, '')))}</td>"
                rows.append(
                    f"<tr class='{kind}' data-key='{e(str(key))}'>"
                    f"<td>{e(names.get(key, key))}</td><td>{e(seats_text(s['q50']))}</td>"
                    f"<td>{e(seats_text(_whole(s['q05'])))} – "
                    f"{e(seats_text(_whole(s['q95'])))}</td>"
                    f"<td>{float(s['mean']):.1f}</td>"
                    f"<td>{e(format_probability(r['p_majority']))}</td>"
                    f"<td>{e(format_probability(r['p_two_thirds']))}</td>{cell}</tr>")
        extra = "<th>Diagram</th>" if shown is not None else ""
        out.append(f"<div class='scroll'><table id='seats-{e(str(chamber))}'>"
                   f"<caption>{e(caption)}</caption>"
                   "<tr><th>Coalition / party</th><th>Median seats</th><th>90% interval</th>"
                   "<th>Mean</th><th>P(majority)</th><th>P(two-thirds)</th>"
                   f"{extra}</tr>{''.join(rows)}</table></div>")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Interactive charts (Vega-Lite through Altair) and the diagram's seat rule
# ----------------------------------------------------------------------------------------------


def diagram_seats(medians: Mapping[str, float], total: int) -> dict[str, int]:
    """The whole seats a hemicycle shows for each key: its median, rounded half up.

    Medians need not add up to the chamber: seats they leave over are drawn as "not in any
    median". Only when the rounded medians add up to *more* than ``total`` are they cut down,
    sharing ``total`` in proportion to the medians by largest remainder (so every key keeps the
    largest whole number it can). The seat table prints these numbers in its "Diagram" column.
    """
    rounded = {str(k): int(math.floor(float(v) + 0.5)) for k, v in medians.items()}
    if sum(rounded.values()) <= total:
        return rounded
    keys = list(rounded)
    weights = np.array([max(float(medians[k]), 0.0) for k in keys])
    shares = _split_proportional(total, weights) if weights.sum() > 0 else np.zeros(len(keys))
    return {k: int(n) for k, n in zip(keys, shares, strict=True)}


def seat_distribution_chart(seats: xr.DataArray, *, chamber: str, total: int, majority: int,
                            two_thirds: int, style) -> Chart:
    """Probability of each seat count per coalition, with the majority and two-thirds lines.

    Hover a bar for the probability of exactly that many seats and the coalition's P(majority)
    and P(two-thirds); click a legend name to show one coalition.
    """
    seats = seats.transpose("draw", "coalition")
    values = np.asarray(seats.values, dtype=np.int64)
    coalitions = [str(c) for c in seats.coords["coalition"].values]
    # Bins of `step` seats (1 in a small chamber, 5 in the 500-seat one) so that a few thousand
    # draws give a readable shape; the tooltip names the range.
    step = max(1, total // 100)
    rows = []
    for j, c in enumerate(coalitions):
        v = values[:, j]
        prob = np.bincount(v // step, minlength=total // step + 1) / len(v)
        p_maj, p_two = float(np.mean(v >= majority)), float(np.mean(v >= two_thirds))
        med = float(np.median(v))
        for b in np.flatnonzero(prob):
            lo_seat, hi_seat = int(b * step), int(min(b * step + step - 1, total))
            rows.append({"coalition": c, "name": style.label(c), "seats_from": lo_seat,
                         "seats_to": hi_seat, "seats_end": hi_seat + 1,
                         "range": (f"{lo_seat}" if lo_seat == hi_seat
                                   else f"{lo_seat}–{hi_seat}"),
                         "probability": float(prob[b]), "median": med,
                         "p_majority": p_maj, "p_two_thirds": p_two})
    frame = pd.DataFrame(rows)
    label = _chamber_label(chamber)
    pick = legend_pick()
    bars = alt.Chart(frame).mark_rect(opacity=0.85).encode(
        x=alt.X("seats_from:Q", scale=alt.Scale(domain=[0, total + 1], nice=False),
                title=f"seats (of {total})"),
        x2="seats_end:Q", y=alt.Y("probability:Q", axis=alt.Axis(format=".1%"),
                                 title="probability" if step == 1
                                 else f"probability ({step}-seat ranges)"),
        y2=alt.datum(0),
        color=alt.Color("name:N", scale=color_scale(style, coalitions), title=None,
                        legend=alt.Legend(title=PICK_TITLE)),
        opacity=alt.condition(pick, alt.value(0.85), alt.value(0.08)),
        tooltip=[alt.Tooltip("name:N", title="Coalition"), alt.Tooltip("range:N", title="Seats"),
                 alt.Tooltip("probability:Q", title="Probability", format=".1%"),
                 alt.Tooltip("median:Q", title="Median seats"),
                 alt.Tooltip("p_majority:Q", title=f"P(≥ {majority}, majority)", format=".1%"),
                 alt.Tooltip("p_two_thirds:Q", title=f"P(≥ {two_thirds}, two thirds)",
                             format=".1%")]).add_params(pick)
    rules = pd.DataFrame([{"seats": majority, "label": f"majority {majority}"},
                          {"seats": two_thirds, "label": f"two thirds {two_thirds}"}])
    rb = alt.Chart(rules)
    chart = alt.layer(
        bars, rb.mark_rule(strokeDash=[5, 3], color="#333333").encode(x="seats:Q"),
        rb.mark_text(align="left", dx=3, baseline="top", fontSize=11).encode(
            x="seats:Q", y=alt.value(2), text="label:N"),
    ).properties(width="container", height=240, title=f"{label}: seats per coalition")
    what = "number of seats" if step == 1 else f"range of {step} seats"
    return Chart(f"seats_{chamber}", f"{label}: probability of each {what} per "
                 f"coalition ({len(values)} simulated elections); dashed lines at a simple "
                 f"majority ({majority}) and two thirds ({two_thirds}). Hover a bar for the "
                 "numbers.", to_spec(chart), {csv_name(f"seats_{chamber}"): frame})


def hemicycle_chart(seat_map: Mapping[str, int], medians: Mapping[str, float], *, chamber: str,
                    total: int, style, coalition_of: Mapping[str, str] | None = None
                    ) -> Chart:
    """The chamber as a parliament diagram: the whole-seat medians of :func:`diagram_seats`,
    filled left to right in the mapping's order; hover a seat for its party's numbers."""
    x, y, _ = hemicycle_layout(total)
    rows = []
    start = 0
    for key, n in seat_map.items():
        for i in range(start, start + n):
            rows.append({"seat": i + 1, "x": float(x[i]), "y": float(y[i]), "party": key,
                         "name": style.name(key), "diagram_seats": n,
                         "median": float(medians.get(key, float("nan"))),
                         "coalition": style.name((coalition_of or {}).get(key, "")) if
                         (coalition_of or {}).get(key) else "–"})
        start += n
    for i in range(start, total):
        rows.append({"seat": i + 1, "x": float(x[i]), "y": float(y[i]), "party": "",
                     "name": UNASSIGNED_LABEL, "diagram_seats": total - start,
                     "median": float("nan"), "coalition": "–"})
    frame = pd.DataFrame(rows)
    keys = [k for k, n in seat_map.items() if n > 0]
    domain = [style.name(k) for k in keys] + ([UNASSIGNED_LABEL] if start < total else [])
    colors = [style.color(k) for k in keys] + ([UNASSIGNED_COLOR] if start < total else [])
    size = 40 if total > 200 else 150
    label = _chamber_label(chamber)
    chart = alt.Chart(frame).mark_circle(size=size, opacity=1).encode(
        x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-1.05, 1.05])),
        y=alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-0.05, 1.05])),
        color=alt.Color("name:N", scale=alt.Scale(domain=domain, range=colors), title=None,
                        legend=alt.Legend(columns=4, symbolType="circle")),
        tooltip=[alt.Tooltip("name:N", title="Party"), alt.Tooltip("coalition:N",
                                                                    title="Coalition"),
                 alt.Tooltip("median:Q", title="Median seats", format=".1f"),
                 alt.Tooltip("diagram_seats:Q", title="Seats in the diagram")],
    ).properties(width=560, height=290, title=f"{label}: median seats by party")
    return Chart(f"hemicycle_{chamber}", f"{label}: each party's median seats, rounded to whole "
                 "seats (the table's Diagram column); grey seats are left over because medians "
                 "need not add up to the chamber. Hover a seat for its party.", to_spec(chart),
                 {csv_name(f"hemicycle_{chamber}"): frame}, wide=True)
