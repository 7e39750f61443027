"""The presidential part of the report: figures and tables from the president stage's results."""

from __future__ import annotations

import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from ..fit import csv_bytes
from .charts import (
    events_table,
    house_effect_figure,
    share_distribution_chart,
    trend_chart,
    win_probability_chart,
)
from .style import Style, candidate_style
from .vega import Chart


def president_charts(forecast, summary: dict, support: xr.DataArray, style: Style | None = None
                     ) -> tuple[list[Chart], dict[str, tuple[str, Figure]]]:
    """The presidential charts: interactive charts, and static figures by file stem
    (caption, figure): the house-effect forest plot. ``support``: daily_support of the fit."""
    result = forecast.results["president"]
    fit, draws = result.fit, result.draws
    election = forecast.election
    style = style or candidate_style(election)
    charts = [
        win_probability_chart(summary, style),
        trend_chart(support, fit.polls, style, election_day=election.election_day,
                    election_day_shares=draws, events=events_table(election)),
        share_distribution_chart(draws, style),
    ]
    figures = {"house_effects": (
        "House effects by pollster, all candidates on one scale: median (dot), 50% (thick) and "
        "90% (thin) intervals; right of the line, the pollster's polls overstate the candidate "
        "(log-share scale).",
        house_effect_figure(
            fit.posterior["posterior"]["house_effect"].to_dataset()["house_effect"], style))}
    return charts, figures


def house_effect_samples(fit) -> xr.DataArray:
    """House effects (pollster, candidate, sample) of a fit."""
    house = fit.posterior["posterior"]["house_effect"].to_dataset()["house_effect"]
    return house.stack(sample=("chain", "draw"))


def president_tables(forecast, summary: dict, support: xr.DataArray) -> dict[str, bytes]:
    """CSV files of the presidential forecast (``support``: :func:`daily_support` of its
    fit)."""
    fit = forecast.results["president"].fit
    return {
        "candidates.csv": csv_bytes(candidates_table(summary)),
        "orders.csv": csv_bytes(pd.DataFrame([{"order": ">".join(o["order"]), "p": o["p"]}
                                              for o in summary["orders"]])),
        "support_daily.csv": csv_bytes(_quantile_table(support, ["date", "candidate"],
                                                       "support")),
        "house_effects.csv": csv_bytes(_quantile_table(house_effect_samples(fit),
                                                       ["pollster", "candidate"],
                                                       "house_effect")),
        "polls_used.csv": csv_bytes(fit.polls),
    }


def candidates_table(summary: dict) -> pd.DataFrame:
    """One row per candidate: P(win) and share quantiles."""
    rows = []
    for key, c in summary["candidates"].items():
        row = {"candidate": key, "name": c["name"], "p_win": c["p_win"]}
        for basis in ("share_total", "share_valid"):
            for stat, value in c[basis].items():
                row[f"{basis}_{stat}"] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _quantile_table(samples: xr.DataArray, index: list[str], name: str) -> pd.DataFrame:
    q = samples.quantile([0.05, 0.5, 0.95], dim="sample")
    frame = q.to_dataframe(name=name).reset_index()
    return frame.pivot_table(index=index, columns="quantile", values=name).rename(
        columns={0.05: "q05", 0.5: "q50", 0.95: "q95"}).reset_index()
