"""Governor-race charts and table. Each takes the ``governors`` summary block (never a fit).

* :func:`governor_map_chart` (interactive) and :func:`plot_governor_map` (PNG): a tile map of
  the states (no shapefiles, no network; the grid comes from the election's ``map_file``), the
  racing states coloured by the leading candidacy, shaded by its probability;
* :func:`governor_count_chart` and :func:`plot_governor_counts`: distribution of the number of
  governorships per candidacy;
* :func:`governor_table_html`: an escaped HTML table of P(win) and share intervals per state.

Names and colours of the candidacy keys come from a :class:`~forecast.report.style.Style`
(``[candidacies.*]`` of races.toml); nothing about one election lives here.
"""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from ..colors import NEUTRAL, assign_colors, mix_with_white, text_color  # noqa: E402


def _color(key: str, style=None) -> str:
    return style.color(key) if style is not None else assign_colors([key])[key]


def _label(key: str, style=None) -> str:
    return style.label(key) if style is not None else key


def _shade(color: str, p: float) -> tuple[float, float, float]:
    """``color`` mixed with white: full colour at P = 1, pale at P near 1/2 or below."""
    strength = float(np.clip((p - 0.35) / 0.65, 0.15, 1.0))
    rgb = np.array(to_rgb(color))
    return tuple(1 - strength * (1 - rgb))


def _tile_grid(tiles) -> dict[str, tuple[int, int, str, str]]:
    """(row, column, label, name) by state code from Tile objects or (row, column) pairs."""
    out = {}
    for code, t in (tiles or {}).items():
        if hasattr(t, "row"):
            out[code] = (t.row, t.column, t.label, t.name)
        else:
            out[code] = (int(t[0]), int(t[1]), code.upper(), "")
    return out


def _tiles_or_row(block: dict, tiles) -> dict[str, tuple[int, int, str, str]]:
    """The map's tiles; without a map file, the racing states in one row."""
    grid = _tile_grid(tiles)
    if grid:
        return grid
    return {v["abbr"]: (0, i, v["abbr"].upper(), v.get("name", "")) for i, v in
            enumerate(block["states"].values())}


def plot_governor_map(block: dict, *, tiles=None, style=None) -> Figure:
    """Tile map (PNG): racing states coloured by the leader, shaded by its P(win); others grey.

    States without polls have a dashed border and say "no polls" in a readable colour.

    Parameters
    ----------
    block
        The ``governors`` summary block (:func:`forecast.governors.governors_summary`).
    tiles
        Tiles by state code (:attr:`forecast.governors.races.GovernorRaces.tiles`); without
        them, the racing states are drawn in one row.
    style
        Names and colours of the candidacy keys.
    """
    grid = _tiles_or_row(block, tiles)
    racing = {v["abbr"]: v for v in block["states"].values()}
    rows = max(r for r, _, _, _ in grid.values()) + 1
    cols = max(c for _, c, _, _ in grid.values()) + 1
    fig, ax = plt.subplots(figsize=(1.05 * cols + 1.5, 1.0 * rows + 1.6), layout="constrained")
    leaders = []
    for abbr, (r, c, label, _) in grid.items():
        y = rows - 1 - r
        state = racing.get(abbr)
        if state is None:
            ax.add_patch(Rectangle((c, y), 0.94, 0.94, facecolor=NEUTRAL, edgecolor="white"))
            ax.text(c + 0.47, y + 0.47, label, ha="center", va="center", fontsize=7,
                    color="#666666")
            continue
        leader = state["leader"]
        leaders.append(leader)
        p = state["p_win"][leader]
        face = _shade(_color(leader, style), p)
        unpolled = not state.get("polls_used", 0)
        ax.add_patch(Rectangle((c, y), 0.94, 0.94, facecolor=face, edgecolor="black", lw=1.4,
                               ls="--" if unpolled else "-"))
        ink = "white" if sum(face) < 1.6 else "black"
        if unpolled:
            ax.text(c + 0.47, y + 0.1, "no polls", ha="center", va="center", fontsize=7,
                    color=ink)
        ax.text(c + 0.47, y + 0.62, label, ha="center", va="center", fontsize=8,
                fontweight="bold", color=ink)
        shown = ">99%" if p > 0.99 else f"{p:.0%}"
        ax.text(c + 0.47, y + 0.3, f"{_label(leader, style)} {shown}", ha="center",
                va="center", fontsize=7, color=ink)
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [Patch(color=_color(k, style), label=_label(k, style))
               for k in dict.fromkeys(leaders)]
    if any(not v.get("polls_used", 0) for v in block["states"].values()):
        handles.append(Patch(facecolor="white", edgecolor="black", ls="--",
                             label="dashed: no polls, baseline + swing"))
    handles.append(Patch(color=NEUTRAL, label="no governor race"))
    ax.legend(handles=handles, loc="lower left", frameon=False, fontsize=8)
    as_of = f" (as of {block['as_of']})" if block.get("as_of") else ""
    ax.set_title(f"Governor races: leader and its probability of winning{as_of}\n"
                 "paler = less certain")
    return fig


