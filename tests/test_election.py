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
