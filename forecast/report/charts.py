"""The presidential charts: interactive Vega-Lite (Altair) charts and the house-effect forest plot.

Each function takes results (never a sampler) and a :class:`~forecast.report.style.Style` for
names and colours, and returns a :class:`~forecast.report.vega.Chart` (spec + data) or, for the
house effects, a matplotlib Figure drawn by arviz-plots.
"""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import altair as alt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .headline import chance  # noqa: E402
from .style import Style  # noqa: E402
from .vega import Chart, csv_name, to_spec  # noqa: E402

#: Legend title of charts whose legend filters the series.
PICK_TITLE = "Click a name to show it alone; double-click for all"

#: Height of the main time charts (px); widths follow the page ("container").
HEIGHT = 360


def color_scale(style: Style, keys: list[str]) -> alt.Scale:
    """Colour scale over the labels of ``keys`` with the style's colours."""
    return alt.Scale(domain=[style.label(k) for k in keys], range=[style.color(k) for k in keys])


def legend_pick(name: str = "pick") -> alt.Parameter:
    """Click a legend entry to show that series alone (shift-click adds); double-click resets."""
    return alt.selection_point(name=name, fields=["name"], bind="legend")


def _iso(values) -> list[str]:
    return [pd.Timestamp(v).strftime("%Y-%m-%d") for v in values]


def events_table(election) -> pd.DataFrame:
    """Dates a candidate entered or left the race after the campaign started: (date, label)."""
    rows = []
    for c in election.candidates:
        label = getattr(c, "short_name", "") or c.name
        if c.available_from > election.campaign_start:
            rows.append({"date": c.available_from.isoformat(), "event": f"{label} enters"})
        if c.available_until < election.election_day:
            rows.append({"date": c.available_until.isoformat(), "event": f"{label} withdraws"})
    return pd.DataFrame(rows, columns=["date", "event"]).sort_values("date",
                                                                      ignore_index=True)


