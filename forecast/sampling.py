"""One way to sample every model of the project (presidential, party-poll and governor models).

:func:`sample` compiles a PyMC model once per *structure* (what the compiled code depends on
besides its data) and keeps it in an in-process cache; a later fit of the same structure swaps
its data arrays in (nutpie's ``with_data``) instead of recompiling. The draws are the same
either way (tests/test_paths.py): the data of a compiled model are ``pm.Data`` arrays, and the
graph avoids BLAS kernels whose rounding depends on memory alignment (forecast/model.py).

Threads: a fit samples ``min(chains, cores)`` chains in parallel, or the number in the
environment variable :data:`SAMPLER_THREADS_ENV` (set by the timeline and study runners so that
parallel worker processes share the cores).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pymc as pm
import xarray as xr

log = logging.getLogger(__name__)

#: Environment variable: threads a fit samples its chains on (default ``min(chains, cores)``).
SAMPLER_THREADS_ENV = "FORECAST_SAMPLER_THREADS"

#: Compiled models by structure key, most recent last.
_COMPILED: dict[tuple, object] = {}
_CACHE_SIZE = 8


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample: sampler name, chains, draws, tuning steps, target acceptance."""

    sampler: str = "nutpie"
    chains: int = 4
    draws: int = 2000
    tune: int = 300
    target_accept: float = 0.95
    adaptation: str = "diag"


@dataclass
class Sampled:
    """Raw draws of one fit with the time it took."""

    tree: xr.DataTree
    fit_seconds: float
    compile_seconds: float


def sampler_threads(chains: int) -> int:
    """Chains sampled in parallel: ``min(chains, cores)``, or :data:`SAMPLER_THREADS_ENV`."""
    setting = os.environ.get(SAMPLER_THREADS_ENV, "")
    threads = int(setting) if setting.strip().isdigit() and int(setting) > 0 else os.cpu_count()
    return max(1, min(chains, threads or 1))


@contextlib.contextmanager
def threads_for_workers(threads: int | None) -> Iterator[None]:
    """Set the sampling threads of fits in this process and in processes started inside."""
    previous = os.environ.get(SAMPLER_THREADS_ENV)
    if threads is not None:
        os.environ[SAMPLER_THREADS_ENV] = str(threads)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(SAMPLER_THREADS_ENV, None)
        else:
            os.environ[SAMPLER_THREADS_ENV] = previous


def sample(build: Callable[[], pm.Model], *, settings: SamplerSettings, seed: int,
           structure: tuple | None = None, data: dict | None = None,
           progress: bool | None = None) -> Sampled:
    """Sample a model with nutpie (default) or PyMC's NUTS.

    Parameters
    ----------
    build
        Builds the PyMC model (called only when no compiled model of ``structure`` is cached).
    settings
        Sampler settings.
    seed
        Sampler seed: the same model, data and seed give the same draws.
    structure
        Key of what the compiled model depends on besides ``data``; ``None`` compiles afresh.
    data
        The model's ``pm.Data`` arrays by name, swapped into a cached compiled model.
    progress
        Progress bar (default: only when stderr is a terminal).
    """
    if progress is None:
        progress = sys.stderr.isatty()
    cores = sampler_threads(settings.chains)
    start = time.perf_counter()
    reused = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        if settings.sampler == "nutpie":
            import nutpie

            compiled = _COMPILED.get(structure) if structure is not None else None
            if compiled is None:
                compiled = nutpie.compile_pymc_model(build())
                if structure is not None:
                    _COMPILED[structure] = compiled
                    while len(_COMPILED) > _CACHE_SIZE:
                        _COMPILED.pop(next(iter(_COMPILED)))
            else:
                reused = True
                # Only the arrays the compiled graph kept (a setting can leave one unused).
                known = {var.name for var in compiled.shared_var_keys}
                compiled = compiled.with_data(**{k: v for k, v in (data or {}).items()
                                                 if k in known})
            compile_seconds = time.perf_counter() - start
            tree = nutpie.sample(compiled, draws=settings.draws, tune=settings.tune,
                                 chains=settings.chains, cores=cores, seed=seed,
                                 progress_bar=progress, target_accept=settings.target_accept,
                                 save_warmup=False, adaptation=settings.adaptation)
        else:
            compile_seconds = float("nan")
            tree = pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                             cores=cores, random_seed=seed, progressbar=progress,
                             target_accept=settings.target_accept, model=build(),
                             nuts_sampler="pymc", compute_convergence_checks=False)
    seconds = time.perf_counter() - start
    log.debug("sampled %s chains x %s draws in %.1f s (compile %.1f s, reused %s)",
              settings.chains, settings.draws, seconds, compile_seconds, reused)
    return Sampled(tree=tree, fit_seconds=seconds, compile_seconds=compile_seconds)


def clear_compiled() -> None:
    """Forget every compiled model of this process (tests of the compile paths)."""
    _COMPILED.clear()
