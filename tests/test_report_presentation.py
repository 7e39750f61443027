"""Presentation as data and as plain words: colours and names from the election's files (every
key validated), the headline sentences, deterministic chart specs, timeline and study pages."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.colors import color_distance
from forecast.congress.definition import load_congress
from forecast.election import load_election
from forecast.governors.races import load_governor_races
from forecast.problems import InputError
from forecast.report.headline import chance, headline_sentences
from forecast.report.study_page import study_page
from forecast.report.style import Style, candidate_style, governor_style
from forecast.report.timeline_charts import timeline_chart, timeline_section

from .conftest import MX2018

ROOT = Path(__file__).resolve().parents[1]


def _problems(exc: pytest.ExceptionInfo) -> str:
    return "\n".join(str(p) for p in exc.value.problems)


# ---- facts as data ---------------------------------------------------------------------------


def test_no_election_facts_in_the_report_code():
    """No party names or state codes of one election in forecast/report (or the colours module)."""
    words = ["morena", "jhh", "paf", "tpm", "pvem", "cdmx", "'df'", "\"df\"", "MEXICO_TILES",
             "PARTY_COLORS", "GOVERNOR_COLORS"]
    for path in [*sorted((ROOT / "forecast" / "report").glob("*.py")),
                 ROOT / "forecast" / "colors.py"]:
        text = path.read_text(encoding="utf-8")
        for word in words:
            assert word not in text, f"{path.name}: {word}"


def test_2018_colours_and_names_come_from_the_files():
    election = load_election(MX2018)
    style = candidate_style(election)
    assert style.label("amlo") == "López Obrador" and style.color("amlo") == "#8c1c13"
    definition = load_congress(MX2018 / "congress")
    colors = definition.party_colors
    # Every party distinct, PT and PRI included (they were two near-identical reds).
    values = list(colors.values())
    assert min(color_distance(a, b) for i, a in enumerate(values) for b in values[i + 1:]) >= 20
    assert color_distance(colors["pt"], colors["pri"]) >= 40
    races = load_governor_races(MX2018)
    gov = governor_style(races)
    assert gov.label("jhh") == "Morena-led" and "(" not in gov.label("paf")
    assert len(races.tiles) == 32


def _copy(tmp_path) -> Path:
    target = tmp_path / "mx2018"
    shutil.copytree(MX2018, target)
    return target


def test_unknown_and_bad_display_keys_are_refused(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "election.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('short_name = "Anaya"\ncolor = "#1f4e9c"',
                                 'short_nmae = "Anaya"\ncolor = "blue"'), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_election(folder)
    msg = _problems(exc)
    assert "did you mean 'short_name'?" in msg and "'blue' is not a colour" in msg

    congress = folder / "congress" / "congress.toml"
    text = congress.read_text(encoding="utf-8")
    congress.write_text(text.replace('pt = "#e8464f"', 'ptt = "#e8464f"').replace(
        '[party_names]', '[party_name]'), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_congress(folder / "congress")
    msg = _problems(exc)
    assert "unknown party 'ptt'" in msg and "did you mean 'party_names'?" in msg

    races = folder / "governors" / "races.toml"
    text = races.read_text(encoding="utf-8")
    races.write_text(text.replace('short_name = "Morena-led"', 'shortname = "Morena-led"')
                     .replace('color = "#f07f1a"', 'color = "#f07f1"'), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_governor_races(folder)
    msg = _problems(exc)
    assert "did you mean 'short_name'?" in msg and "'#f07f1' is not a colour" in msg


def test_map_file_checked(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "governors" / "map.toml"
    text = path.read_text(encoding="utf-8")
    # Two states on one tile, an unknown key, and a racing state without a tile.
    text = text.replace("[tiles.son]\nrow = 0\ncolumn = 1", "[tiles.son]\nrow = 0\ncolumn = 0")
    text = text.replace("[tiles.df]\n", "[tiles.dff]\ncolour = 1\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_governor_races(folder)
    msg = _problems(exc)
    assert "already the tile of 'bc'" in msg
    assert "unknown setting 'colour'" in msg
    assert "abbr 'df' has no tile in map.toml" in msg


def test_defaults_without_display_keys(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "election.toml"
    text = re.sub(r'\ncolor = "#[0-9a-f]{6}"', "", path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    style = candidate_style(load_election(folder))
    colors = [style.color(k) for k in style.keys]
    assert len(set(colors)) == len(colors)
    assert candidate_style(load_election(folder)).colors == style.colors  # a fixed rule


# ---- headline --------------------------------------------------------------------------------


def _summary() -> dict:
    entry = {"seats": {"q05": 236.0, "q50": 345.0, "q95": 414.2, "mean": 337.0},
             "p_majority": 0.925, "p_two_thirds": 0.577, "name": "Juntos Haremos Historia"}
    small = {"seats": {"q05": 46.0, "q50": 91.0, "q95": 186.0, "mean": 100.0},
             "p_majority": 0.008, "p_two_thirds": 0.0, "name": "Por México al Frente"}
    share = {"q05": 0.42, "q50": 0.501, "q95": 0.585}
    return {
        "as_of": "2018-06-28", "election_day": "2018-07-01", "polls_used": 95,
        "polls": {"congress": {"used": 26}, "governors": {"used": 33}},
        "candidates": {"amlo": {"name": "Andrés Manuel López Obrador", "p_win": 0.9983,
                                "share_valid": share},
                       "anaya": {"name": "Ricardo Anaya Cortés", "p_win": 0.0017,
                                 "share_valid": share}},
        "diagnostics": {"converged": True, "max_rhat": 1.004},
        "chambers": {"deputies": {"total": 500, "majority": 251, "two_thirds": 334,
                                  "coalitions": {"jhh": entry, "paf": small}},
                     "senate": {"total": 128, "majority": 65, "two_thirds": 86,
                                "coalitions": {"jhh": entry, "paf": small}},
                     "president_both_majority": 0.85, "president_both_two_thirds": 0.043,
                     "party_poll_fit": {"converged": True, "max_rhat": 1.006}},
        "governors": {"count": {"jhh": {"mean": 4.9, "q05": 3, "q50": 5, "q95": 7},
                                "mc": {"mean": 0.95, "q05": 1, "q50": 1, "q95": 1}},
                      "cdmx": {"p_win": {}}, "diagnostics": {"converged": True,
                                                             "max_rhat": 1.002}},
    }


def test_headline_sentences_name_everything():
    lines = headline_sentences(_summary(), {"governors": {"mc": "Movimiento Ciudadano"}})
    text = "\n".join(lines)
    assert lines[0].startswith("Andrés Manuel López Obrador leads the presidential race with "
                               "a >99% chance")
    assert "Chamber of Deputies (500 seats; majority 251, two thirds 334)" in text
    assert "Juntos Haremos Historia 345 (236–414), P(majority) 92%, P(two thirds) 58%" in text
    assert "two thirds of both chambers" in text and "in 4% of the simulations" in text
    assert "Movimiento Ciudadano 1 (1–1)" in text and "Juntos Haremos Historia 5 (3–7)" in text
    assert "26 party polls and 33 state polls" in text
    assert lines[-1] == "All 3 model fits converged (max R-hat 1.006)."
    for key in ("amlo", "jhh", "paf", "mc"):
        assert not re.search(rf"\b{key}\b", text), key


def test_headline_warns_and_works_for_a_president_only_forecast():
    summary = _summary()
    del summary["chambers"], summary["governors"], summary["polls"]
    summary["diagnostics"] = {"converged": False, "max_rhat": 1.03}
    lines = headline_sentences(summary)
    assert len(lines) == 3 and lines[-1].startswith("WARNING: the presidential fit did not")
    assert chance(0.004) == "<1%" and chance(0.996) == ">99%" and chance(1.0) == "100%"


# ---- charts ----------------------------------------------------------------------------------


STYLE = Style(("a", "b"), {"a": "Ana", "b": "Beto"}, {}, {"a": "#8c1c13", "b": "#1f4e9c"})


def _timeline() -> pd.DataFrame:
    return pd.DataFrame({"as_of": ["2018-05-01", "2018-05-01", "2018-06-01", "2018-06-01"],
                         "candidate": ["a", "b", "a", "b"], "p_win": [0.7, 0.3, 0.8, 0.2]})


def test_specs_are_deterministic_and_name_things():
    one = timeline_chart(_timeline(), STYLE)
    two = timeline_chart(_timeline(), STYLE)
    assert json.dumps(one.spec, sort_keys=True) == json.dumps(two.spec, sort_keys=True)
    text = json.dumps(one.spec)
    assert "Ana" in text and "#8c1c13" in text
    assert not re.search(r"param_[2-9]|view_[2-9]", text)  # counters renumbered per chart


def _seat_timeline() -> xr.Dataset:
    """The timeline dataset as the lead's `forecast timeline` will write it (docs/studies.md):
    the study's seat variables with an as_of dimension."""
    as_of = pd.to_datetime(["2018-05-01", "2018-06-01"])
    seats = np.array([[[[230, 300, 400], [50, 90, 150]], [[50, 70, 80], [20, 30, 50]]],
                      [[[240, 320, 410], [45, 85, 140]], [[55, 74, 84], [18, 28, 45]]]], float)
    return xr.Dataset(
        {"seats": (("as_of", "chamber", "coalition", "seat_quantile"), seats),
         "p_majority": (("as_of", "chamber", "coalition"), np.full((2, 2, 2), 0.5)),
         "p_two_thirds": (("as_of", "chamber", "coalition"), np.full((2, 2, 2), 0.1)),
         "p_president_two_thirds": (("as_of", "chamber"), np.full((2, 2), 0.05))},
        coords={"as_of": as_of, "chamber": ["deputies", "senate"], "coalition": ["a", "b"],
                "seat_quantile": ["q05", "q50", "q95"]})