def plot_governor_counts(block: dict, *, keys: list[str] | None = None, style=None) -> Figure:
    """Distribution of the number of governorships won, one panel per candidacy key (PNG).

    ``keys`` default: every key with a mean count of at least 0.05.
    """
    counts = block["count"]
    keys = keys or [k for k, v in counts.items() if v["mean"] >= 0.05]
    n_states = len(block["states"])
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys) + 0.8, 3.4), sharey=True,
                             layout="constrained", squeeze=False)
    x = np.arange(n_states + 1)
    for ax, k in zip(axes[0], keys, strict=True):
        at_least = np.array(counts[k]["p_at_least"] + [0.0])
        exact = at_least[:-1] - at_least[1:]
        ax.bar(x, exact, color=_color(k, style), width=0.8)
        for xi, pi in zip(x, exact, strict=True):
            if pi >= 0.005:
                ax.text(xi, pi + 0.01, f"{pi:.0%}", ha="center", fontsize=7)
        ax.set_xticks(x)
        ax.set_title(f"{_label(k, style)}: mean {counts[k]['mean']:.1f}", fontsize=9)
        ax.set_xlabel("governorships won")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("probability")
    axes[0][0].yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    fig.suptitle(f"Number of the {n_states} governorships won")
    return fig


def governor_map_chart(block: dict, *, tiles=None, style=None):
    """The tile map as an interactive chart: hover a state for every candidacy's P(win).

    Racing states take the leader's colour, paler when less certain; a state without polls has
    a dashed border and says "no polls" (text colour chosen for contrast); other states grey.
    """
    import altair as alt

    from .vega import Chart, csv_name, to_spec

    grid = _tiles_or_row(block, tiles)
    racing = {v["abbr"]: (k, v) for k, v in block["states"].items()}
    rows = []
    leaders: list[str] = []
    for abbr, (r, c, label, name) in grid.items():
        row = {"code": abbr, "row": r, "column": c, "label": label, "state": name or label,
               "racing": abbr in racing, "fill": NEUTRAL, "ink": "#666666", "line2": "",
               "line3": "", "leader": "", "p_leader": None, "polls": None,
               "odds": "no governor race", "dashed": False}
        if abbr in racing:
            key, v = racing[abbr]
            leader = v["leader"]
            leaders.append(leader)
            p = float(v["p_win"][leader])
            strength = float(np.clip((p - 0.35) / 0.65, 0.15, 1.0))
            fill = mix_with_white(_color(leader, style), strength)
            polls = int(v.get("polls_used", 0))
            ranked = sorted(v["p_win"].items(), key=lambda kv: -kv[1])
            row.update(state=v.get("name", name or label), fill=fill, ink=text_color(fill),
                       leader=_label(leader, style), p_leader=p,
                       line2=_label(leader, style),
                       line3=(">99%" if p > 0.99 else f"{p:.0%}")
                       + ("" if polls else " · no polls"), polls=polls, dashed=not polls,
                       odds="; ".join(f"{_label(k, style)} {q:.0%}" for k, q in ranked
                                      if q >= 0.005) or "–")
        rows.append(row)
    frame = pd.DataFrame(rows)
    size = 74
    x = alt.X("column:O", axis=None, scale=alt.Scale(paddingInner=0.06))
    y = alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0.06))
    tooltip = [alt.Tooltip("state:N", title="State"), alt.Tooltip("odds:N", title="P(win)"),
               alt.Tooltip("polls:Q", title="State polls used")]
    base = alt.Chart(frame).encode(x=x, y=y, tooltip=tooltip)
    solid = base.transform_filter("!datum.dashed").mark_rect(cornerRadius=3).encode(
        fill=alt.Fill("fill:N", scale=None),
        stroke=alt.condition("datum.racing", alt.value("#222222"), alt.value("#ffffff")),
        strokeWidth=alt.condition("datum.racing", alt.value(1.5), alt.value(1)))
    dashed = base.transform_filter("datum.dashed").mark_rect(
        cornerRadius=3, stroke="#222222", strokeWidth=1.5, strokeDash=[4, 3]).encode(
        fill=alt.Fill("fill:N", scale=None))
    ink = alt.Color("ink:N", scale=None)
    text = [base.mark_text(fontSize=11, fontWeight="bold", dy=-16).encode(text="label:N",
                                                                          color=ink),
            base.mark_text(fontSize=10, dy=0, limit=size - 6).encode(text="line2:N", color=ink),
            base.mark_text(fontSize=10, dy=14, limit=size - 6).encode(text="line3:N",
                                                                      color=ink)]
    n_cols = int(frame["column"].max()) + 1
    n_rows = int(frame["row"].max()) + 1
    as_of = f" (as of {block['as_of']})" if block.get("as_of") else ""
    chart = alt.layer(solid, dashed, *text).properties(
        width=size * n_cols, height=size * n_rows,
        title=f"Governor races: leader and its chance of winning{as_of}")
    legend = "".join(
        f"<span class='swatch' style='background:{_color(k, style)}'></span>"
        f"{html.escape(_label(k, style))}" for k in dict.fromkeys(leaders))
    after = (f"<p class='legend'>Leader:{legend} — paler: less certain; dashed border: no state "
             f"polls (2015 baseline + national swing only)<span class='swatch' "
             f"style='background:{NEUTRAL}'></span>no governor race.</p>")
    return Chart("governors_map", "Each racing state in its leader's colour, paler when the "
                 "lead is less certain; hover a state for every candidacy's chance. Tiles are "
                 "placed roughly by geography, not to scale.", to_spec(chart),
                 {csv_name("governors_map"): frame}, wide=True, after=after)


