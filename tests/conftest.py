"""Shared fixtures: a small synthetic election, fitted once per session through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forecast.synthetic import write_synthetic_election

ROOT = Path(__file__).resolve().parents[1]
MX2018 = ROOT / "polls" / "mx2018"
SHARED = ROOT.parent / "shared"
# Small but honest sampler settings for tests: 4 chains so R-hat means something.
FAST = ["--draws", "1000", "--tune", "1000", "--chains", "4"]


@pytest.fixture
def empty_compile_cache():
    """This process's compiled models emptied for one test (which counts compiles) and handed
    back afterwards, so the tests after it still reuse what earlier ones compiled."""
    from forecast import sampling

    kept = dict(sampling._COMPILED)
    sampling.clear_compiled()
    yield
    sampling.clear_compiled()
    sampling._COMPILED.update(kept)


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    """A synthetic election folder and its truth."""
    directory = tmp_path_factory.mktemp("synthetic") / "election"
    truth = write_synthetic_election(directory, seed=7, n_polls=60, days=120)
    return directory, truth


@pytest.fixture(scope="session")
def synthetic_run(synthetic, tmp_path_factory):
    """`forecast run` on the synthetic election: (election dir, truth, out dir, exit code)."""
    from forecast.cli import main

    directory, truth = synthetic
    out = tmp_path_factory.mktemp("report")
    code = main(["run", str(directory), "--out", str(out), "--seed", "11", *FAST])
    return directory, truth, out, code


@pytest.fixture(scope="session")
def mx2018_forecast(tmp_path_factory):
    """The 2018 forecast as of 2018-06-28 at small size (president, Congress, governors), fresh,
    into an empty folder (shared by the path and browser tests)."""
    from forecast.cli import main

    out = tmp_path_factory.mktemp("paths") / "reports"
    code = main(["run", str(MX2018), "--out", str(out), "--as-of", "2018-06-28",
                 "--draws", "150", "--tune", "150", "--chains", "2"])
    assert code == 0
    return out


@pytest.fixture
def mx2018_copy(tmp_path):
    """A writable copy of the shipped 2018 election folder."""
    target = tmp_path / "mx2018"
    shutil.copytree(MX2018, target)
    return target
