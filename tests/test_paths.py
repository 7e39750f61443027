"""One forecast, one answer: every path to a forecast gives the same numbers for the same inputs
and seed (fresh fit, stored fit, re-rendered report, a new process), and a forecast folder is
written as a unit (a killed run leaves the old forecast or the new one, never a mix)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast import sampling
from forecast.cli import main
from forecast.election import load_election
from forecast.engine import load_inputs
from forecast.fit import fit, load_fit, save_fit, support_on
from forecast.output import MANIFEST, read_manifest, verify_folder, write_forecast
from forecast.pipeline import rereport, run
from forecast.polls import read_polls
from forecast.problems import InputError
from forecast.simulate import simulate
from forecast.spec import ModelSpec

from .conftest import MX2018

TINY = ModelSpec(chains=2, draws=150, tune=150)
SMALL = ["--draws", "150", "--tune", "150", "--chains", "2"]
BLOCKS = ("candidates", "orders", "margin", "chambers", "governors", "poll_warnings", "polls")


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def synthetic_fit(synthetic):
    directory, _ = synthetic
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    return fit(polls, election, TINY, seed=3, progress=False)


def test_a_loaded_fit_simulates_bit_for_bit_like_the_fresh_one(synthetic_fit, tmp_path):
    fresh = synthetic_fit
    path = save_fit(fresh, tmp_path / "fit.nc")
    loaded = load_fit(path)
    xr.testing.assert_identical(loaded.posterior["posterior"].to_dataset(),
                                fresh.posterior["posterior"].to_dataset())
    pd.testing.assert_frame_equal(loaded.polls, fresh.polls)
    assert loaded.key == fresh.key and loaded.seed == fresh.seed
    assert loaded.as_of == fresh.as_of and loaded.ballot == fresh.ballot
    for name, value in vars(fresh.data).items():
        other = getattr(loaded.data, name)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(other, value, err_msg=name)
        elif not isinstance(value, pd.DataFrame):
            assert list(other) == list(value) if isinstance(value, (list, pd.Index)) \
                else other == value, name
    xr.testing.assert_identical(simulate(loaded, seed=9), simulate(fresh, seed=9))
    np.testing.assert_array_equal(support_on(loaded).values, support_on(fresh).values)
    # A file that is not a fit is refused with one line, not a traceback.
    (tmp_path / "other.nc").write_bytes(b"not netcdf")
    with pytest.raises(InputError, match="not a fit file"):
        load_fit(tmp_path / "other.nc")


def test_the_latent_support_is_read_on_the_as_of_date(synthetic_fit):
    """Between two weekly knots the support is the model's own linear interpolation of the
    log-shares, not the value at a knot chosen by the sampler's parametrisation."""
    result = synthetic_fit
    latent = result.posterior["posterior"]["latent"]
    knots = pd.DatetimeIndex(latent.coords["knot"].values)
    day = (knots[3] + pd.Timedelta(days=2)).date()
    eta = (5 / 7) * latent.isel(knot=3) + (2 / 7) * latent.isel(knot=4)
    eta = eta.sel(candidate=result.ballot).stack(sample=("chain", "draw"))
    expected = np.exp(eta) / np.exp(eta).sum("candidate")
    np.testing.assert_allclose(support_on(result, day).values,
                               expected.transpose("sample", "candidate").values, rtol=1e-12)


@pytest.mark.slow
def test_a_reused_compiled_model_gives_the_draws_of_a_fresh_compile(synthetic,
                                                                     empty_compile_cache):
    """nutpie's compiled model with another fit's data swapped in samples exactly like a model
    compiled for this data (the in-process cache cannot change a forecast)."""
    import datetime as dt

    directory, _ = synthetic
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    # Two dates before Darío's withdrawal (2030-03-22): one ballot, one compiled structure.
    # The model compiled for 15 March samples 15 February (its data swapped in), then 15 March
    # again with the February data still in it when it is handed back.
    cold = fit(polls, election, TINY, as_of=dt.date(2030, 3, 15), seed=3, progress=False)
    assert cold.diagnostics.compile_seconds > 1
    other = fit(polls, election, TINY, as_of=dt.date(2030, 2, 15), seed=3, progress=False)
    reused = fit(polls, election, TINY, as_of=dt.date(2030, 3, 15), seed=3, progress=False)
    assert other.diagnostics.compile_seconds < 1 and reused.diagnostics.compile_seconds < 1
    assert len(sampling._COMPILED) == 1
    xr.testing.assert_identical(cold.posterior["posterior"].to_dataset(),
                                reused.posterior["posterior"].to_dataset())


