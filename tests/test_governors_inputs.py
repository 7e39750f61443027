"""Governor race definitions, baselines and state polls: loading and every error message."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.governors import load_governor_races, local_effect_calibration, read_governor_polls
from forecast.governors.races import baseline_shares
from forecast.problems import InputError

ROOT = Path(__file__).resolve().parents[1]
MX2018 = ROOT / "polls" / "mx2018"
STATES = ["cdmx", "chiapas", "guanajuato", "jalisco", "morelos", "puebla", "tabasco", "veracruz",
          "yucatan"]


@pytest.fixture(scope="module")
def races():
    return load_governor_races(MX2018)


def test_shipped_races(races):
    assert races.states == STATES
    jalisco = races.race("jalisco")
    assert "paf" not in jalisco.keys and jalisco.candidate("mc").bloc == "paf"
    assert races.race("chiapas").candidate("pvem").split_from == "tpm"
    assert races.race("chiapas").ballot(dt.date(2018, 5, 1)) == ["jhh", "paf", "tpm",
                                                                 "independent"]
    for race in races.races:
        assert sum(race.baseline.values()) == pytest.approx(1.0)
        assert min(race.baseline.values()) > 0
    # National 2015 deputies blocs from the 300 districts: Morena+PT+PES over the 37,919,492
    # valid votes, plus the PT's part of the PRD+PT combination ballots (split by own votes).
    base = races.national_baseline
    assert base.sum() == pytest.approx(1.0)
    assert list(base.index) == ["jhh", "paf", "tpm", "other"]
    state = pd.read_csv(MX2018 / "governors" / "baseline_deputies_2015.csv")
    t = state.sum()
    jhh = (t["morena"] + t["pt"] + t["pes"] + t["coal_prd_pt"] * t["pt"] / (t["prd"] + t["pt"])
           ) / t["valid_votes"]
    assert base["jhh"] == pytest.approx(jhh, rel=1e-12)
    assert state["valid_votes"].sum() == 37_919_492


def test_local_effect_calibration_figure(races):
    # The figure models/governors.toml quotes for the local-effect prior median.
    cal = local_effect_calibration(races)
    assert cal["n_all"] == 28 and cal["sd_all"] == pytest.approx(0.4535, abs=5e-4)
    assert cal["n_main"] == 18 and cal["sd_main"] == pytest.approx(0.384, abs=5e-4)


def test_baseline_shares_hand_example(races):
    # PRI and PVEM in different candidacies: their 2015 combination ballots (60) are split 2:1
    # by their own votes; PH (no candidacy) leaves the base.
    row = pd.Series({"pan": 100, "pri": 200, "prd": 0, "pvem": 100, "pt": 0, "mc": 0, "na": 0,
                     "morena": 140, "pes": 0, "ph": 50, "independents": 0, "coal_pri_pvem": 60,
                     "coal_prd_pt": 0, "coal_pan_na": 0, "valid_votes": 650})
    chiapas = races.race("chiapas").candidates
    shares = baseline_shares(row, chiapas, races.baseline_columns)
    raw = {"jhh": 140, "paf": 100, "tpm": 240, "pvem": 120, "independent": 0}
    floored = {k: max(v / 600, 0.005) for k, v in raw.items()}
    total = sum(floored.values())
    assert shares == pytest.approx({k: v / total for k, v in floored.items()})


def _write_races(tmp_path: Path, candidate_block: str) -> Path:
    folder = tmp_path / "governors"
    folder.mkdir()
    shutil.copy(MX2018 / "governors" / "baseline_deputies_2015.csv", folder)
    text = f"""election_day = 2018-07-01
campaign_start = 2017-09-08
candidacy_keys = ["jhh", "paf", "tpm", "mc", "pan", "prd", "pvem", "na", "independent"]
baseline_file = "baseline_deputies_2015.csv"

[baseline_columns]
parties = ["pan", "pri", "prd", "pvem", "pt", "mc", "na", "morena", "pes", "ph", "independents"]
combinations = {{ coal_pri_pvem = ["pri", "pvem"], coal_prd_pt = ["prd", "pt"] }}
no_party = "independents"

[blocs]
jhh = ["morena", "pt", "pes"]
paf = ["pan", "prd", "mc"]
tpm = ["pri", "pvem", "na"]

[[races]]
state = "jalisco"
name = "Jalisco"
abbr = "jal"

[[races.candidates]]
key = "jhh"
name = "Carlos Lomelí"
parties = ["morena", "pt", "pes"]
{candidate_block}"""
    (folder / "races.toml").write_text(text, encoding="utf-8")
    return folder / "races.toml"


def test_malformed_candidate_and_coalition_give_file_line_messages(tmp_path):
    path = _write_races(tmp_path, """
[[races.candidates]]
key = "alfaro"
name = "Enrique Alfaro"
parties = ["mc"]

