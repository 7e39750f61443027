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


def test_score_rejects_other_candidates():
    with pytest.raises(ValueError, match="draws are for"):
        score(outcomes(VALID[:, :2] / VALID[:, :2].sum(1, keepdims=True), ["a", "b"]),
              _result(1, 2, 3))


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


def test_read_results_unknown_candidate(tmp_path, mx2018):
    msgs, shown = _problems(tmp_path, mx2018, GOOD.replace("anaya,", "obrador,"))
    assert msgs[0] == (f"{shown}:3:candidate: 'obrador' is not a candidate of mx2018: expected "
                       "one of amlo, anaya, meade, zavala, rodriguez, unregistered, null")
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
