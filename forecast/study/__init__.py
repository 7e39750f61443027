"""Sensitivity studies: one base configuration, factors to vary, every combination fitted.

A study runs the model once per *scenario* (one level of each factor) and collects P(win) and
share intervals into one ``xarray.Dataset`` with a dimension per factor (docs/studies.md)::

    from forecast.study import Study
    study = Study("polls/mx2018", factors={"drop_pollster": ["none", "Reforma"],
                                           "polling_error_scale": [1, 1.5, 2]},
                  seed=1, spec_changes={"draws": 500})
    ds = study.run()                       # local processes (Study.local_workers)
    ds = study.run(client=dask_client)     # or a Dask cluster (a Client or "tcp://host:8786")

Modules: :mod:`~forecast.study.factors` (set-up, factor registry, built-in factors),
:mod:`~forecast.study.runner` (planning, seeds, local processes and Dask),
:mod:`~forecast.study.files` (study files, netCDF output), :mod:`~forecast.study.cli`
(``forecast study``); the chart is :func:`forecast.report.study_chart.plot_study`.
"""

from ..report.study_chart import plot_study, scenario_labels
from ..seeds import derive_seed
from .cli import EXIT_INPUT as EXIT_INPUT
from .cli import EXIT_NOT_CONVERGED as EXIT_NOT_CONVERGED
from .cli import EXIT_RUNTIME as EXIT_RUNTIME
from .cli import format_table, main
from .factors import (
    FACTORS,
    SUMMARIES,
    UNDECIDED_LEVELS,
    Factor,
    LevelError,
    Setup,
    check_setting,
    register_factor,
    register_summary,
)
from .files import load_study, save_study
from .runner import DEFAULT_SEED as DEFAULT_SEED
from .runner import SCHEMA as SCHEMA
from .runner import FitRecord, Scenario, Study
from .runner import _core_summary as _core_summary
from .runner import _TaskResult as _TaskResult

# ``X as X``: importable from forecast.study as before the split, but not in __all__ (the tests
# use the private ones to stand in for a fit).
__all__ = ["FACTORS", "SUMMARIES", "UNDECIDED_LEVELS", "Factor", "FitRecord", "LevelError",
           "Scenario", "Setup", "Study", "check_setting", "derive_seed", "format_table",
           "load_study", "main", "plot_study", "register_factor", "register_summary",
           "save_study", "scenario_labels"]

# Seat-model factors and the seat summary (registered on import; no-ops for elections without a
# congress/ definition).
from . import governors as _governors  # noqa: E402, F401
from . import seats as _seats  # noqa: E402, F401
