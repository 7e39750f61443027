"""The governors part of the report: diagnostics, probability table, tile map, count chart."""

from __future__ import annotations

import html

import pandas as pd

from ..fit import csv_bytes
from ..governors.simulate import states_of
from .governor_charts import governor_table_html, plot_governor_counts, plot_governor_map
from .page import Section


def governor_section(forecast) -> Section:
    """The report's governors section."""
    block = forecast.results["governors"].summary
    races = forecast.inputs.stage("governors").races
    inner = {"states": states_of(block), "count": block["count"],
             "shared_error_fraction": block["shared_error_fraction"], "draws": block["draws"],
             "as_of": block["as_of"]}
    names = {r.state: {c.key: c.name for c in r.candidates} for r in races.races}
    d = block["diagnostics"]
    if d["converged"]:
        diag = (f"<p class='sub'>State-poll fit: {block['polls_used']} polls, converged (max "
                f"R-hat {d['max_rhat']:.3f}).</p>")
    else:
        diag = ("<div class='warn' id='governor-fit-diagnostics'><strong>WARNING: the state-poll "
                "model did not converge — do not publish these numbers.</strong> "
                + html.escape("; ".join(d.get("problems", []))) + "</div>")
    figures = {
        "governors_map": ("Governor races: leader and its P(win) by state (hatched: no state "
                          "polls, baseline + national swing only).", plot_governor_map(inner)),
        "governors_count": ("Number of governorships won per coalition.",
                            plot_governor_counts(inner)),
    }
    body = diag + governor_table_html(inner, names=names)
    title = f"Governors: the {len(races.races)} races"
    return Section("governors", title, body, figures)


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