def governor_count_chart(block: dict, *, style=None, keys: list[str] | None = None):
    """Probability of winning exactly n governorships, per candidacy (side by side bars)."""
    import altair as alt

    from .charts import PICK_TITLE, legend_pick
    from .vega import Chart, csv_name, to_spec

    counts = block["count"]
    keys = keys or [k for k, v in counts.items() if v["mean"] >= 0.05]
    n_states = len(block["states"])
    rows = []
    for k in keys:
        at_least = np.array(counts[k]["p_at_least"] + [0.0])
        exact = at_least[:-1] - at_least[1:]
        for n, p in enumerate(exact):
            rows.append({"candidacy": k, "name": _label(k, style), "governorships": n,
                         "probability": float(p), "mean": counts[k]["mean"],
                         "p_at_least": float(at_least[n])})
    frame = pd.DataFrame(rows)
    pick = legend_pick()
    scale = alt.Scale(domain=[_label(k, style) for k in keys],
                      range=[_color(k, style) for k in keys])
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("governorships:O", title=f"governorships won (of {n_states})",
                axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("name:N", sort=[_label(k, style) for k in keys]),
        y=alt.Y("probability:Q", axis=alt.Axis(format=".0%"), title="probability"),
        color=alt.Color("name:N", scale=scale, title=None,
                        legend=alt.Legend(title=PICK_TITLE)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=[alt.Tooltip("name:N", title="Candidacy"),
                 alt.Tooltip("governorships:O", title="Governorships"),
                 alt.Tooltip("probability:Q", title="Probability (exactly)", format=".1%"),
                 alt.Tooltip("p_at_least:Q", title="Probability (at least)", format=".1%"),
                 alt.Tooltip("mean:Q", title="Mean", format=".2f")],
    ).add_params(pick).properties(width="container", height=240,
                                  title=f"Number of the {n_states} governorships won")
    return Chart("governors_count", "Probability of winning exactly that many governorships; "
                 "hover a bar for the numbers.", to_spec(chart),
                 {csv_name("governors_count"): frame})


def governor_table_html(block: dict, *, names: dict[str, dict[str, str]] | None = None,
                        style=None) -> str:
    """HTML snippet: per state, each candidacy's P(win) and 90% share interval.

    Parameters
    ----------
    block
        The ``governors`` summary block.
    names
        Optional candidate names: ``{state: {key: name}}``. Every text is HTML-escaped.
    style
        Names of the candidacy keys (the "Alliance / party" column).

    Returns
    -------
    str
        A ``<table class="governors">`` element (no page wrapper) with separate Candidate and
        Alliance / party columns. Rows are sorted by P(win) within each state; ``polls`` is the
        number of polls used and states without polls are marked, since their intervals come
        from baseline + swing alone.
    """
    names = names or {}
    esc = html.escape
    out = ['<table class="governors">',
           "<thead><tr><th>State</th><th>Polls</th><th>Candidate</th><th>Alliance / party</th>"
           "<th>P(win)</th><th>Share of valid vote (median, 90% interval)</th></tr></thead>",
           "<tbody>"]
    for state, v in block["states"].items():
        items = sorted(v["p_win"].items(), key=lambda kv: -kv[1])
        polls = int(v.get("polls_used", 0))
        poll_text = str(polls) if polls else "0 (baseline + swing only)"
        for i, (k, p) in enumerate(items):
            q = v["share"][k]
            alliance = style.name(k) if style is not None else k
            person = names.get(state, {}).get(k) or "–"
            head = (f'<td rowspan="{len(items)}" class="name">'
                    f'{esc(str(v.get("name", state)))}</td>'
                    f'<td rowspan="{len(items)}">{esc(poll_text)}</td>') if i == 0 else ""
            style_attr = ' style="font-weight:bold"' if k == v["leader"] else ""
            out.append(f"<tr{style_attr} data-candidacy='{esc(k)}'>{head}"
                       f"<td class='name'>{esc(person)}</td><td class='name'>{esc(alliance)}"
                       f"</td><td>{p:.1%}</td>"
                       f"<td>{q['q50']:.1%} ({q['q05']:.1%}–{q['q95']:.1%})</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
