"""Governor races in sensitivity studies: the ``state_error_scale`` factor and a summary.

Importing this module (``forecast.study`` does) registers:

* ``state_error_scale`` (number >= 0, no refit): multiplies each state's own error (``state_error``)
  (models/governors.toml);
* a summary adding, when the forecast has governor races, ``governor_p_win`` (state,
  candidacy: NaN off a state's ballot) and ``governorships`` (candidacy, seat_quantile: the
  count's 5%, 50% and 95% quantiles) and ``governor_converged``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from ..governors.simulate import states_of
from .factors import Setup, register_factor, register_summary
from .seats import _nonnegative


@register_factor("state_error_scale", parse=_nonnegative, refit=False,
                 help="multiplies the governor races' state error (no refit)")
def _state_error(setup: Setup, level: object) -> Setup:
    return replace(setup, simulate={**setup.simulate, "state_error_scale": float(level)})


def governor_summary(forecast, setup: Setup) -> dict[str, xr.DataArray]:
    """P(win) per state and candidacy and the count of governorships (empty without governor
    races in the forecast)."""
    if "governors" not in forecast.results:
        return {}
    result = forecast.results["governors"]
    block = result.summary
    states = states_of(block)
    candidacies = [str(c) for c in result.draws["candidate"].values]
    p_win = np.full((len(states), len(candidacies)), np.nan)
    for i, (_, v) in enumerate(states.items()):
        for key, p in v["p_win"].items():
            p_win[i, candidacies.index(key)] = p
    counted = list(block["count"])
    count = [[block["count"][k][q] for q in ("q05", "q50", "q95")] for k in counted]
    return {
        "governor_p_win": xr.DataArray(p_win, dims=("state", "candidacy"),
                                       coords={"state": list(states),
                                               "candidacy": candidacies}),
        "governorships": xr.DataArray(count, dims=("candidacy_counted", "seat_quantile"),
                                      coords={"candidacy_counted": counted,
                                              "seat_quantile": [0.05, 0.5, 0.95]}),
        "governor_converged": xr.DataArray(bool(result.fit.diagnostics.converged)),
    }


register_summary(governor_summary)
