"""Backtest: scores on hand-made draws, the results-file reader, the shipped 2018 result, and one
end-to-end backtest of a small synthetic election."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from forecast.backtest import Results, format_table, main, read_results, score
from forecast.election import load_election
from forecast.problems import InputError
from forecast.simulate import outcomes

from .conftest import MX2018, SHARED

# Four hand-made draws of valid-vote shares; 10% of every draw's total vote is invalid.
VALID = np.array([[0.50, 0.30, 0.20],
                  [0.40, 0.35, 0.25],
                  [0.30, 0.45, 0.25],
                  [0.45, 0.30, 0.25]])
ABC = ["a", "b", "c"]


def _draws():
    return outcomes(VALID, ABC, invalid=0.1)


def _result(a, b, c, null=100, unregistered=0):
    return Results("hand-made.csv", {"a": a, "b": b, "c": c, "null": null,
                                     "unregistered": unregistered}, ("a", "b", "c"))


# --- score() on hand-made draws ------------------------------------------------------------

def test_score_exact_values():
    # P(win) = a 3/4, b 1/4, c 0; a won with 450 of 1000 votes (450 of 900 valid).
    s = score(_draws(), _result(450, 300, 150))
    assert s["actual_winner"] == "a"
    assert s["p_actual_winner"] == pytest.approx(0.75)
    assert s["brier"] == pytest.approx(0.25**2 + 0.25**2 + 0.0)  # 0.125
    assert s["log_score"] == pytest.approx(math.log(0.75))
    assert s["log_score_floored"] is False
    a, b, c = (s["candidates"][k] for k in ABC)
    # a: share_total draws 0.45, 0.36, 0.27, 0.405 -> mean 0.37125, q05 0.2835, q95 0.44325
    assert a["share_total"]["q05"] == pytest.approx(0.2835)
    assert a["share_total"]["q95"] == pytest.approx(0.44325)
    assert a["actual"] == pytest.approx(0.45)
    assert a["error"] == pytest.approx(0.37125 - 0.45)
    assert a["in_90"] is False and a["in_50"] is False
    # a on the valid vote: actual 450/900, q95 of 0.5, 0.4, 0.3, 0.45 is 0.4925
    assert a["share_valid"]["actual"] == pytest.approx(0.5)
    assert a["share_valid"]["error"] == pytest.approx(0.4125 - 0.5)
    assert a["share_valid"]["in_90"] is False
    # b: draws 0.27, 0.315, 0.405, 0.27; actual 0.30: q25 0.27, q75 0.3375, q95 0.3915
    assert b["share_total"]["q75"] == pytest.approx(0.3375)
    assert b["share_total"]["q95"] == pytest.approx(0.3915)
    assert b["in_50"] is True and b["in_90"] is True
    assert b["error"] == pytest.approx(0.315 - 0.30)
    # c: draws 0.18, 0.225, 0.225, 0.225; actual 0.15 is below q05 = 0.18675
    assert c["share_total"]["q05"] == pytest.approx(0.18675)
    assert c["in_90"] is False
    assert [x["won"] for x in (a, b, c)] == [True, False, False]
    assert [x["p_win"] for x in (a, b, c)] == pytest.approx([0.75, 0.25, 0.0])
    assert s["n_in_50"] == 1 and s["n_in_90"] == 1
    assert s["mean_abs_error"] == pytest.approx((0.07875 + 0.015 + abs(0.21375 - 0.15)) / 3)


def test_score_winner_with_zero_probability_uses_the_floor():
    s = score(_draws(), _result(100, 200, 600))  # c won; no draw had c first
    assert s["p_actual_winner"] == 0.0
    assert s["brier"] == pytest.approx(0.75**2 + 0.25**2 + 1.0)  # 1.625
    assert s["log_score_floor"] == pytest.approx(1 / 8)  # 1 / (2 * 4 draws)
    assert s["log_score"] == pytest.approx(math.log(1 / 8))
    assert s["log_score_floored"] is True


def test_score_tied_result_and_draws_without_win_variable():
    draws = _draws().drop_vars("win")  # P(win) recomputed from share_valid
    s = score(draws, _result(400, 400, 100))
    assert s["actual_winner"] == "a=b"
    assert s["p_actual_winner"] == pytest.approx(1.0)
    assert s["brier"] == pytest.approx(0.25**2 + 0.25**2)  # outcome 1/2 each for a and b


def test_score_rejects_candidates_the_result_does_not_know():
    draws = outcomes(VALID, ["a", "b", "z"])
    with pytest.raises(ValueError, match="draws are for"):
        score(draws, _result(1, 2, 3))


def test_score_with_a_ballot_candidate_the_forecast_left_out():
    # The forecast has a and b only (no poll offered c): c's votes are valid votes it does not
    # model; a and b are scored on their share of a + b.
    two = VALID[:, :2] / VALID[:, :2].sum(1, keepdims=True)
    s = score(outcomes(two, ["a", "b"], invalid=0.1), _result(450, 300, 150))
    assert set(s["candidates"]) == {"a", "b"}
    assert s["candidates"]["a"]["share_valid"]["actual"] == pytest.approx(450 / 750)
    assert s["candidates"]["a"]["actual"] == pytest.approx(450 / 1000)  # of the total vote
    assert s["unmodelled"] == ["c"] and s["off_ballot"] == []
    assert s["unmodelled_valid_share"] == pytest.approx(150 / 900)
    # c won: the forecast gave it nothing; its outcome counts in the Brier score.
    s = score(outcomes(two, ["a", "b"]), _result(100, 200, 600))
    assert s["actual_winner"] == "c" and s["p_actual_winner"] == 0.0
    p_a = float(np.mean(two[:, 0] > two[:, 1]))
    assert s["brier"] == pytest.approx(p_a**2 + (1 - p_a) ** 2 + 1.0)
    assert s["log_score_floored"] is True


def test_score_with_a_forecast_candidate_off_the_ballot():
    # c withdrew after the as-of date: it is in the draws, its actual share is 0.
    result = Results("r.csv", {"a": 500, "b": 400, "c": 30, "other": 0, "unregistered": 0,
                               "null": 70}, ("a", "b"), ("a", "b", "c"))
    s = score(_draws(), result)
    c = s["candidates"]["c"]
    assert c["actual"] == 0.0 and c["share_valid"]["actual"] == 0.0 and c["on_ballot"] is False
    assert s["off_ballot"] == ["c"]
    assert s["candidates"]["a"]["share_valid"]["actual"] == pytest.approx(500 / 900)
    assert result.invalid == 100 and result.valid == 900


def test_score_80_percent_intervals_and_interval_scores():
    s = score(_draws(), _result(450, 300, 150))
    a = s["candidates"]["a"]["share_valid"]  # draws 0.5, 0.4, 0.3, 0.45; actual 0.5
    assert a["q10"] == pytest.approx(0.33) and a["q90"] == pytest.approx(0.485)
    assert a["in_80"] is False
    assert a["is_80"] == pytest.approx(0.485 - 0.33 + 2 / 0.2 * (0.5 - 0.485))
    assert s["n_in_80"] == sum(c["in_80"] for c in s["candidates"].values())


def test_interval_score_definition():
    from forecast.scoring import interval_block, interval_score, summarise_blocks

    assert interval_score(0.2, 0.4, 0.3, 90) == pytest.approx(0.2)
    assert interval_score(0.2, 0.4, 0.1, 90) == pytest.approx(0.2 + 20 * 0.1)
    assert interval_score(0.2, 0.4, 0.5, 50) == pytest.approx(0.2 + 4 * 0.1)
    block = interval_block(np.arange(101) / 100, 0.5)
    assert (block["q05"], block["q10"], block["q90"], block["q95"]) == pytest.approx(
        (0.05, 0.10, 0.90, 0.95))
    assert block["in_50"] and block["is_50"] == pytest.approx(0.5)
    pooled = summarise_blocks([block, interval_block(np.arange(101) / 100, 0.0)])
    assert pooled["n"] == 2
    assert pooled["coverage"] == {"50": 0.5, "80": 0.5, "90": 0.5}
    assert pooled["interval_score"]["90"] == pytest.approx((0.9 + 0.9 + 20 * 0.05) / 2)
    assert pooled["mae"] == pytest.approx((0.0 + 0.5) / 2)


# --- the naive poll average and the calibration table -----------------------------------------

def test_naive_average_renormalises_each_poll_and_keeps_the_window():
    from forecast.backtest import naive_average

    table = pd.DataFrame({
        "known": pd.to_datetime(["2030-05-01", "2030-05-20", "2030-05-25", "2030-06-02"]),
        "a": [90.0, 40.0, 45.0, 10.0],
        "b": [10.0, 40.0, 45.0, 10.0],
        "c": [np.nan, 20.0, np.nan, 80.0],
    })
    # As of 1 June, 14 days: polls public 19 May - 1 June (the second and third).
    avg = naive_average(table, ["a", "b", "c"], pd.Timestamp("2030-06-01").date())
    assert avg["polls"] == 2 and avg["first"] == "2030-05-19" and avg["last"] == "2030-06-01"
    # Poll 2: a .4 b .4 c .2; poll 3 (no c): a .5 b .5; means a .45 b .45 c .2 -> / 1.1
    assert avg["shares"] == pytest.approx({"a": 0.45 / 1.1, "b": 0.45 / 1.1, "c": 0.2 / 1.1})
    assert naive_average(table, ["a", "b"], pd.Timestamp("2030-04-01").date()) is None


def _record(key, as_of, blocks, brier, naive=None):
    return {"election_key": key, "as_of": as_of, "brier": brier, "log_score": math.log(0.5),
            "candidates": {k: {"share_valid": b} for k, b in blocks.items()}, "naive": naive}


def test_calibration_rows_and_pooled_table():
    from forecast.backtest import calibration, calibration_table, format_calibration
    from forecast.scoring import interval_block

    draws = np.linspace(0.0, 1.0, 101)
    one = _record("e1", "2030-01-01", {"a": interval_block(draws, 0.5),
                                       "b": interval_block(draws, 0.99)}, 0.2,
                  {"mean_abs_error": 0.1, "model_mean_abs_error": 0.245, "n": 2})
    two = _record("e2", "2031-01-01", {"a": interval_block(draws, 0.5)}, 0.4)
    rows = calibration(one)
    assert [r["level"] for r in rows] == ["candidate shares"]
    assert rows[0]["coverage"] == {"50": 0.5, "80": 0.5, "90": 0.5}
    assert rows[0]["mae"] == 0.245 and rows[0]["naive_mae"] == 0.1
    for record in (one, two):
        record["calibration"] = calibration(record)
    table = calibration_table([one, two])
    pooled = table[-1]
    assert pooled["election"] == "all" and pooled["n"] == 3
    assert pooled["coverage"]["50"] == pytest.approx(2 / 3)
    assert pooled["brier"] == pytest.approx(0.3)
    assert pooled["naive_mae"] == pytest.approx(0.1) and pooled["naive_n"] == 2
    text = format_calibration(table)
    assert "candidate shares" in text and text.count("\n") == 4


def test_cli_several_elections_refuse_as_of_and_check_every_folder_first(tmp_path, capsys):
    assert main(["polls/mx2012", "polls/kr2022", "--as-of", "2012-06-20"]) == 2
    assert "--as-of applies to a single election" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    assert main([str(MX2018), str(bad), "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert f"{bad / 'election.toml'}:0:-: no election definition" in out.err


def test_default_as_of_is_days_before_election_day(mx2018):
    from forecast.backtest import default_backtest_date

    assert default_backtest_date(mx2018).isoformat() == "2018-06-27"
    assert default_backtest_date(mx2018, 10).isoformat() == "2018-06-21"


# --- read_results validation -------------------------------------------------------------

@pytest.fixture(scope="module")
def mx2018():
    return load_election(MX2018)


GOOD = ("candidate,votes\namlo,30113483\nanaya,12610120\nmeade,9289853\nrodriguez,2961732\n"
        "zavala,32743\nunregistered,31982\nnull,1571114\n")


def _problems(tmp_path, election, text, name="r.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_results(path, election)
    return [str(p) for p in exc.value.problems], str(path)


def test_read_results_accepts_good_file_with_bom_and_note(tmp_path, mx2018):
    path = tmp_path / "r.csv"
    lines = GOOD.splitlines()
    text = "\n".join([lines[0] + ",note", *(f"{x},a note" for x in lines[1:])]) + "\n\n"
    path.write_text("\ufeff" + text.replace("amlo,", " AMLO , "), encoding="utf-8")
    r = read_results(path, mx2018)
    assert r.total == 56_611_027 and r.valid == 54_975_188 and r.winners == ("amlo",)


def test_read_results_other_row_is_valid_and_optional(tmp_path, mx2018):
    path = tmp_path / "r.csv"
    path.write_text(GOOD + "other,1000\n", encoding="utf-8")
    r = read_results(path, mx2018)
    assert r.other == 1000 and r.total == 56_612_027
    assert r.valid == 54_976_188 and r.invalid == 32_743 + 31_982 + 1_571_114
    assert r.share_valid("amlo") == pytest.approx(30_113_483 / 54_976_188)
    assert r.share_among("amlo", ["amlo", "anaya"]) == pytest.approx(
        30_113_483 / (30_113_483 + 12_610_120))
    assert r.share_among("zavala", ["amlo", "zavala"]) == 0.0  # not on the ballot
    path.write_text(GOOD, encoding="utf-8")
    assert read_results(path, mx2018).other == 0
    msgs, shown = _problems(tmp_path, mx2018, GOOD + "other,1\nother,2\n")
    assert msgs == [f"{shown}:10:candidate: 'other' appears twice (first on line 9)"]


def test_read_results_unknown_candidate(tmp_path, mx2018):
    msgs, shown = _problems(tmp_path, mx2018, GOOD.replace("anaya,", "obrador,"))
    assert msgs[0] == (f"{shown}:3:candidate: 'obrador' is not a candidate of mx2018: expected "
                       "one of amlo, anaya, meade, zavala, rodriguez, other, unregistered, null")
    assert f"{shown}:0:candidate: no row for 'anaya' (a candidate on the ballot): expected one " \
           "(0 if none)" in msgs


def test_read_results_non_integer_votes(tmp_path, mx2018):
    text = GOOD.replace("9289853", '"9,289,853"').replace("2961732", "2961732.5") \
        .replace("31982", "").replace("1571114", "-5")
    msgs, shown = _problems(tmp_path, mx2018, text)
    expected = "expected a whole number of votes (digits only, no separators)"
    assert msgs[:4] == [f"{shown}:4:votes: '9,289,853': {expected}",
                        f"{shown}:5:votes: '2961732.5': {expected}",
                        f"{shown}:7:votes: '': {expected}",
                        f"{shown}:8:votes: '-5': {expected}"]


def test_read_results_structure_problems(tmp_path, mx2018):
    msgs, shown = _problems(tmp_path, mx2018, GOOD.replace("candidate,votes", "name,votes,x"))
    assert msgs == [f"{shown}:1:candidate: missing required column",
                    f"{shown}:1:name: unknown column: expected candidate, votes (and optionally "
                    "note)",
                    f"{shown}:1:x: unknown column: expected candidate, votes (and optionally "
                    "note)"]
    text = GOOD.replace("null,1571114\n", "amlo,1\nmeade,2,3\n")
    msgs, shown = _problems(tmp_path, mx2018, text)
    assert msgs == [f"{shown}:8:candidate: 'amlo' appears twice (first on line 2)",
                    f"{shown}:9:-: 3 fields; expected 2 (one per header column)",
                    f"{shown}:0:candidate: no row for 'null' (null votes): expected one "
                    "(0 if none)"]
    msgs, shown = _problems(tmp_path, mx2018, "")
    assert msgs == [f"{shown}:1:-: empty file: expected a header line candidate,votes"]
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError, match="nope.csv:0:-: results file not found"):
        read_results(missing, mx2018)


def test_cli_bad_results_exit_2_and_write_nothing(mx2018_copy, capsys):
    results = mx2018_copy / "results" / "president_2018.csv"
    results.write_text(GOOD.replace("meade,9289853", "meade,9289853.0"), encoding="utf-8")
    assert main([str(mx2018_copy), "--as-of", "2018-06-28", "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert f"{results}:4:votes: '9289853.0': expected a whole number of votes" in out.err
    assert "nothing was written" in out.err
    results.unlink()
    assert main([str(mx2018_copy)]) == 2
    out = capsys.readouterr()
    toml = mx2018_copy / "election.toml"
    line = next(i for i, t in enumerate(toml.read_text().splitlines(), 1)
                if t.startswith("results_file"))
    assert out.out == ""
    assert out.err.startswith(f"{toml}:{line}:results_file: 'results/president_2018.csv': "
                              f"results file {results} not found")


def test_cli_bad_as_of_dates_exit_2(mx2018_copy, capsys):
    assert main([str(mx2018_copy), "--as-of", "2017-10-01", "2018-07-02"]) == 2
    err = capsys.readouterr().err
    assert ("president.csv:0:as_of: as-of date 2017-10-01: only 0 poll(s) public by then: "
            "expected at least two (the second is public on 2017-12-17)") in err
    assert ("election.toml:0:as_of: as-of date 2018-07-02 is after election day 2018-07-01: "
            "expected a date before it") in err


# --- the shipped 2018 result ---------------------------------------------------------------

def test_shipped_2018_results(mx2018):
    r = read_results(MX2018 / mx2018.results_file, mx2018)
    assert r.total == 56_611_027
    assert r.ballot == ("amlo", "anaya", "meade", "rodriguez")
    assert r.invalid == 32_743 + 31_982 + 1_571_114  # Zavala + non-registered + null
    for key, pct in {"amlo": 53.19, "anaya": 22.28, "meade": 16.41, "rodriguez": 5.23}.items():
        assert 100 * r.share_total(key) == pytest.approx(pct, abs=0.01), key
    for key, pct in {"amlo": 54.78, "anaya": 22.94, "meade": 16.90, "rodriguez": 5.39}.items():
        assert 100 * r.share_valid(key) == pytest.approx(pct, abs=0.01), key
    assert r.winners == ("amlo",)


@pytest.mark.skipif(not (SHARED / "data" / "mx-results" / "president_state_2018.csv").is_file(),
                    reason="shared results collection not present")
def test_shipped_2018_results_match_state_sums(mx2018):
    """The state file (domestic casilla counts, no votes from abroad) is within 0.25% of INE's
    national totals, and its residual (efec - 4 candidates) is about Zavala's vote."""
    r = read_results(MX2018 / mx2018.results_file, mx2018)
    states = pd.read_csv(SHARED / "data" / "mx-results" / "president_state_2018.csv")
    for key, col in {"amlo": "amlo", "anaya": "anaya", "meade": "meade",
                     "rodriguez": "bronco"}.items():
        assert states[col].sum() == pytest.approx(r.votes[key], rel=0.0025), key
        assert states[col].sum() <= r.votes[key]
    assert states["residual_efec_source"].sum() == pytest.approx(r.votes["zavala"], rel=0.02)


