"""Sensitivity studies (forecast.study): study files, factors, planning and seeds, and a 2x3
study on a small synthetic election with identical results serially, on local processes and on
a Dask LocalCluster."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import forecast.study.runner as study_runner
from forecast.problems import InputError
from forecast.simulate import outcomes
from forecast.spec import ModelSpec
from forecast.study import (
    FACTORS,
    FitRecord,
    Study,
    _core_summary,
    _TaskResult,
    derive_seed,
    load_study,
    main,
    plot_study,
    register_factor,
)
from forecast.synthetic import write_synthetic_election

# Small sampler settings: the fits do not converge (2 chains x 150 draws); these tests check the
# study machinery, not the model.
FAST = {"chains": 2, "draws": 150, "tune": 200}
FACTORS_2X3 = {"drop_pollster": ["none", "Pollster A"], "polling_error_scale": [1, 1.5, 2]}
SEED = 5
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def election(tmp_path_factory) -> Path:
    """30 polls by 6 pollsters (5 each) over 90 days; a third effective-basis."""
    directory = tmp_path_factory.mktemp("study") / "election"
    write_synthetic_election(directory, seed=3, n_polls=30, days=90)
    return directory


@pytest.fixture(scope="module")
def study(election) -> Study:
    return Study(election, FACTORS_2X3, seed=SEED, spec_changes=FAST)


@pytest.fixture(scope="module")
def serial(study) -> xr.Dataset:
    return study.run(workers=1, progress=False)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _messages(exc: pytest.ExceptionInfo) -> list[str]:
    return sorted(str(p) for p in exc.value.problems)


# ---- planning (no fits) --------------------------------------------------------------------


def test_plan_groups_scenarios_that_share_a_fit(study):
    plan = study.scenarios()
    assert len(plan) == 6
    assert plan["drop_pollster"].tolist() == ["none"] * 3 + ["Pollster A"] * 3
    assert plan["polling_error_scale"].tolist() == [1.0, 1.5, 2.0] * 2
    assert plan["fit_group"].tolist() == [0, 0, 0, 1, 1, 1]
    # dropping a pollster leaves its 5 polls out
    assert plan["polls_used"].tolist() == [30] * 3 + [25] * 3
    for column in ("fit_seed", "simulate_seed"):
        assert plan.groupby("fit_group")[column].nunique().tolist() == [1, 1]
        assert plan[column].nunique() == 2
    assert study.refit_factors == ["drop_pollster"]


def test_seeds_come_from_levels_not_order(election):
    a = Study(election, FACTORS_2X3, seed=SEED, spec_changes=FAST).scenarios()
    b = Study(election, {"polling_error_scale": [2.0, 1.0, 1.5],
                         "drop_pollster": ["Pollster A", "none"]},
              seed=SEED, spec_changes=FAST).scenarios()
    key = ["drop_pollster", "polling_error_scale"]
    merged = a.merge(b, on=key, suffixes=("_a", "_b"))
    assert len(merged) == 6
    assert (merged["fit_seed_a"] == merged["fit_seed_b"]).all()
    assert (merged["simulate_seed_a"] == merged["simulate_seed_b"]).all()
    assert derive_seed(1, "fit", {"x": "a", "y": 1.0}) == derive_seed(1, "fit",
                                                                      {"y": 1.0, "x": "a"})
    assert derive_seed(1, "fit", {"x": "a"}) != derive_seed(2, "fit", {"x": "a"})
    assert derive_seed(1, "fit", {"x": "a"}) != derive_seed(1, "simulate", {"x": "a"})


def test_poll_filters_and_as_of(election):
    s = Study(election, {"mode": ["all", "ivr"], "polls_after": ["all", "2030-02-01"],
                         "as_of": ["latest", "2030-03-15"]}, seed=1)
    table = s.inputs.polls.table
    plan = s.scenarios().set_index(["mode", "polls_after", "as_of"])["polls_used"]
    ivr = table["mode"] == "ivr"
    after = table["field_end"] >= pd.Timestamp("2030-02-01")
    by = table["field_end"] <= pd.Timestamp("2030-03-15")
    assert plan["all", "all", "latest"] == len(table)
    assert plan["ivr", "all", "latest"] == ivr.sum() == 10
    assert plan["all", "2030-02-01", "latest"] == after.sum()
    assert plan["ivr", "2030-02-01", "2030-03-15"] == (ivr & after & by).sum()
    assert s.scenarios()["fit_group"].nunique() == 8


def test_undecided_levels(election):
    s = Study(election, {"undecided": ["proportional", "equal", "exclude_effective",
                                       "exclude_imputed"]}, seed=1)
    base = s.inputs.polls.table
    tables = {key[0][1]: setup.polls.table for key, setup in s._group_setups.items()}
    assert len(tables["proportional"]) == len(base) == 30
    assert len(tables["exclude_effective"]) == (base["basis"] == "raw").sum() == 20
    imputed = (base["basis"] == "effective") & base["undecided"].isna()
    assert len(tables["exclude_imputed"]) == (~imputed).sum()
    equal = tables["equal"]
    raw = base.index[base["basis"] == "raw"][0]
    offered = [c for c in ("ana", "bruno", "carla", "dario") if not np.isnan(base.at[raw, c])]
    u = base.at[raw, "undecided"]
    for c in offered:
        assert equal.at[raw, c] == pytest.approx(base.at[raw, c] + u / len(offered))
    assert equal.at[raw, "decided_share"] == pytest.approx(base.at[raw, "decided_share"]
                                                           + u / 100)
    eff = base.index[imputed][0]
    default = s.inputs.election.default_undecided_share
    assert equal.at[eff, "decided_share"] == pytest.approx(base.at[eff, "decided_share"]
                                                           + default)


def test_spec_settings_are_factors(election):
    s = Study(election, {"random_walk_sigma": [0.01, 0.04], "polling_error_scale": [1]}, seed=1)
    specs = [setup.spec for setup in s._group_setups.values()]
    assert [sp.random_walk_sigma for sp in specs] == [0.01, 0.04]
    assert {f for f in FACTORS} >= {"step_days", "house_effect_sigma", "polling_error_sigma",
                                    "invalid_share_mean", "drop_pollster", "mode", "polls_after",
                                    "as_of", "undecided", "polling_error_scale"}


def test_a_registered_factor_is_planned(election):
    @register_factor("test_note", parse=lambda value, inputs: str(value), refit=False)
    def _note(setup, level):
        return replace(setup, extra={**setup.extra, "note": level})

    try:
        s = Study(election, {"test_note": ["a", "b"], "drop_pollster": ["none"]}, seed=1)
        assert s.scenarios()["fit_group"].tolist() == [0, 0]
        assert [setup.extra["note"] for _, setup in s._tasks()[0].scenarios] == ["a", "b"]
    finally:
        FACTORS.pop("test_note")


# ---- study files and the command line -------------------------------------------------------


def test_study_file_structure_errors(tmp_path, election):
    spec = _write(tmp_path / "bad.toml", f'''election = "{election}"
seed = -1
colour = "blue"

[factors]
drop_pollster = []
step_days = 7
''')
    with pytest.raises(InputError) as exc:
        load_study(spec)
    f = str(spec)
    assert _messages(exc) == sorted([
        f"{f}:2:seed: -1: expected a non-negative integer",
        f"{f}:3:colour: unknown key: expected one of election, seed, model, as_of, keep_draws, "
        "seats, base, factors",
        f"{f}:6:factors.drop_pollster: empty list: expected at least one level",
        f"{f}:7:factors.step_days: 7: expected a list of levels, e.g. step_days = [...]",
    ])


def test_study_file_level_errors(tmp_path, election):
    spec = _write(tmp_path / "bad.toml", f'''election = "{election}"

[base]
draws = 0
warmup = 5

[factors]
polling_error_scale = [1, "wide", -1]
drop_pollster = ["none", "Nobody"]
bogus = [1, 2]
mode = ["all", "all"]
as_of = [2031-01-01]
draws = [100, 200]
''')
    with pytest.raises(InputError) as exc:
        load_study(spec)
    f = str(spec)
    settings = ", ".join(k for k in ModelSpec().as_dict())
    polls = election / "president.csv"
    pollsters = ", ".join(f"Pollster {c}" for c in "ABCDEF")
    scale = "expected a non-negative number (1 = the historical polling error)"
    assert _messages(exc) == sorted([
        f"{f}:4:base.draws: 0: expected a positive integer",
        f"{f}:5:base.warmup: unknown model setting: expected one of {settings}",
        f"{f}:8:factors.polling_error_scale: 'wide': {scale}",
        f"{f}:8:factors.polling_error_scale: -1: {scale}",
        f"{f}:9:factors.drop_pollster: 'Nobody': expected \"none\" or a pollster of {polls} "
        f"({pollsters})",
        f"{f}:10:factors.bogus: unknown factor: expected one of {', '.join(sorted(FACTORS))}",
        f"{f}:11:factors.mode: level 'all' appears more than once",
        f"{f}:12:factors.as_of: 2031-01-01 is after election day 2030-04-06",
        f"{f}:13:factors.draws: also set in [base] (spec_changes): set it in one place",
    ])


def test_study_file_missing_parts_and_empty_scenarios(tmp_path, election, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = _write(tmp_path / "bad.toml", 'election = "no/such/folder"\n')
    with pytest.raises(InputError) as exc:
        load_study(spec)
    assert _messages(exc) == sorted([
        f"{spec}:1:election: 'no/such/folder': no such folder (relative to the current "
        f"directory {tmp_path})",
        f"{spec}:0:factors: missing: expected a [factors] table with at least one factor",
    ])
    spec = _write(tmp_path / "empty.toml", f'''election = "{election}"
seed = 3

[factors]
as_of = ["latest", 2030-01-02]
''')
    with pytest.raises(InputError) as exc:
        load_study(spec)
    assert _messages(exc) == [
        f"{spec}:4:factors: scenario as_of=2030-01-02: 0 poll(s) left to fit: need at least two"]


def test_cli_bad_study_exits_2_and_writes_nothing(tmp_path, election, capsys):
    spec = _write(tmp_path / "bad.toml", f'election = "{election}"\n[factors]\nmode = []\n')
    out = tmp_path / "out" / "study.nc"
    assert main([str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:3:factors.mode: empty list: expected at least one level" in err
    assert "forecast study: 1 error(s) in the input; nothing was written" in err
    assert not out.parent.exists()
    with pytest.raises(SystemExit) as stop:
        main([str(spec), "--out", str(out), "--workers", "2", "--scheduler", "tcp://x:1"])
    assert stop.value.code == 2


def test_python_api_errors_name_the_factor(election):
    with pytest.raises(InputError) as exc:
        Study(election, {"polling_error_scale": "1.5", "undecided": ["half"]}, seed=1)
    assert _messages(exc) == [
        "Study:0:factors.polling_error_scale: '1.5': expected a list of levels",
        "Study:0:factors.undecided: 'half': expected one of proportional, equal, "
        "exclude_effective, exclude_imputed",
    ]


def test_plot_study_without_fitting(tmp_path):
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    base = np.array([0.45, 0.35, 0.2])[:, None] + (q - 0.5)[None, :] * 0.1
    ds = xr.Dataset(
        {"p_win": (("undecided", "candidate"), [[0.8, 0.15, 0.05], [0.7, 0.2, 0.1]]),
         "share_valid": (("undecided", "candidate", "quantile"), np.stack([base, base])),
         "converged": ("undecided", [True, False])},
        coords={"undecided": ["proportional", "equal"], "candidate": ["a", "b", "c"],
                "quantile": q},
        attrs={"factors": '{"undecided": ["proportional", "equal"]}'})
    path = plot_study(ds, tmp_path / "study.png")
    assert path.read_bytes().startswith(PNG)


# ---- running the 2x3 study -----------------------------------------------------------------


@pytest.mark.slow
def test_2x3_study_dataset(serial):
    ds = serial
    assert ds["p_win"].dims == ("drop_pollster", "polling_error_scale", "candidate")
    assert ds["share_valid"].dims == ("drop_pollster", "polling_error_scale", "candidate",
                                      "quantile")
    assert ds["share_total"].dims == ds["share_valid"].dims
    for var in ("converged", "max_rhat", "polls_used", "divergences", "min_ess_bulk"):
        assert ds[var].dims == ("drop_pollster", "polling_error_scale")
    assert ds["converged"].dtype == bool
    assert ds["drop_pollster"].values.tolist() == ["none", "Pollster A"]
    assert ds["polling_error_scale"].values.tolist() == [1.0, 1.5, 2.0]
    assert ds["quantile"].values.tolist() == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert ds["candidate"].values.tolist() == ["ana", "bruno", "carla"]
    # A larger polling error makes the race less certain: the favourite's P(win) falls.
    favourite = ds["p_win"].sel(drop_pollster="none", polling_error_scale=1.0).argmax("candidate")
    p = ds["p_win"].sel(drop_pollster="none").isel(candidate=int(favourite)).values
    assert p[0] > p[2], p
    assert (ds["share_valid"].diff("quantile") >= 0).all()
    assert (ds["share_total"] < ds["share_valid"]).all()
    assert ds.attrs["schema"] == "forecast.study/1"
    assert (ds["max_rhat"] > 1).all()


@pytest.mark.slow
def test_polling_error_scale_widens_the_intervals(serial):
    for var in ("share_valid", "share_total"):
        width = serial[var].sel(quantile=0.95) - serial[var].sel(quantile=0.05)
        assert (width.diff("polling_error_scale") > 0).all(), var
    # the scale acts at simulation time: one fit per pollster level, same diagnostics
    assert (serial["max_rhat"].std("polling_error_scale") == 0).all()
    assert (serial["fit_group"].values == [[0, 0, 0], [1, 1, 1]]).all()


@pytest.mark.slow
def test_dropping_a_pollster_changes_the_polls_used(serial):
    used = serial["polls_used"]
    assert (used.sel(drop_pollster="none") == 30).all()
    assert (used.sel(drop_pollster="Pollster A") == 25).all()
    assert not np.array_equal(serial["share_valid"].sel(drop_pollster="none").values,
                              serial["share_valid"].sel(drop_pollster="Pollster A").values)


@pytest.mark.slow
def test_cli_writes_netcdf_and_chart_identical_to_the_api(serial, election, tmp_path, capsys):
    spec = _write(tmp_path / "study.toml", f'''election = "{election}"
seed = {SEED}
keep_draws = true

[base]
chains = 2
draws = 150
tune = 200

[factors]
drop_pollster = ["none", "Pollster A"]
polling_error_scale = [1, 1.5, 2]
''')
    out = tmp_path / "results" / "study.nc"
    assert main([str(spec), "--out", str(out), "--workers", "1"]) == 0
    assert "drop_pollster=Pollster A, polling_error_scale=2" in capsys.readouterr().out
    assert (tmp_path / "results" / "study.png").read_bytes().startswith(PNG)
    page = (tmp_path / "results" / "study.html").read_text(encoding="utf-8")
    assert "id='fig-study_p_win'" in page and "default-src 'none'" in page
    assert not list(out.parent.glob(".*.tmp"))
    ds = xr.open_dataset(out, engine="netcdf4").load()
    draws = ds["share_valid_draws"]
    assert draws.dims == ("drop_pollster", "polling_error_scale", "draw", "candidate")
    assert ds.sizes["draw"] == 2 * 150
    np.testing.assert_allclose(draws.quantile(ds["quantile"].values, dim="draw")
                               .transpose(*ds["share_valid"].dims), ds["share_valid"])
    same = ds.drop_vars(["share_valid_draws", "share_total_draws", "draw"])
    same.attrs["keep_draws"] = 0
    xr.testing.assert_identical(same, serial)


@pytest.mark.slow
def test_identical_on_local_processes(study, serial):
    xr.testing.assert_identical(study.run(workers=2, progress=False), serial)


@pytest.mark.slow
def test_identical_on_a_dask_cluster(study, serial):
    """Seeds come from levels: a 1x3 sub-study on Dask reproduces that slice of the 2x3 study
    (one fit, so only one worker pays a compile)."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    sub = {"drop_pollster": ["none"], "polling_error_scale": [1.0, 1.5, 2.0]}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        ds = Study(study.election_dir, sub, seed=SEED, spec_changes=FAST).run(client=client,
                                                                              progress=False)
    xr.testing.assert_identical(ds.drop_attrs(), serial.isel(drop_pollster=[0]).drop_attrs())


