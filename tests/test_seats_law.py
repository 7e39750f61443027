"""Seat law by year (forecast.seats.law, polls/rules/mx/): every rules file loads, the 2018,
2021 and 2024 official list seats are reproduced seat for seat through the library and through
``forecast seats allocate``, the over-representation limits can count district seats by
affiliation while the totals use the credited ones, and hostile rules files give one-line
FILE:LINE:KEY messages."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.election import load_election
from forecast.problems import InputError
from forecast.seats import (
    ChamberRules,
    InfeasibleAllocationError,
    SenateRules,
    allocate_chamber,
    allocate_chamber_scalar,
    allocate_chamber_table,
    allocate_senate,
)
from forecast.seats.allocate_cli import main
from forecast.seats.law import (
    available_rules,
    find_rules,
    load_rules,
    rules_for_election,
    rules_for_year,
)

ROOT = Path(__file__).parents[1]
POLLS = ROOT / "polls"
RULES = POLLS / "rules" / "mx"
SPECIAL = ("independent", "unregistered", "null")


def _csv(path: Path) -> pd.DataFrame:
    # keep_default_na=False: Nueva Alianza's code "NA" must not become a missing value.
    return pd.read_csv(path, keep_default_na=False)


def _official(year: int, chamber: str = "deputies") -> pd.DataFrame:
    df = _csv(POLLS / f"mx{year}" / "results" / f"allocation_{year}_official.csv")
    df = df[df["chamber"] == chamber].reset_index(drop=True)
    if year == 2018:  # the 2018 file predates the common column names
        df = df.rename(columns={"mr_seats": "district_seats", "pr_seats": "list_seats"})
    return df


def _input(year: int) -> pd.DataFrame:
    return _csv(POLLS / f"mx{year}" / "results" / f"deputies_{year}_allocate_input.csv")


def _parties(year: int) -> pd.DataFrame:
    """The party rows of a year's allocation input, numeric (an empty cap cell is NaN)."""
    table = _input(year)
    parties = table[~table["party"].str.lower().isin(SPECIAL)].reset_index(drop=True)
    for col in ("votes", "district_seats", "cap_district_seats"):
        if col in parties:
            parties[col] = pd.to_numeric(parties[col])
    return parties


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------
# The rules library
# --------------------------------------------------------------------------------------------


def test_every_rules_file_loads_with_its_chamber_year_and_majorities() -> None:
    names = available_rules()
    assert names == [
        "mx/deputies-2018",
        "mx/deputies-2021",
        "mx/deputies-2024",
        "mx/senate-2018",
        "mx/senate-2024",
    ]
    for name in names:
        rules = load_rules(name)
        chamber, year = name.split("/")[1].split("-")
        assert isinstance(rules, ChamberRules if chamber == "deputies" else SenateRules)
        assert rules.year == int(year)
        assert Path(rules.source) == RULES / f"{chamber}-{year}.toml"
        assert (rules.majority, rules.two_thirds) == (
            (251, 334) if chamber == "deputies" else (65, 86)
        )
        assert rules.size == (500 if chamber == "deputies" else 128)


def test_built_in_defaults_are_the_2018_rules_files() -> None:
    """The defaults in code are only a fallback: they must equal the 2018 files."""
    assert load_rules("mx/deputies-2018") == ChamberRules()
    assert load_rules("mx/senate-2018") == SenateRules()


def test_what_changed_by_year() -> None:
    base = load_rules("mx/deputies-2018")
    assert base.cap_counts == "siglado"
    for year in (2021, 2024):
        rules = load_rules(f"mx/deputies-{year}")
        # Same numbers; only how the limits count district seats changed.
        assert rules == dataclasses.replace(base, cap_counts="affiliation")
    assert load_rules("mx/senate-2024") == load_rules("mx/senate-2018")


