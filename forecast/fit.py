"""Fit the poll-aggregation model, check convergence, and save / load the fit.

A :class:`Fit` is self-describing: the posterior draws the simulation reads, the model data it
was fitted to (as-of date, knots, ballot, poll arrays, the poll table), the model settings, the
seed, the diagnostics and a key (:func:`fit_key`) that identifies the fit exactly. A fresh fit
is canonical (forecast/storage.py): ``load_fit(save_fit(f))`` holds the same numbers as ``f``.
Quantities users ask for are read by named accessors (:func:`support_on`), never from the
sampler's parametrisation (anchor knots, non-centred offsets).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from .election import Election, load_election
from .files import atomic_write_bytes as atomic_write_bytes  # re-exported (was defined here)
from .files import atomic_write_file, csv_safe
from .model import ModelData, build_model, poll_arrays, prepare, structure_key
from .polls import PollTable
from .sampling import SAMPLER_THREADS_ENV, SamplerSettings, sample
from .seeds import DEFAULT_SEED
from .spec import ModelSpec
from .storage import (
    canonical_draws,
    canonical_table,
    digest,
    read_groups,
    table_from_dataset,
    table_to_dataset,
    write_groups,
)

__all__ = ["MAX_RHAT", "MIN_ESS_BULK", "SAMPLER_THREADS_ENV", "Diagnostics", "Fit",
           "atomic_write_bytes", "atomic_write_file", "csv_bytes", "diagnose", "fit",
           "fit_data", "fit_key", "judge", "load_fit", "save_fit", "support_on"]

#: Thresholds a fit must meet to be called converged (docs/model.md).
MAX_RHAT = 1.01
MIN_ESS_BULK = 400
#: What a file written by :func:`save_fit` says it is.
FIT_KIND = "forecast.poll_fit/3"


@dataclass
class Diagnostics:
    """Convergence diagnostics of one fit."""

    max_rhat: float
    divergences: int
    min_ess_bulk: float
    min_ess_bulk_all: float
    mean_tree_depth: float
    sampler: str
    fit_seconds: float
    compile_seconds: float
    draws: int
    chains: int
    converged: bool
    problems: list[str] = field(default_factory=list)

    def as_dict(self, *, timings: bool = True) -> dict:
        """Plain dict; without ``timings`` (as in ``summary.json``, which must not depend on
        how long a run took) the seconds are left out."""
        out = asdict(self)
        if not timings:
            out.pop("fit_seconds")
            out.pop("compile_seconds")
        return out

    def describe(self) -> str:
        """One-paragraph text for the terminal."""
        state = "converged" if self.converged else "NOT CONVERGED"
        text = (f"fit {state}: max R-hat {self.max_rhat:.4f}, divergences {self.divergences}, "
                f"min ESS bulk (election-day shares) {self.min_ess_bulk:.0f}, "
                f"min ESS bulk (all parameters) {self.min_ess_bulk_all:.0f}, "
                f"mean tree depth {self.mean_tree_depth:.1f}, sampler {self.sampler}, "
                f"{self.chains}x{self.draws} draws in {self.fit_seconds:.1f} s "
                f"(compile {self.compile_seconds:.1f} s)")
        if self.problems:
            text += "\n  " + "\n  ".join(self.problems)
        return text


@dataclass
class Fit:
    """A fitted poll model: canonical posterior draws with what they were fitted from.

    Attributes
    ----------
    posterior
        DataTree with a ``posterior`` group holding the stored variables (:data:`STORED`).
    election
        The election (candidates, windows, coalitions).
    spec
        Model settings.
    data
        The model data (as-of date, knots, ballot, poll arrays and table).
    diagnostics
        Convergence diagnostics (computed on every sampled variable).
    seed
        The sampler seed.
    key
        :func:`fit_key` of the data, settings and seed: equal keys, equal draws.
    """

    posterior: xr.DataTree
    election: Election
    spec: ModelSpec
    data: ModelData
    diagnostics: Diagnostics
    seed: int = 0
    key: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date:
        """The forecast date: the model used the polls public by then."""
        return self.data.as_of

    @property
    def polls(self) -> pd.DataFrame:
        """The polls the fit used."""
        return self.data.polls

    @property
    def ballot(self) -> list[str]:
        """Candidates on the election-day ballot as known on the as-of date (and polled)."""
        return list(self.data.ballot)


#: Posterior variables a fit keeps (what simulations, reports and studies read); the others
#: (non-centred offsets) only served the sampler and the diagnostics.
STORED = ("latent", "house_effect", "mode_effect", "random_walk_sd", "house_effect_sd",
          "concentration", "pollster_concentration", "mode_concentration", "latent_horizon",
          "polling_error_sd",
          "polling_error_raw", "vote_share_valid")

_PARAMETERS = ("level", "innovation", "random_walk_sd", "house_effect_sd", "house_effect_raw",
               "mode_effect_raw", "log_concentration", "concentration_pollster_raw",
               "concentration_mode_raw")


def diagnose(posterior: xr.DataTree, *, sampler: str, fit_seconds: float,
             compile_seconds: float) -> Diagnostics:
    """Compute R-hat, ESS and divergences with ArviZ and judge convergence."""
    names = [v for v in _PARAMETERS if v in posterior["posterior"].data_vars]
    with warnings.catch_warnings():
        # Constant entries (the level of a candidate not yet in the race is 0) have no R-hat:
        # NaN, ignored below, instead of a division warning.
        warnings.simplefilter("ignore", category=RuntimeWarning)
        rhat = az.rhat(posterior, var_names=names + ["vote_share_valid"])
        ess_all = az.ess(posterior, var_names=names, method="bulk")
        ess_share = az.ess(posterior, var_names=["vote_share_valid"], method="bulk")
    max_rhat = float(max(np.nanmax(rhat[v].values) for v in rhat.data_vars))
    min_all = float(min(np.nanmin(ess_all[v].values) for v in ess_all.data_vars))
    min_share = float(np.nanmin(ess_share["vote_share_valid"].values))
    return judge(posterior, max_rhat=max_rhat, min_ess_bulk=min_share, min_ess_bulk_all=min_all,
                 quantity="election-day shares", sampler=sampler, fit_seconds=fit_seconds,
                 compile_seconds=compile_seconds)


def judge(posterior: xr.DataTree, *, max_rhat: float, min_ess_bulk: float,
          min_ess_bulk_all: float, quantity: str, sampler: str, fit_seconds: float,
          compile_seconds: float) -> Diagnostics:
    """The convergence verdict from a model's R-hat and ESS figures and its sample stats
    (divergences, tree depth); ``quantity`` names what ``min_ess_bulk`` is of. Every model of
    the project (president, party polls, governors) is judged by these same thresholds."""
    stats = posterior["sample_stats"]
    div_name = "diverging" if "diverging" in stats else "divergences"
    divergences = int(stats[div_name].values.astype(bool).sum())
    depth_name = "depth" if "depth" in stats else "tree_depth"
    depth = float(stats[depth_name].mean()) if depth_name in stats else float("nan")
    post = posterior["posterior"]
    problems = []
    if not max_rhat <= MAX_RHAT:
        problems.append(f"max R-hat {max_rhat:.4f} > {MAX_RHAT}")
    if divergences:
        problems.append(f"{divergences} divergent transition(s)")
    if not min_ess_bulk >= MIN_ESS_BULK:
        problems.append(f"min ESS bulk of {quantity} {min_ess_bulk:.0f} < {MIN_ESS_BULK}")
    return Diagnostics(
        max_rhat=max_rhat, divergences=divergences, min_ess_bulk=min_ess_bulk,
        min_ess_bulk_all=min_ess_bulk_all, mean_tree_depth=depth, sampler=sampler,
        fit_seconds=fit_seconds, compile_seconds=compile_seconds,
        draws=int(post.sizes["draw"]), chains=int(post.sizes["chain"]),
        converged=not problems, problems=problems)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV bytes (``\\n`` line ends, 6 significant digits) for the reports."""
    # Text cells (pollster and candidate names...) made inert for spreadsheets; numbers untouched.
    frame = frame.rename(columns=lambda c: csv_safe(c) if isinstance(c, str) else c)
    frame = frame.apply(lambda col: col if pd.api.types.is_numeric_dtype(col) else
                        col.map(lambda v: csv_safe(v) if isinstance(v, str) else v))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", float_format="%.6g")
    return buf.getvalue().encode()