[[races.candidates]]
key = "tpm"
name = "Miguel Castro Reynoso"
parties = "pri"

[[races.candidates]]
key = "pan"
name = "Miguel Ángel Martínez"
parties = ["pan"]
bloc = "frente"
""")
    with pytest.raises(InputError) as err:
        load_governor_races(tmp_path)
    shown = str(path)
    messages = [str(p) for p in err.value.problems]
    assert messages == [
        f"{shown}:27:key: race jalisco: candidate key 'alfaro' is not one of the "
        "candidacy_keys: expected one of jhh, paf, tpm, mc, pan, prd, pvem, na, independent, "
        "other",
        f"{shown}:34:parties: race jalisco, candidate 'tpm': parties 'pri': expected a list of "
        "lowercase party keys, e.g. [\"morena\", \"pt\", \"pes\"]",
        f"{shown}:40:bloc: race jalisco, candidate 'pan': bloc 'frente': expected one of jhh, "
        "paf, tpm, other",
    ]


def test_split_from_unknown_and_duplicate_key(tmp_path):
    path = _write_races(tmp_path, """
[[races.candidates]]
key = "jhh"
name = "Again"
parties = ["morena"]

[[races.candidates]]
key = "pvem"
name = "Salvador Cosío"
parties = ["pvem"]
split_from = "pri"
""")
    with pytest.raises(InputError) as err:
        load_governor_races(tmp_path)
    messages = [str(p) for p in err.value.problems]
    assert messages == [
        f"{path}:27:key: race jalisco, candidate 'jhh' appears twice in the race",
        f"{path}:35:split_from: race jalisco, candidate 'pvem': split_from 'pri' is not another "
        "candidate of the race",
    ]


def test_shipped_polls(races):
    polls = read_governor_polls(races.poll_path, races)
    table = polls.table
    # 46 releases: 13 give one option with no known decided base and are skipped (warned).
    assert len(table) == 33
    skipped = [w for w in polls.warnings if "row not used" in w.message]
    assert len(skipped) == 13
    assert all(np.isin(table["state"], STATES))
    # Guanajuato's TAG release gives only the PRI (14.8%, effective): the rest is known.
    tag = table[table["pollster"].str.startswith("TAG")].iloc[0]
    assert tag["rest"] == pytest.approx(85.2)
    # What was public by 28 June: published by then, or (no publication date) fieldwork ended.
    as_of = polls.as_of(dt.date(2018, 6, 28))
    assert as_of.count_by_state(STATES) == {"cdmx": 7, "chiapas": 4, "guanajuato": 2,
                                           "jalisco": 5, "morelos": 1, "puebla": 6,
                                           "tabasco": 1, "veracruz": 4, "yucatan": 3}
    assert len(polls.as_of(dt.date(2018, 5, 1))) == 7


def test_poll_errors_all_at_once(races, tmp_path):
    src = (MX2018 / "governors" / "polls_governor.csv").read_text(encoding="utf-8")
    header = src.splitlines()[0]
    bad = "\n".join([
        header,
        "atlantis,X,2018-06-01,2018-06-02,,500,,raw,40,30,20,,,,,,,,,,complete,",
        "jalisco,Y,2018-06-01,2018-06-02,,500,,effective,30,40,20,,,,,,,,,,complete,",
        "cdmx,Z,2018-06-31,2018-06-02,,500,,raw,40,30,20,,,,,,,,,,complete,",
        "puebla,W,2018-06-01,2018-06-02,,500,,raw,60,50,20,,,,,,,,,,main,",
        "veracruz,V,2018-06-01,2018-06-02,,500,,effective,40,30,20,,,,,,,,,,complete,",
        "cdmx,U,2018-06-01,2018-06-02,,500,,raw,40,30,20,,,,,,,Rascon 2,,,main,",
        "morelos,T,,,,500,,raw,40,30,20,,,,,,,,,,main,",
    ]) + "\n"
    path = tmp_path / "polls.csv"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_governor_polls(path, races)
    messages = [str(p) for p in err.value.problems if p.severity == "error"]
    assert messages == [
        f"{path}:2:state: 'atlantis' is not a race of races.toml (states: {', '.join(STATES)})",
        f"{path}:3:paf: 40% for 'paf', which is not a candidate in jalisco (candidates: jhh, mc, "
        "tpm, pan, prd, pvem, na)",
        f"{path}:4:field_start: '2018-06-31' is not a date: expected YYYY-MM-DD (or YYYY-MM for a "
        "month)",
        f"{path}:5:jhh: shares sum to 130: expected at most 100 ± 2.5",
        f"{path}:6:jhh: shares sum to 90: a complete effective row must sum to 100 ± 2.5 (or "
        "mark it main/partial)",
        f"{path}:7:other_candidates: 'Rascon 2': expected name=percent pairs separated by ';'",
        f"{path}:8:published: no date: expected field_end or published (YYYY-MM-DD (or YYYY-MM for "
        "a month)); an undated "
        "poll cannot be placed before or after an as-of date",
    ]


def test_model_arrays_on_2018_polls(races):
    from forecast.governors import GovernorSpec, prepare_governors

    polls = read_governor_polls(races.poll_path, races)
    data = prepare_governors(races, polls, GovernorSpec(), as_of=dt.date(2018, 6, 28))
    options = data.options
    assert data.counts.sum(axis=1).tolist() == data.polls["n_decided"].tolist()
    # Chiapas, El Universal (April): Albores was then the joint PRI-PVEM candidate, so the poll's
    # tpm slot holds tpm and pvem; the June Coparmex poll's tpm slot holds tpm alone.
    chiapas = data.polls.index[data.polls["state"] == "chiapas"].tolist()
    april = [i for i in chiapas if data.polls.loc[i, "pollster"] == "El Universal"][0]
    june = [i for i in chiapas if "Coparmex" in data.polls.loc[i, "pollster"]][0]
    tpm, pvem = options.index("tpm"), options.index("pvem")
    assert data.groups[april, tpm, pvem] == 1 and data.groups[june, tpm, pvem] == 0
    # Guanajuato TAG: the PRI slot and "the rest" (every other candidacy on the ballot).
    tag = data.polls.index[data.polls["pollster"].str.startswith("TAG")][0]
    assert data.groups[tag].sum(axis=1).tolist() == [0] * 2 + [1] + [0] * 7 + [4]
    assert data.counts[tag, -1] == round(0.852 * data.polls.loc[tag, "n_decided"])
    # Before 23 May the PVEM candidacy is not on Chiapas' ballot (not yet known).
    early = prepare_governors(races, polls, GovernorSpec(), as_of=dt.date(2018, 5, 1))
    assert not early.ballot[races.states.index("chiapas"), pvem]
    assert data.ballot[races.states.index("chiapas"), pvem]
    # Older polls weigh less: weight exp(-age / 45 days), age counted back from the newest
    # poll used (2018-06-27), so a later as-of date with no new poll gives the same fit.
    newest = data.polls["known"].max()
    assert newest == pd.Timestamp("2018-06-27")
    age = (newest - data.polls["reference"]).dt.days.clip(lower=0).to_numpy()
    assert np.allclose(data.weight, np.exp(-age / 45.0))
    later = prepare_governors(races, polls, GovernorSpec(), as_of=dt.date(2018, 6, 30))
    assert np.array_equal(later.weight, data.weight)


def test_spec_errors(tmp_path):
    from forecast.governors import load_governor_spec

    spec = load_governor_spec(ROOT / "models" / "governors.toml")
    assert spec.final_poll_error_sigma == 0.33 and spec.main_share == 0.10
    assert spec.local_sd_median == 0.45
    path = tmp_path / "g.toml"
    path.write_text("[baseline]\nswing_sigma = -1\n\n[sampler]\nname = \"stan\"\ncolour = 1\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_governor_spec(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:2:baseline.swing_sigma: -1: expected a positive number",
        f"{path}:5:sampler.name: 'stan': expected 'nutpie' or 'pymc'",
        f"{path}:6:sampler.colour: unknown setting",
    ]


# --- the election's own candidacy keys and baseline columns (no Mexican facts in code) --------

def _tiny_races(tmp_path: Path, extra: str = "", columns: str | None = None) -> Path:
    """A made-up country: two parties, a combination ballot, an independent, one race."""
    folder = tmp_path / "governors"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.csv").write_text(
        "state_abbr,red,blue,green,ind,coal_red_green,valid_votes\n"
        "n1,500,300,100,50,50,1000\n", encoding="utf-8")
    columns = columns if columns is not None else (
        '[baseline_columns]\nparties = ["red", "blue", "green", "ind"]\n'
        'combinations = { coal_red_green = ["red", "green"] }\nno_party = "ind"\n')
    text = f"""election_day = 2030-06-01