def trend_chart(support: xr.DataArray, polls: pd.DataFrame, style: Style, *,
                election_day: dt.date, election_day_shares: xr.Dataset | None = None,
                events: pd.DataFrame | None = None) -> Chart:
    """Daily support (median, 50% and 90% bands), the polls as dots, entry and withdrawal dates
    as rules, and the election-day 90% interval of the valid vote.

    Hover anywhere to read every candidate's median and intervals on that day; click a legend
    entry to show one candidate.

    Parameters
    ----------
    support
        Draws of daily support, dims (date, candidate, sample).
    polls
        The fit's poll table (``midpoint``, ``pollster`` and one share column per candidate);
        each poll is renormalised over the candidates it offered.
    style
        Candidate names and colours.
    election_day, election_day_shares
        The election-day interval (``share_valid`` draws) is drawn at ``election_day``.
    events
        (date, event) rules: :func:`events_table`.
    """
    candidates = [str(c) for c in support.coords["candidate"].values]
    q = support.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim="sample")
    # Days a candidate was out of the race have support exactly 0: left blank.
    q = q.where(support.max("sample") > 0)
    dates = _iso(support.coords["date"].values)
    rows = []
    for c in candidates:
        qc = q.sel(candidate=c).transpose("quantile", "date").values
        for i, d in enumerate(dates):
            if np.isnan(qc[2, i]):
                continue
            rows.append({"date": d, "candidate": c, "name": style.label(c),
                         "q05": qc[0, i], "q25": qc[1, i], "q50": qc[2, i], "q75": qc[3, i],
                         "q95": qc[4, i]})
    daily = pd.DataFrame(rows)
    offered = polls[candidates].to_numpy(dtype=float)
    share = offered / np.nansum(offered, axis=1, keepdims=True)
    poll_rows = []
    for j, c in enumerate(candidates):
        for i, (mid, pollster) in enumerate(zip(polls["midpoint"], polls["pollster"],
                                                strict=True)):
            if np.isfinite(share[i, j]):
                poll_rows.append({"date": pd.Timestamp(mid).strftime("%Y-%m-%d"),
                                  "pollster": str(pollster), "candidate": c,
                                  "name": style.label(c), "share": share[i, j]})
    poll_frame = pd.DataFrame(poll_rows)
    final = []
    if election_day_shares is not None:
        for c in candidates:
            if c in election_day_shares["candidate"].values:
                v = election_day_shares["share_valid"].sel(candidate=c).values
                lo, mid, hi = np.quantile(v, [0.05, 0.5, 0.95])
                final.append({"date": election_day.isoformat(), "candidate": c,
                              "name": style.label(c), "q05": lo, "q50": mid, "q95": hi})
    final_frame = pd.DataFrame(final)
    # One row per day with every candidate's numbers, for the hover tooltip.
    fmt = daily.assign(text=[f"{100 * a:.1f}% (90%: {100 * b:.1f}–{100 * c:.1f})"
                             for a, b, c in zip(daily.q50, daily.q05, daily.q95, strict=True)])
    wide = fmt.pivot_table(index="date", columns="name", values="text", aggfunc="first")
    wide = wide.reindex(columns=[style.label(c) for c in candidates
                                 if style.label(c) in wide.columns]).reset_index()
    keys = candidates
    scale = color_scale(style, keys)
    pick = legend_pick()
    hover = alt.selection_point(name="hover", fields=["date"], nearest=True, on="pointerover",
                                clear="pointerout", empty=False)
    x = alt.X("date:T", title=None, scale=alt.Scale(type="utc"),
              axis=alt.Axis(format="%d %b %Y", labelAngle=0,
                            tickCount=6))
    y_axis = alt.Axis(format=".0%", title="support among decided voters")
    color = alt.Color("name:N", scale=scale, title=None,
                      legend=alt.Legend(title=PICK_TITLE,
                                        symbolType="circle"))
    visible = alt.condition(pick, alt.value(1.0), alt.value(0.08))
    base = alt.Chart(daily)
    band90 = base.mark_area(opacity=0.15).encode(
        x=x, y=alt.Y("q05:Q", axis=y_axis), y2="q95:Q", color=color,
        opacity=alt.condition(pick, alt.value(0.15), alt.value(0.02)))
    band50 = base.mark_area(opacity=0.3).encode(
        x=x, y="q25:Q", y2="q75:Q", color=color,
        opacity=alt.condition(pick, alt.value(0.3), alt.value(0.03)))
    line = base.mark_line(strokeWidth=2.5).encode(x=x, y="q50:Q", color=color, opacity=visible)
    dots = alt.Chart(poll_frame).mark_circle(size=22).encode(
        x=x, y="share:Q", color=color,
        opacity=alt.condition(pick, alt.value(0.55), alt.value(0.03)),
        tooltip=[alt.Tooltip("pollster:N", title="Poll"),
                 alt.Tooltip("date:N", title="Fieldwork midpoint"),
                 alt.Tooltip("name:N", title="Candidate"),
                 alt.Tooltip("share:Q", title="Share (decided)", format=".1%")])
    layers = [band90, band50, line, dots]
    if len(final_frame):
        fb = alt.Chart(final_frame)
        layers += [
            fb.mark_rule(strokeWidth=2).encode(x=x, y="q05:Q", y2="q95:Q", color=color,
                                               opacity=visible),
            fb.mark_point(shape="diamond", filled=True, size=70).encode(
                x=x, y="q50:Q", color=color, opacity=visible,
                tooltip=[alt.Tooltip("name:N", title="Candidate"),
                         alt.Tooltip("q50:Q", title="Election day: median (valid vote)",
                                     format=".1%"),
                         alt.Tooltip("q05:Q", title="90% interval from", format=".1%"),
                         alt.Tooltip("q95:Q", title="to", format=".1%")])]
    if events is not None and len(events):
        # Labels one under the other, so that close dates do not overlap.
        ev = alt.Chart(events.assign(row=[4 + 15 * i for i in range(len(events))]))
        layers += [ev.mark_rule(strokeDash=[4, 3], color="#555555").encode(
                       x=x, tooltip=[alt.Tooltip("event:N", title="Event"),
                                     alt.Tooltip("date:N", title="Date")]),
                   ev.mark_text(align="left", dx=4, baseline="top", fontSize=11,
                                color="#333333").encode(
                       x=x, y=alt.Y("row:Q", scale=None), text="event:N")]
    tooltip = [alt.Tooltip("date:N", title="Day")]
    tooltip += [alt.Tooltip(f"{col}:N") for col in wide.columns if col != "date"]
    layers += [alt.Chart(wide).mark_rule(color="#999999").encode(
        x=x, opacity=alt.condition(hover, alt.value(0.8), alt.value(0)),
        tooltip=tooltip).add_params(hover)]
    chart = alt.layer(*layers).add_params(pick).properties(
        width="container", height=HEIGHT,
        title="Support over the campaign")
    data = {csv_name("trend"): daily, csv_name("trend", "polls"): poll_frame}
    if len(final_frame):
        data[csv_name("trend", "election_day")] = final_frame
    return Chart("trend", _trend_caption(events), to_spec(chart), data)


def _trend_caption(events: pd.DataFrame | None) -> str:
    text = ("Support among decided voters for the candidates in the race that day (median, 50% "
            "and 90% bands); dots are polls, renormalised over the candidates each offered; "
            "diamonds and bars at the end: election-day median and 90% interval of the valid "
            "vote. Hover to read the numbers of a day.")
    if events is not None and len(events):
        said = "; ".join(f"{pd.Timestamp(d).strftime('%-d %B')}: {e}"
                         for d, e in zip(events.date, events.event, strict=True))
        text += (f" Dashed lines: {said}. Shares are of the candidates in the race, so every "
                 "other candidate's share jumps on those days.")
    return text