def _fake_task(task):
    """Stands in for a fit: outcomes drawn from the scenario's seed (no sampler)."""
    out = []
    for number, setup in task.scenarios:
        rng = np.random.default_rng([task.seed, number])
        valid = rng.dirichlet([8.0, 6.0, 4.0], size=200)
        draws = outcomes(valid, ["ana", "bruno", "carla"], invalid=0.03)
        fake = SimpleNamespace(diagnostics=SimpleNamespace(converged=True, max_rhat=1.001,
                                                           divergences=0, min_ess_bulk=500.0),
                               polls=setup.polls.table)
        forecast = SimpleNamespace(results={"president": SimpleNamespace(draws=draws,
                                                                         fit=fake)})
        out.append((number, xr.Dataset(_core_summary(forecast, setup))))
    return _TaskResult(FitRecord(task.group, {}, 0.0, 0.0, 0.0, "fake"), out)


def test_scheduler_address_on_the_command_line(election, tmp_path, monkeypatch, capsys):
    """--scheduler ADDRESS: the command connects, runs every fit group there, closes its client
    and writes the same result as a serial run (fits replaced by a stand-in)."""
    LocalCluster = pytest.importorskip("distributed",
                                       reason="the dask extra is not installed").LocalCluster

    monkeypatch.setattr(study_runner, "_run_task", _fake_task)
    spec = _write(tmp_path / "study.toml", f'''election = "{election}"
seed = {SEED}
[factors]
drop_pollster = ["none", "Pollster B"]
undecided = ["proportional", "equal"]
polling_error_scale = [1, 2]
''')
    out = tmp_path / "dask.nc"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        assert main([str(spec), "--out", str(out), "--scheduler", cluster.scheduler_address]) == 0
    assert f"8 scenario(s), 4 fit(s), on Dask scheduler {cluster.scheduler_address}" in (
        capsys.readouterr().err)
    ds = xr.open_dataset(out, engine="netcdf4").load()
    xr.testing.assert_identical(ds, load_study(spec).run(workers=1, progress=False))
    assert ds["p_win"].dims == ("drop_pollster", "undecided", "polling_error_scale", "candidate")
    assert ds["polls_used"].sel(drop_pollster="Pollster B").values.ravel().tolist() == [25] * 4
    assert (tmp_path / "dask.png").read_bytes().startswith(PNG)


def test_as_of_study_option(election):
    s = Study(election, {"drop_pollster": ["none"]}, seed=1, as_of=dt.date(2030, 3, 1))
    table = s.inputs.polls.table
    assert s.scenarios()["polls_used"].tolist() == [
        int((table["field_end"] <= pd.Timestamp("2030-03-01")).sum())]


def test_limits_are_checked_before_planning(election):
    """A thousand levels are refused before a thousand fits are planned, and a million
    no-refit scenarios before a million are built."""
    with pytest.raises(InputError, match=r"1,000 fits planned \(one per combination of "
                                         r"random_walk_sigma\): more than the limit of 100"):
        Study(election, {"random_walk_sigma": [0.01 + i * 1e-5 for i in range(1000)]})
    with pytest.raises(InputError, match=r"1,000,000 scenarios: more than 100,000"):
        Study(election, {"polling_error_scale": [i / 100 for i in range(1000)],
                         "ticket_split_sd": [i / 100 for i in range(1000)]})
    ok = Study(election, {"random_walk_sigma": [0.01, 0.02]}, max_fits=2)
    assert ok.estimate_seconds(1) > 0