def test_names_paths_years_and_explicit_library(tmp_path: Path) -> None:
    path = RULES / "deputies-2021.toml"
    assert load_rules(path) == load_rules(str(path)) == load_rules("mx/deputies-2021")
    assert rules_for_year("deputies", 2024) == load_rules("mx/deputies-2024")
    (tmp_path / "xx").mkdir()
    law_2018 = (RULES / "deputies-2018.toml").read_bytes()
    (tmp_path / "xx" / "deputies-1997.toml").write_bytes(law_2018)
    assert load_rules("xx/deputies-1997", library=tmp_path) == ChamberRules()
    assert find_rules("xx/deputies-1997", library=tmp_path) == tmp_path / "xx/deputies-1997.toml"


def test_unknown_names_list_what_exists_with_a_hint() -> None:
    with pytest.raises(InputError) as err:
        load_rules("mx/deputies-2027")
    (problem,) = err.value.problems
    text = str(problem)
    assert text.startswith("mx/deputies-2027:0:-: no rules named 'mx/deputies-2027' in ")
    assert "available: mx/deputies-2018, mx/deputies-2021" in text
    assert text.endswith("did you mean 'mx/deputies-2024'?")
    with pytest.raises(InputError, match="no rules named 'mx/senate-2021'"):
        rules_for_year("senate", 2021)
    with pytest.raises(InputError, match="expected a rules file path or a rules name"):
        load_rules("../etc/passwd")


def test_chamber_must_match_when_asked() -> None:
    with pytest.raises(InputError) as err:
        load_rules("mx/senate-2024", chamber="deputies")
    line = _line((RULES / "senate-2024.toml").read_text(encoding="utf-8"), "chamber =")
    assert [str(p) for p in err.value.problems] == [
        f"{RULES / 'senate-2024.toml'}:{line}:law.chamber: these are senate rules; "
        "expected deputies rules"
    ]


def test_rules_chosen_by_the_election_definition(tmp_path: Path) -> None:
    election = load_election(POLLS / "mx2018")
    assert rules_for_election(election, "deputies") == ChamberRules()
    assert rules_for_election(election, "senate") == SenateRules()
    assert Path(rules_for_election(election, "deputies").source) == RULES / "deputies-2018.toml"
    # A path relative to the election folder works too; a wrong entry is one clear problem.
    folder = tmp_path / "e"
    folder.mkdir()
    text = (POLLS / "mx2018" / "election.toml").read_text(encoding="utf-8")
    (folder / "president.csv").write_text("", encoding="utf-8")
    (folder / "law.toml").write_bytes((RULES / "deputies-2024.toml").read_bytes())
    mine = text.replace('deputies = "mx/deputies-2018"', 'deputies = "law.toml"')
    mine = mine.replace('senate = "mx/senate-2018"', "senate = 2024")
    (folder / "election.toml").write_text(mine, encoding="utf-8")
    local = load_election(folder)
    assert rules_for_election(local, "deputies").cap_counts == "affiliation"
    with pytest.raises(InputError) as err:
        rules_for_election(local, "senate")
    (problem,) = err.value.problems
    assert problem.column == "seat_rules.senate" and problem.line > 0
    assert problem.message == "2024: expected the name or path of a senate rules file"
    (folder / "election.toml").write_text(text.split("[seat_rules]")[0], encoding="utf-8")
    with pytest.raises(InputError, match=r"expected a \[seat_rules\] table"):
        rules_for_election(load_election(folder), "deputies")


# --------------------------------------------------------------------------------------------
# Official allocations, seat for seat
# --------------------------------------------------------------------------------------------


def _library_allocation(year: int) -> pd.DataFrame:
    table = _input(year)
    special = table["party"].str.lower().isin(SPECIAL)
    extra = table[special].set_index(table[special]["party"].str.lower())["votes"]
    return allocate_chamber_table(
        _parties(year),
        independent_votes=int(extra.get("independent", 0)),
        null_votes=int(extra.get("null", 0)),
        nonregistered_votes=int(extra.get("unregistered", 0)),
        rules=rules_for_year("deputies", year),
    )


