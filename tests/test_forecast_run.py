"""End to end on a small synthetic election: CLI run, recovery, storage, determinism, strict."""

import json

import numpy as np
import pytest
import xarray as xr

from forecast.cli import main
from forecast.election import load_election
from forecast.fit import fit, load_fit
from forecast.pipeline import rereport
from forecast.polls import read_polls
from forecast.simulate import simulate, summarize
from forecast.spec import ModelSpec

pytestmark = pytest.mark.slow


def test_cli_run_writes_report(synthetic_run):
    _, truth, out, code = synthetic_run
    assert code == 0
    for name in ("index.html", "summary.json", "fit.nc", "candidates.csv", "orders.csv",
                 "chart_trend.csv", "chart_shares.csv", "chart_win_probability.csv",
                 "house_effects.png",
                 "support_daily.csv", "house_effects.csv", "polls_used.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["candidates"]) == {"ana", "bruno", "carla"}  # dario withdrew
    for c in summary["candidates"].values():
        for basis in ("share_total", "share_valid"):
            assert set(c[basis]) == {"mean", "q05", "q25", "q50", "q75", "q95"}
            assert 0 < c[basis]["q05"] < c[basis]["q95"] < 1
        assert c["share_total"]["q50"] < c["share_valid"]["q50"]
    # The favourite is the candidate the synthetic truth puts first on election day.
    leader = max(truth.election_day_share, key=truth.election_day_share.get)
    assert max(summary["candidates"], key=lambda k: summary["candidates"][k]["p_win"]) == leader
    d = summary["diagnostics"]
    assert {"max_rhat", "divergences", "min_ess_bulk", "sampler", "converged"} <= set(d)
    # Timings depend on the machine, not on the inputs: in the manifest, not the summary.
    assert "fit_seconds" not in d
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fits"]["president"]["fit_seconds"] > 0
    assert d["converged"] is True, d
    assert summary["as_of"] == truth.as_of.isoformat()


def test_recovery_of_truth(synthetic_run):
    directory, truth, out, _ = synthetic_run
    result = load_fit(out / "fit.nc", directory)
    post = result.posterior["posterior"]
    # Latent support at the last poll: the truth sits inside the 95% interval for each candidate.
    latent = post["latent"].isel(knot=-1).stack(sample=("chain", "draw"))
    expo = np.exp(latent.sel(candidate=truth.ballot))
    now = expo / expo.sum("candidate")
    for c in truth.ballot:
        lo, hi = np.quantile(now.sel(candidate=c).values, [0.025, 0.975])
        assert lo <= truth.support_at_last_poll[c] <= hi, (c, lo, hi)
    # Election-day shares (no extra polling error in this synthetic truth): inside 90% intervals.
    summary = json.loads((out / "summary.json").read_text())
    for c in truth.ballot:
        q = summary["candidates"][c]["share_valid"]
        assert q["q05"] <= truth.election_day_share[c] <= q["q95"], c
    # House effects: posterior means track the truth (same sign and scale).
    est = post["house_effect"].mean(("chain", "draw")).to_pandas()
    true = truth.house_effect.loc[est.index, est.columns]
    corr = np.corrcoef(est.to_numpy().ravel(), true.to_numpy().ravel())[0, 1]
    assert corr > 0.7, corr
    assert np.abs(est.to_numpy() - true.to_numpy()).max() < 0.15
    # Random-walk scale within a factor of 2.5 of the truth.
    rw = float(post["random_walk_sd"].median())
    assert truth.random_walk_sd / 2.5 < rw < truth.random_walk_sd * 2.5


def test_saved_fit_rereports_identically(synthetic_run, tmp_path):
    directory, _, out, _ = synthetic_run
    forecast = rereport(out / "fit.nc", tmp_path, election_dir=directory)
    assert forecast.seed == 11  # the forecast's own seed by default
    assert (tmp_path / "summary.json").read_bytes() == (out / "summary.json").read_bytes()
    assert (tmp_path / "index.html").is_file()


def test_labelled_dimensions_in_saved_fit(synthetic_run):
    directory, truth, out, _ = synthetic_run
    tree = xr.open_datatree(out / "fit.nc")
    post = tree["posterior"]
    assert set(post["house_effect"].dims) == {"chain", "draw", "pollster", "candidate"}
    assert set(post["latent"].dims) == {"chain", "draw", "knot", "candidate"}
    assert list(tree["polls"]["poll"].values) == list(load_fit(out / "fit.nc").polls["poll"])
    assert list(post["vote_share_valid"].coords["ballot"].values) == truth.ballot


def test_same_seed_same_numbers(synthetic):
    directory, _ = synthetic
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    spec = ModelSpec(chains=2, draws=100, tune=100)
    a = fit(polls, election, spec, seed=5)
    b = fit(polls, election, spec, seed=5)
    np.testing.assert_array_equal(a.posterior["posterior"]["vote_share_valid"].values,
                                  b.posterior["posterior"]["vote_share_valid"].values)
    sa, sb = summarize(simulate(a, seed=3)), summarize(simulate(b, seed=3))
    assert sa == sb
    assert summarize(simulate(a, seed=4)) != sa


def test_as_of_uses_only_polls_ended_by_then(synthetic_run):
    directory, _, _, _ = synthetic_run
    import datetime as dt

    from forecast.model import prepare

    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    day = dt.date(2030, 3, 1)
    data = prepare(polls, election, ModelSpec(), as_of=day)
    assert (data.polls["field_end"] <= np.datetime64(day)).all()
    assert len(data.polls) == int((polls.table["field_end"] <= np.datetime64(day)).sum())
    # The walk is anchored at the knot nearest the median poll used (never after the as-of
    # date); the grid runs to election day whatever the as-of date (so as-of fits share one
    # compiled model).
    median = np.median(data.polls["midpoint"].to_numpy().astype("datetime64[s]").astype(float))
    anchor = data.knots[data.anchor].to_datetime64().astype("datetime64[s]").astype(float)
    assert abs(anchor - median) <= 3.5 * 86400
    assert data.knots[data.anchor - 1].date() < day
    assert data.knots[-1].date() == election.election_day
    assert data.dates[-1].date() == day
    later = prepare(polls, election, ModelSpec(), as_of=dt.date(2030, 4, 1))
    assert len(later.knots) == len(data.knots) and later.anchor > data.anchor


def test_strict_exits_nonzero_when_not_converged(synthetic, tmp_path, capsys):
    directory, _ = synthetic
    # 30 draws cannot reach ESS 400: the run must say so loudly and --strict must fail.
    code = main(["run", str(directory), "--out", str(tmp_path), "--draws", "30", "--tune", "30",
                 "--chains", "2", "--strict"])
    captured = capsys.readouterr()
    assert code == 3
    assert "WARNING: THE MODEL DID NOT CONVERGE" in captured.err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["diagnostics"]["converged"] is False
    assert "did not converge" in (tmp_path / "index.html").read_text()


def test_timeline_stores_p_win_over_time_and_report_shows_it(synthetic, tmp_path):
    directory, _ = synthetic
    code = main(["timeline", str(directory), "--out", str(tmp_path), "--dates", "2030-03-01",
                 "--dates", "2030-04-01", "--draws", "100", "--tune", "100", "--chains", "2"])
    assert code == 0
    import pandas as pd

    frame = pd.read_csv(tmp_path / "timeline.csv")
    assert sorted(frame["as_of"].unique()) == ["2030-03-01", "2030-04-01"]
    # Darío withdraws on 2030-03-22: as of 1 March he is still on the (then known) ballot.
    early_set = set(frame[frame["as_of"] == "2030-03-01"]["candidate"].dropna())
    late_set = set(frame[frame["as_of"] == "2030-04-01"]["candidate"].dropna())
    assert early_set == {"ana", "bruno", "carla", "dario"}
    assert late_set == {"ana", "bruno", "carla"}
    frame = frame.dropna(subset=["p_win"])
    # Each date's P(win) are those of its own forecast (the study's summary of that fit).
    study = xr.open_dataset(tmp_path / "timeline.nc")
    for row in frame.itertuples():
        p = float(study["p_win"].sel(as_of=row.as_of, candidate=row.candidate))
        assert row.p_win == pytest.approx(p)
    early = frame[frame["as_of"] == "2030-03-01"]["polls_used"].iloc[0]
    late = frame[frame["as_of"] == "2030-04-01"]["polls_used"].iloc[0]
    assert early < late


def test_a_candidate_no_poll_has_measured_is_left_out_and_said(tmp_path):
    """As of 9 Apr 2018 Rodríguez Calderón was in the race (tribunal ruling) but no poll used
    offered him: he is not on that forecast's ballot, his walk is frozen, and the report says
    so; from the first poll that offers him he is back."""
    import datetime as dt

    from forecast.model import poll_arrays, prepare
    from forecast.stages.president import unpolled_notes

    from .conftest import MX2018

    election = load_election(MX2018)
    polls = read_polls(election.poll_path, election)
    spec = ModelSpec()
    data = prepare(polls, election, spec, as_of=dt.date(2018, 4, 9))
    k = data.candidates.index("rodriguez")
    assert data.ballot == ["amlo", "anaya", "meade", "zavala"]
    assert not data.step_active[:, k].any()
    assert not poll_arrays(data)["level_embedding"][k].any()
    # From the day the first poll offering him in his window was public, he is back.
    from forecast.model import known_dates

    table = polls.table
    offers = table["rodriguez"].notna() & (table["field_end"] >= "2018-04-09")
    first = known_dates(table)[offers].min().date()
    before = prepare(polls, election, spec, as_of=first - dt.timedelta(days=1))
    assert "rodriguez" not in before.ballot
    later = prepare(polls, election, spec, as_of=first)
    assert "rodriguez" in later.ballot and later.step_active[:, k].any()

    import types

    fitted = types.SimpleNamespace(ballot=data.ballot, as_of=data.as_of, election=election)
    assert unpolled_notes(fitted) == [
        "Jaime Rodríguez Calderón (El Bronco) (rodriguez) is in the race on 2018-04-09 but no "
        "poll used offers this candidate: left out of this forecast until a poll measures them"]
