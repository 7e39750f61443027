"""Charts of a forecast over time: P(win) and seats from the folder's timeline files.

``timeline.csv`` (as_of, candidate, p_win, share_valid_q05/q50/q95, converged, polls_used) gives
the P(win)-over-time chart; the timeline dataset ``timeline.nc`` (docs/studies.md: one
``as_of`` dimension, with the study's seat variables ``seats`` (as_of, chamber, coalition,
seat_quantile), ``p_majority``, ``p_two_thirds`` (as_of, chamber, coalition) and
``p_president_two_thirds`` (as_of, chamber)) gives the seats-over-time chart.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import xarray as xr

from .charts import PICK_TITLE, color_scale, legend_pick
from .headline import CHAMBER_LABELS
from .style import Style
from .vega import Chart, csv_name, to_spec

_X = dict(title="forecast as of", scale=alt.Scale(type="utc"),
          axis=alt.Axis(format="%d %b %Y", labelAngle=0, tickCount=6))


def timeline_frame(timeline: pd.DataFrame, style: Style) -> pd.DataFrame:
    """The timeline rows with display names, sorted by date (one row per date and candidate)."""
    frame = timeline.copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.strftime("%Y-%m-%d")
    frame["candidate"] = frame["candidate"].astype(str)
    frame["name"] = [style.label(c) for c in frame["candidate"]]
    return frame.sort_values(["as_of", "candidate"], ignore_index=True)


def timeline_chart(timeline: pd.DataFrame, style: Style) -> Chart:
    """P(win) by as-of date; hover a point for the numbers, click a legend name to isolate."""
    frame = timeline_frame(timeline, style)
    keys = list(dict.fromkeys([*style.keys, *frame["candidate"]]))
    keys = [k for k in keys if k in set(frame["candidate"])]
    pick = legend_pick()
    tooltip = [alt.Tooltip("name:N", title="Candidate"),
               alt.Tooltip("as_of:N", title="As of"),
               alt.Tooltip("p_win:Q", title="P(win)", format=".1%")]
    if "share_valid_q50" in frame:
        tooltip.append(alt.Tooltip("share_valid_q50:Q", title="Median valid share",
                                   format=".1%"))
    if "polls_used" in frame:
        tooltip.append(alt.Tooltip("polls_used:Q", title="Polls used"))
    chart = alt.Chart(frame).mark_line(point=True, strokeWidth=2.5).encode(
        x=alt.X("as_of:T", **_X),
        y=alt.Y("p_win:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%"),
                title="probability of winning"),
        color=alt.Color("name:N", scale=color_scale(style, keys), title=None,
                        legend=alt.Legend(title=PICK_TITLE)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=tooltip,
    ).add_params(pick).properties(width="container", height=300,
                                  title="Probability of winning over the campaign")
    return Chart("timeline", "P(win) from forecasts made as of each date with the polls "
                 "published by then (forecast timeline).", to_spec(chart),
                 {csv_name("timeline"): frame})


def timeline_seats_frame(ds: xr.Dataset, style: Style) -> pd.DataFrame:
    """One row per as-of date, chamber and coalition: median and 90% seats, P(majority),
    P(two-thirds); plus the president's coalition's P(two-thirds) when present."""
    seats = ds["seats"]
    qdim = next(d for d in seats.dims if d not in ("as_of", "chamber", "coalition"))
    qs = [str(q) for q in seats.coords[qdim].values]

    def pick(names: tuple[str, ...]) -> str:
        for n in names:
            if n in qs:
                return n
        raise KeyError(f"seat quantile {names} not in {qs}")

    # The study writes seat_quantile as "q05"/"q50"/"q95" or as 0.05/0.5/0.95.
    lo = pick(("q05", "0.05")); mid = pick(("q50", "0.5")); hi = pick(("q95", "0.95"))  # noqa: E702
    rows = []
    for as_of in ds.coords["as_of"].values:
        day = pd.Timestamp(as_of).strftime("%Y-%m-%d")
        for chamber in [str(c) for c in ds.coords["chamber"].values]:
            for k in [str(c) for c in ds.coords["coalition"].values]:
                s = seats.sel(as_of=as_of, chamber=chamber, coalition=k)
                sq = {str(q): float(v) for q, v in zip(s.coords[qdim].values, s.values,
                                                      strict=True)}
                row = {"as_of": day, "chamber": chamber,
                       "chamber_name": CHAMBER_LABELS.get(chamber, chamber),
                       "coalition": k, "name": style.label(k), "seats_q05": sq[lo],
                       "seats_q50": sq[mid], "seats_q95": sq[hi]}
                for var in ("p_majority", "p_two_thirds"):
                    if var in ds:
                        row[var] = float(ds[var].sel(as_of=as_of, chamber=chamber,
                                                     coalition=k))
                if "p_president_two_thirds" in ds:
                    row["p_president_two_thirds"] = float(
                        ds["p_president_two_thirds"].sel(as_of=as_of, chamber=chamber))
                rows.append(row)
    return pd.DataFrame(rows)


def timeline_seats_chart(ds: xr.Dataset, style: Style, *, chamber: str,
                         majority: int | None = None, two_thirds: int | None = None) -> Chart:
    """Median seats and 90% band of each coalition in one chamber by as-of date, with the
    majority and two-thirds lines."""
    frame = timeline_seats_frame(ds, style)
    frame = frame[frame["chamber"] == chamber].reset_index(drop=True)
    keys = [str(c) for c in ds.coords["coalition"].values]
    pick = legend_pick()
    label = CHAMBER_LABELS.get(chamber, chamber)
    x = alt.X("as_of:T", **_X)
    color = alt.Color("name:N", scale=color_scale(style, keys), title=None,
                      legend=alt.Legend(title=PICK_TITLE))
    tooltip = [alt.Tooltip("name:N", title="Coalition"),
               alt.Tooltip("as_of:N", title="As of"),
               alt.Tooltip("seats_q50:Q", title="Median seats", format=".0f"),
               alt.Tooltip("seats_q05:Q", title="90% interval from", format=".0f"),
               alt.Tooltip("seats_q95:Q", title="to", format=".0f")]
    tooltip += [alt.Tooltip(f"{v}:Q", title=t, format=".1%")
                for v, t in (("p_majority", "P(majority)"), ("p_two_thirds", "P(two-thirds)"),
                             ("p_president_two_thirds", "P(president's coalition ≥ ⅔)"))
                if v in frame]
    base = alt.Chart(frame)
    layers = [
        base.mark_area(opacity=0.18).encode(
            x=x, y=alt.Y("seats_q05:Q", title="seats"), y2="seats_q95:Q", color=color,
            opacity=alt.condition(pick, alt.value(0.18), alt.value(0.02))),
        base.mark_line(point=True, strokeWidth=2.5).encode(
            x=x, y="seats_q50:Q", color=color,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)), tooltip=tooltip),
    ]
    lines = [(v, t) for v, t in ((majority, "majority"), (two_thirds, "two thirds"))
             if v is not None]
    if lines:
        rules = pd.DataFrame([{"seats": v, "label": f"{t} ({v})"} for v, t in lines])
        rb = alt.Chart(rules)
        layers += [rb.mark_rule(strokeDash=[5, 3], color="#333333").encode(y="seats:Q"),
                   rb.mark_text(align="left", dx=3, dy=-6, fontSize=11).encode(
                       y="seats:Q", x=alt.value(0), text="label:N")]
    chart = alt.layer(*layers).add_params(pick).properties(
        width="container", height=280, title=f"{label}: seats over the campaign")
    return Chart(f"timeline_seats_{chamber}", f"{label}: median seats and 90% interval of each "
                 "coalition in forecasts made as of each date.", to_spec(chart),
                 {csv_name(f"timeline_seats_{chamber}"): frame})


def read_timeline_files(folder) -> tuple[pd.DataFrame | None, xr.Dataset | None]:
    """``timeline.csv`` and ``timeline.nc`` of a forecast folder (None for each one missing),
    for :func:`forecast.report.build.render`. The dataset is loaded into memory and closed."""
    from pathlib import Path

    folder = Path(folder)
    csv = folder / "timeline.csv"
    nc = folder / "timeline.nc"
    frame = pd.read_csv(csv) if csv.is_file() else None
    dataset = None
    if nc.is_file():
        with xr.open_dataset(nc) as ds:
            dataset = ds.load()
    return frame, dataset


def timeline_section(timeline: pd.DataFrame | None, dataset: xr.Dataset | None, *,
                     candidates: Style, congress: Style | None = None,
                     thresholds: dict[str, tuple[int, int, int]] | None = None):
    """The report's "Over time" section, or None when there is nothing to show.

    Parameters
    ----------
    timeline
        ``timeline.csv`` (P(win) by as-of date).
    dataset
        ``timeline.nc``: when it has ``seats``, one seats-over-time chart per chamber.
    candidates, congress
        Names and colours of the candidates and of the coalitions.
    thresholds
        (seats, majority, two thirds) by chamber, for the reference lines.
    """
    from .page import Section

    charts = []
    if timeline is not None and len(timeline):
        charts.append(timeline_chart(timeline, candidates))
    elif dataset is not None and "p_win" in dataset and "as_of" in dataset.dims:
        frame = dataset["p_win"].to_dataframe().reset_index()[["as_of", "candidate", "p_win"]]
        charts.append(timeline_chart(frame, candidates))
    if dataset is not None and "seats" in dataset and "as_of" in dataset.dims:
        style = congress or candidates
        for chamber in [str(c) for c in dataset.coords["chamber"].values]:
            _, majority, two_thirds = (thresholds or {}).get(chamber, (None, None, None))
            charts.append(timeline_seats_chart(dataset, style, chamber=chamber,
                                               majority=majority, two_thirds=two_thirds))
    if not charts:
        return None
    return Section("timeline", "Over time: forecasts as of earlier dates",
                   "<p class='sub'>Each point is a forecast made with the polls published by "
                   "that date (<code>forecast timeline</code>).</p>", charts=charts)