def test_timeline_section_with_seats():
    section = timeline_section(_timeline(), _seat_timeline(), candidates=STYLE, congress=STYLE,
                               thresholds={"deputies": (500, 251, 334),
                                           "senate": (128, 65, 86)})
    assert [c.stem for c in section.charts] == ["timeline", "timeline_seats_deputies",
                                                "timeline_seats_senate"]
    frame = section.charts[1].data["chart_timeline_seats_deputies.csv"]
    assert list(frame["seats_q50"]) == [300, 90, 320, 85]
    assert "two thirds (334)" in json.dumps(section.charts[1].spec)
    assert timeline_section(None, None, candidates=STYLE) is None


def test_study_page_compares_scenarios(tmp_path):
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    base = np.array([0.6, 0.4])[:, None] + (q - 0.5)[None, :] * 0.1
    ds = xr.Dataset(
        {"p_win": (("scale", "candidate"), [[0.8, 0.2], [0.6, 0.4]]),
         "share_valid": (("scale", "candidate", "quantile"), np.stack([base, base])),
         "converged": ("scale", [True, False]), "polls_used": ("scale", [10, 10]),
         "seats": (("scale", "chamber", "coalition", "seat_quantile"),
                   np.ones((2, 2, 2, 3)) * [10, 20, 30]),
         "p_majority": (("scale", "chamber", "coalition"), np.full((2, 2, 2), 0.25)),
         "p_two_thirds": (("scale", "chamber", "coalition"), np.full((2, 2, 2), 0.125)),
         "p_president_two_thirds": (("scale", "chamber"), np.full((2, 2), 0.0625))},
        coords={"scale": [1.0, 2.0], "candidate": ["a", "b"], "quantile": q,
                "chamber": ["deputies", "senate"], "coalition": ["a", "b"],
                "seat_quantile": ["q05", "q50", "q95"]},
        attrs={"factors": '{"scale": [1.0, 2.0]}'})
    page = study_page(ds, cand=STYLE, coal=STYLE).decode()
    assert page == study_page(ds, cand=STYLE, coal=STYLE).decode()
    assert "default-src 'none'" in page and "did not converge" in page
    assert "P(win) Ana" in page and "12.5%" in page and "6.2%" in page
    for stem in ("study_p_win", "study_shares", "study_seats_deputies", "study_seats_senate"):
        assert f"id='fig-{stem}'" in page
    assert "href='data:text/csv;base64," in page