def sampler_settings(spec: ModelSpec) -> SamplerSettings:
    """The sampler part of a model specification."""
    return SamplerSettings(sampler=spec.sampler, chains=spec.chains, draws=spec.draws,
                           tune=spec.tune, target_accept=spec.target_accept)


def fit_key(data: ModelData, spec: ModelSpec, seed: int, election: Election) -> str:
    """What a fit's draws depend on, as one digest: the model arrays, the structure, every
    setting (sampler included), the seed, the candidates' windows and the package version.

    Two fits with the same key have the same draws, so a stored fit with the key of a fit about
    to be made is reused instead (the as-of date itself is not in the key: after the last poll
    it only changes where the forecast reads the latent support, see :func:`support_on`).
    """
    from . import __version__

    windows = [(c.key, c.available_from.isoformat(), c.available_until.isoformat())
               for c in election.candidates]
    return digest("poll-model", __version__, poll_arrays(data, spec.mode_effects),
                  list(structure_key(data, spec)),
                  spec.as_dict(), int(seed), windows)


def fit(polls: PollTable, election: Election, spec: ModelSpec, *,
        as_of: dt.date | None = None, seed: int = DEFAULT_SEED,
        progress: bool | None = None) -> Fit:
    """Fit the model to the polls public by ``as_of``.

    Parameters
    ----------
    polls, election, spec
        Validated polls, the election definition and the model specification.
    as_of
        Only polls public by this date are used (published, or fieldwork ended when no
        publication date is given); default: the last such date.
    seed
        Seed of the sampler; the same inputs and seed give the same draws.
    progress
        Show the sampler's progress bar (default: only on a terminal).

    Returns
    -------
    Fit
        Posterior and diagnostics. A fit that fails its diagnostics is returned, not raised:
        ``fit.diagnostics.converged`` is False and every output says so.
    """
    data = prepare(polls, election, spec, as_of)
    return fit_data(data, election, spec, seed=seed, progress=progress)