@pytest.mark.parametrize("year", [2018, 2021, 2024])
def test_official_list_seats_reproduced_through_the_library(year: int) -> None:
    off = _official(year)
    out = _library_allocation(year)
    assert out["party"].tolist() == off["party"].tolist()
    assert out["votes"].tolist() == off["votes_used"].tolist()
    assert out["district_seats"].tolist() == off["district_seats"].tolist()
    assert out["list_seats"].tolist() == off["list_seats"].tolist()
    assert out["total_seats"].tolist() == off["total_seats"].tolist()
    assert out["list_seats"].sum() == 200


@pytest.mark.parametrize("year", [2018, 2021, 2024])
@pytest.mark.parametrize("how", ["year", "rules-name", "rules-path"])
def test_official_list_seats_reproduced_through_the_cli(capsys, year: int, how: str) -> None:
    law = {
        "year": ["--year", str(year)],
        "rules-name": ["--rules", f"mx/deputies-{year}"],
        "rules-path": ["--rules", str(RULES / f"deputies-{year}.toml")],
    }[how]
    votes = POLLS / f"mx{year}" / "results" / f"deputies_{year}_allocate_input.csv"
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", str(votes), *law)
    expected = "party,votes,district_seats,list_seats,total_seats\n" + "".join(
        f"{r.party},{r.votes_used},{r.district_seats},{r.list_seats},{r.total_seats}\n"
        for r in _official(year).itertuples()
    )
    assert (code, err) == (0, "")
    assert out == expected


def test_default_law_is_2018(capsys) -> None:
    votes = str(POLLS / "mx2018" / "results" / "deputies_2018_allocate_input.csv")
    default = _run(capsys, "--chamber", "deputies", "--votes", votes)
    assert default == _run(capsys, "--chamber", "deputies", "--votes", votes, "--year", "2018")
    assert default[0] == 0


def test_2024_morena_is_capped_by_its_affiliation_count() -> None:
    """INE/CG2129/2024: Morena's limit is floor(500 * (43.6 % + 8 %)) = 257 seats; counting its
    161 credited and 21 affiliated district winners (182) leaves 75 list seats, and its total
    uses the 161 credited seats: 236.  The other parties share the 125 seats left."""
    out = _library_allocation(2024).set_index("party")
    assert out.attrs["capped"] == ["MORENA"]
    parties = _parties(2024)
    res = allocate_chamber(
        parties["votes"],
        parties["district_seats"],
        cap_district_seats=parties["cap_district_seats"].fillna(parties["district_seats"]),
        independent_votes=72_012,
        rules=load_rules("mx/deputies-2024"),
    )
    limit = dict(zip(parties["party"], res.seat_limit.tolist(), strict=True))
    assert limit["MORENA"] == 257 == 182 + 75
    assert res.total_seats[parties["party"].tolist().index("MORENA")] == 236
    assert int(res.vne) == 55_705_598
    # Sigamos Haciendo Historia (Morena, PVEM, PT): 364 seats, over two thirds (334).
    sigamos = sum(out.loc[p, "total_seats"] for p in ("MORENA", "PVEM", "PT"))
    assert sigamos == 364 > load_rules("mx/deputies-2024").two_thirds


def test_2024_under_the_2018_rule_gives_morena_87(capsys) -> None:
    """The issue: counting district seats by siglado for the cap (2018), Morena is not capped
    and gets its 87 first-pass list seats, not the official 75; the cap column is then ignored,
    with a warning."""
    votes = str(POLLS / "mx2024" / "results" / "deputies_2024_allocate_input.csv")
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", votes, "--year", "2018")
    assert code == 0
    rows = dict(line.split(",", 1) for line in out.splitlines()[1:])
    assert rows["MORENA"] == "24286317,161,87,248"
    assert err == (
        f"{votes}:1:cap_district_seats: warning: column ignored: the rules (mx/deputies-2018) "
        "count district seats for the over-representation limits as credited (siglado)\n"
    )


