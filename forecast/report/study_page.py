"""A sensitivity study as one HTML page: the scenarios compared side by side.

:func:`study_page` turns the study dataset (docs/studies.md) into a self-contained page written
next to the ``.nc`` by ``forecast study``: P(win) and valid-vote shares per scenario, and, when
the study has them, seats per chamber with P(majority) and P(two-thirds), the president's
coalition's chances, and governor variables. Interactive charts (the same Vega-Lite machinery
and colours as the report), each with its data as a ``data:`` CSV link; works offline.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import xarray as xr

from ..colors import assign_colors
from .headline import CHAMBER_LABELS, chance
from .page import _CSP, _CSS
from .study_chart import _factor_dims, scenario_labels
from .style import Style, congress_colors
from .vega import EMBED_SCRIPT, Chart, chart_html, to_spec, vega_bundle


def _scenarios(ds: xr.Dataset) -> list[dict]:
    """One dict per scenario (first factor slowest): its label and factor levels."""
    dims = _factor_dims(ds)
    labels = scenario_labels(ds) if dims else ["base"]
    if not dims:
        return [{"label": "base", "sel": {}}]
    grid = np.array(np.meshgrid(*[np.arange(ds.sizes[d]) for d in dims], indexing="ij"))
    idx = grid.reshape(len(dims), -1).T
    return [{"label": lab, "sel": {d: int(i) for d, i in zip(dims, row, strict=True)}}
            for lab, row in zip(labels, idx, strict=True)]


def study_styles(ds: xr.Dataset) -> tuple[Style, Style | None]:
    """Candidate and coalition styles from the study's election folder (``election_dir``
    attribute), as in the report; names from the dataset and default colours without it."""
    from .style import candidate_style

    candidates = [str(c) for c in ds["candidate"].values]
    names = ({c: str(n) for c, n in zip(candidates, ds["candidate_name"].values, strict=True)}
             if "candidate_name" in ds.coords else {})
    coalitions = [str(c) for c in ds["coalition"].values] if "coalition" in ds.dims else []
    directory = ds.attrs.get("election_dir")
    cand_style = coal_style = None
    if directory and Path(directory, "election.toml").is_file():
        try:
            from ..election import load_election

            election = load_election(directory)
            cand_style = candidate_style(election).subset(candidates)
            if coalitions:
                given = {k: election.coalitions[k].color for k in coalitions
                         if k in election.coalitions}
                cnames = {k: election.coalitions[k].name for k in coalitions
                          if k in election.coalitions}
                congress = Path(directory, "congress", "congress.toml")
                if congress.is_file():
                    from ..congress.definition import load_congress

                    definition = load_congress(congress.parent)
                    # The report's colours (parties' colours kept off the coalitions' defaults).
                    colors = congress_colors(definition, election.coalitions)[1]
                    given = {k: colors.get(k) or given.get(k) for k in coalitions}
                    for k, r in definition.coalitions.items():
                        cnames[k] = r.name
                coal_style = Style(tuple(coalitions), cnames, cnames,
                                   assign_colors(coalitions, given))
        except (OSError, ValueError):
            cand_style = coal_style = None  # the page still works, with default colours
    if cand_style is None:
        cand_style = Style(tuple(candidates), {}, names, assign_colors(candidates))
    if coalitions and coal_style is None:
        coal_style = Style(tuple(coalitions), {}, {}, assign_colors(coalitions))
    return cand_style, coal_style


def governor_study_style(ds: xr.Dataset) -> Style | None:
    """Governor candidacy names and colours from the study's election folder, if it has
    governor races."""
    directory = ds.attrs.get("election_dir")
    if not directory or not Path(directory, "governors", "races.toml").is_file():
        return None
    try:
        from ..governors.races import load_governor_races
        from .style import governor_style

        return governor_style(load_governor_races(directory))
    except (OSError, ValueError):
        return None


def _candidate_frame(ds: xr.Dataset, scenarios: list[dict], style: Style) -> pd.DataFrame:
    rows = []
    quantiles = [float(q) for q in ds["quantile"].values] if "quantile" in ds.dims else []
    for s in scenarios:
        sub = ds.isel(s["sel"])
        ok = bool(sub["converged"].values) if "converged" in sub else True
        for c in [str(c) for c in ds["candidate"].values]:
            row = {"scenario": s["label"], "candidate": c, "name": style.label(c),
                   "p_win": float(sub["p_win"].sel(candidate=c)), "converged": ok}
            if "share_valid" in sub and quantiles:
                q = sub["share_valid"].sel(candidate=c).values
                for want, col in ((0.05, "q05"), (0.25, "q25"), (0.5, "q50"), (0.75, "q75"),
                                  (0.95, "q95")):
                    if want in quantiles:
                        row[f"share_valid_{col}"] = float(q[quantiles.index(want)])
            rows.append(row)
    return pd.DataFrame(rows)


def _seat_frame(ds: xr.Dataset, scenarios: list[dict], style: Style) -> pd.DataFrame:
    seats = ds["seats"]
    qdim = next(d for d in seats.dims if d in ("seat_quantile", "quantile")
                and d not in _factor_dims(ds))
    qs = [str(q) for q in seats.coords[qdim].values]

    def q_index(names: tuple[str, ...]) -> int:
        return next(qs.index(n) for n in names if n in qs)

    lo, mid, hi = (q_index(("q05", "0.05")), q_index(("q50", "0.5")), q_index(("q95", "0.95")))
    rows = []
    for s in scenarios:
        sub = ds.isel(s["sel"])
        for chamber in [str(c) for c in ds["chamber"].values]:
            for k in [str(c) for c in ds["coalition"].values]:
                v = sub["seats"].sel(chamber=chamber, coalition=k).values
                row = {"scenario": s["label"], "chamber": chamber,
                       "chamber_name": CHAMBER_LABELS.get(chamber, chamber), "coalition": k,
                       "name": style.label(k), "seats_q05": float(v[lo]),
                       "seats_q50": float(v[mid]), "seats_q95": float(v[hi])}
                for var in ("p_majority", "p_two_thirds"):
                    if var in sub:
                        row[var] = float(sub[var].sel(chamber=chamber, coalition=k))
                rows.append(row)
    return pd.DataFrame(rows)


def _height(scenarios: list[dict], keys: list[str]) -> int:
    """Chart height: 13 px per scenario and series, plus a gap per scenario."""
    return len(scenarios) * (13 * len(keys) + 8)


def _scenario_axis(scenarios: list[dict]) -> alt.Y:
    return alt.Y("scenario:N", sort=[s["label"] for s in scenarios], title=None,
                 axis=alt.Axis(labelLimit=340))


def _p_win_chart(frame: pd.DataFrame, scenarios: list[dict], style: Style) -> Chart:
    keys = list(dict.fromkeys(frame["candidate"]))
    scale = alt.Scale(domain=[style.label(k) for k in keys], range=[style.color(k) for k in keys])
    frame = frame.assign(text=[chance(p) for p in frame["p_win"]])
    base = alt.Chart(frame).encode(
        y=_scenario_axis(scenarios), yOffset=alt.YOffset("name:N", sort=[style.label(k)
                                                                          for k in keys]),
        tooltip=[alt.Tooltip("scenario:N", title="Scenario"),
                 alt.Tooltip("name:N", title="Candidate"),
                 alt.Tooltip("p_win:Q", title="P(win)", format=".1%"),
                 alt.Tooltip("converged:N", title="Converged")])
    bars = base.mark_bar().encode(
        x=alt.X("p_win:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%"),
                title="probability of winning"),
        color=alt.Color("name:N", scale=scale, title=None))
    text = base.mark_text(align="left", dx=3, fontSize=11).encode(x="p_win:Q", text="text:N")
    chart = alt.layer(bars, text).properties(
        width="container", height=_height(scenarios, keys), title="P(win) by scenario")
    return Chart("study_p_win", "Probability of winning in each scenario.", to_spec(chart),
                 {"study_p_win.csv": frame.drop(columns="text")})


def _share_chart(frame: pd.DataFrame, scenarios: list[dict], style: Style) -> Chart:
    keys = list(dict.fromkeys(frame["candidate"]))
    scale = alt.Scale(domain=[style.label(k) for k in keys], range=[style.color(k) for k in keys])
    y = _scenario_axis(scenarios)
    offset = alt.YOffset("name:N", sort=[style.label(k) for k in keys])
    color = alt.Color("name:N", scale=scale, title=None)
    tooltip = [alt.Tooltip("scenario:N", title="Scenario"),
               alt.Tooltip("name:N", title="Candidate")]
    tooltip += [alt.Tooltip(f"share_valid_{c}:Q", title=t, format=".1%")
                for c, t in (("q50", "Median"), ("q05", "90% interval from"), ("q95", "to"))
                if f"share_valid_{c}" in frame]
    base = alt.Chart(frame).encode(y=y, yOffset=offset, color=color, tooltip=tooltip)
    chart = alt.layer(
        base.mark_rule(strokeWidth=1.5).encode(
            x=alt.X("share_valid_q05:Q", axis=alt.Axis(format=".0%"),
                    title="share of the valid vote"), x2="share_valid_q95:Q"),
        base.mark_rule(strokeWidth=5).encode(x="share_valid_q25:Q", x2="share_valid_q75:Q"),
        base.mark_point(filled=True, color="white", size=30).encode(x="share_valid_q50:Q"),
    ).properties(width="container", height=_height(scenarios, keys),
                 title="Share of the valid vote: median, 50% and 90% intervals")
    return Chart("study_shares", "Election-day share of the valid vote in each scenario.",
                 to_spec(chart), {"study_shares.csv": frame})


def _seat_chart(frame: pd.DataFrame, scenarios: list[dict], style: Style, chamber: str
                ) -> Chart:
    sub = frame[frame["chamber"] == chamber].reset_index(drop=True)
    keys = list(dict.fromkeys(sub["coalition"]))
    scale = alt.Scale(domain=[style.label(k) for k in keys], range=[style.color(k) for k in keys])
    tooltip = [alt.Tooltip("scenario:N", title="Scenario"),
               alt.Tooltip("name:N", title="Coalition"),
               alt.Tooltip("seats_q50:Q", title="Median seats", format=".0f"),
               alt.Tooltip("seats_q05:Q", title="90% interval from", format=".0f"),
               alt.Tooltip("seats_q95:Q", title="to", format=".0f")]
    tooltip += [alt.Tooltip(f"{v}:Q", title=t, format=".1%")
                for v, t in (("p_majority", "P(majority)"), ("p_two_thirds", "P(two-thirds)"))
                if v in sub]
    base = alt.Chart(sub).encode(
        y=_scenario_axis(scenarios), yOffset=alt.YOffset("name:N", sort=[style.label(k)
                                                                          for k in keys]),
        color=alt.Color("name:N", scale=scale, title=None), tooltip=tooltip)
    label = CHAMBER_LABELS.get(chamber, chamber)
    chart = alt.layer(
        base.mark_rule(strokeWidth=3).encode(x=alt.X("seats_q05:Q", title="seats"),
                                             x2="seats_q95:Q"),
        base.mark_point(filled=True, size=40).encode(x="seats_q50:Q"),
    ).properties(width="container", height=_height(scenarios, keys),
                 title=f"{label}: median seats and 90% interval by scenario")
    return Chart(f"study_seats_{chamber}", f"{label}: seats of each coalition in each scenario "
                 "(hover for P(majority) and P(two-thirds)).", to_spec(chart),
                 {f"study_seats_{chamber}.csv": sub})


def _table(ds: xr.Dataset, scenarios: list[dict], cand: Style, coal: Style | None,
           gov: Style | None = None) -> str:
    e = html.escape
    candidates = [str(c) for c in ds["candidate"].values]
    chambers = [str(c) for c in ds["chamber"].values] if "chamber" in ds.dims else []
    coalitions = [str(c) for c in ds["coalition"].values] if "coalition" in ds.dims else []
    head = "<th>Scenario</th>" + "".join(f"<th>P(win) {e(cand.label(c))}</th>"
                                         for c in candidates)
    for ch in chambers:
        label = CHAMBER_LABELS.get(ch, ch)
        for k in coalitions:
            name = coal.label(k) if coal else k
            if "p_majority" in ds:
                head += f"<th>{e(label)}: P(majority) {e(name)}</th>"
            if "p_two_thirds" in ds:
                head += f"<th>{e(label)}: P(⅔) {e(name)}</th>"
        if "p_president_two_thirds" in ds:
            head += f"<th>{e(label)}: P(president's coalition ⅔)</th>"
    counted = ([str(k) for k in ds["candidacy_counted"].values]
               if "governorships" in ds and "candidacy_counted" in ds.dims else [])
    gov = gov or Style(tuple(counted))
    head += "".join(f"<th>Governorships {e(gov.label(k))} (median)</th>" for k in counted)
    head += "<th>Polls</th><th>Converged</th>"
    rows = []
    for s in scenarios:
        sub = ds.isel(s["sel"])
        ok = bool(sub["converged"].values) if "converged" in sub else True
        cells = f"<td class='name'>{e(s['label'])}</td>"
        cells += "".join(f"<td>{float(sub['p_win'].sel(candidate=c)):.1%}</td>"
                         for c in candidates)
        for ch in chambers:
            for k in coalitions:
                for var in ("p_majority", "p_two_thirds"):
                    if var in sub:
                        cells += f"<td>{float(sub[var].sel(chamber=ch, coalition=k)):.1%}</td>"
            if "p_president_two_thirds" in sub:
                cells += f"<td>{float(sub['p_president_two_thirds'].sel(chamber=ch)):.1%}</td>"
        for k in counted:
            g = sub["governorships"].sel(candidacy_counted=k)
            qdim = g.dims[0]
            values = {float(q): float(x) for q, x in zip(g[qdim].values, g.values, strict=True)
                      } if np.issubdtype(g[qdim].dtype, np.number) else {
                          {"q05": 0.05, "q50": 0.5, "q95": 0.95}.get(str(q), -1): float(x)
                          for q, x in zip(g[qdim].values, g.values, strict=True)}
            cells += (f"<td>{values.get(0.5, float('nan')):.0f} "
                      f"({values.get(0.05, float('nan')):.0f}–"
                      f"{values.get(0.95, float('nan')):.0f})</td>")
        polls = int(sub["polls_used"].values) if "polls_used" in sub else ""
        cells += f"<td>{polls}</td><td>{'yes' if ok else '<strong>NO</strong>'}</td>"
        rows.append(f"<tr>{cells}</tr>")
    return (f"<div class='scroll'><table id='scenarios'><tr>{head}</tr>{''.join(rows)}"
            "</table></div>")


def _governor_table(ds: xr.Dataset, scenarios: list[dict], gov: Style | None) -> str:
    """Per scenario and state, the favourite and its P(win) (``governor_p_win``)."""
    if "governor_p_win" not in ds or "state" not in ds.dims:
        return ""
    e = html.escape
    keys = [str(k) for k in ds["candidacy"].values]
    gov = gov or Style(tuple(keys))
    states = [str(s) for s in ds["state"].values]
    rows = []
    for s in scenarios:
        sub = ds.isel(s["sel"])["governor_p_win"]
        cells = f"<td class='name'>{e(s['label'])}</td>"
        for st in states:
            p = sub.sel(state=st).values.astype(float)
            if np.all(np.isnan(p)):
                cells += "<td>–</td>"
                continue
            i = int(np.nanargmax(p))
            cells += f"<td>{e(gov.label(keys[i]))} {chance(p[i])}</td>"
        rows.append(f"<tr>{cells}</tr>")
    head = "<th>Scenario</th>" + "".join(f"<th>{e(st)}</th>" for st in states)
    return ("<h2>Governor races: favourite and its chance, by scenario</h2><div class='scroll'>"
            f"<table id='governors'><tr>{head}</tr>{''.join(rows)}</table></div>")


def study_page(ds: xr.Dataset, *, cand: Style | None = None, coal: Style | None = None,
               gov: Style | None = None) -> bytes:
    """The study's HTML page (UTF-8 bytes): charts and a table comparing the scenarios.

    Parameters
    ----------
    ds
        A study dataset (:meth:`forecast.study.Study.run`, or read from its ``.nc``).
    cand, coal, gov
        Candidate, coalition and governor-candidacy styles; default :func:`study_styles` and
        :func:`governor_study_style` (the election's files).
    """
    if gov is None and ("governorships" in ds or "governor_p_win" in ds):
        gov = governor_study_style(ds)
    if cand is None or (coal is None and "coalition" in ds.dims):
        found = study_styles(ds)
        cand = cand or found[0]
        coal = coal or found[1]
    scenarios = _scenarios(ds)
    frame = _candidate_frame(ds, scenarios, cand)
    charts = [_p_win_chart(frame, scenarios, cand)]
    if {"share_valid_q05", "share_valid_q25", "share_valid_q50", "share_valid_q75",
            "share_valid_q95"} <= set(frame.columns):
        charts.append(_share_chart(frame, scenarios, cand))
    if "seats" in ds and coal is not None:
        seats = _seat_frame(ds, scenarios, coal)
        charts += [_seat_chart(seats, scenarios, coal, ch) for ch in
                   dict.fromkeys(seats["chamber"])]
    e = html.escape
    title = ds.attrs.get("election_name", "")
    factors = json.loads(ds.attrs.get("factors", "{}") or "{}")
    bad = sum(not s for s in np.ravel(ds["converged"].values)) if "converged" in ds else 0
    warn = (f"<div class='warn'><strong>WARNING: {bad} of {len(scenarios)} scenario(s) did not "
            "converge — their numbers are not reliable.</strong></div>" if bad else "")
    factor_text = "; ".join(f"{e(k)}: {', '.join(e(str(v)) for v in vals)}"
                            for k, vals in factors.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>Sensitivity study{': ' + e(title) if title else ''}</title>
<style>{_CSS}</style><script>{vega_bundle()}</script><script>{EMBED_SCRIPT}</script></head>
<body>
<h1>Sensitivity study{': ' + e(title) if title else ''}</h1>
<p class="sub">{len(scenarios)} scenario(s). Factors — {factor_text or 'none'}.</p>
{warn}
{_table(ds, scenarios, cand, coal, gov)}
{_governor_table(ds, scenarios, gov)}
{''.join(chart_html(c, inline_data=True) for c in charts)}
<p class="sub">Charts are interactive (hover for numbers) and work offline; each links its data
as CSV. The full results are in the study's netCDF file (docs/studies.md).</p>
</body></html>
"""
    return page.encode("utf-8")
