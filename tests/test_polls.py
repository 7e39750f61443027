"""Poll-file validation: every bad-input kind gives file:line:column messages, all at once."""

import hashlib

import pytest

from forecast.cli import main
from forecast.election import load_election
from forecast.polls import read_polls
from forecast.problems import InputError

from .conftest import MX2018

HEADER = ("pollster,field_start,field_end,published,sample_size,mode,basis,partial,"
          "amlo,anaya,meade,zavala,rodriguez,rios_piter,other,undecided,source")
GOOD = "Good Poll,2018-06-01,2018-06-03,2018-06-05,1000,face_to_face,raw,,40,20,18,,4,,,18,x"


def _polls(tmp_path, *rows, header=HEADER):
    path = tmp_path / "president.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _errors(path):
    election = load_election(MX2018)
    with pytest.raises(InputError) as info:
        read_polls(path, election)
    return [str(p) for p in info.value.problems if p.severity == "error"]


def test_shipped_file_loads_with_documented_warnings():
    election = load_election(MX2018)
    polls = read_polls(election.poll_path, election)
    assert len(polls) == 95
    warnings = [str(w) for w in polls.warnings]
    # Zavala after her withdrawal: SDP x2, Parametría, Demotecnia (shared README).
    zavala = [w for w in warnings if ":zavala: warning:" in w]
    assert len(zavala) == 4
    row = polls.table.set_index("line").loc[int(zavala[0].split(":")[1])]
    assert row["zavala"] != row["zavala"]  # dropped (NaN) from that poll
    imputed = polls.table["sample_size_imputed"]
    assert imputed.sum() == 11
    assert (polls.table.loc[imputed, "sample_size"] == election.default_sample_size).all()


def test_good_row_loads(tmp_path):
    polls = read_polls(_polls(tmp_path, GOOD), load_election(MX2018))
    row = polls.table.iloc[0]
    assert row["n_decided"] == 820
    assert row["decided_share"] == pytest.approx(0.82)


@pytest.mark.parametrize(("row", "message"), [
    (GOOD.replace("2018-06-01", "01/06/2018"),
     ":2:field_start: '01/06/2018' is not a date: expected YYYY-MM-DD (or YYYY-MM for a "
     "month)"),
    (GOOD.replace("2018-06-01,2018-06-03", "2018-06-04,2018-06-03"),
     ":2:field_end: field_end 2018-06-03 is before field_start 2018-06-04: expected start <= end"),
    (GOOD.replace("2018-06-05", "2018-06-02"),
     ":2:published: published 2018-06-02 is before field_end 2018-06-03: expected end <= "
     "publication"),
    (GOOD.replace("2018-06-01,2018-06-03,2018-06-05", "2017-09-05,2017-09-10,2017-09-12"),
     ":2:field_start: 2017-09-05 is outside the campaign window 2017-09-08 .. 2018-07-01"),
    (GOOD.replace(",40,", ",abc,"), ":2:amlo: 'abc': expected a percentage between 0 and 100"),
    (GOOD.replace(",40,", ",140,"), ":2:amlo: '140': expected a percentage between 0 and 100"),
    (GOOD.replace(",40,", ",nan,"), ":2:amlo: 'nan': expected a percentage between 0 and 100"),
    (GOOD.replace(",18,x", ",30,x"),
     ":2:amlo: shares sum to 112: expected candidates + other + undecided = 100 ± 2.5, or "
     "partial = 1 if some options were not reported"),
    (GOOD.replace(",raw,", ",decided,"),
     ":2:basis: 'decided': expected 'raw' (undecided in the base) or 'effective' (undecided "
     "removed)"),
    (GOOD.replace(",1000,", ",-5,"),
     ":2:sample_size: '-5': expected a positive whole number of interviews"),
    (GOOD.replace(",1000,", ",10.5,"),
     ":2:sample_size: '10.5': expected a positive whole number of interviews"),
    (GOOD.replace(",face_to_face,", ",telepathy,"),
     ":2:mode: 'telepathy': expected one of face_to_face, phone, ivr, online, mixed or blank "
     "(unknown)"),
    (GOOD.replace("Good Poll", ""), ":2:pollster: empty: expected the pollster's name"),
    (GOOD + ",extra", ":2:-: 18 fields; expected 17 (one per header column)"),
])
def test_each_bad_input_kind(tmp_path, row, message):
    path = _polls(tmp_path, row)
    assert _errors(path) == [f"{path}{message}"]


