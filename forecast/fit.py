"""Fit the poll-aggregation model, check convergence, and save / load the posterior."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
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
from .spec import ModelSpec

#: Environment variable: threads a fit samples its chains on (default ``min(chains, cores)``).
#: Set by forecast/timeline.py for its worker processes so parallel fits share the cores.
SAMPLER_THREADS_ENV = "FORECAST_SAMPLER_THREADS"

#: Thresholds a fit must meet to be called converged (docs/model.md).
MAX_RHAT = 1.01
MIN_ESS_BULK = 400


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

    def as_dict(self) -> dict:
        """Plain dict (as written to ``summary.json``)."""
        return asdict(self)

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
    """A fitted model: the posterior (an ArviZ DataTree) with what it was fitted from."""

    posterior: xr.DataTree
    election: Election
    spec: ModelSpec
    as_of: dt.date
    polls: pd.DataFrame
    diagnostics: Diagnostics
    data: ModelData | None = None


_PARAMETERS = ("level", "innovation", "random_walk_sd", "house_effect_sd", "house_effect_raw",
               "mode_effect_raw", "log_concentration")


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


def fit(polls: PollTable, election: Election, spec: ModelSpec, *,
        as_of: dt.date | None = None, seed: int = 20180701,
        progress: bool | None = None) -> Fit:
    """Fit the model to the polls ended by ``as_of``.

    Parameters
    ----------
    polls, election, spec
        Validated polls, the election definition and the model specification.
    as_of
        Only polls whose fieldwork ended by this date are used (default: the last poll).
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


def fit_data(data: ModelData, election: Election, spec: ModelSpec, *, seed: int = 20180701,
             progress: bool | None = None) -> Fit:
    """Fit prepared model data (see :func:`fit`); used directly by calibration studies."""
    if progress is None:
        progress = sys.stderr.isatty()
    cores = _sampler_threads(spec.chains)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        if spec.sampler == "nutpie":
            import nutpie

            key = structure_key(data, spec)
            compiled = _COMPILED.get(key)
            if compiled is None:
                compiled = nutpie.compile_pymc_model(build_model(data, spec))
                _COMPILED[key] = compiled
                while len(_COMPILED) > _CACHE_SIZE:
                    _COMPILED.pop(next(iter(_COMPILED)))
            else:
                # Same structure (candidates, knots, pollsters, modes, priors): swap the data in
                # and skip compilation entirely.
                compiled = compiled.with_data(**poll_arrays(data))
            compile_seconds = time.perf_counter() - start
            posterior = nutpie.sample(
                compiled, draws=spec.draws, tune=spec.tune, chains=spec.chains,
                cores=cores, seed=seed, progress_bar=progress,
                target_accept=spec.target_accept, save_warmup=False)
        else:
            import pymc as pm

            compile_seconds = float("nan")
            model = build_model(data, spec)
            posterior = pm.sample(
                draws=spec.draws, tune=spec.tune, chains=spec.chains,
                cores=cores, random_seed=seed,
                progressbar=progress, target_accept=spec.target_accept, model=model,
                nuts_sampler="pymc", compute_convergence_checks=False)
    posterior = _trim(posterior, data)
    seconds = time.perf_counter() - start
    diagnostics = diagnose(posterior, sampler=spec.sampler, fit_seconds=seconds,
                           compile_seconds=compile_seconds)
    return Fit(posterior=posterior, election=election, spec=spec,
               as_of=data.as_of, polls=data.polls, diagnostics=diagnostics, data=data)


def _sampler_threads(chains: int) -> int:
    """Chains sampled in parallel: ``min(chains, cores)``, or :data:`SAMPLER_THREADS_ENV`."""
    setting = os.environ.get(SAMPLER_THREADS_ENV, "")
    threads = int(setting) if setting.strip().isdigit() and int(setting) > 0 else os.cpu_count()
    return max(1, min(chains, threads or 1))


#: Compiled models by structure (see forecast.model.structure_key), most recent last.
_COMPILED: dict[tuple, object] = {}
_CACHE_SIZE = 8


def _trim(tree: xr.DataTree, data: ModelData) -> xr.DataTree:
    """Keep posterior and sample stats, labelled with this fit's knot dates and pollsters.

    A reused compiled model carries the coordinates of the fit it was compiled for; the knot
    dates are relabelled here (the poll table is stored separately by :func:`save_fit`). The
    model's pollster and mode axes are the poll file's: only those with polls by the as-of date
    are kept (the others have no effect), and no mode effect when a single mode is in use.
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


def save_fit(result: Fit, path: str | Path) -> Path:
    """Save a fit to netCDF (posterior, sample stats, polls, settings), atomically."""
    path = Path(path)
    tree = result.posterior.copy()
    polls = result.polls.copy()
    polls = polls.set_index("poll")
    for col in polls.columns:
        if polls[col].dtype == object:
            polls[col] = polls[col].astype(str)
    tree["polls"] = xr.DataTree(polls.to_xarray())
    tree.attrs.update({
        "election_dir": str(result.election.directory.resolve()),
        "as_of": result.as_of.isoformat(),
        "spec": json.dumps(result.spec.as_dict()),
        "diagnostics": json.dumps(result.diagnostics.as_dict()),
    })
    return atomic_write_file(path, lambda tmp: tree.to_netcdf(tmp, engine="netcdf4"))


def load_fit(path: str | Path, election_dir: str | Path | None = None) -> Fit:
    """Load a fit saved by :func:`save_fit` (re-simulate and re-report without refitting)."""
    tree = xr.open_datatree(path, engine="netcdf4").load()
    election = load_election(election_dir or tree.attrs["election_dir"])
    spec = ModelSpec(**json.loads(tree.attrs["spec"]), source=str(path))
    diag = Diagnostics(**json.loads(tree.attrs["diagnostics"]))
    polls = tree["polls"].to_dataset().to_dataframe().reset_index()
    for col in ("field_start", "field_end", "midpoint", "published"):
        if col in polls:
            polls[col] = pd.to_datetime(polls[col])
    posterior = xr.DataTree.from_dict(
        {f"/{g}": tree[g].to_dataset() for g in tree.children if g != "polls"})
    return Fit(posterior=posterior, election=election, spec=spec,
               as_of=dt.date.fromisoformat(tree.attrs["as_of"]), polls=polls,
               diagnostics=diag)
