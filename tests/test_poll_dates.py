"""Poll dates as published (publication only, months), the duplicate rule, per-row tolerance."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from forecast.election import load_election
from forecast.polls import read_polls
from forecast.problems import InputError

from .conftest import MX2018

HEADER = ("pollster,poll_id,field_start,field_end,published,sample_size,mode,basis,partial,"
          "tolerance,amlo,anaya,meade,zavala,rodriguez,other,undecided,source")
SHARES = "45,22,17,,5,,11"


def _load(tmp_path, *rows, election=None):
    path = tmp_path / "president.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return read_polls(path, election or load_election(MX2018))


def _errors(tmp_path, *rows, election=None):
    with pytest.raises(InputError) as info:
        _load(tmp_path, *rows, election=election)
    return [str(p).split(":", 1)[1] for p in info.value.problems if p.severity == "error"]


D = pd.Timestamp


def test_a_table_as_published_loads_without_edits(tmp_path):
    """Publication-only and month-only dates, two same-day polls by one house (a daily tracker
    and a second questionnaire), and a row summing to 104 with its own tolerance of 4."""
    polls = _load(
        tmp_path,
        f"Solo publicada,,,,2018-06-10,1000,,raw,,,{SHARES},a",
        f"Mensual,,2018-05,2018-05,,1200,,raw,,,{SHARES},b",
        f"Mes publicado,,,,2018-04,800,,raw,,,{SHARES},c",
        f"Tracker,,2018-06-12,2018-06-12,2018-06-13,500,phone,raw,,,{SHARES},d",
        "Tracker,,2018-06-12,2018-06-12,2018-06-13,500,phone,raw,,,46,21,17,,5,,11,e",
        "Redondeo,,2018-06-01,2018-06-03,,1000,,raw,,4,47,23,18,,5,,11,f",
    )
    t = polls.table.set_index("line")
    t = t.rename(index=dict(zip(range(2, 8), "abcdef", strict=True)))
    assert len(t) == 6 and polls.warnings == []
    # Publication only: fieldwork of assumed_fieldwork_days (4) ending
    # assumed_publication_lag_days (3) before publication; known = the publication date.
    assert (t.loc["a", "field_start"], t.loc["a", "field_end"], t.loc["a", "known"]) == (
        D("2018-06-04"), D("2018-06-07"), D("2018-06-10"))
    assert (t.loc["a", "date_precision"], t.loc["a", "window_days"]) == ("published", 4)
    assert t.loc["a", "midpoint"] == D("2018-06-05")
    # A month: its first to its last day; known when fieldwork ended (no publication date).
    assert (t.loc["b", "field_start"], t.loc["b", "field_end"], t.loc["b", "known"]) == (
        D("2018-05-01"), D("2018-05-31"), D("2018-05-31"))
    assert (t.loc["b", "date_precision"], t.loc["b", "window_days"]) == ("month", 31)
    assert t.loc["b", "midpoint"] == D("2018-05-16")
    # Published "in April": public by 30 April; fieldwork within 26 March .. 27 April.
    assert (t.loc["c", "field_start"], t.loc["c", "field_end"], t.loc["c", "published"],
            t.loc["c", "known"]) == (D("2018-03-26"), D("2018-04-27"), D("2018-04-30"),
                                     D("2018-04-30"))
    assert (t.loc["d", "date_precision"], t.loc["d", "window_days"]) == ("day", 1)
    assert t.loc["f", "tolerance"] == 4 and pd.isna(t.loc["a", "tolerance"])
    assert sorted(polls.table["poll"]) == sorted([
        "Solo publicada 2018-06-07", "Mensual 2018-05-31", "Mes publicado 2018-04-27",
        "Tracker 2018-06-12", "Tracker 2018-06-12 #2", "Redondeo 2018-06-03"])


def test_as_of_filters_on_the_day_the_poll_was_public(tmp_path):
    polls = _load(tmp_path, f"Tardía,,2018-06-01,2018-06-03,2018-06-15,1000,,raw,,,{SHARES},a",
                  f"Sin fecha,,2018-06-01,2018-06-04,,1000,,raw,,,{SHARES},b")
    assert polls.as_of(dt.date(2018, 6, 10)).table["pollster"].tolist() == ["Sin fecha"]
    assert len(polls.as_of(dt.date(2018, 6, 14))) == 1
    assert sorted(polls.as_of(dt.date(2018, 6, 15)).table["pollster"]) == ["Sin fecha", "Tardía"]


def test_assumed_fieldwork_settings_come_from_election_toml(tmp_path):
    folder = tmp_path / "e"
    folder.mkdir()
    text = (MX2018 / "election.toml").read_text(encoding="utf-8")
    (folder / "election.toml").write_text(
        text.replace("total_tolerance = 2.5", "total_tolerance = 2.5\n"
                     "assumed_publication_lag_days = 0\nassumed_fieldwork_days = 1"),
        encoding="utf-8")
    polls = _load(tmp_path, f"Solo publicada,,,,2018-06-10,1000,,raw,,,{SHARES},a",
                  election=load_election(folder))
    row = polls.table.iloc[0]
    assert (row["field_start"], row["field_end"]) == (D("2018-06-10"), D("2018-06-10"))


@pytest.mark.parametrize(("setting", "message"), [
    ("assumed_publication_lag_days = -1",
     ":assumed_publication_lag_days: -1: expected a int in [0, 60]"),
    ("assumed_fieldwork_days = 0", ":assumed_fieldwork_days: 0: expected a int in [1, 60]"),
    ("assumed_fieldwork_days = 2.5", ":assumed_fieldwork_days: 2.5: expected a int in [1, 60]"),
])
def test_assumed_settings_are_validated(tmp_path, setting, message):
    (tmp_path / "election.toml").write_text(
        setting + "\n" + (MX2018 / "election.toml").read_text(encoding="utf-8"),
        encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_election(tmp_path)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path / 'election.toml'}:1{message}"]


def test_months_are_clipped_to_the_campaign_and_to_publication(tmp_path):
    polls = _load(tmp_path, f"Septiembre,,2017-09,2017-09,,1000,,raw,,,{SHARES},a",
                  f"Junio,,2018-06,2018-06,2018-06-27,1000,,raw,,,{SHARES},b")
    t = polls.table.set_index("pollster").rename(index={"Septiembre": "a", "Junio": "b"})
    # The campaign starts on 8 Sep 2017; publication (27 June) ends the June-July window.
    assert (t.loc["a", "field_start"], t.loc["a", "field_end"]) == (D("2017-09-08"),
                                                                     D("2017-09-30"))
    assert (t.loc["b", "field_start"], t.loc["b", "field_end"]) == (D("2018-06-01"),
                                                                     D("2018-06-27"))


@pytest.mark.parametrize(("row", "message"), [
    (f"X,,,,,1000,,raw,,,{SHARES},", "2:field_end: empty: expected fieldwork dates YYYY-MM-DD "
     "(or YYYY-MM for a month), or a published date"),
    (f"X,,2018-06-01,,,1000,,raw,,,{SHARES},", "2:field_end: empty while field_start is given: "
     "expected a date YYYY-MM-DD (or YYYY-MM for a month) (a month may stand alone)"),
    (f"X,,2018-13,,,1000,,raw,,,{SHARES},", "2:field_start: '2018-13' is not a date: expected "
     "YYYY-MM-DD (or YYYY-MM for a month)"),
    (f"X,,June 2018,,,1000,,raw,,,{SHARES},", "2:field_start: 'June 2018' is not a date: "
     "expected YYYY-MM-DD (or YYYY-MM for a month)"),
    (f"X,,2017-08,,,1000,,raw,,,{SHARES},", "2:field_start: 2017-08 is outside the "
     "campaign window 2017-09-08 .. 2018-07-01"),
    (f"X,,,,2017-08-30,1000,,raw,,,{SHARES},", "2:published: 2017-08-30 is outside the "
     "campaign window 2017-09-08 .. 2018-07-01"),
    (f"X,,2018-06,2018-06,2018-05-20,1000,,raw,,,{SHARES},", "2:published: published "
     "2018-05-20 is before field_end 2018-06: expected end <= publication"),
    (f"X,,2018-06,2018-05,,1000,,raw,,,{SHARES},", "2:field_end: field_end 2018-05 is before "
     "field_start 2018-06: expected start <= end"),
])
def test_date_errors(tmp_path, row, message):
    assert _errors(tmp_path, row) == [message]


def test_duplicates_need_the_same_shares_or_the_same_poll_id(tmp_path):
    same = f"Casa,,2018-06-01,2018-06-03,,1000,,raw,,,{SHARES},"
    assert _errors(tmp_path, same, same) == [
        "3:pollster: duplicate poll: same pollster, dates and shares as line 2"]
    # Publication-only rows are dated by their resolved window: a republication is a duplicate.
    pub = f"casa,,,,2018-06-10,1000,,raw,,,{SHARES},"
    assert _errors(tmp_path, pub, pub.replace(",1000,", ",900,")) == [
        "3:pollster: duplicate poll: same pollster, dates and shares as line 2"]
    assert _errors(tmp_path, f"A,q-1,2018-06-01,2018-06-03,,1000,,raw,,,{SHARES},",
                   f"B,q-1,2018-06-11,2018-06-13,,1000,,raw,,,{SHARES},") == [
        "3:poll_id: duplicate poll: poll_id 'q-1' is also on line 2"]
    other = "Casa,,2018-06-01,2018-06-03,,1000,,raw,,,44,23,17,,5,,11,"
    assert len(_load(tmp_path, same, other)) == 2


@pytest.mark.parametrize(("tolerance", "message"), [
    ("-1", "2:tolerance: '-1': expected how far (points) this row's total may be from 100, "
           "between 0 and 50, or blank (the election's total_tolerance, 2.5)"),
    ("51", "2:tolerance: '51': expected how far (points) this row's total may be from 100, "
           "between 0 and 50, or blank (the election's total_tolerance, 2.5)"),
    ("3", "2:amlo: shares sum to 104: expected candidates + other + undecided = 100 ± 3 (this "
          "row's tolerance), or partial = 1 if some options were not reported"),
])
def test_row_tolerance(tmp_path, tolerance, message):
    assert _errors(tmp_path, f"X,,2018-06-01,2018-06-03,,1000,,raw,,{tolerance},47,23,18,,5,,"
                             "11,") == [message]


def test_a_row_tolerance_can_also_be_stricter(tmp_path):
    assert _errors(tmp_path, "X,,2018-06-01,2018-06-03,,1000,,raw,,0,45,22,17,,5,,12,") == [
        "2:amlo: shares sum to 101: expected candidates + other + undecided = 100 ± 0 (this "
        "row's tolerance), or partial = 1 if some options were not reported"]


def test_governor_state_polls_take_months(tmp_path):
    from forecast.governors import load_governor_races, read_governor_polls

    races = load_governor_races(MX2018)
    header = (MX2018 / "governors" / "polls_governor.csv").read_text(
        encoding="utf-8").splitlines()[0]
    path = tmp_path / "polls.csv"
    path.write_text("\n".join([
        header,
        "cdmx,Mensual,2018-05,,,500,,raw,40,30,20,,,,,,,,,,complete,",
        "cdmx,Publicada,,,2018-06,500,,raw,41,30,20,,,,,,,,,,complete,",
        "cdmx,Exacta,2018-06-01,2018-06-02,2018-06-04,500,,raw,40,31,20,,,,,,,,,,complete,",
    ]) + "\n", encoding="utf-8")
    t = read_governor_polls(path, races).table.set_index("pollster")
    assert (t.loc["Mensual", "field_start"], t.loc["Mensual", "field_end"],
            t.loc["Mensual", "known"], t.loc["Mensual", "date_precision"],
            t.loc["Mensual", "window_days"]) == (D("2018-05-01"), D("2018-05-31"),
                                                 D("2018-05-31"), "month", 31)
    assert (t.loc["Publicada", "known"], t.loc["Publicada", "reference"],
            t.loc["Publicada", "date_precision"]) == (D("2018-06-30"), D("2018-06-30"),
                                                      "published")
    assert pd.isna(t.loc["Publicada", "window_days"])
    assert (t.loc["Exacta", "date_precision"], t.loc["Exacta", "window_days"]) == ("day", 2)