def test_study_page_governors():
    """The governor variables of a study (forecast/study/governors.py): favourites per state
    and the governorships' median per scenario, with names from races.toml."""
    ds = xr.Dataset(
        {"p_win": (("scale", "candidate"), [[0.8, 0.2], [0.6, 0.4]]),
         "converged": ("scale", [True, True]),
         "governor_p_win": (("scale", "state", "candidacy"),
                            [[[0.9, 0.1], [0.3, 0.7]], [[0.6, 0.4], [0.2, 0.8]]]),
         "governorships": (("scale", "candidacy_counted", "seat_quantile"),
                           [[[1, 1, 2], [0, 1, 1]], [[0, 1, 2], [0, 1, 2]]])},
        coords={"scale": [1.0, 2.0], "candidate": ["a", "b"], "state": ["cdmx", "puebla"],
                "candidacy": ["jhh", "paf"], "candidacy_counted": ["jhh", "paf"],
                "seat_quantile": [0.05, 0.5, 0.95]},
        attrs={"factors": '{"scale": [1.0, 2.0]}', "election_dir": str(MX2018)})
    page = study_page(ds, cand=STYLE).decode()
    assert "Governorships Morena-led (median)" in page and "<td>1 (1–2)</td>" in page
    assert "<td>Morena-led 90%</td>" in page and "<td>PAN-led 70%</td>" in page


def test_study_page_colours_coalitions_like_the_report(mx2018_copy):
    """Coalitions without a colour of their own get the report's defaults (kept off the
    parties' colours) on the study page too."""
    from types import SimpleNamespace

    import xarray as xr

    from forecast.engine import load_inputs
    from forecast.report.study_page import study_styles
    from forecast.report.style import congress_style

    for name in ("election.toml", "congress/congress.toml"):
        path = mx2018_copy / name
        text = path.read_text(encoding="utf-8")
        for color in ("#8c1c13", "#1f4e9c", "#2e8b57"):
            text = text.replace(f'color = "{color}"\n', "")
        path.write_text(text, encoding="utf-8")
    inputs = load_inputs(mx2018_copy)
    report = congress_style(SimpleNamespace(inputs=inputs, election=inputs.election))
    ds = xr.Dataset(coords={"candidate": ["amlo"], "coalition": ["jhh", "paf", "tpm"]},
                    attrs={"election_dir": str(mx2018_copy)})
    _, page = study_styles(ds)
    assert [page.color(k) for k in ("jhh", "paf", "tpm")] == [
        report.color(k) for k in ("jhh", "paf", "tpm")]
    assert report.color("tpm") != "#2e8b57"
    assert not {report.color(k) for k in ("jhh", "paf", "tpm")} & {
        report.color(p) for p in inputs.stage("congress").definition.parties}
