"""``forecast init``: the template election folder, what ``forecast validate`` says of it, and the
walk of docs/new-election.md on the Korean example (no fitting)."""

import re
import shutil

import pytest

from forecast.cli import main
from forecast.election import COALITION_KEYS, TOP_KEYS, load_election
from forecast.init import POLL_HEADER, election_key, init_election
from forecast.poll_file import add_polls
from forecast.polls import read_polls
from forecast.problems import InputError

from .conftest import ROOT


def test_init_writes_the_three_files_and_validate_says_what_is_missing(tmp_path, capsys):
    target = tmp_path / "polls" / "xx2030"
    assert main(["init", str(target), "--name", "Xland 2030 presidential election"]) == 0
    out = capsys.readouterr().out
    assert "wrote election.toml, president.csv, README.md" in out and "forecast validate" in out
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "election.toml",
                                                       "president.csv"]
    assert (target / "president.csv").read_text(encoding="utf-8") == ",".join(POLL_HEADER) + "\n"
    assert main(["validate", str(target)]) == 2
    err = capsys.readouterr().err.splitlines()
    toml = target / "election.toml"
    assert err[:3] == [f"{toml}:0:election_day: missing; expected a date YYYY-MM-DD",
                       f"{toml}:0:campaign_start: missing; expected a date YYYY-MM-DD",
                       f"{toml}:0:candidates: expected at least two [[candidates]] tables"]


def test_template_explains_every_key():
    text = init_election.__globals__["election_template"]("xx2030")
    for key in TOP_KEYS:
        assert re.search(rf"^#? ?\[?{key}\b", text, re.M) or f"[{key}]" in text, key
    for key in (*COALITION_KEYS, "key", "name", "party", "coalition", "available_from",
                "available_until", "note"):
        assert re.search(rf"^# {key} = ", text, re.M), key


def test_uncommented_template_is_a_valid_election(tmp_path):
    made = init_election(tmp_path / "xx2030", name="Xland 2030")
    toml = made.directory / "election.toml"
    text = toml.read_text(encoding="utf-8")
    # Uncomment every example setting: the template's examples are themselves valid.
    text = re.sub(r"^# (\w+ = |\[)", r"\1", text, flags=re.M).replace(
        'model_file = "xx/president"', "").replace('other_options = ["someone"]', "")
    toml.write_text(text, encoding="utf-8")
    election = load_election(made.directory)
    assert election.key == "xx2030" and election.name == "Xland 2030"
    assert election.candidate_keys == ["ana", "ben"]
    assert election.coalitions["red"].parties == ("red", "pink")
    header = (made.directory / "president.csv").read_text(encoding="utf-8")
    (made.directory / "president.csv").write_text(header.replace(",other,", ",ana,ben,other,"),
                                                  encoding="utf-8")
    rows = tmp_path / "rows.csv"
    rows.write_text("pollster,field_start,field_end,sample_size,basis,ana,ben,undecided\n"
                    "Acme,2030-03-01,2030-03-03,1000,raw,40,45,15\n"
                    "Best,2030-03-05,2030-03-06,800,effective,52,48,\n", encoding="utf-8")
    added = add_polls(made.directory, rows)  # the first polls of an empty poll file
    assert (added.polls_before, added.polls_after) == (0, 2)
    assert len(read_polls(election.poll_path, election)) == 2


def test_init_refuses_to_overwrite_and_bad_keys(tmp_path):
    init_election(tmp_path / "a")
    before = (tmp_path / "a" / "election.toml").read_bytes()
    with pytest.raises(InputError) as info:
        init_election(tmp_path / "a")
    assert len(info.value.problems) == 3
    assert "already exists" in str(info.value.problems[0])
    assert (tmp_path / "a" / "election.toml").read_bytes() == before
    with pytest.raises(InputError, match="expected a lowercase key"):
        init_election(tmp_path / "b", key="Bad Key")
    with pytest.raises(InputError, match="without quotes"):
        init_election(tmp_path / "c", name='say "hi"')
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
    assert election_key("Korea 2022") == "korea_2022"
    assert election_key("2030") == "e_2030"


def test_new_election_walkthrough_on_the_korean_example(tmp_path, capsys):
    """docs/new-election.md steps 1-4 with kr2022's facts: init, election.toml, polls, model."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "models", project / "models")
    target = project / "polls" / "kr2022"
    assert main(["init", str(target), "--name", "South Korea 2022 presidential election"]) == 0
    toml = target / "election.toml"
    text = toml.read_text(encoding="utf-8")
    shipped = (ROOT / "polls" / "kr2022" / "election.toml").read_text(encoding="utf-8")
    tables = shipped[shipped.index("[coalitions.democratic]"):]
    text = (text.replace("# election_day = 2030-06-02", "election_day = 2022-03-09")
            .replace("# campaign_start = 2030-01-15", "campaign_start = 2021-11-05")
            .replace('# model_file = "xx/president"', 'model_file = "kr/president"')
            + "\n" + tables)
    toml.write_text(text, encoding="utf-8")
    polls = target / "president.csv"
    polls.write_text(polls.read_text(encoding="utf-8").replace(",other,",
                                                               ",lee,yoon,sim,ahn,other,"),
                     encoding="utf-8")
    capsys.readouterr()
    assert main(["polls", "add", str(target), str(ROOT / "polls" / "kr2022" / "president.csv")
                 ]) == 0
    assert "added 250 poll(s)" in capsys.readouterr().out
    assert main(["validate", str(target)]) == 0
    assert "250 polls OK (0 warning(s))" in capsys.readouterr().out
    from forecast.engine import load_inputs
    from forecast.stages import Options

    spec = load_inputs(target, Options(congress=False, governors=False)).stage("president").spec
    assert spec.polling_error_sigma == pytest.approx(0.21)