def win_probability_chart(summary: dict, style: Style) -> Chart:
    """Horizontal bars of each candidate's probability of winning, with the value printed."""
    rows = [{"candidate": k, "name": style.label(k), "full_name": style.name(k),
             "p_win": c["p_win"], "text": chance(c["p_win"])}
            for k, c in sorted(summary["candidates"].items(), key=lambda kv: -kv[1]["p_win"])]
    frame = pd.DataFrame(rows)
    keys = list(frame["candidate"])
    order = list(frame["name"])
    y = alt.Y("name:N", sort=order, title=None)
    base = alt.Chart(frame).encode(
        y=y, tooltip=[alt.Tooltip("full_name:N", title="Candidate"),
                      alt.Tooltip("p_win:Q", title="P(win)", format=".1%")])
    bars = base.mark_bar().encode(
        x=alt.X("p_win:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%"),
                title="probability of winning"),
        color=alt.Color("name:N", scale=color_scale(style, keys), legend=None))
    text = base.mark_text(align="left", dx=4, fontSize=13).encode(
        x=alt.X("p_win:Q"), text="text:N")
    chart = alt.layer(bars, text).properties(width="container", height=34 * len(rows),
                                             title="Probability of winning the presidency")
    return Chart("win_probability", "Probability of winning under plurality rule (share of "
                 "simulated elections each candidate wins).", to_spec(chart),
                 {csv_name("win_probability"): frame[["candidate", "name", "p_win"]]})


def share_distribution_chart(draws: xr.Dataset, style: Style, *,
                             variable: str = "share_total") -> Chart:
    """Election-day share distributions: probability of each half-point bin, per candidate."""
    candidates = [str(c) for c in draws["candidate"].values]
    rows = []
    width = 0.005
    for c in candidates:
        v = np.asarray(draws[variable].sel(candidate=c).values, dtype=float)
        if not np.any(v > 0):
            continue
        lo, mid, hi = np.quantile(v, [0.05, 0.5, 0.95])
        edges = np.arange(np.floor(v.min() / width) * width, v.max() + 2 * width, width)
        counts, edges = np.histogram(v, bins=edges)
        for n, a in zip(counts, edges[:-1], strict=True):
            rows.append({"candidate": c, "name": style.label(c), "share_from": round(a, 4),
                         "share_to": round(a + width, 4), "probability": n / len(v),
                         "median": mid, "q05": lo, "q95": hi})
    frame = pd.DataFrame(rows)
    pick = legend_pick()
    label = "share of the total vote" if variable == "share_total" else "share of the valid vote"
    chart = alt.Chart(frame).mark_area(interpolate="step-after", opacity=0.55).encode(
        x=alt.X("share_from:Q", axis=alt.Axis(format=".0%"), title=label),
        y=alt.Y("probability:Q", axis=alt.Axis(format=".0%"), title="probability (½-point bins)",
                stack=None),
        color=alt.Color("name:N", scale=color_scale(style, candidates), title=None,
                        legend=alt.Legend(title=PICK_TITLE)),
        opacity=alt.condition(pick, alt.value(0.6), alt.value(0.05)),
        tooltip=[alt.Tooltip("name:N", title="Candidate"),
                 alt.Tooltip("share_from:Q", title="Share from", format=".1%"),
                 alt.Tooltip("share_to:Q", title="to", format=".1%"),
                 alt.Tooltip("probability:Q", title="Probability", format=".1%"),
                 alt.Tooltip("median:Q", title="Median share", format=".1%"),
                 alt.Tooltip("q05:Q", title="90% interval from", format=".1%"),
                 alt.Tooltip("q95:Q", title="to", format=".1%")],
    ).add_params(pick).properties(width="container", height=260,
                                  title=f"Election-day {label}")
    return Chart("shares", f"Election-day {label}: how likely each half-point range is "
                 "(includes the historical polling error).", to_spec(chart),
                 {csv_name("shares"): frame})


def house_effect_figure(house: xr.DataArray, style: Style) -> Figure:
    """House effects as one forest plot on a common axis (arviz-plots): per pollster, each
    candidate's median, 50% and 90% interval on the log-share scale.

    ``house`` has dims (chain, draw, pollster, candidate), as in the fit's posterior.
    """
    import arviz_plots as azp

    keys = [str(c) for c in house.coords["candidate"].values]
    house = house.assign_coords(candidate=[style.label(k) for k in keys])
    tree = xr.DataTree.from_dict({"posterior": house.to_dataset(name="house_effect")})
    n = house.sizes["pollster"]
    pc = azp.plot_forest(
        tree, var_names=["house_effect"], combined=True, backend="matplotlib",
        point_estimate="median", ci_kind="eti", ci_probs=(0.5, 0.9), labels=["pollster"],
        shade_label="pollster", aes={"color": ["candidate"]},
        color=[style.color(k) for k in keys],
        figure_kwargs={"figsize": (10, 0.4 * n + 1.2), "width_ratios": [1.7, 3]})
    fig = pc.viz["figure"].item()
    forest = pc.viz["plot"].sel(column="forest").item()
    forest.axvline(0, color="black", lw=0.8)
    forest.set_xlabel("house effect (log-share scale; > 0: the pollster overstates the "
                      "candidate)", fontsize=11)
    forest.tick_params(labelsize=10)
    for text in pc.viz["plot"].sel(column="labels").item().texts:
        text.set_fontsize(11)
        text.set_clip_on(False)
    pc.add_legend("candidate", loc="outside upper center", ncols=len(keys), frameon=False,
                  fontsize=11, title=None)
    return fig