def test_2024_result_does_not_depend_on_how_pvem_and_pt_share_the_21() -> None:
    """The affiliation counts of PVEM and PT were not found (polls/mx2024/results/README.md):
    the 21 Morena members came off their 57 + 38 credited seats in some split.  Every split,
    completed to a full count of the 300 seats, gives the official list seats."""
    off = _official(2024)
    parties = _parties(2024)
    names = parties["party"].tolist()
    for from_pvem in range(22):
        cap = parties["district_seats"].to_numpy().copy()
        cap[names.index("MORENA")] = 182
        cap[names.index("PVEM")] -= from_pvem
        cap[names.index("PT")] -= 21 - from_pvem
        assert cap.sum() + 1 == 300  # plus the independent's seat
        res = allocate_chamber(
            parties["votes"], parties["district_seats"], cap_district_seats=cap,
            independent_votes=72_012, rules=load_rules("mx/deputies-2024"),
        )
        assert res.list_seats.tolist() == off["list_seats"].tolist()


def test_2021_no_party_reaches_its_limit() -> None:
    """2021: the official list seats are the plain largest-remainder seats; Morena's limit
    (230) would bind only if more than 154 district seats were counted for it."""
    parties = _parties(2021)
    rules = load_rules("mx/deputies-2021")
    res = allocate_chamber(parties["votes"], parties["district_seats"],
                           cap_district_seats=parties["cap_district_seats"], rules=rules)
    assert not res.capped.any()
    morena = parties["party"].tolist().index("MORENA")
    assert res.seat_limit[morena] == 230 == 154 + 76
    for counted in (122, 154, 155):
        cap = parties["district_seats"].to_numpy().copy()
        cap[morena] = counted
        again = allocate_chamber(parties["votes"], parties["district_seats"],
                                 cap_district_seats=cap, rules=rules)
        assert (again.list_seats[morena] == 76) == (counted <= 154)


def test_2024_senate_list_seats_reproduced() -> None:
    """The Senate's 32 list seats of 2024 from INE's list-vote count: the quota and largest
    remainders give Morena 14, PAN 6, PRI 4, MC 3, PVEM 3, PT 2 (PRD under 3 %).  PRI's last
    remainder beats MC's by about 2,000 votes."""
    off = _official(2024, "senate")
    res = allocate_senate(
        off["votes_used"], 0, 0, null_votes=2_369_932, nonregistered_votes=47_092,
        rules=load_rules("mx/senate-2024"),
    )
    assert res.list_seats.tolist() == off["list_seats"].tolist()
    assert (off["district_seats"] + res.list_seats).tolist() == off["total_seats"].tolist()
    assert off["total_seats"].sum() == 128 and off["district_seats"].sum() == 96
    assert int(res.vne) == 56_223_690


def test_official_files_add_up() -> None:
    for year in (2021, 2024):
        off = _official(year)
        assert off["list_seats"].sum() == 200
        independents = 1 if year == 2024 else 0
        assert off["district_seats"].sum() + independents == 300
        assert off["total_seats"].sum() + independents == 500
        assert (off["district_seats"] + off["list_seats"] == off["total_seats"]).all()


# --------------------------------------------------------------------------------------------
# The cap count in the engine
# --------------------------------------------------------------------------------------------


