"""The as-of timeline: one compiled model per poll file and ballot; parallel = serial."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import xarray as xr

from forecast import sampling
from forecast.election import load_election
from forecast.model import poll_arrays, prepare, structure_key
from forecast.polls import read_polls
from forecast.spec import ModelSpec
from forecast.timeline import run_timeline

# Before Darío's withdrawal (2030-03-22): one ballot; Pollster A starts on 2030-02-07.
DATES = [dt.date(2030, 1, 20), dt.date(2030, 2, 15), dt.date(2030, 3, 15)]
SMALL = {"draws": 150, "tune": 150, "chains": 2}


def test_as_of_fits_share_one_compiled_structure(synthetic):
    directory, _ = synthetic
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    spec = ModelSpec()
    data = [prepare(polls, election, spec, as_of=d) for d in DATES]
    assert len({tuple(d.pollsters) for d in data}) > 1  # the as-of pollster sets differ ...
    assert len({structure_key(d, spec) for d in data}) == 1  # ... yet one compiled model
    for d in data:
        arrays = poll_arrays(d)
        active = [p for p, row in zip(d.file_pollsters, arrays["pollster_embedding"],
                                      strict=True) if row.any()]
        assert active == d.pollsters  # only pollsters with polls get a house effect
        # polls point at their own pollster on the file's axis
        assert [d.file_pollsters[i] for i in arrays["pollster_index"]] == list(
            d.polls["pollster"])


@pytest.mark.slow
def test_parallel_timeline_equals_serial_and_reuses_the_compiled_model(synthetic, tmp_path,
                                                                     empty_compile_cache):
    """Serial (one process, compiled models reused in it) and parallel (two fresh processes)
    timelines are identical bit for bit. The in-process cache is emptied first, so the serial
    run compiles exactly once whatever ran before it in this session."""
    directory, _ = synthetic
    serial = run_timeline(directory, DATES, out_dir=tmp_path / "serial", seed=5,
                          spec_changes=SMALL, workers=1, progress=False)
    # Serially, in this process: one compile for the three dates.
    assert len(sampling._COMPILED) == 1
    assert [r.compile_seconds > 1 for r in run_timeline.fit_records] == [True, False, False]
    parallel = run_timeline(directory, DATES, out_dir=tmp_path / "parallel", seed=5,
                            spec_changes=SMALL, workers=2, progress=False)
    assert len({r.worker for r in run_timeline.fit_records}) == 2
    pd.testing.assert_frame_equal(serial, parallel)
    assert list(serial["as_of"].unique()) == [d.isoformat() for d in DATES]
    with (xr.open_dataset(tmp_path / "serial" / "timeline.nc") as a,
          xr.open_dataset(tmp_path / "parallel" / "timeline.nc") as b):
        xr.testing.assert_identical(a.load(), b.load())
    assert (tmp_path / "serial" / "timeline.csv").read_bytes() == (
        tmp_path / "parallel" / "timeline.csv").read_bytes()