# --- end to end on a synthetic election -----------------------------------------------------

@pytest.mark.slow
def test_backtest_synthetic_end_to_end(synthetic, tmp_path, capsys):
    directory, truth = synthetic
    valid = 1_000_000
    votes = {c: round(valid * truth.election_day_share[c]) for c in truth.ballot}
    votes.update({"dario": 700, "unregistered": 1_300, "null": 25_000})  # dario withdrew
    results = tmp_path / "results.csv"
    results.write_text("candidate,votes\n" + "".join(f"{k},{v}\n" for k, v in votes.items()),
                       encoding="utf-8")
    code = main([str(directory), "--results", str(results), "--as-of", truth.as_of.isoformat(),
                 "--json", "--seed", "3", "--draws", "300", "--tune", "300", "--chains", "2"])
    out = capsys.readouterr().out
    assert code == 0
    record = json.loads(out)
    assert record["as_of"] == truth.as_of.isoformat()
    assert set(record["candidates"]) == set(truth.ballot)
    total = sum(votes.values())
    winner = max(truth.ballot, key=lambda c: votes[c])
    assert record["actual_winner"] == winner
    for c in truth.ballot:
        block = record["candidates"][c]
        assert block["actual"] == pytest.approx(votes[c] / total)
        assert block["share_valid"]["actual"] == pytest.approx(
            votes[c] / sum(votes[k] for k in truth.ballot))
        assert block["error"] == pytest.approx(block["mean"] - block["actual"])
        # No polling error in this truth: the forecast is close and inside its 90% interval.
        assert abs(block["error"]) < 0.05, c
        assert block["in_90"], c
    p = record["p_actual_winner"]
    assert p == pytest.approx(record["candidates"][winner]["p_win"]) and p > 0.5
    assert record["log_score"] == pytest.approx(math.log(p))
    assert record["brier"] == pytest.approx(sum(
        (b["p_win"] - (c == winner)) ** 2 for c, b in record["candidates"].items()))
    assert {"max_rhat", "divergences", "min_ess_bulk", "converged"} <= set(record["diagnostics"])
    table = format_table(record)
    assert f"backtest as of {truth.as_of}" in table and f"P(actual winner = {winner})" in table


