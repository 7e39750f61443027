"""The governors stage of a forecast: the summary block's layout, tables and report section."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd

from forecast.governors import load_governor_races
from forecast.governors.simulate import states_of
from forecast.report.governors import governor_section, governor_tables
from forecast.report.page import render_files
from forecast.stages import StageResult
from forecast.stages.governors import governors_block

from .test_governors_outputs import MX2018, hand_draws


def _fake_fit(converged: bool):
    diagnostics = SimpleNamespace(as_dict=lambda timings=True: {
        "converged": converged, "max_rhat": 1.002 if converged else 1.08,
        "problems": [] if converged else ["max R-hat 1.08 > 1.01"]})
    return SimpleNamespace(as_of=dt.date(2018, 6, 28), polls=[None] * 33,
                           diagnostics=diagnostics)


def _forecast(block: dict, races) -> SimpleNamespace:
    inputs = SimpleNamespace(races=races)
    return SimpleNamespace(results={"governors": StageResult("governors", None, None, block)},
                           inputs=SimpleNamespace(stage=lambda name: inputs))


def test_block_puts_states_at_the_top_level():
    block = governors_block(hand_draws(), _fake_fit(True), "congress")
    assert set(states_of(block)) == {"aa", "bb"}
    assert block["aa"]["p_win"] == {"jhh": 0.5, "paf": 0.5, "tpm": 0.0}
    assert block["count"]["jhh"]["p_at_least"] == [1.0, 1.0, 0.25]
    assert block["polls_used"] == 33 and block["as_of"] == "2018-06-28"
    assert block["national_signal"] == "congress"
    tables = governor_tables(_forecast(block, None))
    rows = pd.read_csv(pd.io.common.BytesIO(tables["governors.csv"]))
    assert len(rows) == 5  # aa: 3 candidacies, bb: 2
    assert rows.loc[(rows.state == "bb") & (rows.candidacy == "jhh"), "p_win"].item() == 0.75
    counts = pd.read_csv(pd.io.common.BytesIO(tables["governors_count.csv"]))
    assert counts.loc[counts.candidacy == "jhh", "p_at_least_2"].item() == 0.25


def test_section_warns_when_the_state_fit_did_not_converge():
    races = load_governor_races(MX2018)
    block = governors_block(hand_draws(), _fake_fit(False), "president")
    forecast = _forecast(block, races)
    section = governor_section(forecast)
    assert [c.stem for c in section.charts] == ["governors_map", "governors_count"]
    summary = {"election": "E", "as_of": "2018-06-28", "election_day": "2018-07-01",
               "polls_used": 1, "candidates": {}, "orders": [],
               "margin": {"q50": 0.1, "q05": 0, "q95": 0.2}, "p_winner_under_third": 0,
               "diagnostics": {"converged": True, "max_rhat": 1.0, "divergences": 0,
                               "min_ess_bulk": 1000, "sampler": "nutpie", "chains": 4,
                               "draws": 1000}}
    files = render_files(summary, {}, governor_tables(forecast), names={}, warnings=[],
                         sections=[section])
    page = files["index.html"].decode()
    assert "id='section-governors'" in page
    assert "id='governor-fit-diagnostics'" in page and "max R-hat 1.08 &gt; 1.01" in page
    assert "chart_governors_map.csv" in files and "id='fig-governors_map'" in page
