"""Governor races: race definitions, state polls, a hierarchical poll model, simulation.

Public API (docs/governors.md)::

    from forecast.governors import (load_governor_races, read_governor_polls, load_governor_spec,
                                    fit_governors, simulate_governors, governors_summary,
                                    load_governor_results, backtest_governors)
"""

from importlib import import_module

_EXPORTS = {
    "load_governor_races": "races", "GovernorRaces": "races", "Race": "races",
    "RaceCandidate": "races", "local_effect_calibration": "races",
    "read_governor_polls": "polls", "GovernorPolls": "polls",
    "GovernorSpec": "model", "load_governor_spec": "model", "fit_governors": "model",
    "GovernorFit": "model", "prepare_governors": "model", "build_governor_model": "model",
    "simulate_governors": "simulate", "governors_summary": "simulate",
    "national_from_shares": "simulate",
    "load_governor_results": "backtest", "backtest_governors": "backtest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'forecast.governors' has no attribute {name!r}")