@pytest.mark.slow
def test_four_paths_give_one_answer(mx2018_forecast, tmp_path, capsys):
    """Fresh run, a second run into the same folder (every fit reused), `report --fit` and
    `update` with no new polls: the same summary, byte for byte."""
    out = mx2018_forecast
    fresh = (out / "summary.json").read_bytes()
    page = (out / "index.html").read_bytes()
    summary = json.loads(fresh)
    assert set(BLOCKS) <= set(summary)
    assert summary["as_of"] == "2018-06-28"
    manifest = read_manifest(out)
    assert not any(f["reused"] for f in manifest["fits"].values())

    assert main(["run", str(MX2018), "--out", str(out), "--as-of", "2018-06-28", *SMALL]) == 0
    assert "fit reused" in capsys.readouterr().out
    assert all(f["reused"] for f in read_manifest(out)["fits"].values())
    assert (out / "summary.json").read_bytes() == fresh
    # The page is a pure function of the forecast too: no timestamp, no random id.
    assert (out / "index.html").read_bytes() == page

    report = tmp_path / "report"
    assert main(["report", "--fit", str(out / "fit.nc"), "--out", str(report)]) == 0
    assert (report / "summary.json").read_bytes() == fresh
    for name in ("seats.csv", "governors.csv", "candidates.csv", "districts.csv"):
        assert (report / name).read_bytes() == (out / name).read_bytes(), name

    # The same election from another folder (another absolute path) gives the same numbers.
    copy = tmp_path / "elsewhere" / "mx2018"
    shutil.copytree(MX2018, copy)
    models = tmp_path / "elsewhere" / ".." / "models"
    shutil.copytree(MX2018.parents[1] / "models", models.resolve(), dirs_exist_ok=True)
    other = tmp_path / "other"
    assert main(["run", str(copy), "--out", str(other), "--as-of", "2018-06-28", *SMALL]) == 0
    for block in BLOCKS:
        assert _summary(other)[block] == summary[block], block


@pytest.mark.slow
def test_update_without_new_polls_does_nothing(mx2018_forecast, tmp_path, capsys):
    """`update` compares the fits a forecast of the latest polls would need with the stored
    ones: with no new poll it writes nothing and says so."""
    out = tmp_path / "reports"
    shutil.copytree(mx2018_forecast, out)
    # A forecast of the latest polls first (the fixture's is as of an earlier date).
    assert main(["update", str(MX2018), "--out", str(out), *SMALL]) == 0
    first = (out / "summary.json").read_bytes()
    assert json.loads(first)["as_of"] == "2018-06-27"  # the last poll public (all files)
    capsys.readouterr()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["update", str(MX2018), "--out", str(out), *SMALL]) == 0
    assert "no new polls since the forecast as of 2018-06-27" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.slow
