"""Model files per election (``model_file`` in election.toml), the note of a forecast made with
the documented defaults, and the shipped past elections (validate and results, no fitting)."""

import shutil

import pytest

from forecast.backtest import read_results, results_path
from forecast.election import load_election
from forecast.engine import load_inputs
from forecast.problems import InputError
from forecast.stages import Options
from forecast.stages.president import NO_MODEL_FILE, default_spec

from .conftest import MX2018, ROOT

POLLS = ROOT / "polls"
SHIPPED = ("mx2018", "mx2012", "mx2006", "mx2000", "kr2022")


def _project(tmp_path, election="mx2012", models=True):
    """A project folder (polls/<election>, and models/ unless ``models`` is False)."""
    project = tmp_path / "project"
    shutil.copytree(POLLS / election, project / "polls" / election)
    # Start without a model_file (the shipped past elections name their leave-one-out files).
    toml = project / "polls" / election / "election.toml"
    lines = toml.read_text(encoding="utf-8").split("\n")
    toml.write_text("\n".join(x for x in lines if not x.startswith("model_file")),
                    encoding="utf-8")
    if models:
        shutil.copytree(ROOT / "models", project / "models")
    return project / "polls" / election


def _set(election_dir, line):
    toml = election_dir / "election.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('poll_file = "president.csv"', f'poll_file = "president.csv"\n{line}', 1)
    toml.write_text(text, encoding="utf-8")
    number = text.split("\n").index(line) + 1
    return toml, number


def test_kr2022_names_the_korean_model_file():
    election = load_election(POLLS / "kr2022")
    assert election.model_file == "kr/president"
    spec = default_spec(election)
    assert spec.polling_error_sigma == pytest.approx(0.21)
    assert spec.source.endswith("models/kr/president.toml")
    text = (ROOT / "models" / "kr" / "president.toml").read_text(encoding="utf-8")
    assert "polls/kr2022/polling_error.md" in text  # the figure's source is stated


def test_every_shipped_model_file_states_its_polling_error_source():
    for path in (ROOT / "models").rglob("*.toml"):
        text = path.read_text(encoding="utf-8")
        if "polling_error_sigma" in text:
            assert any(source in text for source in ("polling-error.md", "polling_error.md",
                                                     "calibration.md")), path


def test_library_name_resolves_in_the_elections_project(tmp_path):
    directory = _project(tmp_path)
    custom = directory.parents[1] / "models" / "custom" / "x.toml"
    custom.parent.mkdir(parents=True)
    custom.write_text("[election_day]\n# source: a test\npolling_error_sigma = 0.3\n",
                      encoding="utf-8")
    _set(directory, 'model_file = "custom/x"')
    spec = default_spec(load_election(directory))
    assert spec.polling_error_sigma == pytest.approx(0.3)
    assert spec.source == str(custom)


def test_model_file_inside_the_election_folder(tmp_path):
    directory = _project(tmp_path)
    (directory / "model.toml").write_text("[election_day]\npolling_error_sigma = 0.4\n",
                                          encoding="utf-8")
    _set(directory, 'model_file = "model.toml"')
    assert default_spec(load_election(directory)).polling_error_sigma == pytest.approx(0.4)


def test_named_but_missing_model_file_is_an_error_with_its_line(tmp_path):
    directory = _project(tmp_path)
    toml, line = _set(directory, 'model_file = "kr/presidnt"')
    with pytest.raises(InputError) as info:
        load_inputs(directory, Options(congress=False, governors=False))
    [problem] = [str(p) for p in info.value.problems]
    assert problem.startswith(f"{toml}:{line}:model_file: 'kr/presidnt': no model named "
                              "'kr/presidnt' in ")
    assert "did you mean 'kr/president'?" in problem
    toml.write_text(toml.read_text(encoding="utf-8").replace('"kr/presidnt"', '"mine.toml"'),
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_inputs(directory, Options(congress=False, governors=False))
    assert str(info.value.problems[0]).startswith(
        f"{toml}:{line}:model_file: 'mine.toml': no such file in the election folder")


def test_named_but_missing_model_file_exits_2(tmp_path, capsys):
    from forecast.cli import main

    directory = _project(tmp_path)
    toml, line = _set(directory, 'model_file = "nope"')
    assert main(["validate", str(directory)]) == 2
    assert f"{toml}:{line}:model_file: 'nope': no model named 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(("line", "expected"), [
    ("model_file = 3", "3: expected a string"),
    ('model_file = "../../models/president.toml"', "'../../models/president.toml': leads "
     "outside the folder"),
    ('model_file = "KR President"', "'KR President': expected a name in the models library"),
])
def test_bad_model_file_values(tmp_path, line, expected):
    directory = _project(tmp_path)
    toml, number = _set(directory, line)
    with pytest.raises(InputError) as info:
        load_election(directory)
    assert str(info.value.problems[0]).startswith(f"{toml}:{number}:model_file: {expected}")


