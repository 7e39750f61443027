"""Seat projections inside sensitivity studies (forecast.study.seats): the Congress stage of
each scenario's forecast, with the study's simulation-time factors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from forecast.engine import load_inputs
from forecast.stages import CongressStage, Options, StageResult
from forecast.study import FACTORS, LevelError, Setup
from forecast.study import seats as congress_study
from forecast.study.runner import scenario_settings

from .test_congress import _fake_fit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fakes():
    inputs = load_inputs(ROOT / "polls" / "mx2018", Options(governors=False))
    cong = inputs.stage("congress")
    n = 300
    rng = np.random.default_rng(0)
    pres_opts = ["amlo", "anaya", "meade", "rodriguez"]
    now = rng.dirichlet([45, 25, 22, 5], size=n)
    day = rng.dirichlet([45, 25, 22, 5], size=n)
    coalitions = {"amlo": "jhh", "anaya": "paf", "meade": "tpm", "rodriguez": "independent"}
    president = _fake_fit(pres_opts, now, day, coalitions)
    party_opts = [*cong.definition.parties, "independent"]
    party_now = rng.dirichlet([36, 18, 16, 4, 3, 4, 4, 2, 3, 6], size=n)
    party = _fake_fit(party_opts, party_now, party_now)
    names = np.array(pres_opts)[day.argmax(axis=1)]
    draws = xr.Dataset({"winner": ("draw", names)})
    upstream = {"president": StageResult("president", president, draws, {})}
    setup = Setup(polls=None, election=inputs.election, spec=None)
    return cong, party, upstream, setup


def _scenario(fakes, setup: Setup):
    """The forecast of one scenario as the study runner builds it (Congress stage only)."""
    cong, party, upstream, _ = fakes
    stage = CongressStage()
    draws = stage.simulate(party, cong, upstream, 7, scenario_settings(setup))
    summary = stage.summarise(draws, party, cong)
    return SimpleNamespace(results={**upstream,
                                    "congress": StageResult("congress", party, draws, summary)})


def test_seat_summary_variables(fakes):
    setup = fakes[3]
    out = congress_study.seat_summary(_scenario(fakes, setup), setup)
    assert out["seats"].dims == ("chamber", "coalition", "seat_quantile")
    assert list(out["seats"].coords["chamber"].values) == ["deputies", "senate"]
    assert list(out["seats"].coords["coalition"].values) == ["jhh", "paf", "tpm"]
    s = out["seats"].values
    assert (s[..., 0] <= s[..., 1]).all() and (s[..., 1] <= s[..., 2]).all()
    assert (out["p_two_thirds"] <= out["p_majority"]).all()
    assert out["p_president_majority"].dims == ("chamber",)
    assert bool(out["party_poll_converged"])
    # Reproducible: the seed comes from the scenario, not the call order.
    again = congress_study.seat_summary(_scenario(fakes, setup), setup)
    for k in out:
        xr.testing.assert_identical(out[k], again[k])


def test_congress_factors_change_the_seat_summary(fakes):
    setup = fakes[3]
    base = congress_study.seat_summary(_scenario(fakes, setup), setup)
    wide = FACTORS["ticket_split_sd"].apply(setup, 0.5)
    assert wide.extra["congress"] == {"ticket_split_sd": 0.5}
    out = congress_study.seat_summary(_scenario(fakes, wide), wide)
    spread = lambda o: float((o["seats"].sel(seat_quantile=0.95)  # noqa: E731
                              - o["seats"].sel(seat_quantile=0.05)).sel(
        chamber="deputies", coalition="paf"))
    assert spread(out) > spread(base)
    quiet = FACTORS["seat_noise_scale"].apply(FACTORS["swing"].apply(setup, "proportional"), 0.0)
    assert quiet.extra["congress"] == {"swing_kind": "proportional", "noise_scale": 0.0}
    assert scenario_settings(quiet) == {"congress": {"swing_kind": "proportional",
                                                     "noise_scale": 0.0}}
    calm = congress_study.seat_summary(_scenario(fakes, quiet), quiet)
    assert not np.array_equal(calm["seats"].values, base["seats"].values)
    with pytest.raises(LevelError, match="expected uniform or proportional"):
        FACTORS["swing"].parse("cubic", None)
    with pytest.raises(LevelError, match="expected a number >= 0"):
        FACTORS["ticket_split_sd"].parse(-1, None)


def test_no_congress_in_the_forecast_means_no_seat_variables(fakes):
    """Elections without a congress/ definition, and studies with ``seats = false`` (the
    timeline), have no Congress stage: no seat variables."""
    setup = fakes[3]
    assert congress_study.seat_summary(SimpleNamespace(results={}), setup) == {}
    assert congress_study.seat_summary(SimpleNamespace(results={}),
                                       replace(setup, extra={"seats": False})) == {}
