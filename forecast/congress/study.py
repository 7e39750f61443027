"""Seat projections in sensitivity studies: Congress factors and the seat summary.

Importing this module (``forecast.study`` does) registers:

* factors acting after the presidential fit (no refit): ``ticket_split_sd`` (number >= 0),
  ``swing`` (``uniform`` | ``proportional``), ``seat_noise_scale`` (multiplies the state,
  district and Senate-race noise of ``models/congress.toml``);
* a summary adding, for elections with a ``congress/`` definition, ``seats`` (chamber,
  coalition, quantile), ``seats_mean``, ``p_majority``, ``p_two_thirds`` (chamber, coalition),
  ``p_president_majority``, ``p_president_two_thirds`` (chamber) and ``party_poll_converged``.

The party polls are fitted once per worker process and as-of date (they do not depend on the
presidential factors) and reused by every scenario there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import xarray as xr

from ..fit import Fit
from ..study.factors import LevelError, Setup, register_factor, register_summary
from .forecast import CongressInputs, congress_forecast, fit_party_polls, load_congress_inputs
from .summary import CHAMBERS

PARTY_SEED = 20180701
_PARTY_FITS: dict[tuple, tuple[CongressInputs, Fit]] = {}
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


def _party_fit(setup: Setup, result: Fit) -> tuple[CongressInputs, Fit] | None:
    cong = load_congress_inputs(setup.election)
    if cong is None:
        return None
    key = (str(setup.election.directory.resolve()), result.as_of,
           json.dumps(cong.party_spec.as_dict(), sort_keys=True, default=str))
    if key not in _PARTY_FITS:
        party = fit_party_polls(cong, as_of=result.as_of, seed=PARTY_SEED, progress=False)
        _PARTY_FITS[key] = (cong, party)
    return _PARTY_FITS[key]


def _seed(result: Fit, setup: Setup) -> int:
    text = json.dumps({"as_of": result.as_of.isoformat(),
                       "congress": setup.extra.get("congress", {}),
                       "simulate": setup.simulate}, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def seat_summary(draws: xr.Dataset, result: Fit, setup: Setup) -> dict[str, xr.DataArray]:
    """Seat quantiles and majority probabilities of one scenario (empty without Congress, or
    when the study turned seats off)."""
    if not setup.extra.get("seats", True):
        return {}
    found = _party_fit(setup, result)
    if found is None:
        return {}
    cong, party = found
    settings = dict(setup.extra.get("congress", {}))
    scale = float(settings.pop("noise_scale", 1.0))
    spec = cong.spec.with_(**settings)
    spec = spec.with_(state_noise_k=spec.state_noise_k * scale,
                      district_noise_k=spec.district_noise_k * scale,
                      senate_noise_k=spec.senate_noise_k * scale)
    out = congress_forecast(result, party, cong.definition, spec, seed=_seed(result, setup),
                            polling_error_scale=float(setup.simulate.get(
                                "polling_error_scale", 1.0)),
                            winners=draws["winner"].values)
    chambers = list(CHAMBERS)
    coalitions = list(cong.definition.coalitions)
    seats = np.array([[[out.summary[ch]["coalitions"][k]["seats"][q]
                        for q in ("q05", "q50", "q95")] for k in coalitions]
                      for ch in chambers])
    coords = {"chamber": chambers, "coalition": coalitions}

    def table(field: str) -> xr.DataArray:
        return xr.DataArray([[out.summary[ch]["coalitions"][k][field] for k in coalitions]
                             for ch in chambers], dims=("chamber", "coalition"), coords=coords)

    mean = xr.DataArray([[out.summary[ch]["coalitions"][k]["seats"]["mean"] for k in coalitions]
                         for ch in chambers], dims=("chamber", "coalition"), coords=coords)
    return {
        "seats": xr.DataArray(seats, dims=("chamber", "coalition", "seat_quantile"),
                              coords={**coords, "seat_quantile": list(QUANTILES)}),
        "seats_mean": mean,
        "p_majority": table("p_majority"),
        "p_two_thirds": table("p_two_thirds"),
        "p_president_majority": xr.DataArray(
            [out.summary[ch]["president"]["p_majority"] for ch in chambers],
            dims="chamber", coords={"chamber": chambers}),
        "p_president_two_thirds": xr.DataArray(
            [out.summary[ch]["president"]["p_two_thirds"] for ch in chambers],
            dims="chamber", coords={"chamber": chambers}),
        "party_poll_converged": xr.DataArray(bool(party.diagnostics.converged)),
    }


register_summary(seat_summary)