@pytest.mark.slow
def test_backtest_several_elections_end_to_end(tmp_path, capsys):
    """Two synthetic elections in one command: one record each as of 4 days before election
    day, the naive average, and the calibration table with a pooled row (JSON and text)."""
    from forecast.synthetic import write_synthetic_election

    folders = []
    for seed in (3, 4):
        directory = tmp_path / f"s{seed}"
        truth = write_synthetic_election(directory, seed=seed, n_polls=40, days=90)
        votes = {c: round(1_000_000 * truth.election_day_share[c]) for c in truth.ballot}
        votes.update({"other": 5_000, "unregistered": 1_000, "null": 20_000})
        (directory / "results.csv").write_text(
            "candidate,votes\n" + "".join(f"{k},{v}\n" for k, v in votes.items()),
            encoding="utf-8")
        toml = directory / "election.toml"
        toml.write_text('results_file = "results.csv"\n' + toml.read_text(encoding="utf-8"),
                        encoding="utf-8")
        folders.append(str(directory))
    small = ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "5"]
    assert main([*folders, "--json", *small]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "forecast.backtest-table/1"
    assert len(doc["records"]) == 2
    for record in doc["records"]:
        day = pd.Timestamp(record["election_day"]) - pd.Timedelta(days=4)
        assert record["as_of"] == day.date().isoformat()
        assert record["actual_other_votes"] == 5_000
        naive = record["naive"]
        assert naive is None or naive["window_days"] == 14
    table = doc["table"]
    assert [r["election"] for r in table][-1] == "all"
    assert {r["level"] for r in table} == {"candidate shares"}
    assert table[-1]["n"] == sum(r["n"] for r in table[:-1])
    for r in table:
        assert set(r["coverage"]) == {"50", "80", "90"}
        assert all(0.0 <= v <= 1.0 for v in r["coverage"].values())
    assert main([*folders, *small]) == 0
    out = capsys.readouterr().out
    assert "calibration: coverage of the central 50/80/90% intervals" in out
    assert out.count("candidate shares") == 3
