"""The presidential part of the report: figures and tables from the president stage's results."""

from __future__ import annotations

import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from ..fit import csv_bytes
from ..simulate import daily_support
from .charts import (
    candidate_colors,
    plot_house_effects,
    plot_share_distributions,
    plot_timeline,
    plot_trend,
    plot_win_probability,
)


def president_figures(forecast, summary: dict, timeline: pd.DataFrame | None
                      ) -> dict[str, tuple[str, Figure]]:
    """The presidential charts by file stem: (caption, figure)."""
    result = forecast.results["president"]
    fit, draws = result.fit, result.draws
    election = forecast.election
    names = {c.key: c.name for c in election.candidates}
    # One colour per candidate across every chart, in the election's candidate order.
    colors = candidate_colors(election.candidate_keys)
    support = daily_support(fit)
    house = house_effect_samples(fit)
    figures = {
        "trend": ("Daily latent support with 50% and 90% bands; dots are polls (renormalised "
                  "over the candidates each offered); diamonds: election-day 90% interval.",
                  plot_trend(support, fit.polls, names=names,
                             election_day=pd.Timestamp(election.election_day),
                             election_day_shares=draws)),
        "shares": ("Election-day share of the total vote (includes the historical polling "
                   "error).", plot_share_distributions(draws, names=names, colors=colors)),
        "win_probability": ("Probability of winning under plurality rule.",
                            plot_win_probability(summary, names=names, colors=colors)),
        "house_effects": ("House effects by pollster: median and 90% interval.",
                          plot_house_effects(house, names=names)),
    }
    if timeline is not None and len(timeline):
        figures["timeline"] = ("P(win) over time from weekly as-of fits.",
                               plot_timeline(timeline, names=names, colors=colors))
    return figures


def house_effect_samples(fit) -> xr.DataArray:
    """House effects (pollster, candidate, sample) of a fit."""
    house = fit.posterior["posterior"]["house_effect"].to_dataset()["house_effect"]
    return house.stack(sample=("chain", "draw"))


def president_tables(forecast, summary: dict) -> dict[str, bytes]:
    """CSV files of the presidential forecast."""
    fit = forecast.results["president"].fit
    return {
        "candidates.csv": csv_bytes(candidates_table(summary)),
        "orders.csv": csv_bytes(pd.DataFrame([{"order": ">".join(o["order"]), "p": o["p"]}
                                              for o in summary["orders"]])),
        "support_daily.csv": csv_bytes(_quantile_table(daily_support(fit), ["date", "candidate"],
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
