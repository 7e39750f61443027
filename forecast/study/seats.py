"""Seat projections in sensitivity studies: Congress factors and the seat summary.

Importing this module (``forecast.study`` does; it is
``forecast.study.seats``) registers:

* factors acting after the presidential fit (no refit): ``ticket_split_sd`` (number >= 0),
  ``swing`` (``uniform`` | ``proportional``), ``seat_noise_scale`` (multiplies the state,
  district and Senate-race noise of ``models/congress.toml``);
* a summary adding, for elections with a ``congress/`` definition, ``seats`` (chamber,
  coalition, quantile), ``seats_mean``, ``p_majority``, ``p_two_thirds`` (chamber, coalition),
  ``p_president_majority``, ``p_president_two_thirds`` (chamber) and ``party_poll_converged``.

The seats come from the Congress stage of each scenario's forecast (forecast/engine.py), the same
code as ``forecast run``; its party-poll fit is made once per worker process and as-of date and
reused by every scenario there.
"""

from __future__ import annotations

from dataclasses import replace

import xarray as xr

from ..congress.summary import CHAMBERS
from .factors import LevelError, Setup, register_factor, register_summary

QUANTILES = (0.05, 0.5, 0.95)


def _nonnegative(value: object, inputs: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise LevelError(f"{value!r}: expected a number >= 0")


def _swing_kind(value: object, inputs: object) -> str:
    if value in ("uniform", "proportional"):
        return str(value)
    raise LevelError(f"{value!r}: expected uniform or proportional")


def _set(setup: Setup, key: str, level: object) -> Setup:
    congress = {**setup.extra.get("congress", {}), key: level}
    return replace(setup, extra={**setup.extra, "congress": congress})


@register_factor("ticket_split_sd", parse=_nonnegative, refit=False,
                 help="sd of the ticket-splitting change (Congress vote; no refit)")
def _ticket_split(setup: Setup, level: object) -> Setup:
    return _set(setup, "ticket_split_sd", level)


@register_factor("swing", parse=_swing_kind, refit=False,
                 help="district swing: uniform or proportional (no refit)")
def _swing(setup: Setup, level: object) -> Setup:
    return _set(setup, "swing_kind", level)


@register_factor("seat_noise_scale", parse=_nonnegative, refit=False,
                 help="multiplies the state, district and Senate-race noise (no refit)")
def _noise(setup: Setup, level: object) -> Setup:
    return _set(setup, "noise_scale", level)


def seat_summary(forecast, setup: Setup) -> dict[str, xr.DataArray]:
    """Seat quantiles and majority probabilities of one scenario (empty when the forecast has
    no Congress: no definition, or seats turned off)."""
    if "congress" not in forecast.results:
        return {}
    result = forecast.results["congress"]
    summary = result.summary
    chambers = list(CHAMBERS)
    coalitions = list(summary[chambers[0]]["coalitions"])
    coords = {"chamber": chambers, "coalition": coalitions}

    def table(get) -> xr.DataArray:
        return xr.DataArray([[get(summary[ch]["coalitions"][k]) for k in coalitions]
                             for ch in chambers], dims=("chamber", "coalition"), coords=coords)

    seats = [[[summary[ch]["coalitions"][k]["seats"][q] for q in ("q05", "q50", "q95")]
              for k in coalitions] for ch in chambers]
    president = {ch: summary[ch].get("president", {}) for ch in chambers}
    return {
        "seats": xr.DataArray(seats, dims=("chamber", "coalition", "seat_quantile"),
                              coords={**coords, "seat_quantile": list(QUANTILES)}),
        "seats_mean": table(lambda e: e["seats"]["mean"]),
        "p_majority": table(lambda e: e["p_majority"]),
        "p_two_thirds": table(lambda e: e["p_two_thirds"]),
        "p_president_majority": xr.DataArray(
            [president[ch].get("p_majority", float("nan")) for ch in chambers],
            dims="chamber", coords={"chamber": chambers}),
        "p_president_two_thirds": xr.DataArray(
            [president[ch].get("p_two_thirds", float("nan")) for ch in chambers],
            dims="chamber", coords={"chamber": chambers}),
        "party_poll_converged": xr.DataArray(bool(result.fit.diagnostics.converged)),
    }


register_summary(seat_summary)
