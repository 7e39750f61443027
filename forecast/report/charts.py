"""One function per chart. Each takes results (never fits) and returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PALETTE = ["#8c1c13", "#1f4e9c", "#2e8b57", "#d98c1f", "#6a3d9a", "#7f7f7f", "#b15928",
           "#17becf"]


def candidate_colors(candidates: list[str]) -> dict[str, str]:
    """A stable colour per candidate, in definition order."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(candidates)}


def plot_trend(support: xr.DataArray, polls: pd.DataFrame, *, names: dict[str, str] | None = None,
               election_day: pd.Timestamp | None = None, election_day_shares: xr.Dataset | None
               = None) -> Figure:
    """Daily support with 50% and 90% bands, and the polls as dots.

    Parameters
    ----------
    support
        Draws of daily support, dims (date, candidate, sample).
    polls
        Poll table; each poll's shares are renormalised over the candidates it offered.
    names
        Display names by candidate key.
    election_day, election_day_shares
        When given, the election-day 90% interval of ``share_valid`` is drawn at that date.
    """
    candidates = [str(c) for c in support.coords["candidate"].values]
    colors = candidate_colors(candidates)
    names = names or {}
    dates = pd.DatetimeIndex(support.coords["date"].values)
    # Days a candidate was out of the race have support exactly 0: leave them blank.
    q = support.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim="sample")
    q = q.where(support.max("sample") > 0)
    fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
    offered = polls[candidates].to_numpy(dtype=float)
    share = offered / np.nansum(offered, axis=1, keepdims=True)
    for i, c in enumerate(candidates):
        band = q.sel(candidate=c)
        ax.fill_between(dates, band.sel(quantile=0.05), band.sel(quantile=0.95), color=colors[c],
                        alpha=0.15, linewidth=0)
        ax.fill_between(dates, band.sel(quantile=0.25), band.sel(quantile=0.75), color=colors[c],
                        alpha=0.3, linewidth=0)
        ax.plot(dates, band.sel(quantile=0.5), color=colors[c], lw=2, label=names.get(c, c))
        ax.scatter(polls["midpoint"], share[:, i], color=colors[c], s=12, alpha=0.6,
                   edgecolor="none")
        if election_day is not None and election_day_shares is not None and \
                c in election_day_shares["candidate"].values:
            v = election_day_shares["share_valid"].sel(candidate=c).values
            lo, mid, hi = np.quantile(v, [0.05, 0.5, 0.95])
            ax.errorbar([election_day], [mid], yerr=[[mid - lo], [hi - mid]], color=colors[c],
                        fmt="D", ms=5, capsize=3)
    if election_day is not None:
        ax.axvline(election_day, color="black", lw=0.8, ls=":")
    ax.set_ylabel("share of decided voters / valid vote")
    ax.set_ylim(0, None)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="upper left", frameon=False, ncol=2)
    ax.set_title("Latent support (median, 50% and 90% bands) and polls")
    ax.grid(alpha=0.3)
    return fig


def plot_share_distributions(draws: xr.Dataset, *, names: dict[str, str] | None = None,
                             variable: str = "share_total",
                             colors: dict[str, str] | None = None) -> Figure:
    """Election-day share distributions (histograms with 90% intervals), one row per candidate."""
    candidates = [str(c) for c in draws["candidate"].values]
    colors = colors or candidate_colors(candidates)
    names = names or {}
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    for c in candidates:
        v = draws[variable].sel(candidate=c).values
        ax.hist(v, bins=80, density=True, alpha=0.55, color=colors[c], label=names.get(c, c))
        lo, hi = np.quantile(v, [0.05, 0.95])
        ax.hlines(-0.5, lo, hi, color=colors[c], lw=3)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of the total vote" if variable == "share_total" else
                  "share of the valid vote")
    ax.set_yticks([])
    ax.legend(frameon=False)
    ax.set_title("Election-day vote share (bars below: 90% intervals)")
    return fig


def plot_win_probability(summary: dict, *, names: dict[str, str] | None = None,
                         colors: dict[str, str] | None = None) -> Figure:
    """Horizontal bars of each candidate's probability of winning."""
    names = names or {}
    items = sorted(summary["candidates"].items(), key=lambda kv: kv[1]["p_win"])
    keys = [k for k, _ in items]
    colors = colors or candidate_colors(list(summary["candidates"]))
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(keys) + 1.2), layout="constrained")
    p = [v["p_win"] for _, v in items]
    ax.barh([names.get(k, k) for k in keys], p, color=[colors[k] for k in keys])
    for i, value in enumerate(p):
        ax.text(min(value + 0.01, 0.9), i, f"{value:.1%}", va="center")
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("Probability of winning (plurality)")
    return fig


def plot_house_effects(house: xr.DataArray, *, names: dict[str, str] | None = None) -> Figure:
    """House effects by pollster: posterior median and 90% interval, one panel per candidate.

    ``house`` has dims (pollster, candidate, sample), on the log-share scale.
    """
    names = names or {}
    candidates = [str(c) for c in house.coords["candidate"].values]
    pollsters = [str(p) for p in house.coords["pollster"].values]
    colors = candidate_colors(candidates)
    q = house.quantile([0.05, 0.5, 0.95], dim="sample")
    fig, axes = plt.subplots(1, len(candidates), figsize=(2.3 * len(candidates) + 2.5,
                                                          0.28 * len(pollsters) + 1.5),
                             sharey=True, layout="constrained")
    axes = np.atleast_1d(axes)
    y = np.arange(len(pollsters))
    for ax, c in zip(axes, candidates, strict=True):
        qc = q.sel(candidate=c)
        ax.hlines(y, qc.sel(quantile=0.05), qc.sel(quantile=0.95), color=colors[c])
        ax.plot(qc.sel(quantile=0.5), y, "o", color=colors[c], ms=4)
        ax.axvline(0, color="black", lw=0.7)
        ax.set_title(names.get(c, c).split(" (")[0], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_yticks(y, pollsters, fontsize=8)
    fig.suptitle("House effects (log-share scale; >0 = pollster overstates the candidate)")
    return fig


def plot_timeline(timeline: pd.DataFrame, *, names: dict[str, str] | None = None,
                  colors: dict[str, str] | None = None) -> Figure:
    """P(win) over time from a stored timeline (columns as_of, candidate, p_win)."""
    names = names or {}
    candidates = list(dict.fromkeys(timeline["candidate"]))
    colors = colors or candidate_colors(candidates)
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    for c in candidates:
        t = timeline[timeline["candidate"] == c].sort_values("as_of")
        ax.plot(pd.to_datetime(t["as_of"]), t["p_win"], "-o", ms=3, color=colors.get(c),
                label=names.get(c, c))
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("Probability of winning over the campaign (as-of fits)")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return fig