def test_report_refuses_fits_of_different_forecasts(mx2018_forecast, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(mx2018_forecast, folder)
    inputs = load_inputs(MX2018)
    earlier = tmp_path / "earlier"
    run(MX2018, as_of=pd.Timestamp("2018-06-01").date(), out_dir=earlier,
        spec_changes={"draws": 150, "tune": 150, "chains": 2}, congress=True, governors=False,
        progress=False)
    shutil.copy(earlier / "party_fit.nc", folder / "party_fit.nc")
    with pytest.raises(InputError, match="the fit files are not of one forecast"):
        rereport(folder / "fit.nc", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert inputs.election.key == "mx2018"
    # The command says so in one line and exits 2.
    assert main(["report", "--fit", str(folder / "summary.json"), "--out",
                 str(tmp_path / "out")]) == 2


@pytest.mark.slow
def test_a_new_process_and_a_warm_one_give_the_same_summary(synthetic, tmp_path):
    """Same inputs and seed in a new process (its model compiled cold, another hash seed) and
    in this warm one (a compiled model reused from earlier tests when there is one): identical
    summary.json and report tables."""
    directory, _ = synthetic
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    outs = [tmp_path / "new", tmp_path / "warm"]
    subprocess.run([sys.executable, "-m", "forecast.cli", "run", str(directory), "--out",
                    str(outs[0]), "--seed", "4", *SMALL], check=True, env=env,
                   capture_output=True)
    assert main(["run", str(directory), "--out", str(outs[1]), "--seed", "4", *SMALL]) == 0
    for name in ("summary.json", "candidates.csv", "support_daily.csv", "house_effects.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def _kill_after(folder: Path, forecast, name: str) -> int:
    """Write ``forecast`` into ``folder`` in a forked child killed (SIGKILL) right after it
    wrote ``name``; returns the child's exit status."""
    pid = os.fork()
    if pid == 0:  # child
        def hook(written: str) -> None:
            if written == name:
                os.kill(os.getpid(), 9)
        try:
            write_forecast(forecast, folder, hook=hook)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.slow
def test_a_killed_run_leaves_the_old_forecast_or_the_new(synthetic, tmp_path):
    """Kill a run after each file it writes: the folder is always the old forecast, complete
    and consistent (its manifest matches every file; `report --fit` re-renders it)."""
    directory, _ = synthetic
    out = tmp_path / "reports"
    spec = {"draws": 150, "tune": 150, "chains": 2}
    old = run(directory, out_dir=out, seed=1, spec_changes=spec, progress=False)
    old_summary = (out / "summary.json").read_bytes()
    written: list[str] = []
    from forecast.engine import compute
    from forecast.pipeline import options

    inputs = load_inputs(directory, options(spec_changes=spec))
    new = compute(inputs, seed=2, progress=False)  # another seed: another forecast
    write_forecast(new, tmp_path / "probe", hook=written.append)
    assert written[0] == "fit.nc" and written[-1] == MANIFEST and len(written) > 10
    for name in written:
        status = _kill_after(out, new, name)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9, name
        verify_folder(out)  # every file of the manifest present and unchanged
        assert (out / "summary.json").read_bytes() == old_summary, name
    forecast = rereport(out / "fit.nc", tmp_path / "again")
    assert forecast.seed == old.seed
    assert (tmp_path / "again" / "summary.json").read_bytes() == old_summary
    # The next complete write replaces it, and clears what the killed runs left behind.
    write_forecast(new, out)
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".reports.")]
    assert leftovers == []


def test_output_folder_is_checked_before_fitting(synthetic, tmp_path, monkeypatch):
    """A bad --out is found before any fitting, in one line, exit 2; files get the usual
    permissions (0644 under umask 022), not mkstemp's 0600."""
    import forecast.pipeline as pipeline

    directory, _ = synthetic
    monkeypatch.setattr(pipeline, "compute", lambda *a, **k: pytest.fail("fitted"))
    as_file = tmp_path / "file"
    as_file.write_text("x")
    with pytest.raises(InputError, match="is a file: expected a folder"):
        run(directory, out_dir=as_file)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"holds files that are not a forecast \(notes.txt"):
        run(directory, out_dir=foreign)
    assert (foreign / "notes.txt").read_text() == "mine"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root writes anywhere
            with pytest.raises(InputError, match="cannot write in"):
                run(directory, out_dir=locked / "reports")
    finally:
        locked.chmod(0o700)


@pytest.mark.slow
def test_files_get_normal_permissions(synthetic_run):
    _, _, out, _ = synthetic_run
    old = os.umask(0o022)
    os.umask(old)
    for path in out.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~old, path.name
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~old
    verify_folder(out)