def test_no_model_file_uses_the_defaults_and_says_so(tmp_path, monkeypatch, capsys):
    from forecast.cli import main

    directory = _project(tmp_path, models=False)
    monkeypatch.chdir(tmp_path)  # no models/ here either
    inputs = load_inputs(directory, Options(congress=False, governors=False))
    president = inputs.stage("president")
    assert president.spec.source == "defaults"
    notes = [str(w) for w in president.polls.warnings if w.line == 0]
    assert notes == [f"{directory / 'election.toml'}:0:model_file: warning: {NO_MODEL_FILE}"]
    # First among the warnings, and kept in the forecast's notes (summary.json poll_warnings,
    # the terminal's first five) whatever polls a fit uses.
    assert president.polls.warnings[0].column == "model_file"
    from forecast.stages.base import used_warnings

    assert used_warnings(president.polls.warnings, set(), directory)[0] == (
        f"election.toml:0:model_file: warning: {NO_MODEL_FILE}")
    assert main(["validate", str(directory)]) == 0
    assert NO_MODEL_FILE in capsys.readouterr().err


def test_project_model_file_is_used_without_a_note(tmp_path):
    directory = _project(tmp_path)
    president = load_inputs(directory, Options(congress=False, governors=False)
                            ).stage("president")
    assert president.spec.source == str(directory.parents[1] / "models" / "president.toml")
    assert not any(w.column == "model_file" for w in president.polls.warnings)


# --- the shipped elections ------------------------------------------------------------------

@pytest.mark.parametrize("key", SHIPPED)
def test_shipped_elections_validate_with_their_results(key):
    inputs = load_inputs(POLLS / key, Options(congress=False, governors=False))
    election = inputs.election
    assert election.key == key
    results = read_results(results_path(election), election)
    assert results.ballot == tuple(election.ballot)
    assert len(inputs.stage("president").polls) >= 50
    if key != "mx2018":  # the past elections keep their sources and say how they were built
        readme = (POLLS / key / "README.md").read_text(encoding="utf-8")
        assert "## Sources" in readme and "## How this folder was built" in readme


def test_shipped_results_figures():
    expected = {  # total, valid, ballot
        "mx2012": (50_323_153, 49_061_092, ("epn", "amlo", "jvm", "quadri")),
        "mx2006": (41_791_322, 40_588_729, ("calderon", "amlo", "madrazo", "mercado", "campa")),
        "mx2000": (37_601_618, 36_782_000, ("fox", "labastida", "cardenas", "rincon", "camacho",
                                            "munoz_ledo")),
        "kr2022": (34_067_853, 33_760_311, ("lee", "yoon", "sim")),
    }
    for key, (total, valid, ballot) in expected.items():
        election = load_election(POLLS / key)
        r = read_results(results_path(election), election)
        assert (r.total, r.valid, r.ballot) == (total, valid, ballot), key
    korea = load_election(POLLS / "kr2022")
    r = read_results(results_path(korea), korea)
    assert r.other == 414_400 and r.votes["unregistered"] == 0
    assert r.winners == ("yoon",)
    # The forecast's valid vote is that of its candidates: 48.42 / 49.17 / 2.41 (polling_error.md)
    for key, pct in {"lee": 48.42, "yoon": 49.17, "sim": 2.41}.items():
        assert 100 * r.share_among(key, ["lee", "yoon", "sim"]) == pytest.approx(pct, abs=0.01)
    assert 100 * r.share_valid("lee") == pytest.approx(47.83, abs=0.01)


def test_mx2000_minor_candidates_are_never_polled():
    president = load_inputs(POLLS / "mx2000", Options(congress=False, governors=False)
                            ).stage("president")
    table = president.polls.table
    for key in ("rincon", "camacho", "munoz_ledo"):
        assert table[key].isna().all(), key


def test_mx2018_still_validates_from_a_copy(mx2018_copy):
    assert load_inputs(mx2018_copy, Options(congress=False, governors=False)).election.key \
        == "mx2018"
    assert MX2018.is_dir()