def fit_data(data: ModelData, election: Election, spec: ModelSpec, *, seed: int = DEFAULT_SEED,
             progress: bool | None = None) -> Fit:
    """Fit prepared model data (see :func:`fit`); used directly by calibration studies."""
    sampled = sample(lambda: build_model(data, spec), settings=sampler_settings(spec),
                     seed=seed, structure=("poll-model", *structure_key(data, spec)),
                     data=poll_arrays(data, spec.mode_effects), progress=progress)
    tree = _label(sampled.tree, data)
    diagnostics = diagnose(tree, sampler=spec.sampler, fit_seconds=sampled.fit_seconds,
                           compile_seconds=sampled.compile_seconds)
    post = tree["posterior"].to_dataset()
    # Only the draws: the sampler's attributes (creation time, versions) differ run to run.
    post = canonical_draws(post[[v for v in STORED if v in post]].drop_attrs(deep=False))
    data = replace(data, polls=canonical_table(data.polls))
    return Fit(posterior=xr.DataTree.from_dict({"/posterior": post}), election=election,
               spec=spec, data=data, diagnostics=diagnostics, seed=int(seed),
               key=fit_key(data, spec, seed, election))


def _label(tree: xr.DataTree, data: ModelData) -> xr.DataTree:
    """Posterior and sample stats, labelled with this fit's knot dates and pollsters.

    A reused compiled model carries the coordinates of the fit it was compiled for; the knot
    dates are relabelled here. The model's pollster and mode axes are the poll file's: only
    those with polls by the as-of date are kept (the others have no effect), and no mode effect
    when a single mode is in use.
    """
    post = tree["posterior"].to_dataset().assign_coords(knot=data.knots, step=data.knots[:-1])
    post = post.drop_vars([v for v in data_variable_names() if v in post], errors="ignore")
    if "pollster" in post.dims:
        post = post.sel(pollster=list(data.pollsters))
    if "mode" in post.dims:
        if len(data.modes) > 1:
            post = post.sel(mode=list(data.modes))
        else:
            post = post.drop_vars([v for v in post.data_vars
                                   if "mode" in post[v].dims or v == "mode_effect_raw"])
            post = post.drop_dims("mode", errors="ignore")
    return xr.DataTree.from_dict({"/posterior": post,
                                  "/sample_stats": tree["sample_stats"].to_dataset()})


def data_variable_names() -> list[str]:
    """Names of the model's data variables (not parameters)."""
    from .model import POLL_ARRAY_NAMES

    return list(POLL_ARRAY_NAMES)


# --------------------------------------------------------------------------------------------
# Accessors
# --------------------------------------------------------------------------------------------


def _samples(da: xr.DataArray, dim: str) -> np.ndarray:
    """(sample, dim) array from a (chain, draw, ...) posterior variable."""
    return da.stack(sample=("chain", "draw")).transpose("sample", dim).values