def test_cap_count_decides_the_limit_credited_count_the_total() -> None:
    # A: 40 % of the votes, 150 credited district seats, 190 by affiliation.  Limit: 240.
    votes, credited, counted = [400_000, 600_000], [150, 150], [190, 110]
    plain = allocate_chamber(votes, credited)
    assert plain.list_seats.tolist() == [80, 120] and not plain.capped.any()
    res = allocate_chamber(votes, credited, cap_district_seats=counted)
    assert res.seat_limit.tolist() == [240, 300]
    assert res.capped.tolist() == [True, False]
    assert res.list_seats.tolist() == [50, 150]  # 240 - 190
    assert res.total_seats.tolist() == [200, 300]  # credited 150 + 50
    assert res.cap_district_seats.tolist() == counted
    ref = allocate_chamber_scalar(votes, credited, cap_district_seats=counted)
    assert ref["list_seats"] == [50, 150] and ref["total_seats"] == [200, 300]
    # District seats alone over the limit by affiliation: no list seats, credited seats kept.
    res = allocate_chamber(votes, credited, cap_district_seats=[250, 50])
    assert res.list_seats.tolist() == [0, 200] and res.total_seats.tolist() == [150, 350]


def test_vve_without_independents_is_a_rule_switch() -> None:
    rules = dataclasses.replace(ChamberRules(), vve_includes_independents=False)
    assert not allocate_chamber([9700, 300], [0, 0], independent_votes=100).qualified[1]
    assert allocate_chamber([9700, 300], [0, 0], independent_votes=100, rules=rules).qualified[1]
    senate = dataclasses.replace(SenateRules(), vve_includes_independents=False)
    assert allocate_senate([9700, 300], 0, 0, independent_votes=1, rules=senate).qualified[1]


@st.composite
def capped_cases(draw: st.DrawFn) -> dict:
    n = draw(st.integers(2, 5))
    votes = draw(st.lists(st.integers(0, 3_000_000), min_size=n, max_size=n))
    cuts = sorted(draw(st.lists(st.integers(0, 300), min_size=n - 1, max_size=n - 1)))
    mr = np.diff([0, *cuts, 300]).tolist()
    # The count for the limits moves some winners between parties (affiliation), or not.
    cap = list(mr)
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        k = draw(st.integers(0, cap[a]))
        cap[a] -= k
        cap[b] += k
    return {"votes": votes, "mr": mr, "cap": cap, "ind": draw(st.integers(0, 300_000))}


@settings(max_examples=200, deadline=None)
@given(st.lists(capped_cases(), min_size=1, max_size=4).filter(
    lambda cs: len({len(c["votes"]) for c in cs}) == 1))
def test_property_cap_counts_vectorised_equals_scalar(cases: list[dict]) -> None:
    rules = load_rules("mx/deputies-2024")
    refs = []
    for c in cases:
        try:
            refs.append(allocate_chamber_scalar(c["votes"], c["mr"], cap_district_seats=c["cap"],
                                                independent_votes=c["ind"], rules=rules))
        except InfeasibleAllocationError:
            refs.append(None)
    args = (np.array([c["votes"] for c in cases]), np.array([c["mr"] for c in cases]))
    kwargs = {"cap_district_seats": np.array([c["cap"] for c in cases]),
              "independent_votes": np.array([c["ind"] for c in cases]), "rules": rules}
    if any(r is None for r in refs):
        with pytest.raises(InfeasibleAllocationError):
            allocate_chamber(*args, **kwargs)
        return
    res = allocate_chamber(*args, **kwargs)
    for i, ref in enumerate(refs):
        assert res.list_seats[i].tolist() == ref["list_seats"]
        assert res.total_seats[i].tolist() == ref["total_seats"]
        assert res.capped[i].tolist() == ref["capped"]
        # Totals use the credited seats; a capped party sits exactly at its limit by the count.
        assert (res.total_seats[i] == args[1][i] + res.list_seats[i]).all()
        capped = res.capped[i]
        at_limit = np.maximum(0, res.seat_limit[i] - kwargs["cap_district_seats"][i])
        assert (res.list_seats[i][capped] == at_limit[capped]).all()
        assert res.list_seats[i].sum() == 200