campaign_start = 2030-01-01
candidacy_keys = ["left", "right", "solo"]
baseline_file = "base.csv"
{extra}
{columns}
[blocs]
l = ["red", "green"]
r = ["blue"]

[[races]]
state = "north"
name = "North"
abbr = "n1"

[[races.candidates]]
key = "left"
name = "A"
parties = ["red", "green"]

[[races.candidates]]
key = "right"
name = "B"
parties = ["blue"]

[[races.candidates]]
key = "solo"
name = "C"
parties = []
"""
    (folder / "races.toml").write_text(text, encoding="utf-8")
    return folder / "races.toml"


def test_candidacy_keys_and_columns_come_from_races_toml(tmp_path):
    _tiny_races(tmp_path)
    races = load_governor_races(tmp_path)
    assert races.keys == ["left", "right", "solo", "other"]
    assert races.options == ["left", "right", "solo"]
    race = races.race("north")
    # left: red 500 + green 100 + the whole red-green combination ballot 50; solo: ind 50.
    assert race.baseline == pytest.approx({"left": 650 / 1000, "right": 300 / 1000,
                                           "solo": 50 / 1000})
    assert races.national_baseline.to_dict() == pytest.approx({"l": 0.65, "r": 0.30,
                                                                "other": 0.05})


def test_combination_ballots_split_between_holders_of_three_parties(tmp_path):
    from forecast.governors.races import RaceCandidate, VoteColumns

    columns = VoteColumns(("a", "b", "c"), (("coal_abc", ("a", "b", "c")),))
    row = pd.Series({"a": 60, "b": 30, "c": 10, "coal_abc": 100})
    day = dt.date(2030, 1, 1)
    cands = (RaceCandidate("x", "X", ("a",), "other", day, day),
             RaceCandidate("y", "Y", ("b", "c"), "other", day, day))
    # x: 60 + 100 * 60/100; y: 40 + 100 * 40/100
    assert baseline_shares(row, cands, columns) == pytest.approx({"x": 0.6, "y": 0.4})


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda t: t.replace('candidacy_keys = ["left", "right", "solo"]\n', ""),
     ":0:candidacy_keys: missing: expected the candidacy keys"),
    (lambda t: t.replace('["left", "right", "solo"]', '["left", "right", "left"]'),
     ":3:candidacy_keys: ['left', 'right', 'left']: a key is listed twice"),
    (lambda t: t.replace('["left", "right", "solo"]', '["left", "right", "solo", "state"]'),
     ":3:candidacy_keys: 'state': a column of the state-poll file that is not a candidate"),
    (lambda t: t.replace("no_party =", "no_partie ="),
     ":9:baseline_columns.no_partie: unknown setting 'no_partie'; did you mean 'no_party'?"),
    (lambda t: t.replace('coal_red_green = ["red", "green"]', 'coal_red_green = ["red", "pink"]'),
     ":8:baseline_columns.combinations.coal_red_green: ['red', 'pink']: expected two or more "
     "of the party columns (red, blue, green, ind)"),
    (lambda t: t.replace('no_party = "ind"', 'no_party = "independents"'),
     ":9:baseline_columns.no_party: 'independents': expected one of the party columns"),
    (lambda t: t.replace("[baseline_columns]", "[baseline_colums]"),
     "unknown setting 'baseline_colums'; did you mean 'baseline_columns'?"),
    (lambda t: t.replace('baseline_file = "base.csv"',
                         'baseline_file = "base.csv"\ncalibration_file = "base.csv"'),
     ":0:calibration_year: None: expected the year of the calibration file's election"),
])
def test_races_toml_column_settings_are_checked(tmp_path, edit, expected):
    path = _tiny_races(tmp_path)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_governor_races(tmp_path)
    messages = [str(p) for p in err.value.problems]
    assert any(expected in m for m in messages), messages


def test_baseline_file_must_have_the_declared_columns(tmp_path):
    path = _tiny_races(tmp_path)
    (path.parent / "base.csv").write_text("state_abbr,red,blue,green,ind,valid_votes\n"
                                          "n1,500,300,100,50,1000\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_governor_races(tmp_path)
    assert [str(p) for p in err.value.problems] == [
        f"{path.parent / 'base.csv'}:1:coal_red_green: missing required column"]


def test_calibration_reads_its_file_and_year_from_races_toml(races, tmp_path):
    assert (races.calibration_file, races.calibration_year) == ("calibration_deputies_2012.csv",
                                                                2012)
    folder = tmp_path / "governors"
    shutil.copytree(MX2018 / "governors", folder)
    toml = folder / "races.toml"
    text = toml.read_text(encoding="utf-8")
    # The same file under another name is read (the name used to be fixed in code).
    (folder / "calibration_deputies_2012.csv").rename(folder / "cal.csv")
    toml.write_text(text.replace('"calibration_deputies_2012.csv"', '"cal.csv"'),
                    encoding="utf-8")
    moved = load_governor_races(tmp_path)
    assert local_effect_calibration(moved)["n_all"] == 28
    # Another year: no previous race of 2015 in the previous file -> nothing to compare.
    toml.write_text(text.replace('"calibration_deputies_2012.csv"', '"cal.csv"')
                    .replace("calibration_year = 2012", "calibration_year = 2015"),
                    encoding="utf-8")
    other = load_governor_races(tmp_path)
    assert other.calibration_year == 2015
    assert local_effect_calibration(other)["n_all"] == 0
    _tiny_races(tmp_path / "x")
    with pytest.raises(InputError, match="calibration_file: not set"):
        local_effect_calibration(load_governor_races(tmp_path / "x"))