def latent_on(result: Fit, day: dt.date) -> xr.DataArray:
    """Latent log-support per sample on ``day``: linear between the weekly knots, as the model
    reads it for a poll on that day. Dims (sample, candidate)."""
    latent = result.posterior["posterior"]["latent"]
    knots = pd.DatetimeIndex(latent.coords["knot"].values)
    when = pd.Timestamp(day)
    if not knots[0] <= when <= knots[-1]:
        raise ValueError(f"{day} is outside the fit's knots {knots[0].date()} .. "
                         f"{knots[-1].date()}")
    right = int(np.searchsorted(knots, when, side="left"))
    if knots[right] == when:
        eta = latent.isel(knot=right)
    else:
        left = right - 1
        w = (when - knots[left]) / (knots[right] - knots[left])
        eta = (1 - w) * latent.isel(knot=left) + w * latent.isel(knot=right)
    values = _samples(eta, "candidate")
    return xr.DataArray(values, dims=("sample", "candidate"),
                        coords={"candidate": [str(c) for c in latent.coords["candidate"].values]})


def support_on(result: Fit, day: dt.date | None = None) -> xr.DataArray:
    """Latent support per sample over the election-day ballot on ``day`` (default: the as-of
    date): the polls' estimate then, before the drift to election day and the election-day
    polling error. Dims (sample, option); rows sum to 1."""
    eta = latent_on(result, day or result.as_of).sel(candidate=result.ballot).values
    expo = np.exp(eta - eta.max(axis=1, keepdims=True))
    return xr.DataArray(expo / expo.sum(axis=1, keepdims=True), dims=("sample", "option"),
                        coords={"option": result.ballot})


def election_day_shares(result: Fit, polling_error_scale: float = 1.0) -> xr.DataArray:
    """Election-day shares of the valid vote per sample (with the polling error). Dims
    (sample, option)."""
    post = result.posterior["posterior"].to_dataset()
    ballot = result.ballot
    if polling_error_scale == 1.0:
        valid = post["vote_share_valid"]
    else:
        eta = (post["latent_horizon"]
               + polling_error_scale * post["polling_error_sd"] * post["polling_error_raw"])
        expo = np.exp(eta - eta.max("ballot"))
        valid = expo / expo.sum("ballot")
    values = _samples(valid, "ballot")
    # Stored at float32 precision: renormalised so every draw sums to 1 again.
    values = values / values.sum(axis=1, keepdims=True)
    return xr.DataArray(values, dims=("sample", "option"), coords={"option": ballot})


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def save_fit(result: Fit, path: str | Path, *, attrs: dict[str, str] | None = None) -> Path:
    """Save a fit (posterior, model data, poll table, settings, diagnostics, key) to netCDF.

    ``attrs`` adds file attributes (e.g. the forecast's key). The election folder is recorded
    relative to the file's folder.
    """
    from . import __version__

    path = Path(path)
    election_dir = os.path.relpath(result.election.directory.resolve(), path.parent.resolve())
    meta = {
        "kind": FIT_KIND,
        "version": __version__,
        "election_dir": election_dir,
        "election_key": result.election.key,
        "as_of": result.as_of.isoformat(),
        "seed": str(result.seed),
        "fit_key": result.key,
        "spec": json.dumps(result.spec.as_dict()),
        "diagnostics": json.dumps(result.diagnostics.as_dict()),
        "meta": json.dumps(result.meta),
        **(attrs or {}),
    }
    groups = {"posterior": result.posterior["posterior"].to_dataset(),
              "model_data": result.data.to_dataset(),
              "polls": table_to_dataset(result.data.polls, "row")}
    return write_groups(path, groups, meta)


def load_fit(path: str | Path, election_dir: str | Path | None = None) -> Fit:
    """Load a fit saved by :func:`save_fit`: it simulates exactly like the fit that was saved.

    Parameters
    ----------
    path
        The fit file.
    election_dir
        The election folder (default: the one recorded in the fit, relative to its file).

    Raises
    ------
    InputError
        Not a fit file, or the election folder cannot be found.
    """
    from .problems import InputError, Problem

    groups, attrs = read_groups(path, kind=FIT_KIND)
    base = Path(path).parent
    directory = Path(election_dir) if election_dir is not None else base / attrs["election_dir"]
    if not (directory / "election.toml").is_file():
        raise InputError([Problem(str(path), 0, "election_dir",
                                  f"the election folder of this fit ({directory}) has no "
                                  "election.toml: pass the election folder explicitly")])
    election = load_election(directory)
    spec = ModelSpec(**json.loads(attrs["spec"]), source=str(path))
    polls = table_from_dataset(groups["polls"], "row")
    data = ModelData.from_dataset(groups["model_data"], polls)
    return Fit(posterior=xr.DataTree.from_dict({"/posterior": groups["posterior"]}),
               election=election, spec=spec, data=data,
               diagnostics=Diagnostics(**json.loads(attrs["diagnostics"])),
               seed=int(attrs["seed"]), key=str(attrs["fit_key"]),
               meta=json.loads(attrs.get("meta", "{}")))