@settings(max_examples=100, deadline=None)
@given(capped_cases())
def test_property_cap_equal_to_credited_changes_nothing(case: dict) -> None:
    try:
        plain = allocate_chamber(case["votes"], case["mr"], independent_votes=case["ind"])
    except InfeasibleAllocationError:
        return
    same = allocate_chamber(case["votes"], case["mr"], cap_district_seats=case["mr"],
                            independent_votes=case["ind"])
    for field in ("list_seats", "total_seats", "capped", "seat_limit"):
        assert getattr(plain, field).tolist() == getattr(same, field).tolist()


# --------------------------------------------------------------------------------------------
# Hostile rules files
# --------------------------------------------------------------------------------------------

GOOD = (RULES / "deputies-2024.toml").read_text(encoding="utf-8")


def _problems(tmp_path: Path, text: str | bytes, name: str = "r.toml") -> list[str]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_rules(path)
    lines = [str(p) for p in err.value.problems]
    for line in lines:
        assert "\n" not in line and "\r" not in line and len(line) < 400, line
        assert line.startswith(f"{path}:"), line
    return [line.removeprefix(f"{path}:") for line in lines]


def _line(text: str, start: str) -> int:
    return next(i + 1 for i, ln in enumerate(text.split("\n")) if ln.startswith(start))