def test_all_problems_reported_at_once(tmp_path):
    path = _polls(tmp_path, GOOD.replace(",40,", ",abc,"), GOOD.replace("Good Poll", "Other")
                  .replace(",1000,", ",0,"), GOOD.replace("2018-06-01", "June 1"))
    errors = _errors(path)
    assert [e.split(":")[1:3] for e in errors] == [["2", "amlo"], ["3", "sample_size"],
                                                   ["4", "field_start"]]


def test_unknown_and_missing_columns(tmp_path):
    header = HEADER.replace("amlo", "obrador").replace("basis,", "")
    path = _polls(tmp_path, "x", header=header)
    assert _errors(path) == [
        f"{path}:1:basis: missing required column",
        f"{path}:1:obrador: unknown column: not a candidate of mx2018 (candidates: amlo, anaya, "
        "meade, zavala, rodriguez) nor one of pollster, poll_id, field_start, field_end, "
        "published, sample_size, mode, basis, partial, tolerance, other, undecided, source",
    ]


def test_duplicate_polls_reported(tmp_path):
    path = _polls(tmp_path, GOOD, GOOD)
    assert _errors(path) == [f"{path}:3:pollster: duplicate poll: same pollster, dates and "
                             "shares as line 2"]


def test_partial_rows_and_effective_rows(tmp_path):
    partial = GOOD.replace(",raw,,", ",raw,1,").replace(",18,x", ",10,x")
    effective = ("Eff,2018-06-01,2018-06-03,,1000,,effective,,50,25,20,,5,,,,x")
    polls = read_polls(_polls(tmp_path, partial, effective), load_election(MX2018))
    eff = polls.table.set_index("pollster").loc["Eff"]
    # effective rows without a reported undecided share use the documented default (0.20)
    assert eff["n_decided"] == 800
    assert len(polls) == 2


def test_outside_window_is_warning_and_dropped(tmp_path):
    row = GOOD.replace(",18,,4,", ",18,2,4,").replace(",18,x", ",16,x")
    polls = read_polls(_polls(tmp_path, row), load_election(MX2018))
    assert [str(w) for w in polls.warnings] == [
        f"{tmp_path / 'president.csv'}:2:zavala: warning: zavala offered outside the candidate's"
        " window 2017-09-08 .. 2018-05-16 (2%): dropped from this poll"]
    assert polls.table.iloc[0]["zavala"] != polls.table.iloc[0]["zavala"]


def test_semicolons_decimal_commas_percent_signs_latin1_bom(tmp_path):
    text = (HEADER.replace(",", ";") + "\n" + GOOD.replace(",", ";").replace("Good Poll",
            "Encuestadora Peña").replace(";40;", ";40,0%;") + "\n")
    path = tmp_path / "president.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    polls = read_polls(path, load_election(MX2018))
    assert polls.table.iloc[0]["amlo"] == 40.0
    assert polls.table.iloc[0]["pollster"] == "Encuestadora Peña"
    path.write_bytes(text.encode("latin-1"))
    polls = read_polls(path, load_election(MX2018))
    assert polls.table.iloc[0]["pollster"] == "Encuestadora Peña"
    assert "read as Windows-1252" in str(polls.warnings[0])


def test_empty_file(tmp_path):
    path = tmp_path / "president.csv"
    path.write_text("", encoding="utf-8")
    assert _errors(path) == [f"{path}:1:-: empty file: expected a header line with columns "
                             "pollster, field_start, field_end, sample_size, basis and candidates"]


def _digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_cli_bad_poll_file_exits_nonzero_and_writes_nothing(mx2018_copy, tmp_path, capsys):
    poll_file = mx2018_copy / "president.csv"
    lines = poll_file.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("2018-01-10,2018-01-10", "2018-01-10,2018-01-09", 1)
    lines[10] = lines[10].replace(",raw,", ",rawish,", 1)
    poll_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{\"old\": true}", encoding="utf-8")
    before_out, before_in = _digest(out), _digest(mx2018_copy)
    code = main(["run", str(mx2018_copy), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{poll_file}:4:field_end: field_end 2018-01-09 is before field_start 2018-01-10" in err
    assert f"{poll_file}:11:basis: 'rawish': expected 'raw'" in err
    assert "nothing was written" in err
    assert _digest(out) == before_out
    assert _digest(mx2018_copy) == before_in
