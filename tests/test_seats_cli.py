"""``forecast seats allocate`` (forecast.seats.allocate_cli.main): official 2018 inputs give the
official allocation; bad inputs give FILE:LINE:COLUMN messages and exit code 2."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd
import pytest

from forecast.seats.allocate_cli import main

RESULTS = Path(__file__).parents[1] / "polls" / "mx2018" / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mx-results"


def _official(chamber: str) -> pd.DataFrame:
    df = pd.read_csv(RESULTS / "allocation_2018_official.csv", keep_default_na=False)
    return df[df["chamber"] == chamber]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_deputies_official_inputs_print_the_official_allocation(capsys) -> None:
    code, out, err = _run(
        capsys,
        "--chamber",
        "deputies",
        "--votes",
        str(RESULTS / "deputies_2018_allocate_input.csv"),
    )
    off = _official("deputies")
    expected = "party,votes,district_seats,list_seats,total_seats\n" + "".join(
        f"{r.party},{r.votes_used},{r.mr_seats},{r.pr_seats},{r.total_seats}\n"
        for r in off.itertuples()
    )
    assert (code, err) == (0, "")
    assert out == expected


def test_senate_official_inputs_print_the_official_allocation(capsys) -> None:
    code, out, err = _run(
        capsys, "--chamber", "senate", "--votes", str(RESULTS / "senate_2018_allocate_input.csv")
    )
    off = _official("senate")
    expected = (
        "party,votes,plurality_seats,first_minority_seats,list_seats,total_seats\n"
        + "".join(
            f"{r.party},{r.votes_used},{r.mr_seats},{r.first_minority_seats},"
            f"{r.pr_seats},{r.total_seats}\n"
            for r in off.itertuples()
        )
    )
    assert (code, err) == (0, "")
    assert out == expected


def test_reads_standard_input(capsys, monkeypatch) -> None:
    data = (RESULTS / "senate_2018_allocate_input.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = _run(capsys, "--chamber", "senate", "--votes", "-")
    assert code == 0 and out.splitlines()[1] == "MORENA,21261577,38,4,13,55"


def test_bom_crlf_quotes_blank_lines_and_eligible_flag(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("in.csv").write_bytes(
        b"\xef\xbb\xbfparty,votes,district_seats,eligible\r\n"
        b'"Partido, Uno",600,150,1\r\n'
        b"\r\n"
        b"B,300,100,true\r\n"
        b"C,100,40,0\r\n"
        b"Independent,50,10,\r\n"
    )
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", "in.csv")
    assert (code, err) == (0, "")
    # C has no 200 districts: no list seats and its votes leave the VNE (600 + 300).
    assert out == (
        "party,votes,district_seats,list_seats,total_seats\n"
        '"Partido, Uno",600,150,133,283\n'
        "B,300,100,67,167\n"
        "C,100,40,0,40\n"
    )


# Messages follow the project's format (forecast.problems): FILE:LINE:COLUMN with COLUMN the
# CSV column name ("-" when not one column) and LINE 0 for the file as a whole.
BAD_CASES = {
    "missing_column": (
        "deputies",
        "party,votes\nA,10\n",
        ["bad.csv:1:district_seats: missing column (expected header: party,votes,district_seats)"],
    ),
    "non_integer_and_negative_votes": (
        "deputies",
        "party,votes,district_seats\nA,12.5,150\nB,-3,150\nC,1e6,0\nD, ,0\n",
        [
            "bad.csv:2:votes: expected a non-negative integer, got '12.5'",
            "bad.csv:3:votes: expected a non-negative integer, got '-3'",
            "bad.csv:4:votes: expected a non-negative integer, got '1e6'",
            "bad.csv:5:votes: expected a non-negative integer, got ' '",
        ],
    ),
    "bad_seat_cell": (
        "deputies",
        "party,votes,district_seats\nA,100,x\nB,50,300\n",
        ["bad.csv:2:district_seats: expected a non-negative integer, got 'x'"],
    ),
    "district_seats_not_300": (
        "deputies",
        "party,votes,district_seats\nA,100,150\nB,50,149\n",
        ["bad.csv:0:district_seats: expected the column to sum to 300, got 299"],
    ),
    "senate_seats_not_64_32": (
        "senate",
        "party,votes,plurality_seats,first_minority_seats\nA,100,60,30\nB,50,5,1\n",
        [
            "bad.csv:0:plurality_seats: expected the column to sum to 64, got 65",
            "bad.csv:0:first_minority_seats: expected the column to sum to 32, got 31",
        ],
    ),
    "senate_file_given_to_deputies": (
        "deputies",
        "party,votes,plurality_seats,first_minority_seats\nA,100,64,32\n",
        [
            "bad.csv:1:plurality_seats: unexpected column "
            "(expected: party, votes, district_seats, eligible, cap_district_seats)",
            "bad.csv:1:first_minority_seats: unexpected column "
            "(expected: party, votes, district_seats, eligible, cap_district_seats)",
            "bad.csv:1:district_seats: missing column "
            "(expected header: party,votes,district_seats)",
        ],
    ),
    "field_count_quote_duplicate_null_seats": (
        "deputies",
        'party,votes,district_seats\n"A,100,150\nB,50,150,3\nB,3,0\nC,1,300\nB,2,0\nnull,5,2\n',
        [
            "bad.csv:2:party: expected a closing quote",
            "bad.csv:3:-: expected 3 fields, got 4",
            "bad.csv:6:party: duplicate row 'B' (first on line 4)",
            "bad.csv:7:district_seats: expected 0 or empty: null votes hold no seats",
        ],
    ),
    "too_few_fields_and_empty_party": (
        "senate",
        "party,votes,plurality_seats,first_minority_seats\nA,100,64\n,5,0,32\n",
        [
            "bad.csv:2:-: expected 4 fields, got 3",
            "bad.csv:3:party: expected a party name",
        ],
    ),
    "duplicate_header_and_eligible_value": (
        "deputies",
        "party,votes,votes,district_seats,eligible\nA,1,1,300,maybe\n",
        [
            "bad.csv:1:votes: duplicate column",
            "bad.csv:2:eligible: expected 1/0/true/false (or empty), got 'maybe'",
        ],
    ),
    "empty_file": (
        "senate",
        "",
        ["bad.csv:0:-: expected a header row: party,votes,plurality_seats,first_minority_seats"],
    ),
    "header_only": (
        "deputies",
        "party,votes,district_seats\n",
        ["bad.csv:0:-: expected at least one party row"],
    ),
    "no_party_qualifies": (
        "deputies",
        "party,votes,district_seats\nA,10,150\nB,10,150\nindependent,1000000,0\n",
        ["bad.csv:0:votes: cannot allocate: no party qualifies for list seats"],
    ),
    "every_party_capped": (
        "deputies",
        "party,votes,district_seats\nA,970,290\nB,30,10\n",
        [
            "bad.csv:0:votes: cannot allocate: every qualifying party is capped but list seats "
            "remain"
        ],
    ),
    "too_many_votes": (
        "senate",
        "party,votes,plurality_seats,first_minority_seats\nA,1000000000000,64,32\n",
        ["bad.csv:2:votes: expected fewer than 1000000000000 votes, got 1000000000000"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_messages(case: str, capsys, tmp_path, monkeypatch) -> None:
    chamber, text, expected = BAD_CASES[case]
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text(text, encoding="utf-8")
    code, out, err = _run(capsys, "--chamber", chamber, "--votes", "bad.csv")
    assert code == 2
    assert out == ""
    assert err.splitlines() == expected


def test_unreadable_and_non_utf8_files(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "--chamber", "senate", "--votes", "absent.csv")
    assert (code, out) == (2, "")
    assert err.startswith("absent.csv:0:-: expected a readable file")
    Path("latin1.csv").write_bytes(b"party,votes,district_seats\nPes\xf1a,1,300\n")
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", "latin1.csv")
    assert (code, out, err) == (2, "", "latin1.csv:2:-: expected UTF-8 text\n")


def test_unknown_chamber_and_usage_errors(capsys) -> None:
    path = str(RESULTS / "senate_2018_allocate_input.csv")
    code, out, err = _run(capsys, "--chamber", "house", "--votes", path)
    assert (code, out) == (2, "")
    assert "forecast seats allocate: error: argument --chamber: invalid choice: 'house'" in err
    code, out, err = _run(capsys, "--chamber", "senate")
    assert (code, out) == (2, "")
    assert "--votes" in err
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and out.startswith("usage: forecast seats allocate")


@pytest.mark.parametrize(
    "name",
    [
        "allocation_2018_official.csv",
        "seats_2018.csv",
        "siglado_2018.csv",
        "senate_state_2018.csv",
        "deputies_district_2018.csv",
    ],
)
def test_project_copies_equal_shared_data(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip("shared data directory not present")
    assert (RESULTS / name).read_bytes() == (SHARED / name).read_bytes()