def test_unknown_key_and_section_with_did_you_mean(tmp_path: Path) -> None:
    text = GOOD.replace("overrepresentation_points =", "overrepresentaton_points =")
    text = text.replace("[majorities]", "[majoritys]").replace("vne =", "vnee =")
    assert _problems(tmp_path, text) == [
        f"{_line(text, 'vnee')}:votes.vnee: unknown key (did you mean 'vne'?)",
        f"{_line(text, 'overrepresentaton_points')}:limits.overrepresentaton_points: unknown "
        "key (did you mean 'overrepresentation_points'?)",
        f"{_line(text, '[majoritys]')}:majoritys: unknown section (did you mean 'majorities'?)",
    ]
    text = GOOD + "\n[extras]\nfoo = 1\n"
    assert _problems(tmp_path, text) == [
        f"{_line(text, '[extras]')}:extras: unknown section (expected one of: law, seats, "
        "threshold, votes, limits, majorities)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("size = 500", 'size = "500"',
         "seats.size: '500': expected an integer between 1 and 100000"),
        ("size = 500", "size = 500.0",
         "seats.size: 500.0: expected an integer between 1 and 100000"),
        ("size = 500", "size = true",
         "seats.size: True: expected an integer between 1 and 100000"),
        ("percent = 3", "percent = -1",
         "threshold.percent: -1: expected a number at least 0 and below 100"),
        ("percent = 3", "percent = nan",
         "threshold.percent: nan: expected a number at least 0 and below 100"),
        ('cap_counts = "affiliation"', 'cap_counts = "membership"',
         "limits.cap_counts: 'membership': expected one of 'siglado', 'affiliation'"),
        ("max_seats = 300", "max_seats = true",
         "limits.max_seats: True: expected an integer between 1 and 100000 (or false: no "
         "limit)"),
        ("vve_includes_independents = true", 'vve_includes_independents = "yes"',
         "votes.vve_includes_independents: 'yes': expected true or false"),
        ("year = 2024", "year = 2024-06-02",
         "law.year: datetime.date(2024, 6, 2): expected an integer between 1900 and 2200"),
        ("size = 500", "size = 501", "seats.size: expected district_seats + list_seats = 500, "
         "got 501"),
        ("two_thirds = 334", "two_thirds = 333",
         "majorities.two_thirds: expected 334 (two thirds, rounded up, of 500 seats), got 333"),
        ("seats_per_circunscripcion = 40", "seats_per_circunscripcion = 41",
         "seats.seats_per_circunscripcion: expected list_seats / circunscripciones = 40, "
         "got 41"),
        ("circunscripciones = 5", "circunscripciones = 3",
         "seats.circunscripciones: expected a divisor of list_seats (200): each "
         "circunscripción elects as many list seats, got 3"),
        ("max_seats = 300", "max_seats = 600",
         "limits.max_seats: expected at most the chamber size (500), got 600"),
    ],
)
def test_wrong_types_and_values(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    line = _line(text, new.split(" =")[0] + " =")
    assert _problems(tmp_path, text) == [f"{line}:{message}"]


def test_huge_integers_and_nested_garbage(tmp_path: Path) -> None:
    huge_hex = GOOD.replace("size = 500", "size = 0x" + "f" * 5000, 1)
    (msg,) = _problems(tmp_path, huge_hex)
    assert msg == f"{_line(huge_hex, 'size =')}:seats.size: <integer of about 6021 digits>: " \
        "expected an integer between 1 and 100000"
    huge_dec = GOOD.replace("year = 2024", "year = 1" + "0" * 5000, 1)
    assert _problems(tmp_path, huge_dec) == [
        f"{_line(huge_dec, 'year =')}:-: not valid TOML: an integer has more than 4300 digits"
    ]
    deep = GOOD.replace("size = 500", "size = " + "[" * 3000 + "]" * 3000, 1)
    assert _problems(tmp_path, deep) == [
        "0:-: not valid TOML: arrays or inline tables nested too deeply"
    ]
    nested = GOOD.replace("size = 500", "size = [[1, {a = [{b = 2}]}], 'x', " + "9, " * 40 + "]")
    (msg,) = _problems(tmp_path, nested)
    assert msg.startswith(f"{_line(nested, 'size =')}:seats.size: [[1, {{'a': [{{'b': 2}}]}}]")
    assert msg.endswith("...: expected an integer between 1 and 100000")
    table = "majorities = 3\n" + GOOD.split("[majorities]")[0]
    assert _problems(tmp_path, table) == ["1:majorities: 3: expected a [majorities] table"]


def test_hostile_keys_missing_keys_and_broken_files(tmp_path: Path) -> None:
    text = GOOD.replace("[seats]", '[seats]\n"a\\nb: c" = 1', 1)
    assert _problems(tmp_path, text) == [
        "0:-: 'seats.a\\nb: c': unknown key (expected one of: size, district_seats, list_seats, "
        "circunscripciones, seats_per_circunscripcion, min_district_candidacies)"
    ]
    text = GOOD.replace("min_district_candidacies = 200", "", 1)
    assert _problems(tmp_path, text) == [
        f"{_line(text, '[seats]')}:seats.min_district_candidacies: missing; expected an integer "
        "between 0 and 100000"
    ]
    assert _problems(tmp_path, GOOD.replace('chamber = "deputies"', "")) == [
        f"{_line(GOOD, '[law]')}:law.chamber: missing; expected 'deputies' or 'senate' (which "
        "chamber these rules are for)"
    ]
    assert _problems(tmp_path, "size = \nx = 1\n") == ["1:-: not valid TOML: Invalid value"]
    assert _problems(tmp_path, b"[law]\nchamber = '\xff'\n") == [
        "2:-: not UTF-8 text: save the file as UTF-8"
    ]
    with pytest.raises(InputError, match="rules file not found"):
        load_rules(tmp_path / "absent.toml")


TOML_VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["true", "false", "nan", "inf", "-0.0", "1e400", '"3/100"', "[]", "{}",
                     "2024-06-02", "[1, [2, [3]]]", "{a = {b = 1}}", '"siglado"', "0", "500"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"'),
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_property_any_value_loads_or_gives_one_line_problems(tmp_path_factory, data) -> None:
    lines = GOOD.split("\n")
    keyed = [i for i, ln in enumerate(lines) if " = " in ln and not ln.startswith("#")]
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.sampled_from(keyed))
        key = lines[i].split(" = ")[0]
        lines[i] = f"{key} = {data.draw(TOML_VALUES)}"
    path = tmp_path_factory.mktemp("rules") / "r.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        rules = load_rules(path)
    except InputError as exc:
        assert exc.problems
        for p in exc.problems:
            text = str(p)
            assert text.startswith(f"{path}:") and "\n" not in text and len(text) < 400
    else:
        assert isinstance(rules, ChamberRules)
        assert rules.size == rules.district_seats + rules.list_seats
        assert rules.threshold == Fraction(rules.threshold) and 0 <= rules.threshold < 1


# --------------------------------------------------------------------------------------------
# The command line: --rules, --year and the cap column
# --------------------------------------------------------------------------------------------


def test_rules_and_year_conflict_cleanly(capsys) -> None:
    votes = str(POLLS / "mx2024" / "results" / "deputies_2024_allocate_input.csv")
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", votes,
                          "--year", "2024", "--rules", "mx/deputies-2024")
    assert (code, out) == (2, "")
    assert "error: argument --rules: not allowed with argument --year" in err
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", votes, "--year", "2019")
    assert (code, out) == (2, "") and "argument --year: invalid choice: 2019" in err
    code, out, err = _run(capsys, "--chamber", "senate", "--votes", votes, "--year", "2021")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "forecast seats allocate: error: --year 2021: no senate rules for that year in the rules "
        "library (senate rules for: 2018, 2024)"
    )
    assert "Traceback" not in err


