"""Charts and HTML tables for the Congress seat projection (Chamber of Deputies and Senate).

Same conventions as :mod:`forecast.report.charts`: one function per chart, each takes results
(never fits) and returns a matplotlib Figure drawn with ``layout="constrained"``.  The table
functions return HTML snippets with every piece of text escaped.
"""

from __future__ import annotations

import html
import math
import zlib
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

__all__ = [
    "COALITION_COLORS",
    "PARTY_COLORS",
    "UNASSIGNED_COLOR",
    "color_for",
    "district_table_html",
    "format_probability",
    "hemicycle_layout",
    "plot_hemicycle",
    "plot_seat_histograms",
    "seat_table_html",
]

PARTY_COLORS: dict[str, str] = {
    "morena": "#a0282d",
    "pan": "#0b4ea2",
    "pri": "#e3000f",
    "prd": "#f5c400",
    "pvem": "#3c9a3c",
    "pt": "#d52b1e",
    "mc": "#f08224",
    "na": "#00a3ad",
    "pes": "#6a2c91",
    "independent": "#8c8c8c",
}

COALITION_COLORS: dict[str, str] = {
    "jhh": "#8c1c13",  # Juntos Haremos Historia (morena, pt, pes)
    "paf": "#1f4e9c",  # Por México al Frente (pan, prd, mc)
    "tpm": "#2e8b57",  # Todos por México (pri, pvem, na)
    "other": "#7f7f7f",
}

# Fallback colours for keys with no conventional colour: mid greys, all darker than
# UNASSIGNED_COLOR so that real seats never look like unassigned ones.
_GREYS = ["#6e6e6e", "#9a9a9a", "#4f4f4f", "#858585", "#5c5c5c", "#a8a8a8"]

UNASSIGNED_COLOR = "#e3e3e3"
UNASSIGNED_LABEL = "unassigned (median rounding)"

_CHAMBER_NAMES = {"deputies": "Chamber of Deputies", "senate": "Senate"}


def color_for(key: str) -> str:
    """The colour of a party or coalition key (case-insensitive).

    Coalitions are looked up first, then parties; any other key gets a grey from a small
    palette, chosen by a stable hash of the key (the same key always gets the same grey).
    """
    k = str(key).lower()
    if k in COALITION_COLORS:
        return COALITION_COLORS[k]
    if k in PARTY_COLORS:
        return PARTY_COLORS[k]
    if k in {"ind", "independents", "independiente", "independientes"}:
        return PARTY_COLORS["independent"]
    return _GREYS[zlib.crc32(k.encode("utf-8")) % len(_GREYS)]


def format_probability(p: float) -> str:
    """A probability as a whole percentage, never rounding to a certainty it is not.

    Exactly 0 gives ``"0%"`` and exactly 1 ``"100%"``; other values that would round to 0% or
    100% give ``"<1%"`` and ``">99%"``; NaN gives ``"–"``.
    """
    p = float(p)
    if math.isnan(p):
        return "–"
    if p <= 0.0:
        return "0%"
    if p >= 1.0:
        return "100%"
    value = int(f"{100 * p:.0f}")
    if value < 1:
        return "<1%"
    if value > 99:
        return ">99%"
    return f"{value}%"


def _fmt_seats(x: float) -> str:
    """A seat count: whole numbers without decimals, anything else with one."""
    x = float(x)
    if math.isnan(x):
        return "–"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _chamber_label(chamber: str) -> str:
    return _CHAMBER_NAMES.get(str(chamber).lower(), str(chamber))


# ----------------------------------------------------------------------------------------------
# Seat histograms
# ----------------------------------------------------------------------------------------------


def plot_seat_histograms(seats: xr.DataArray, *, chamber: str, total: int, majority: int,
                         two_thirds: int, names: dict[str, str] | None = None) -> Figure:
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
    n_draws = counts.shape[0]

    fig, axes = plt.subplots(len(coalitions), 1, figsize=(10, 1.9 * len(coalitions) + 1.0),
                             sharex=True, squeeze=False, layout="constrained")
    axes = axes[:, 0]
    edges = np.arange(total + 2) - 0.5  # one bin per whole seat count 0..total
    for j, (ax, c) in enumerate(zip(axes, coalitions, strict=True)):
        v = counts[:, j]
        prob = np.bincount(v, minlength=total + 1) / n_draws
        ax.stairs(prob, edges, fill=True, color=color_for(c), linewidth=0)
        lo, med, hi = np.quantile(v, [0.05, 0.5, 0.95])
        p_maj = float(np.mean(v >= majority))
        p_two = float(np.mean(v >= two_thirds))
        for threshold in (majority, two_thirds):
            ax.axvline(threshold, color="black", lw=0.8, ls="--")
            ax.text(threshold, 0.97, f" {threshold}", transform=ax.get_xaxis_transform(),
                    ha="left", va="top", fontsize=8)
        ax.set_title(f"{names.get(c, c)}: median {_fmt_seats(med)}, 90% interval "
                     f"{_fmt_seats(lo)}–{_fmt_seats(hi)}; P(majority) "
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
                   names: dict[str, str] | None = None) -> Figure:
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
    groups = [(k, n, color_for(k), f"{names.get(k, k)} ({n})") for k, n in counts.items()]
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


def seat_table_html(summary_block: dict, *, names: dict[str, str] | None = None) -> str:
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
        for kind, group in (("coalition", info.get("coalitions") or {}),
                            ("party", info.get("parties") or {})):
            for key, r in group.items():
                s = r["seats"]
                rows.append(
                    f"<tr class='{kind}' data-key='{e(str(key))}'>"
                    f"<td>{e(names.get(key, key))}</td><td>{e(_fmt_seats(s['q50']))}</td>"
                    f"<td>{e(_fmt_seats(s['q05']))} – {e(_fmt_seats(s['q95']))}</td>"
                    f"<td>{float(s['mean']):.1f}</td>"
                    f"<td>{e(format_probability(r['p_majority']))}</td>"
                    f"<td>{e(format_probability(r['p_two_thirds']))}</td></tr>")
        out.append(f"<table id='seats-{e(str(chamber))}'><caption>{e(caption)}</caption>"
                   "<tr><th>Coalition / party</th><th>Median seats</th><th>90% interval</th>"
                   "<th>Mean</th><th>P(majority)</th><th>P(two-thirds)</th></tr>"
                   f"{''.join(rows)}</table>")
    return "\n".join(out)
