"""Simulation-based calibration (Talts et al. 2018) of the poll-aggregation model.

Each replication draws every parameter from the prior, simulates poll counts from the model's own
generative process on a fixed poll design (dates, pollsters, modes, sample sizes, candidate sets,
a withdrawal), fits them, and records the rank of each true value among the posterior draws. If
the fitting is right, ranks are uniform and central intervals cover at their nominal rates.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr
from scipy import stats

from .election import Election
from .fit import fit_data
from .model import ModelData, build_model
from .spec import ModelSpec

log = logging.getLogger(__name__)

#: Quantities whose ranks are recorded, by group.
GROUPS = ("vote_share_valid", "house_effect", "random_walk_sd")


def prior_draws(data: ModelData, spec: ModelSpec, n: int, seed: int) -> xr.DataTree:
    """Prior and prior-predictive draws of the model on a poll design."""
    model = build_model(data, spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample_prior_predictive(draws=n, model=model, random_seed=seed,
                                          var_names=[*GROUPS, "polls"])


def _thin(values: np.ndarray, keep: int) -> np.ndarray:
    step = max(1, len(values) // keep)
    return values[::step][:keep]


def run_calibration(data: ModelData, election: Election, spec: ModelSpec, *,
                    replications: int, seed: int = 1, keep_draws: int = 99,
                    progress: bool = False) -> xr.Dataset:
    """Run SBC replications on a poll design.

    Parameters
    ----------
    data
        A prepared poll design (its counts are replaced by simulated ones).
    election, spec
        The election and model specification (the prior is the spec's).
    replications
        Number of prior draws fitted.
    keep_draws
        Posterior draws kept (evenly thinned) per replication for ranks: ranks run 0..keep_draws.

    Returns
    -------
    xarray.Dataset
        ``rank`` and ``truth``, and ``in_50``/``in_90`` (central-interval coverage), with dims
        ``replication`` and ``quantity`` (labelled ``group:index``), plus ``converged`` per
        replication and ``group`` per quantity.
    """
    prior = prior_draws(data, spec, replications, seed)
    prior_ds = prior["prior"].to_dataset()
    counts = prior["prior_predictive"]["polls"].values[0]
    ranks, truths, in50, in90, converged, names = [], [], [], [], [], None
    rhat, divergences = [], []
    for r in range(replications):
        start = time.perf_counter()
        sim = dataclasses.replace(data, counts=counts[r].astype(np.int64))
        result = fit_data(sim, election, spec, seed=seed + 1000 + r, progress=progress)
        post = result.posterior["posterior"]
        row_rank, row_truth, row50, row90, row_names = [], [], [], [], []
        for group in GROUPS:
            true_vals = np.atleast_1d(prior_ds[group].isel(chain=0, draw=r).values).ravel()
            draws = post[group].stack(sample=("chain", "draw")).transpose("sample", ...).values
            draws = draws.reshape(draws.shape[0], -1)
            thinned = _thin(draws, keep_draws)
            for i, truth in enumerate(true_vals):
                row_rank.append(int((thinned[:, i] < truth).sum()))
                lo50, hi50, lo90, hi90 = np.quantile(draws[:, i], [0.25, 0.75, 0.05, 0.95])
                row50.append(lo50 <= truth <= hi50)
                row90.append(lo90 <= truth <= hi90)
                row_truth.append(float(truth))
                row_names.append(f"{group}:{i}")
        names = row_names
        ranks.append(row_rank)
        truths.append(row_truth)
        in50.append(row50)
        in90.append(row90)
        converged.append(result.diagnostics.converged)
        rhat.append(result.diagnostics.max_rhat)
        divergences.append(result.diagnostics.divergences)
        if progress:
            log.info("replication %d/%d: %.1f s, converged %s", r + 1, replications,
                     time.perf_counter() - start, result.diagnostics.converged)
    groups = [n.split(":")[0] for n in names]
    return xr.Dataset(
        {
            "rank": (("replication", "quantity"), np.array(ranks)),
            "truth": (("replication", "quantity"), np.array(truths)),
            "in_50": (("replication", "quantity"), np.array(in50)),
            "in_90": (("replication", "quantity"), np.array(in90)),
            "converged": ("replication", np.array(converged)),
            "max_rhat": ("replication", np.array(rhat)),
            "divergences": ("replication", np.array(divergences)),
        },
        coords={"replication": np.arange(replications), "quantity": names,
                "group": ("quantity", groups)},
        attrs={"keep_draws": keep_draws},
    )


def summarize_calibration(result: xr.Dataset, *, bins: int = 10) -> dict:
    """Coverage of 50%/90% intervals and a chi-square uniformity test of ranks, per group.

    Ranks of one replication's quantities are pooled within a group; the chi-square test treats
    them as independent (they are not, exactly, within a replication), so its p-value is a
    screening figure.
    """
    out = {}
    n_ranks = result.attrs["keep_draws"] + 1
    for group in GROUPS:
        sel = result.sel(quantity=result["group"] == group)
        ranks = sel["rank"].values.ravel()
        edges = np.linspace(0, n_ranks, bins + 1)
        hist, _ = np.histogram(ranks, bins=edges)
        expected = np.full(bins, len(ranks) / bins)
        chi2 = stats.chisquare(hist, expected)
        out[group] = {
            "values": int(len(ranks)),
            "coverage_50": float(sel["in_50"].values.mean()),
            "coverage_90": float(sel["in_90"].values.mean()),
            "rank_histogram": hist.tolist(),
            "chi2_pvalue": float(chi2.pvalue),
        }
    out["replications"] = int(result.sizes["replication"])
    out["converged"] = int(result["converged"].values.sum())
    out["max_rhat_median"] = float(np.median(result["max_rhat"].values))
    out["with_divergences"] = int((result["divergences"].values > 0).sum())
    return out


def plot_rank_histograms(result: xr.Dataset, path: str | Path, *, bins: int = 10) -> Path:
    """Save one rank histogram per group (with the uniform expectation) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_ranks = result.attrs["keep_draws"] + 1
    fig, axes = plt.subplots(1, len(GROUPS), figsize=(4 * len(GROUPS), 3), layout="constrained")
    for ax, group in zip(axes, GROUPS, strict=True):
        ranks = result["rank"].sel(quantity=result["group"] == group).values.ravel()
        ax.hist(ranks, bins=np.linspace(0, n_ranks, bins + 1), color="#4477aa")
        ax.axhline(len(ranks) / bins, color="black", ls="--", lw=1)
        ax.set_title(group)
        ax.set_xlabel("rank of truth among posterior draws")
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
