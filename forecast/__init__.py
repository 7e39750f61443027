"""Bayesian election forecasting: polls -> fit -> posterior -> simulate -> seats -> reports.

The functions a user script needs are importable from here (loaded lazily, so that
``import forecast`` and the command line stay quick)::

    from forecast import load_inputs, compute
    inputs = load_inputs("polls/mx2018")           # every stage: president, Congress, governors
    forecast = compute(inputs, seed=1)             # fit and simulate as of the latest poll
    print(forecast.summary["candidates"]["amlo"]["p_win"])

    from forecast import fit_polls, simulate_election, summarize   # one model by hand
    president = inputs.stage("president")
    result = fit_polls(president.polls, president.election, president.spec, seed=1)
    print(summarize(simulate_election(result, seed=1))["candidates"]["amlo"]["p_win"])

(``fit_polls`` and ``simulate_election`` are ``forecast.fit.fit`` and
``forecast.simulate.simulate``: the submodules ``forecast.fit`` and ``forecast.simulate`` keep
their names.)
"""

from importlib import import_module

__version__ = "0.1.0"

_ALIASES = {"fit_polls": ("fit", "fit"), "simulate_election": ("simulate", "simulate")}
_EXPORTS = {
    "load_election": "election", "Election": "election", "Candidate": "election",
    "read_polls": "polls", "PollTable": "polls",
    "load_spec": "spec", "ModelSpec": "spec",
    "Fit": "fit", "save_fit": "fit", "load_fit": "fit", "support_on": "fit",
    "summarize": "simulate", "outcomes": "simulate", "daily_support": "simulate",
    "load_inputs": "engine", "compute": "engine", "Forecast": "engine",
    "run": "pipeline", "rereport": "pipeline", "update": "pipeline",
    "write_forecast": "output",
    "add_polls": "poll_file",
    "Study": "study", "load_study": "study",
    "InputError": "problems", "Problem": "problems",
}

__all__ = sorted([*_EXPORTS, *_ALIASES])


def __getattr__(name: str):
    if name in _ALIASES:
        module, attr = _ALIASES[name]
        return getattr(import_module(f".{module}", __name__), attr)
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
