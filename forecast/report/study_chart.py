"""Chart comparing the scenarios of a sensitivity study (a :mod:`forecast.study` result)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import matplotlib
import numpy as np
import xarray as xr

from ..files import atomic_write_bytes
from ..simulate import QUANTILES

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..colors import assign_colors  # noqa: E402
from .page import figure_png


def scenario_labels(ds: xr.Dataset, sep: str = ", ") -> list[str]:
    """``factor=level, ...`` for each scenario (first factor slowest, as in the Dataset)."""
    names = json.loads(ds.attrs.get("factors", "{}")) or {}
    names = [n for n in names if n in ds.dims] or [d for d in ds["p_win"].dims
                                                  if d != "candidate"]
    labels = []
    for combo in itertools.product(*(ds[n].values.tolist() for n in names)):
        labels.append(sep.join(f"{n}={_fmt_level(v)}" for n, v in zip(names, combo,
                                                                    strict=True)))
    return labels


def _fmt_level(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _factor_dims(ds: xr.Dataset) -> list[str]:
    return [d for d in ds["p_win"].dims if d != "candidate"]


def plot_study(ds: xr.Dataset, path: str | Path, *, style=None):
    """Chart comparing scenarios: P(win) and the 90%/50% valid-vote share intervals.

    ``style`` (:func:`forecast.report.style.candidate_style` of the study's election) gives the
    candidates' names and colours, as in the report.

    Written as PNG at ``path`` (through a temporary file and a rename); returns the path.
    """
    dims = _factor_dims(ds)
    p_win = ds["p_win"].transpose(*dims, "candidate")
    shares = ds["share_valid"].transpose(*dims, "candidate", "quantile")
    candidates = [str(c) for c in ds["candidate"].values]
    k = len(candidates)
    n = int(np.prod([ds.sizes[d] for d in dims])) if dims else 1
    p = p_win.values.reshape(n, k)
    q = shares.values.reshape(n, k, -1)
    quantiles = [float(x) for x in ds["quantile"].values]
    i05, i25, i50, i75, i95 = (quantiles.index(x) for x in QUANTILES)
    labels = scenario_labels(ds, sep="\n") if dims else ["base"]
    converged = ds["converged"].values.reshape(n) if "converged" in ds else np.ones(n, bool)
    labels = [lab + ("" if ok else "\n(NOT CONVERGED)") for lab, ok in zip(labels, converged,
                                                                         strict=True)]
    names = (dict(zip(candidates, [str(x) for x in ds["candidate_name"].values], strict=True))
             if "candidate_name" in ds.coords else {})
    if style is not None:
        names = {c: style.label(c) for c in candidates}
        colors = {c: style.color(c) for c in candidates}
    else:
        colors = assign_colors(candidates)
    row = max(0.3 * k, 0.25 * max(len(dims), 1) + 0.2)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 1.6 + row * n), layout="constrained",
                                   sharey=True)
    y = np.arange(n)[::-1].astype(float)
    # first candidate on top within each scenario, as in the legend
    offsets = -(np.arange(k) - (k - 1) / 2) * (0.75 / max(k, 1))
    for j, c in enumerate(candidates):
        yy = y + offsets[j]
        ax1.barh(yy, p[:, j], height=0.75 / k, color=colors[c], label=names.get(c, c))
        ax2.hlines(yy, q[:, j, i05], q[:, j, i95], color=colors[c], lw=1.5)
        ax2.hlines(yy, q[:, j, i25], q[:, j, i75], color=colors[c], lw=4.5)
        ax2.plot(q[:, j, i50], yy, "o", color="white", mec=colors[c], ms=5)
        for yi, pi in zip(yy, p[:, j], strict=True):
            if pi >= 0.005:
                text = f"{pi:.0%}" if 0.015 <= pi <= 0.985 else f"{pi:.1%}"
                ax1.text(min(pi, 0.87) + 0.01, yi, text,
                         va="center", fontsize="x-small",
                         color="white" if pi > 0.88 else "0.2")
    ax1.set_yticks(y, labels, fontsize="small")
    ax1.set_ylim(-0.6, n - 0.4)
    ax1.set_xlim(0, 1)
    ax1.set_title("P(win)")
    ax2.set_title("Share of the valid vote: median, 50% and 90% intervals")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.grid(axis="x", alpha=0.3)
        for b in y[:-1] - 0.5:
            ax.axhline(b, color="0.85", lw=0.8)
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=min(k, 4),
               fontsize="small", frameon=False)
    title = ds.attrs.get("election_name", "")
    fig.suptitle(f"Sensitivity study{': ' + title if title else ''}")
    path = Path(path)
    atomic_write_bytes(path, figure_png(fig))
    return path
