"""Seat projections inside sensitivity studies (forecast.congress.study)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from forecast.congress import study as congress_study
from forecast.congress.forecast import load_congress_inputs
from forecast.election import load_election
from forecast.study import FACTORS, LevelError, Setup

from .test_congress import _fake_fit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fakes(monkeypatch):
    election = load_election(ROOT / "polls" / "mx2018")
    cong = load_congress_inputs(election)
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
    party.diagnostics = SimpleNamespace(converged=True, as_dict=lambda: {"converged": True})
    party.polls = [None] * 26
    monkeypatch.setattr(congress_study, "_party_fit", lambda setup, result: (cong, party))
    names = np.array(pres_opts)[day.argmax(axis=1)]
    draws = xr.Dataset({"winner": ("draw", names)})
    setup = Setup(polls=None, election=election, spec=None)
    return president, draws, setup


def test_seat_summary_variables(fakes):
    president, draws, setup = fakes
    out = congress_study.seat_summary(draws, president, setup)
    assert out["seats"].dims == ("chamber", "coalition", "seat_quantile")
    assert list(out["seats"].coords["chamber"].values) == ["deputies", "senate"]
    assert list(out["seats"].coords["coalition"].values) == ["jhh", "paf", "tpm"]
    s = out["seats"].values
    assert (s[..., 0] <= s[..., 1]).all() and (s[..., 1] <= s[..., 2]).all()
    assert (out["p_two_thirds"] <= out["p_majority"]).all()
    assert out["p_president_majority"].dims == ("chamber",)
    assert bool(out["party_poll_converged"])
    # Reproducible: the seed comes from the scenario, not the call order.
    again = congress_study.seat_summary(draws, president, setup)
    for k in out:
        xr.testing.assert_identical(out[k], again[k])


def test_congress_factors_change_the_seat_summary(fakes):
    president, draws, setup = fakes
    base = congress_study.seat_summary(draws, president, setup)
    wide = FACTORS["ticket_split_sd"].apply(setup, 0.5)
    assert wide.extra["congress"] == {"ticket_split_sd": 0.5}
    out = congress_study.seat_summary(draws, president, wide)
    spread = lambda o: float((o["seats"].sel(seat_quantile=0.95)  # noqa: E731
                              - o["seats"].sel(seat_quantile=0.05)).sel(
        chamber="deputies", coalition="paf"))
    assert spread(out) > spread(base)
    quiet = FACTORS["seat_noise_scale"].apply(FACTORS["swing"].apply(setup, "proportional"), 0.0)
    assert quiet.extra["congress"] == {"swing_kind": "proportional", "noise_scale": 0.0}
    congress_study.seat_summary(draws, president, quiet)
    with pytest.raises(LevelError, match="expected uniform or proportional"):
        FACTORS["swing"].parse("cubic", None)
    with pytest.raises(LevelError, match="expected a number >= 0"):
        FACTORS["ticket_split_sd"].parse(-1, None)


def test_no_congress_definition_means_no_seat_variables(tmp_path):
    from forecast.synthetic import write_synthetic_election

    directory = tmp_path / "election"
    write_synthetic_election(directory, seed=1, n_polls=10, days=30)
    setup = Setup(polls=None, election=load_election(directory), spec=None)
    assert congress_study.seat_summary(xr.Dataset(), None, setup) == {}


def test_party_fit_is_reused_only_when_nothing_it_depends_on_changed(tmp_path, monkeypatch):
    import datetime as dt

    import forecast.fit as fit_module
    from forecast.congress import forecast as cf

    election = load_election(ROOT / "polls" / "mx2018")
    cong = load_congress_inputs(election)
    calls = []

    def fake_fit(inputs, *, as_of, seed, progress=None):
        calls.append((as_of, seed))
        return SimpleNamespace(as_of=as_of or dt.date(2018, 6, 27), tag=len(calls))

    monkeypatch.setattr(cf, "fit_party_polls", fake_fit)
    monkeypatch.setattr(fit_module, "save_fit", lambda result, path: path.write_text(
        str(result.tag)))
    monkeypatch.setattr(fit_module, "load_fit", lambda path, election_dir=None: SimpleNamespace(
        tag=int(path.read_text()), reused=True))
    path = tmp_path / "party_fit.nc"
    june28 = dt.date(2018, 6, 28)
    first, reused = cf.party_fit_for(cong, path, as_of=june28, seed=1)
    assert not reused and len(calls) == 1
    cf.save_party_fit(cong, first, path, seed=1)
    # Same polls, same anchor knot (29 June is in the same week), same seed: reused.
    again, reused = cf.party_fit_for(cong, path, as_of=dt.date(2018, 6, 29), seed=1)
    assert reused and again.tag == 1 and len(calls) == 1
    # Another seed, or an earlier date that drops the last party poll (ended 25 June): refit.
    _, reused = cf.party_fit_for(cong, path, as_of=june28, seed=2)
    assert not reused
    _, reused = cf.party_fit_for(cong, path, as_of=dt.date(2018, 6, 24), seed=1)
    assert not reused and len(calls) == 3


def test_studies_can_turn_seats_off(fakes):
    """Timelines (and studies with ``seats = false``) skip the party-poll fit entirely."""
    from dataclasses import replace as dc_replace

    president, draws, setup = fakes
    assert congress_study.seat_summary(draws, president,
                                       dc_replace(setup, extra={"seats": False})) == {}
