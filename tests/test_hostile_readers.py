"""Hostile input for every reader beyond the poll file and election.toml (those are in
test_hostile_input.py): model settings, congress.toml and its CSVs, races.toml and the governor
CSVs, results files, study files and `seats allocate` inputs.

Each case either loads or raises InputError (the commands exit 2 on it) whose problems are
printable one-line ``FILE:LINE:COLUMN: message`` texts, and no file is written or changed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.backtest import read_results
from forecast.cli import main
from forecast.congress.backtest import read_official_seats
from forecast.congress.definition import load_congress, load_congress_spec
from forecast.election import load_election
from forecast.governors import load_governor_races, read_governor_polls
from forecast.governors.backtest import load_governor_results
from forecast.governors.model import load_governor_spec
from forecast.problems import InputError
from forecast.spec import load_spec
from forecast.study.files import load_study

from .conftest import MX2018

ROOT = MX2018.parents[1]
FUZZ = settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "25")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
PROBLEM = re.compile(r"(?P<path>[^:]+):(?P<line>\d+):(?P<column>[^:]+): (warning: )?.+")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project tree (polls/mx2018 and models/) that the tests damage one file at a time."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(MX2018, root / "polls" / "mx2018")
    shutil.copytree(ROOT / "models", root / "models")
    return root


@pytest.fixture(scope="module")
def loaded(project):
    election_dir = project / "polls" / "mx2018"
    return {"election": load_election(election_dir),
            "races": load_governor_races(election_dir),
            "congress": load_congress(election_dir / "congress")}


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _check(root: Path, target: Path, data: bytes, load: Callable[[], object]) -> object:
    """Write ``data`` to ``target``, load, check the outcome; restore the file."""
    original = target.read_bytes() if target.exists() else None
    target.write_bytes(data)
    try:
        before = _snapshot(root)
        try:
            result: object = load()
        except InputError as exc:
            assert any(p.severity == "error" for p in exc.problems)
            for p in exc.problems:
                text = str(p)
                assert text.isprintable(), repr(text)
                match = PROBLEM.fullmatch(text)
                assert match, repr(text)
                assert int(match["line"]) == p.line and match["column"] == (p.column or "-")
            result = exc
        assert _snapshot(root) == before
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_bytes(original)
    return result


def _messages(result: object) -> list[str]:
    assert isinstance(result, InputError), result
    return [str(p) for p in result.problems if p.severity == "error"]


# --------------------------------------------------------------------------------------------
# TOML settings files
# --------------------------------------------------------------------------------------------

HOSTILE_TOML = [
    (b"[sampler]\ndraws = " + b"9" * 5000, ":2:-: not valid TOML: an integer has more than 4300 "
     "digits"),
    (b"[latent]\nstep_days = " + b"[" * 10000 + b"]" * 10000, ":0:-: not valid TOML: arrays or "
     "inline tables nested too deeply"),
    (b"[latent]\nx = " + b"{a = " * 10000 + b"1" + b"}" * 10000, ":0:-: not valid TOML: arrays or "
     "inline tables nested too deeply"),
    (b"\xff\xfe" + "[sampler]\n".encode("utf-16-le"), ":1:-: not UTF-8 text"),
    (b"[sampler\n", ":1:-: not valid TOML"),
    (b"\x00\x01\x02", ":1:-: not valid TOML"),
    (b'["a\\nb"]\nx = 1\n', ":0:-: 'a\\nb.x': unknown setting"),
    (b'"a: b" = 1\n', ":0:-: 'a: b': expected a [section]"),
]
SETTINGS_LOADERS = {
    "president": (Path("models/president.toml"), load_spec),
    "congress": (Path("models/congress.toml"), load_congress_spec),
    "governors": (Path("models/governors.toml"), load_governor_spec),
}


@pytest.mark.parametrize("which", sorted(SETTINGS_LOADERS))
@pytest.mark.parametrize(("data", "expected"), HOSTILE_TOML)
def test_hostile_model_settings(project, which, data, expected):
    relative, load = SETTINGS_LOADERS[which]
    target = project / relative
    result = _check(project, target, data, lambda: load(target))
    assert any(m.startswith(f"{target}{expected}") for m in _messages(result)), \
        _messages(result)


def test_huge_hex_integers_in_settings(project):
    target = project / "models" / "president.toml"
    result = _check(project, target, b"[sampler]\ndraws = 0x" + b"f" * 5000 + b"\n[latent]\n"
                    b"level_sigma = 0x" + b"f" * 5000 + b"\n", lambda: load_spec(target))
    assert _messages(result) == [
        f"{target}:2:sampler.draws: <integer of about 6021 digits>: expected an integer of at "
        "most 1,000,000,000,000",
        f"{target}:4:latent.level_sigma: <integer of about 6021 digits>: expected a number of "
        "ordinary size"]


def test_mistyped_settings_get_a_hint(project):
    target = project / "models" / "president.toml"
    result = _check(project, target, b"[sampler]\ndraw = 500\n[sampeler]\nchains = 2\n"
                    b"[latent]\ncolour = 1\n", lambda: load_spec(target))
    assert _messages(result) == [
        f"{target}:2:sampler.draw: unknown setting; did you mean 'sampler.draws'?",
        f"{target}:4:sampeler.chains: unknown setting; did you mean 'sampler.chains'?",
        f"{target}:6:latent.colour: unknown setting"]


def test_hostile_model_file_through_the_cli(project, capsys):
    target = project / "models" / "president.toml"
    before = _snapshot(project)
    original = target.read_bytes()
    target.write_bytes(b"[sampler]\ndraws = " + b"[" * 10000 + b"]" * 10000)
    try:
        assert main(["validate", str(project / "polls" / "mx2018")]) == 2
    finally:
        target.write_bytes(original)
    assert capsys.readouterr().err.splitlines() == [
        f"{target}:0:-: not valid TOML: arrays or inline tables nested too deeply",
        "forecast: 1 error(s) in the input; nothing was written"]
    assert _snapshot(project) == before


@FUZZ
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_settings_random_bytes(project, data):
    target = project / "models" / "congress.toml"
    _check(project, target, data, lambda: load_congress_spec(target))


# --------------------------------------------------------------------------------------------
# congress.toml and its CSV files
# --------------------------------------------------------------------------------------------


def _congress(project: Path):
    return lambda: load_congress(project / "polls" / "mx2018" / "congress")


def test_a_bad_number_in_the_congress_baseline(project):
    base = project / "polls" / "mx2018" / "results" / "deputies_district_2015_on_2017map.csv"
    lines = base.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("pan")] = "12,5".replace(",", ".") + "x"
    cells[header.index("valid_votes")] = "9" * 5000
    lines[3] = ",".join(cells)
    result = _check(project, base, "\n".join(lines).encode(), _congress(project))
    # Named as congress.toml names it (relative to its folder).
    base = project / "polls" / "mx2018" / "congress" / ".." / "results" / base.name
    assert _messages(result) == [
        f"{base}:4:pan: '12.5x': expected a number of votes >= 0 (blank for 0)",
        f"{base}:4:valid_votes: '{'9' * 76}...: expected a number of votes >= 0 (blank for 0)"]


CONGRESS_CSVS = {
    "district_coalitions.csv": ("district_code", "1O1"),
    "senate_coalitions.csv": ("edon", "uno"),
    "siglado.csv": ("district_code", "9" * 5000),
    "senate_formulas.csv": ("formula", "3"),
}


@pytest.mark.parametrize("name", sorted(CONGRESS_CSVS))
def test_bad_cells_in_congress_csvs(project, name):
    path = project / "polls" / "mx2018" / "congress" / name
    column, value = CONGRESS_CSVS[name]
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = lines[1].split(",")
    cells[lines[0].split(",").index(column)] = value
    lines[1] = ",".join(cells)
    result = _check(project, path, "\n".join(lines).encode(), _congress(project))
    messages = _messages(result)
    assert messages and all(m.startswith(f"{path}:") for m in messages), messages
    assert any(m.startswith(f"{path}:2:{column}: ") for m in messages), messages


@pytest.mark.parametrize(("data", "expected"), [
    (b"", ":1:-: empty file: expected a header line with district_code, coalition, party"),
    (b"\x00\x01", ":1:-: binary data (NUL bytes): expected a CSV text file"),
    ("district_code,coalition,party\n".encode("utf-16"), ":1:-: not UTF-8 text"),
    (b"district_code,coalition,party\n101,paf\n", ":2:-: 2 fields; expected 3 (one per header "
     "column)"),
    (b'district_code,coalition,party\n"101' + b"x" * 200_000 + b'",paf,prd\n',
     ":2:-: not a readable CSV file: field larger than field limit"),
    (b"district_code,coalition\n", ":1:party: missing required column"),
    (b"district_code,coalition,party,party\n", ":1:party: column 'party' appears more than "
     "once"),
])
def test_hostile_siglado_files(project, data, expected):
    path = project / "polls" / "mx2018" / "congress" / "siglado.csv"
    result = _check(project, path, data, _congress(project))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


def test_a_district_missing_from_the_coalition_list(project):
    path = project / "polls" / "mx2018" / "congress" / "district_coalitions.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    del lines[5]
    result = _check(project, path, "\n".join(lines).encode(), _congress(project))
    assert len(_messages(result)) == 1
    assert _messages(result)[0].startswith(f"{path}:0:district_code: no row for district(s) ")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('siglado_file = "siglado.csv"', 'siglado_file = "../../../etc/passwd"',
     ":siglado_file: '../../../etc/passwd': leads outside the folder"),
    ('independent = "independent"', 'independant = "independent"',
     ":independant: unknown setting 'independant'; did you mean 'independent'?"),
    ('candidate = "amlo"', 'candidat = "amlo"',
     ":coalitions.jhh.candidat: unknown setting 'candidat'; did you mean 'candidate'?"),
    ('name = "Juntos Haremos Historia"', 'name = "Juntos\\u001b[2J"',
     ":coalitions.jhh.name: 'Juntos\\x1b[2J': expected the coalition's name on one line"),
])
def test_congress_toml_keys_and_file_names(project, old, new, expected):
    path = project / "polls" / "mx2018" / "congress" / "congress.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    result = _check(project, path, text.replace(old, new, 1).encode(), _congress(project))
    assert any(expected in m and m.startswith(f"{path}:") for m in _messages(result)), \
        _messages(result)


@FUZZ
@given(st.binary(max_size=300))
def test_congress_csv_random_bytes(project, data):
    _check(project, project / "polls" / "mx2018" / "congress" / "senate_formulas.csv", data,
           _congress(project))


# --------------------------------------------------------------------------------------------
# races.toml and the governor CSVs
# --------------------------------------------------------------------------------------------


def _races(project: Path):
    return lambda: load_governor_races(project / "polls" / "mx2018")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('poll_file = "polls_governor.csv"', 'poll_file = "../../x.csv"',
     ":poll_file: '../../x.csv': leads outside the folder"),
    ('total_tolerance', 'total_tolerence', ":total_tolerence: unknown setting "
     "'total_tolerence'; did you mean 'total_tolerance'?"),
    ('abbr = "df"', 'abbr = "df"\nabbrv = "x"', ":abbrv: race cdmx: unknown setting 'abbrv'; "
     "did you mean 'abbr'?"),
    ('election_day = 2018-07-01', 'election_day = ' + "[" * 10000 + "]" * 10000,
     ":0:-: not valid TOML: arrays or inline tables nested too deeply"),
])
def test_races_toml(project, old, new, expected):
    path = project / "polls" / "mx2018" / "governors" / "races.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    result = _check(project, path, text.replace(old, new, 1).encode(), _races(project))
    assert any(expected in m and m.startswith(f"{path}:") for m in _messages(result)), \
        _messages(result)


@pytest.mark.parametrize(("data", "expected"), [
    (None, ":3:pan: '9999"),
    (b"\x00", ":1:-: binary data (NUL bytes)"),
    (b"state_abbr\n", ":1:valid_votes: missing required column"),
    ("big", ":3:-: not a readable CSV file: field larger than field limit"),
])
def test_hostile_governor_baselines(project, data, expected):
    path = project / "polls" / "mx2018" / "governors" / "baseline_deputies_2015.csv"
    if data is None:
        lines = path.read_text(encoding="utf-8").split("\n")
        cells = lines[2].split(",")
        cells[lines[0].split(",").index("pan")] = "9" * 5000
        lines[2] = ",".join(cells)
        data = "\n".join(lines).encode()
    elif data == "big":
        lines = path.read_bytes().split(b"\n")
        lines[2] = b'"' + b"x" * 200_000 + b'"' + lines[2]
        data = b"\n".join(lines)
    result = _check(project, path, data, _races(project))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


@pytest.mark.parametrize(("row", "expected"), [
    ("cdmx,Evil\x1b[2J,2018-06-01,2018-06-02,,500,,raw,40,30,20,,,,,,,,,,complete,",
     ":2:pollster: 'Evil\\x1b[2J' contains the control character U+001B (unnamed): expected "
     "plain text on one line"),
    ("cdmx,X,2018-06-01,2018-06-02,,500,,raw,40,30,20,,,,,,,,,,complete,\x00",
     ":2:-: binary data (NUL bytes): expected a CSV text file"),
    ("cdmx,X,2018-06-01,2018-06-02,,500,,raw,40,30,20,,,,,,,,,,complete,,x",
     ":2:-: 23 fields; expected 22"),
    ('cdmx,X,2018-06-01,2018-06-02,,500,,raw,40,30,20,,,,,,,,,,complete,"' + "x" * 200_000,
     ":2:-: not a readable CSV file: field larger than field limit"),
])
def test_hostile_state_polls(project, loaded, row, expected):
    path = project / "polls" / "mx2018" / "governors" / "polls_governor.csv"
    header = path.read_text(encoding="utf-8").split("\n")[0]
    result = _check(project, path, f"{header}\n{row}\n".encode(),
                    lambda: read_governor_polls(path, loaded["races"]))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


@FUZZ
@given(st.binary(max_size=400))
def test_state_polls_random_bytes(project, loaded, data):
    path = project / "polls" / "mx2018" / "governors" / "polls_governor.csv"
    header = path.read_bytes().split(b"\n")[0] + b"\n"
    _check(project, path, header + data, lambda: read_governor_polls(path, loaded["races"]))


# --------------------------------------------------------------------------------------------
# Results files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "expected"), [
    (b"candidate,votes\namlo," + b"9" * 5000 + b"\n", ":2:votes: '9999"),
    ("candidate,votes\namlo,\u0664\u0662\n".encode(), ":2:votes: '\u0664\u0662': expected a "
     "whole number of votes"),
    (b"candidate,votes\n\x1b[2Jamlo,1\n", ":2:candidate: '\\x1b[2Jamlo' is not a candidate"),
    (b"candidate,votes\nanayaa,1\n", ":2:candidate: 'anayaa' is not a candidate of mx2018; did "
     "you mean 'anaya'?"),
    (b"candidate,\"vo\ntes\"\n", ":1:-: unknown column 'vo\\ntes'"),
    (b"\x00", ":1:-: binary data"),
])
def test_hostile_results_files(project, loaded, data, expected):
    path = project / "polls" / "mx2018" / "results" / "president_2018.csv"
    result = _check(project, path, data, lambda: read_results(path, loaded["election"]))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


@pytest.mark.parametrize(("data", "expected"), [
    (b"state,candidate,votes\ncdmx,jhh," + b"9" * 5000 + b"\n", ":2:votes: '9999"),
    (b"state,candidate,votes\ncdmx,jhh,1,2\n", ":2:-: 4 fields; expected 3"),
    (b"\xff\xfe", ":1:-: not UTF-8 text"),
])
def test_hostile_governor_results(project, loaded, data, expected):
    path = project / "polls" / "mx2018" / "governors" / "results" / "governors_2018.csv"
    result = _check(project, path, data, lambda: load_governor_results(path, loaded["races"]))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


@pytest.mark.parametrize(("data", "expected"), [
    (b"chamber,party,seats_total\ndeputies,morena," + b"9" * 5000 + b"\n",
     ":2:seats_total: '9999"),
    (b"chamber,party,seats_total\ndeputies,morena\n", ":2:-: 2 fields; expected 3"),
    (b"\x00\x00", ":1:-: binary data"),
])
def test_hostile_official_seats(project, loaded, data, expected):
    path = project / "polls" / "mx2018" / "results" / "seats_2018.csv"
    result = _check(project, path, data, lambda: read_official_seats(path, loaded["congress"]))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


@FUZZ
@given(st.binary(max_size=300))
def test_results_random_bytes(project, loaded, data):
    path = project / "polls" / "mx2018" / "results" / "president_2018.csv"
    _check(project, path, b"candidate,votes\n" + data,
           lambda: read_results(path, loaded["election"]))


# --------------------------------------------------------------------------------------------
# Study files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("seed = " + "[" * 10000 + "]" * 10000, ":0:-: not valid TOML: arrays or inline tables nested "
     "too deeply"),
    ("seed = " + "9" * 5000, ":1:-: not valid TOML: an integer has more than 4300 digits"),
    ("seed = 0x" + "f" * 5000, ":1:seed: <integer of about 6021 digits>: expected an integer "
     "below 2**63"),
    ('eleciton = "x"', ":1:eleciton: unknown key; did you mean 'election'?"),
    ('"a\\nb" = 1', ":0:-: 'a\\nb': unknown key: expected one of election"),
    ("[factors]\nsetp_days = [7]", ":2:factors.setp_days: unknown factor; did you mean "
     "'step_days'?"),
    ("[base]\ndraw = 5\n[factors]\nstep_days = [7]", ":2:base.draw: unknown model setting; did "
     "you mean 'draws'?"),
])
def test_hostile_study_files(project, text, expected):
    path = project / "study.toml"
    result = _check(project, path, text.encode(), lambda: load_study(path))
    assert any(m.startswith(f"{path}{expected}") for m in _messages(result)), _messages(result)


def test_hostile_study_file_through_the_cli(project, capsys):
    path = project / "study.toml"
    out = project / "study.nc"
    before = _snapshot(project)
    path.write_bytes(b"[factors]\nstep_days = " + b"{a = " * 10000 + b"}" * 10000)
    try:
        assert main(["study", str(path), "--out", str(out)]) == 2
    finally:
        path.unlink()
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}:0:-: not valid TOML: arrays or inline tables nested too deeply")
    assert _snapshot(project) == before and not out.exists()


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=100).map(str.encode))
def test_study_random_bytes(project, data):
    path = project / "study.toml"
    _check(project, path, data, lambda: load_study(path))
    path.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# seats allocate inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "expected"), [
    ("PAN,100,150\npan,50,150", ["{f}:3:party: duplicate row 'pan' (first on line 2)"]),
    ("\x1b[2JRED,100,300", ["{f}:2:party: expected a party name without control characters, "
                            "got '\\x1b[2JRED'"]),
    ("A," + "9" * 5000 + ",300", ["{f}:2:votes: expected a non-negative integer, got '"
                                  + "9" * 5000 + "'"]),
    ("A\u2028B,1,300", ["{f}:2:party: expected a party name without control characters, got "
                        "'A\\u2028B'"]),
])
def test_hostile_allocation_inputs(tmp_path, capsys, rows, expected):
    path = tmp_path / "votes.csv"
    path.write_text("party,votes,district_seats\n" + rows + "\n", encoding="utf-8")
    before = _snapshot(tmp_path)
    assert main(["seats", "allocate", "--chamber", "deputies", "--votes", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [e.format(f=path) for e in expected]
    assert _snapshot(tmp_path) == before


def test_allocation_output_neutralises_formulas(tmp_path, capsys):
    path = tmp_path / "votes.csv"
    path.write_text("party,votes,district_seats\n=cmd|' /C calc'!A0,100,300\nB,50,0\n",
                    encoding="utf-8")
    assert main(["seats", "allocate", "--chamber", "deputies", "--votes", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("'=cmd|' /C calc'!A0,100,300,")


@FUZZ
@given(st.binary(max_size=300))
def test_allocation_random_bytes(tmp_path, capsys, data):
    path = tmp_path / "votes.csv"
    path.write_bytes(b"party,votes,district_seats\n" + data)
    code = main(["seats", "allocate", "--chamber", "deputies", "--votes", str(path)])
    captured = capsys.readouterr()
    assert code in (0, 2)
    assert all(line.isprintable() for line in captured.err.splitlines())
