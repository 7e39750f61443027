"""The governors part of the report: diagnostics, probability table, tile map, count chart."""

from __future__ import annotations

import html

import pandas as pd

from ..fit import csv_bytes
from ..governors.simulate import states_of
from .governor_charts import governor_count_chart, governor_map_chart, governor_table_html
from .page import Section
from .style import Style, governor_style


def governor_section(forecast, style: Style | None = None) -> Section:
    """The report's governors section: diagnostics, the tile map and the count chart
    (interactive), the table of every candidacy."""
    block = forecast.results["governors"].summary
    races = forecast.inputs.stage("governors").races
    inner = {"states": states_of(block), "count": block["count"],
             "shared_error_fraction": block["shared_error_fraction"], "draws": block["draws"],
             "as_of": block["as_of"]}
    names = {r.state: {c.key: c.name for c in r.candidates} for r in races.races}
    style = style or governor_style(races)
    d = block["diagnostics"]
    if d["converged"]:
        diag = (f"<p class='sub'>State-poll fit: {block['polls_used']} polls, converged (max "
                f"R-hat {d['max_rhat']:.3f}).</p>")
    else:
        diag = ("<div class='warn' id='governor-fit-diagnostics'><strong>WARNING: the state-poll "
                "model did not converge — do not publish these numbers.</strong> "
                + html.escape("; ".join(d.get("problems", []))) + "</div>")
    charts = [governor_map_chart(inner, tiles=getattr(races, "tiles", None), style=style),
              governor_count_chart(inner, style=style)]
    body = diag + ("<details><summary>Every candidacy: chance of winning and share of the "
                   "vote</summary><div class='scroll'>"
                   + governor_table_html(inner, names=names, style=style) + "</div></details>")
    title = f"Governors: the {len(races.races)} races"
    return Section("governors", title, body, charts=charts)


def governor_tables(forecast) -> dict[str, bytes]:
    """``governors.csv`` (one row per state and candidacy) and ``governors_count.csv``."""
    block = forecast.results["governors"].summary
    rows = []
    for state, v in states_of(block).items():
        for key, p in v["p_win"].items():
            q = v["share"][key]
            rows.append({"state": state, "candidacy": key, "p_win": p, "share_mean": q["mean"],
                         "share_q05": q["q05"], "share_q50": q["q50"], "share_q95": q["q95"],
                         "polls_used": v["polls_used"]})
    counts = [{"candidacy": key, **{k: c[k] for k in ("mean", "q05", "q50", "q95")},
               **{f"p_at_least_{i}": p for i, p in enumerate(c["p_at_least"])}}
              for key, c in block["count"].items()]
    return {"governors.csv": csv_bytes(pd.DataFrame(rows)),
            "governors_count.csv": csv_bytes(pd.DataFrame(counts))}
