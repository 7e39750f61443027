"""Governor model on a synthetic election: recovery, pooling, national correlation, summaries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.governors import (
    GovernorSpec,
    fit_governors,
    governors_summary,
    read_governor_polls,
    simulate_governors,
)
from forecast.governors.races import GovernorRaces, Race, RaceCandidate

DAY = dt.date(2018, 7, 1)
START = dt.date(2017, 9, 8)
BLOCS = {"jhh": ("morena", "pt", "pes"), "paf": ("pan", "prd", "mc"), "tpm": ("pri", "pvem", "na")}
KEYS = ("jhh", "paf", "tpm")
POLLED, UNPOLLED = ("aa", "bb"), ("cc", "dd")
BASELINE = {"aa": (0.20, 0.45, 0.35), "bb": (0.15, 0.35, 0.50), "cc": (0.25, 0.40, 0.35),
            "dd": (0.10, 0.50, 0.40)}
#: True swing since the baseline (zero-sum over jhh, paf, tpm, other) and local effects.
SWING = np.array([1.0, -0.3, -0.5, -0.2])
LOCAL = {"aa": (0.3, -0.2, -0.1), "bb": (-0.2, 0.3, -0.1), "cc": (0.0, 0.0, 0.0),
         "dd": (0.0, 0.0, 0.0)}
NATIONAL_BASELINE = pd.Series({"jhh": 0.15, "paf": 0.40, "tpm": 0.42, "other": 0.03})
HEADER = ("state,pollster,field_start,field_end,published,sample_size,mode,basis,jhh,paf,tpm,mc,"
          "pan,prd,pvem,na,independent,other_candidates,undecided,source,reported,notes")


def truth(state: str) -> np.ndarray:
    eta = np.log(BASELINE[state]) + SWING[:3] + np.array(LOCAL[state])
    e = np.exp(eta - eta.max())
    return e / e.sum()


def make_races(tmp: Path) -> GovernorRaces:
    races = []
    for s in BASELINE:
        cands = tuple(RaceCandidate(k, k.upper(), BLOCS[k], k, START, DAY) for k in KEYS)
        races.append(Race(s, s.upper(), s, cands, dict(zip(KEYS, BASELINE[s], strict=True))))
    return GovernorRaces(path=tmp / "races.toml", election_day=DAY, campaign_start=START,
                         races=tuple(races), blocs=BLOCS, national_baseline=NATIONAL_BASELINE,
                         candidacy_keys=(*KEYS, *HEADER.split(",")[11:17]),
                         default_sample_size=800)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gov")
    races = make_races(tmp)
    rng = np.random.default_rng(3)
    lines = [HEADER]
    for s in POLLED:
        p = truth(s)
        for i in range(8):
            end = dt.date(2018, 6, 1) + dt.timedelta(days=3 * i)
            counts = rng.multinomial(1000, p) / 10
            lines.append(f"{s},House {i % 4},{end - dt.timedelta(days=2)},{end},{end},1000,,"
                         f"effective,{counts[0]:.1f},{counts[1]:.1f},{counts[2]:.1f},,,,,,,,,,"
                         "complete,")
    (tmp / "polls.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    polls = read_governor_polls(tmp / "polls.csv", races)
    spec = GovernorSpec(chains=2, draws=500, tune=1500)
    fit = fit_governors(races, polls, spec, as_of=dt.date(2018, 6, 28), seed=5)
    return races, fit


def national_draws(n: int, seed: int, concentration: float = 40.0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    values = rng.dirichlet(concentration * np.array([0.45, 0.25, 0.25, 0.05]), size=n)
    return xr.DataArray(values, dims=("draw", "bloc"),
                        coords={"draw": np.arange(n), "bloc": ["jhh", "paf", "tpm", "other"]},
                        name="national")


def test_fit_recovers_polled_states_and_pools_the_rest(synthetic):
    races, fit = synthetic
    diag = fit.diagnostics
    # At test size (2 x 500 draws) the common swing, which trades off with the polled states'
    # local effects, can sit just above the production R-hat bar of 1.01 (docs/governors.md).
    assert diag.divergences == 0 and diag.max_rhat < 1.03, diag.describe()
    assert diag.min_ess_bulk > 300, diag.describe()
    support = fit.posterior["posterior"]["support"].stack(sample=("chain", "draw"))
    for s in POLLED:
        draws = support.sel(state=s, option=list(KEYS)).values
        mean = draws.mean(axis=-1)
        # Stated bound: within 4 points of the truth (8 polls of 1,000, DM-capped near 150).
        assert np.max(np.abs(mean - truth(s))) < 0.04, (s, mean, truth(s))
    width = {s: float(np.mean(np.diff(np.quantile(
        support.sel(state=s, option=list(KEYS)).values, [0.05, 0.95], axis=-1), axis=0)))
        for s in BASELINE}
    # States without polls rest on baseline + swing: much wider than the polled ones.
    assert min(width[s] for s in UNPOLLED) > 2 * max(width[s] for s in POLLED), width


def test_simulation_summary_and_correlation(synthetic):
    races, fit = synthetic
    national = national_draws(500, seed=1)  # not the 1,000 posterior draws: resampled
    draws = simulate_governors(fit, national, NATIONAL_BASELINE, seed=9)
    assert draws.sizes["draw"] == 500
    share = draws["share"].values
    assert np.allclose(np.nansum(share, axis=-1), 1.0)
    assert np.array_equal(draws["count"].values.sum(axis=1), np.full(500, 4.0))
    again = simulate_governors(fit, national, NATIONAL_BASELINE, seed=9)
    assert np.array_equal(again["share"].values, share, equal_nan=True)
    other = simulate_governors(fit, national, NATIONAL_BASELINE, seed=10)
    assert not np.array_equal(other["share"].values, share, equal_nan=True)

    weight = draws["prior_weight"].sel(candidate=list(KEYS))
    assert float(weight.sel(state=list(UNPOLLED)).min()) == pytest.approx(1.0)
    assert float(weight.sel(state=list(POLLED)).max()) < 0.35

    summary = governors_summary(draws)
    for s, block in summary["states"].items():
        # P(win) of a candidacy is the share of draws in which its share is the largest.
        k = list(draws["state"].values).index(s)
        top = np.nanargmax(np.where(np.isnan(share[:, k]), -1, share[:, k]), axis=-1)
        for c, p in block["p_win"].items():
            j = list(draws["candidate"].values).index(c)
            assert p == np.mean(top == j), (s, c)
        assert block["polls_used"] == (8 if s in POLLED else 0)
    widths = {s: summary["states"][s]["interval_90"]["jhh"] for s in BASELINE}
    assert min(widths[s] for s in UNPOLLED) > max(widths[s] for s in POLLED), widths
    count = summary["count"]["jhh"]
    assert count["p_at_least"][0] == 1.0 and len(count["p_at_least"]) == 5
    assert all(a >= b for a, b in zip(count["p_at_least"], count["p_at_least"][1:],
                                      strict=False))
    jhh_count = draws["count"].sel(candidate="jhh").values
    assert count["p_at_least"][3] == pytest.approx(np.mean(jhh_count >= 3))
    assert count["mean"] == pytest.approx(jhh_count.mean())

    # Every state moves with the national vote of the draw: its national error is shared.
    nat = national.sel(bloc="jhh").values
    for s in BASELINE:
        corr = np.corrcoef(nat, draws["share"].sel(state=s, candidate="jhh").values)[0, 1]
        assert corr > 0.3, (s, corr)


def test_unpolled_state_follows_baseline_plus_national_swing(synthetic):
    races, fit = synthetic
    centre = np.array([0.50, 0.22, 0.22, 0.06])
    national = xr.DataArray(np.tile(centre, (400, 1)), dims=("draw", "bloc"),
                            coords={"bloc": ["jhh", "paf", "tpm", "other"]})
    draws = simulate_governors(fit, national, NATIONAL_BASELINE, seed=2, state_error_scale=0)
    swing = np.log(centre) - np.log(NATIONAL_BASELINE.to_numpy())
    for s in UNPOLLED:
        eta = np.log(BASELINE[s]) + swing[:3]
        expected = np.exp(eta) / np.exp(eta).sum()
        median = np.median(draws["share"].sel(state=s, candidate=list(KEYS)).values, axis=0)
        # Only the (zero-mean, prior) local effect is left around baseline + swing.
        assert np.max(np.abs(median - expected)) < 0.05, (s, median, expected)


def test_state_error_tops_the_spread_up_to_the_record(synthetic):
    """A state's own error adds what the model's spread lacks against the record of final
    state polls for its number of pollsters (final_poll_error_sigma / sqrt(n)), never more."""
    from dataclasses import replace

    races, fit = synthetic
    national = national_draws(1000, seed=4, concentration=400.0)
    now = national_draws(1000, seed=4, concentration=400.0)
    draws = simulate_governors(fit, national, NATIONAL_BASELINE, seed=3, national_now=now)
    error = draws["state_error"].to_series()
    # The unpolled states' prior spread (local_sd ~0.45) exceeds 0.33: no own error.
    assert (error[list(UNPOLLED)] == 0).all(), error
    # A record twice as wide leaves room in every state; the total spread of the main
    # candidacies then matches it: var(centred eta) * K/(K-1) + error^2 = sigma^2 / n.
    wide = replace(fit, spec=fit.spec.with_(final_poll_error_sigma=2.0))
    draws = simulate_governors(wide, national, NATIONAL_BASELINE, seed=3, national_now=now)
    share = draws["share"].sel(candidate=list(KEYS))
    for s in BASELINE:
        eta = np.log(share.sel(state=s).values)
        centred = eta - eta.mean(axis=1, keepdims=True)
        total = float(np.mean(centred.var(axis=0))) * 3 / 2
        n = max(1, fit.data.pollsters_by_state.get(s, 0))
        assert total == pytest.approx(2.0**2 / n, rel=0.15), (s, total, n)
    scaled = simulate_governors(wide, national, NATIONAL_BASELINE, seed=3, national_now=now,
                                state_error_scale=0.5)
    assert np.allclose(scaled["state_error"].values, 0.5 * draws["state_error"].values)


def test_national_input_is_checked(synthetic):
    races, fit = synthetic
    bad = national_draws(10, seed=1) * 1.1
    with pytest.raises(ValueError, match="sum to 1"):
        simulate_governors(fit, bad, NATIONAL_BASELINE, seed=1)
    with pytest.raises(ValueError, match="missing"):
        simulate_governors(fit, national_draws(10, 1).sel(bloc=["jhh", "paf", "tpm"]),
                           NATIONAL_BASELINE, seed=1)
