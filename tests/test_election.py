import datetime as dt

import pytest

from forecast.election import load_election
from forecast.problems import InputError

from .conftest import MX2018


def test_mx2018_definition():
    e = load_election(MX2018)
    assert e.election_day == dt.date(2018, 7, 1)
    assert e.candidate_keys == ["amlo", "anaya", "meade", "zavala", "rodriguez"]
    assert e.ballot == ["amlo", "anaya", "meade", "rodriguez"]
    assert e.candidate("zavala").available_until == dt.date(2018, 5, 16)
    assert e.candidate("rodriguez").available_from == dt.date(2018, 4, 9)
    assert e.coalitions["jhh"].parties == ("morena", "pt", "pes")
    assert e.coalitions["paf"].parties == ("pan", "prd", "mc")
    assert e.coalitions["tpm"].parties == ("pri", "pvem", "na")
    assert e.candidate("amlo").coalition == "jhh"
    assert e.other_options == ("rios_piter",)


def _write(tmp_path, text):
    (tmp_path / "election.toml").write_text(text, encoding="utf-8")
    return tmp_path


BASE = """key = "x"
election_day = 2030-06-01
campaign_start = 2030-01-01

[coalitions.red]
name = "Red"

[[candidates]]
key = "ana"
coalition = "red"

[[candidates]]
key = "bob"
coalition = "red"
"""


def test_minimal_definition_loads(tmp_path):
    e = load_election(_write(tmp_path, BASE))
    assert e.ballot == ["ana", "bob"]


def test_unknown_coalition_names_file_line_and_key(tmp_path):
    path = _write(tmp_path, BASE.replace('key = "bob"\ncoalition = "red"',
                                         'key = "bob"\ncoalition = "blue"'))
    with pytest.raises(InputError) as info:
        load_election(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path / 'election.toml'}:12:coalition: candidate 'bob': coalition 'blue' is not "
        "defined; expected one of ['red']"]


def test_malformed_candidate_key_and_window(tmp_path):
    text = BASE.replace('key = "bob"', 'key = "Bob Smith"').replace(
        'key = "ana"\ncoalition = "red"',
        'key = "ana"\ncoalition = "red"\navailable_from = 2030-05-01\navailable_until = 2030-02-01')
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_election(path)
    messages = [str(p) for p in info.value.problems]
    shown = path / "election.toml"
    assert f"{shown}:8:available_until: candidate 'ana': available_until is before " \
           "available_from" in messages
    assert f"{shown}:14:key: candidate key 'Bob Smith': expected a lowercase key like " \
           "'amlo'" in messages


def test_invalid_toml_reports_line(tmp_path):
    path = _write(tmp_path, BASE + "\nthis is not toml\n")
    with pytest.raises(InputError) as info:
        load_election(path)
    assert str(info.value.problems[0]).startswith(f"{path / 'election.toml'}:16:-: not valid TOML")


@pytest.mark.parametrize(("text", "expected"), [
    (BASE.replace('key = "x"', 'key = "x"\ntotal_tolerence = 3'),
     "2:total_tolerence: unknown setting 'total_tolerence'; did you mean 'total_tolerance'?"),
    (BASE.replace('key = "x"', 'key = "x"\ndefault_sample_sise = 900'),
     "2:default_sample_sise: unknown setting 'default_sample_sise'; did you mean "
     "'default_sample_size'?"),
    (BASE.replace('coalition = "red"\n\n[[candidates]]',
                  'coalition = "red"\navailable_untill = 2030-05-01\n\n[[candidates]]'),
     "11:available_untill: candidate 'ana': unknown setting 'available_untill'; did you mean "
     "'available_until'?"),
    (BASE.replace('name = "Red"', 'name = "Red"\nparites = ["r"]'),
     "7:coalitions.red.parites: unknown setting 'parites'; did you mean 'parties'?"),
    (BASE.replace('key = "x"', 'key = "x"\ncolour = "blue"'),
     "2:colour: unknown setting 'colour': expected one of assumed_fieldwork_days, "
     "assumed_publication_lag_days, campaign_start, candidates, coalitions, default_sample_size, "
     "default_undecided_share, election_day, key, model_file, name, other_options, poll_file, "
     "results_file, seat_rules, total_tolerance"),
    (BASE.replace('key = "x"', 'key = "x"\n[extra]\na = 1'), "2:extra: unknown setting 'extra'"),
])
def test_unknown_keys_are_refused_with_a_hint(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_election(path)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"{path / 'election.toml'}:{expected}") for m in messages), messages


@pytest.mark.parametrize(("line", "expected"), [
    ('poll_file = "../../x.csv"', "'../../x.csv': leads outside the folder {d}: expected a file "
     "inside it"),
    ('results_file = "/etc/passwd"', "'/etc/passwd': an absolute path: expected a file name "
     "inside the election folder"),
    ('poll_file = ""', "'': empty: expected a file name"),
])
def test_file_names_stay_inside_the_folder(tmp_path, line, expected):
    path = _write(tmp_path, BASE.replace('key = "x"', f'key = "x"\n{line}'))
    with pytest.raises(InputError) as info:
        load_election(path)
    key = line.split(" ")[0]
    assert [str(p) for p in info.value.problems] == [
        f"{path / 'election.toml'}:2:{key}: {expected.format(d=path)}"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('key = "ana"', 'key = "ana"\nname = "Ana\\u001b[2J"',
     "8:name: candidate 'ana': 'Ana\\x1b[2J' contains the control character U+001B (unnamed): "
     "expected plain text on one line"),
    ('name = "Red"', 'name = "Red\\nTeam"',
     "5:coalitions.red.name: 'Red\\nTeam' contains the control character U+000A (unnamed): "
     "expected plain text on one line"),
    ('key = "x"', 'key = "x"\nname = "Elección\u2028"',
     "2:name: 'Elección\\u2028' contains the control character U+2028 (LINE SEPARATOR): "
     "expected plain text on one line"),
])
def test_control_characters_in_names_are_refused(tmp_path, old, new, expected):
    path = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_election(path)
    assert [str(p) for p in info.value.problems] == [f"{path / 'election.toml'}:{expected}"]