def test_bad_rules_file_is_reported_not_raised(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("size = 500", "size = 5OO"), encoding="utf-8")
    votes = str(POLLS / "mx2024" / "results" / "deputies_2024_allocate_input.csv")
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", votes, "--rules", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"{bad}:") and "not valid TOML" in err and len(err.splitlines()) == 1
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", votes,
                          "--rules", "mx/senate-2024")
    assert (code, out) == (2, "")
    assert err.endswith("law.chamber: these are senate rules; expected deputies rules\n")
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", votes,
                          "--rules", "mx/deputies-2030")
    assert (code, out) == (2, "") and err.startswith("mx/deputies-2030:0:-: no rules named")


CAP_CASES = {
    "missing_cap_column_under_affiliation_rules": (
        "party,votes,district_seats\nA,600,150\nB,400,150\n",
        ["bad.csv:1:cap_district_seats: missing column: the rules (mx/deputies-2024) count "
         "district seats by the winners' party affiliation for the over-representation limits; "
         "give each party's count (an empty cell: same as district_seats)"],
    ),
    "bad_cap_cells": (
        "party,votes,district_seats,cap_district_seats\nA,600,150,x\nB,400,150,301\n"
        "independent,5,0,2\nnull,9,,\n",
        ["bad.csv:2:cap_district_seats: expected a non-negative integer, got 'x'",
         "bad.csv:3:cap_district_seats: expected at most 300, got 301",
         "bad.csv:4:cap_district_seats: expected 0 or empty: the limits count party seats only"],
    ),
    "complete_cap_column_must_count_every_winner": (
        "party,votes,district_seats,cap_district_seats\nA,600,150,170\nB,400,149,120\n"
        "independent,5,1,\n",
        ["bad.csv:0:cap_district_seats: expected the column, with the independents' district "
         "seats, to sum to 300, got 291"],
    ),
}


@pytest.mark.parametrize("case", sorted(CAP_CASES))
def test_cap_column_problems(case: str, capsys, tmp_path, monkeypatch) -> None:
    text, expected = CAP_CASES[case]
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text(text, encoding="utf-8")
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", "bad.csv",
                          "--rules", "mx/deputies-2024")
    assert (code, out) == (2, "")
    assert err.splitlines() == expected


def test_cap_column_blank_cells_mean_the_credited_count(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("in.csv").write_text(
        "party,votes,district_seats,cap_district_seats\nA,400000,150,190\nB,600000,150,\n",
        encoding="utf-8",
    )
    code, out, err = _run(capsys, "--chamber", "deputies", "--votes", "in.csv", "--year", "2024")
    assert (code, err) == (0, "")
    assert out == ("party,votes,district_seats,list_seats,total_seats\n"
                   "A,400000,150,50,200\nB,600000,150,150,300\n")
