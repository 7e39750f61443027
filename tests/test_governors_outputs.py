"""Governor summary, backtest scores (hand example), official results, charts and table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from forecast.governors import (
    backtest_governors,
    governors_summary,
    load_governor_races,
    load_governor_results,
)
from forecast.problems import InputError
from forecast.report.governor_charts import (
    governor_count_chart,
    governor_map_chart,
    governor_table_html,
    plot_governor_counts,
    plot_governor_map,
)

ROOT = Path(__file__).resolve().parents[1]
MX2018 = ROOT / "polls" / "mx2018"


def hand_draws() -> xr.Dataset:
    """Four draws, two states; ``bb`` has no tpm candidacy."""
    cands = ["jhh", "paf", "tpm"]
    aa = np.array([[0.5, 0.3, 0.2], [0.4, 0.45, 0.15], [0.6, 0.3, 0.1], [0.3, 0.5, 0.2]])
    bb_jhh = np.array([0.6, 0.55, 0.45, 0.7])
    bb = np.stack([bb_jhh, 1 - bb_jhh, np.full(4, np.nan)], axis=1)
    share = np.stack([aa, bb], axis=1)  # (draw, state, candidate)
    ballot = np.array([[True, True, True], [True, True, False]])
    win = np.zeros_like(share)
    top = np.nanargmax(share, axis=-1)
    np.put_along_axis(win, top[..., None], 1.0, axis=-1)
    return xr.Dataset(
        {"share": (("draw", "state", "candidate"), share),
         "win": (("draw", "state", "candidate"), win),
         "count": (("draw", "candidate"), win.sum(axis=1)),
         "ballot": (("state", "candidate"), ballot),
         "prior_weight": (("state", "candidate"), np.where(ballot, 0.5, 0.0)),
         "polls_used": ("state", [3, 0])},
        coords={"draw": np.arange(4), "state": ["aa", "bb"], "candidate": cands,
                "state_name": ("state", ["Aa <&>", "Bb"]), "abbr": ("state", ["jal", "mor"])},
        attrs={"as_of": "2018-06-28", "shared_error_fraction": {"jhh": 0.1}})


RESULTS = {"aa": {"jhh": 45, "paf": 40, "tpm": 15}, "bb": {"jhh": 48, "paf": 52}}


def test_summary_hand_example():
    block = governors_summary(hand_draws())
    aa, bb = block["states"]["aa"], block["states"]["bb"]
    assert aa["p_win"] == {"jhh": 0.5, "paf": 0.5, "tpm": 0.0}
    assert bb["p_win"] == {"jhh": 0.75, "paf": 0.25}  # tpm is not on bb's ballot
    assert bb["leader"] == "jhh" and bb["polls_used"] == 0
    assert aa["share"]["jhh"]["q05"] == pytest.approx(0.315)
    assert aa["interval_90"]["jhh"] == pytest.approx(0.585 - 0.315)
    # jhh wins [2, 1, 1, 1] states in the four draws.
    assert block["count"]["jhh"]["p_at_least"] == [1.0, 1.0, 0.25]
    assert block["count"]["jhh"]["mean"] == 1.25
    assert block["count"]["paf"]["p_at_least"] == [1.0, 0.75, 0.0]


def test_backtest_hand_example():
    score = backtest_governors(hand_draws(), RESULTS)
    aa, bb = score["states"]["aa"], score["states"]["bb"]
    assert aa["actual_winner"] == "jhh" and aa["p_actual_winner"] == 0.5
    assert aa["brier"] == pytest.approx(0.25 + 0.25)
    assert bb["actual_winner"] == "paf" and bb["p_actual_winner"] == 0.25
    assert bb["brier"] == pytest.approx(0.75**2 + 0.75**2)
    assert score["brier"] == pytest.approx(0.8125)
    assert score["n_winner_p_ge_half"] == 1 and score["n_leader_correct"] == 1
    assert score["log_score"] == pytest.approx((math.log(0.5) + math.log(0.25)) / 2)
    # 90% intervals hold all five actual shares; 50% intervals miss both of bb's.
    assert score["coverage_90"] == 1.0 and score["coverage_50"] == pytest.approx(0.6)
    assert score["n_shares"] == 5
    # Actual shares of at least 10%: all five here.
    assert score["coverage_50_main"] == pytest.approx(0.6) and score["n_shares_main"] == 5
    assert bb["shares"]["jhh"]["q05"] == pytest.approx(0.465)
    assert not bb["shares"]["jhh"]["in_50"] and aa["shares"]["tpm"]["in_50"]
    assert score["count_actual"]["jhh"] == {"actual": 1.0, "p_actual": 0.75}


def test_official_results_file():
    races = load_governor_races(MX2018)
    results = load_governor_results(races.results_path, races)
    assert sum(results["cdmx"].values()) == 5_261_555
    winners = {s: max(v, key=v.get) for s, v in results.items()}
    assert winners == {"cdmx": "jhh", "chiapas": "jhh", "guanajuato": "paf", "jalisco": "mc",
                       "morelos": "jhh", "puebla": "paf", "tabasco": "jhh", "veracruz": "jhh",
                       "yucatan": "paf"}


def test_results_errors(tmp_path):
    races = load_governor_races(MX2018)
    path = tmp_path / "r.csv"
    path.write_text("state,candidate,candidacy,votes\njalisco,paf,x,10\ncdmx,jhh,y,1.5\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_governor_results(path, races)
    messages = [str(p) for p in err.value.problems]
    assert messages[:2] == [
        f"{path}:2:candidate: 'paf' is not a candidate in jalisco (jhh, mc, tpm, pan, prd, "
        "pvem, na)",
        f"{path}:3:votes: '1.5': expected a whole number of votes",
    ]


def test_charts_and_table():
    block = governors_summary(hand_draws())
    assert isinstance(plot_governor_map(block), Figure)
    assert isinstance(plot_governor_counts(block), Figure)
    tiles = load_governor_races(MX2018).tiles
    assert len(tiles) == 32 and len({(t.row, t.column) for t in tiles.values()}) == 32
    html = governor_table_html(block, names={"aa": {"jhh": "<script>x</script>"}})
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "Aa &lt;&amp;&gt;" in html
    assert "0 (baseline + swing only)" in html
    assert html.count("<tr") == 1 + 5  # header + 3 candidacies in aa + 2 in bb
    # Candidate and alliance in separate columns: no nested brackets.
    assert "<th>Candidate</th><th>Alliance / party</th>" in html and "))" not in html


def test_interactive_governor_charts():
    from forecast.report.style import governor_style

    races = load_governor_races(MX2018)
    style = governor_style(races)
    block = governors_summary(hand_draws())
    chart = governor_map_chart(block, tiles=races.tiles, style=style)
    frame = chart.data["chart_governors_map.csv"]
    # No keys on the tiles: short names from races.toml; "no polls" stated in words.
    assert not frame["line2"].isin(["jhh", "paf", "tpm"]).any()
    assert (frame["racing"]).sum() <= len(block["states"])
    counts = governor_count_chart(block, style=style).data["chart_governors_count.csv"]
    assert set(counts["name"]) <= set(style.labels.values())
