"""Chamber of Deputies engine: 2018 ground truth, the rules document's toy example, the open
points of its §7 as decided in docs/seats.md, and properties of the law."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.seats import (
    ChamberRules,
    InfeasibleAllocationError,
    allocate_chamber,
    allocate_chamber_scalar,
    allocate_chamber_table,
    district_seats_from_votes,
    largest_remainder,
    largest_remainder_scalar,
    split_circunscripciones_scalar,
)

RESULTS = Path(__file__).parents[1] / "polls" / "mx2018" / "results"


def read_csv(name: str) -> pd.DataFrame:
    # keep_default_na=False: Nueva Alianza's code "NA" must not become a missing value.
    return pd.read_csv(RESULTS / name, keep_default_na=False)


@pytest.fixture(scope="module")
def official() -> pd.DataFrame:
    df = read_csv("allocation_2018_official.csv")
    return df[df["chamber"] == "deputies"].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# 2018 ground truth (INE/CG1181/2018)
# --------------------------------------------------------------------------------------------


def test_2018_reproduces_official_allocation_seat_for_seat(official: pd.DataFrame) -> None:
    res = allocate_chamber(official["votes_used"], official["mr_seats"])
    assert res.list_seats.tolist() == official["pr_seats"].tolist()
    assert res.total_seats.tolist() == official["total_seats"].tolist()
    assert res.total_seats.sum() == 500 and res.list_seats.sum() == 200
    parties = official["party"].tolist()
    assert [p for p, q in zip(parties, res.qualified, strict=True) if not q] == ["PES", "NA"]
    assert [p for p, c in zip(parties, res.capped, strict=True) if c] == ["PT"]
    limit = dict(zip(parties, res.seat_limit.tolist(), strict=True))
    assert limit["PT"] == 61 and limit["MORENA"] == 246
    assert int(res.vne) == 50_735_234  # §5.1: VNE = the 7 qualifying parties


def test_2018_intermediate_passes_match_rules_document(official: pd.DataFrame) -> None:
    """§5.1: first pass (PT 9 -> over 61), then 197 seats among the six others."""
    votes = official["votes_used"].to_numpy()
    res = allocate_chamber(votes, official["mr_seats"])
    first = largest_remainder(votes, 200, mask=res.qualified)
    assert first.tolist() == [82, 40, 37, 12, 10, 9, 10, 0, 0]
    free = res.qualified & ~res.capped
    assert int(votes[free].sum()) == 48_528_690  # VNEf
    second = largest_remainder(votes, 197, mask=free)
    assert second.tolist() == [85, 41, 38, 12, 11, 0, 10, 0, 0]


def test_2018_alternative_vote_set_gives_same_seats(official: pd.DataFrame) -> None:
    """§5.4 / §7.1: INE's post-ruling figures (Morena 20,972,573, NA 1,391,376) change nothing."""
    votes = official["votes_used"].to_numpy().copy()
    parties = official["party"].tolist()
    votes[parties.index("MORENA")] = 20_972_573
    votes[parties.index("NA")] = 1_391_376
    res = allocate_chamber(votes, official["mr_seats"])
    assert res.list_seats.tolist() == official["pr_seats"].tolist()


def test_2018_allocate_input_file_through_table_wrapper(official: pd.DataFrame) -> None:
    table = read_csv("deputies_2018_allocate_input.csv")
    special = table["party"].str.lower().isin(["independent", "unregistered", "null"])
    ind = int(table.loc[table["party"] == "independent", "votes"].sum())
    out = allocate_chamber_table(table[~special], independent_votes=ind)
    assert list(out.columns) == ["party", "votes", "district_seats", "list_seats", "total_seats"]
    assert out["party"].tolist() == official["party"].tolist()
    assert out["list_seats"].tolist() == official["pr_seats"].tolist()
    assert out["total_seats"].tolist() == official["total_seats"].tolist()
    assert out.attrs["capped"] == ["PT"]


def test_2018_district_winners_from_casilla_votes() -> None:
    """Winner per district from candidacy totals (party + combination ballots where the
    coalition ran): JHH 211, PxMaF 62, TxM 13, Morena 8, PAN 5, PRI 1 (results README)."""
    d = read_csv("deputies_district_2018.csv")
    coalitions = {
        "pan-prd-mc": ("pan", "prd", "mc"),
        "pri-pvem-na": ("pri", "pvem", "na"),
        "pt-morena-pes": ("pt", "morena", "pes"),
    }
    labels = [*coalitions, "pan", "pri", "prd", "pvem", "pt", "mc", "na", "morena", "pes"]
    labels += ["indep1", "indep2"]
    votes = np.zeros((len(d), len(labels)), dtype=np.int64)
    for j, label in enumerate(labels):
        if label in coalitions:
            ran = d[label.replace("-", "_") + "_ran"].to_numpy() == 1
            bloc = d["bloc_" + label.replace("-", "_")].to_numpy()
            votes[:, j] = np.where(ran, bloc, 0)
        else:
            votes[:, j] = d[label].to_numpy()
            for coal, members in coalitions.items():
                if label in members:  # a member runs alone only where its coalition did not
                    ran = d[coal.replace("-", "_") + "_ran"].to_numpy() == 1
                    votes[:, j] = np.where(ran, 0, votes[:, j])
    # Credit each candidacy to itself (label index) to count winners by candidacy.
    siglado = np.broadcast_to(np.arange(len(labels)), votes.shape)
    won = dict(zip(labels, district_seats_from_votes(votes, siglado, len(labels)), strict=True))
    assert {k: int(v) for k, v in won.items() if v} == {
        "pt-morena-pes": 211,
        "pan-prd-mc": 62,
        "pri-pvem-na": 13,
        "morena": 8,
        "pan": 5,
        "pri": 1,
    }
    winner = np.array(labels)[votes.argmax(axis=1)]
    assert (winner == d["winner_from_votes"].to_numpy()).all()


# --------------------------------------------------------------------------------------------
# Rules document §2.7: toy worked example (20 seats = 10 MR + 10 PR, 2 circunscripciones)
# --------------------------------------------------------------------------------------------

TOY_RULES = ChamberRules(
    size=20, district_seats=10, list_seats=10, max_seats=None, circunscripciones=2
)
TOY_VOTES = [5000, 3000, 1800, 200]
TOY_MR = [8, 2, 0, 0]
TOY_CIRC = [[3000, 2000], [1000, 2000], [1200, 600], [100, 100]]


def test_toy_example_exactly() -> None:
    res = allocate_chamber(
        TOY_VOTES,
        TOY_MR,
        independent_votes=100,
        null_votes=300,
        circunscripcion_votes=TOY_CIRC,
        rules=TOY_RULES,
    )
    assert int(res.vve) == 10_100 and int(res.vne) == 9_800
    assert res.qualified.tolist() == [True, True, True, False]  # D: 1.98 % < 3 %
    assert largest_remainder(TOY_VOTES, 10, mask=res.qualified).tolist() == [5, 3, 2, 0]
    assert res.seat_limit.tolist() == [11, 7, 5, 0]
    assert res.capped.tolist() == [True, False, False, False]
    assert largest_remainder(TOY_VOTES, 7, mask=[False, True, True, False]).tolist() == [
        0,
        4,
        3,
        0,
    ]
    assert res.list_seats.tolist() == [3, 4, 3, 0]
    assert res.total_seats.tolist() == [11, 6, 3, 0]
    assert res.circunscripcion_seats.tolist() == [[2, 1], [1, 3], [2, 1], [0, 0]]


def test_toy_example_scalar_reference() -> None:
    ref = allocate_chamber_scalar(
        TOY_VOTES, TOY_MR, independent_votes=100, circunscripcion_votes=TOY_CIRC, rules=TOY_RULES
    )
    assert ref["list_seats"] == [3, 4, 3, 0]
    assert ref["circunscripcion_seats"] == [[2, 1], [1, 3], [2, 1], [0, 0]]


# --------------------------------------------------------------------------------------------
# §7 open points, as decided in docs/seats.md
# --------------------------------------------------------------------------------------------


def test_7_2_null_and_nonregistered_votes_change_nothing(official: pd.DataFrame) -> None:
    base = allocate_chamber(official["votes_used"], official["mr_seats"])
    more = allocate_chamber(
        official["votes_used"],
        official["mr_seats"],
        null_votes=5_000_000,
        nonregistered_votes=900_000,
    )
    assert (base.list_seats == more.list_seats).all()
    assert base.vve == more.vve and base.vne == more.vne


def test_7_2_vne_is_the_sum_of_qualifying_parties() -> None:
    res = allocate_chamber([600, 300, 25, 75], [0, 0, 0, 0], independent_votes=40)
    assert res.qualified.tolist() == [True, True, False, True]
    assert int(res.vne) == 975
    assert int(res.vve) == 1040


def test_7_3_threshold_base_is_vve_with_independents() -> None:
    # 300 of 10,000 party votes is exactly 3 %: qualifies.
    assert allocate_chamber([9700, 300], [0, 0]).qualified.tolist() == [True, True]
    # Independents are in the VVE: 300 / 10,100 < 3 %.
    res = allocate_chamber([9700, 300], [0, 0], independent_votes=100)
    assert res.qualified.tolist() == [True, False]
    # Null and non-registered votes are not: the VTE reading would exclude the party here.
    res = allocate_chamber([9700, 300], [0, 0], null_votes=1000, nonregistered_votes=10)
    assert res.qualified.tolist() == [True, True]


def test_7_4_exact_threshold_boundary() -> None:
    assert allocate_chamber([97_000, 3_000], [0, 0]).qualified.tolist() == [True, True]
    assert allocate_chamber([97_001, 2_999], [0, 0]).qualified.tolist() == [True, False]


def test_7_4_limit_uses_exact_share_never_a_rounded_one() -> None:
    # Share 4.3999 % -> 500 * 12.3999 % = 61.9995 -> 61.  Rounded to 4 decimals (4.40 %) it
    # would be exactly 62.
    res = allocate_chamber([43_999, 956_001], [0, 0])
    assert res.seat_limit.tolist()[0] == 61
    # Share exactly 4.4 % -> 62.0 -> 62 (an integer product is not truncated further).
    res = allocate_chamber([44_000, 956_000], [0, 0])
    assert res.seat_limit.tolist()[0] == 62


def test_7_5_ties_go_to_more_votes_then_column_order() -> None:
    # Quota 10: remainders 5 and 5; the party with more votes takes the last seat.
    assert largest_remainder([25, 5], 3).tolist() == [3, 0]
    assert largest_remainder([5, 25], 3).tolist() == [0, 3]
    # Identical parties: column order.
    assert largest_remainder([5, 5], 1).tolist() == [1, 0]
    assert largest_remainder_scalar([5, 25], 3) == [0, 3]
    assert largest_remainder_scalar([5, 5], 1) == [1, 0]


def test_7_6_second_round_cap() -> None:
    """X is over in the first pass; the re-run pushes Y over its limit, so Y is capped too."""
    votes = [300_000, 300_000, 400_000]
    mr = [190, 108, 2]
    res = allocate_chamber(votes, mr)
    # First pass 60/60/80: X 250 > 190 (Y 168 and C 82 are fine).
    assert largest_remainder(votes, 200).tolist() == [60, 60, 80]
    assert res.seat_limit.tolist() == [190, 190, 240]
    # Re-run of 200 among Y and C gives Y 86 -> 194 > 190: Y capped at 82; C takes 118.
    assert res.capped.tolist() == [True, True, False]
    assert res.list_seats.tolist() == [0, 82, 118]
    assert res.total_seats.tolist() == [190, 190, 120]
    assert allocate_chamber_scalar(votes, mr)["list_seats"] == [0, 82, 118]


def test_7_6_simultaneous_caps_in_one_round() -> None:
    res = allocate_chamber([300_000, 300_000, 400_000], [150, 140, 10])
    assert res.capped.tolist() == [True, True, False]
    assert res.list_seats.tolist() == [40, 50, 110]
    assert res.total_seats.tolist() == [190, 190, 120]


def test_7_6_district_seats_alone_over_the_limit_are_kept() -> None:
    # Share 30 % -> limit 190; 200 district seats are kept, with no list seats.
    res = allocate_chamber([300_000, 700_000], [200, 100])
    assert res.capped.tolist() == [True, False]
    assert res.list_seats.tolist() == [0, 200]
    assert res.total_seats.tolist() == [200, 300]


def test_7_6_absolute_300_cap() -> None:
    # 60 %: +8 limit 340, so the 300 cap binds: 280 + 20.
    res = allocate_chamber([600_000, 400_000], [280, 20])
    assert res.seat_limit.tolist() == [300, 240]
    assert res.list_seats.tolist() == [20, 180]
    assert res.total_seats.tolist() == [300, 200]


def test_7_6_every_qualifying_party_capped_is_infeasible() -> None:
    # B is exactly at 3 %; both parties hit their limits and 145 list seats have no taker.
    with pytest.raises(InfeasibleAllocationError, match="capped"):
        allocate_chamber([970, 30], [290, 10])
    with pytest.raises(InfeasibleAllocationError):
        allocate_chamber_scalar([970, 30], [290, 10])
    with pytest.raises(InfeasibleAllocationError, match=r"draw\(s\) \[1\]"):
        allocate_chamber([[600, 400], [970, 30]], [[100, 100], [290, 10]])


def test_7_7_circunscripcion_adjustment_when_the_plain_procedure_is_inconsistent() -> None:
    """2 circunscripciones x 3 seats, no capped party.  National: A 2, B 1, C 3.

    Circ 1 (VEC 48, quotient 16): A 1.31, B 0.94, C 0.75 -> A 1, B 1, C 1.
    Circ 2 (VEC 33, quotient 11): A 0.09, B 0.45, C 2.45 -> C 2, and the remainder tie
    B 5/11 vs C 5/11 goes to C (more votes) -> C 3.  C would get 4 > 3 and A 1 < 2.
    Ordered claims: C2 2.45, C2 1.45, A1 1.31, B1 0.94, C1 0.75 (C and circ 1 now full),
    C2 0.45 and B2 0.45 refused (C, B full), A1 0.31 refused (circ 1 full), A2 0.09 granted.
    """
    rules = ChamberRules(
        size=6, district_seats=0, list_seats=6, max_seats=None, circunscripciones=2
    )
    circ = [[21, 1], [15, 5], [12, 27]]
    votes = [22, 20, 39]
    res = allocate_chamber(votes, [0, 0, 0], circunscripcion_votes=circ, rules=rules)
    assert res.list_seats.tolist() == [2, 1, 3]
    plain = largest_remainder(np.array(circ).T, 3).T
    assert plain.sum(axis=1).tolist() == [1, 1, 4]  # the statute's pass alone is inconsistent
    assert res.circunscripcion_seats.tolist() == [[1, 1], [1, 0], [1, 2]]
    ref = split_circunscripciones_scalar(circ, [2, 1, 3], [False] * 3, [True] * 3, seats_per_circ=3)
    assert ref == [[1, 1], [1, 0], [1, 2]]


def test_7_8_district_seats_are_credited_by_siglado() -> None:
    # One district, candidacies: coalition (Morena+PT) and PAN.  Morena's voters carry the
    # coalition, but the agreement names PT for this district: the seat is PT's.
    parties = ["MORENA", "PT", "PAN"]
    votes = [[60_000, 40_000]]  # coalition candidacy total, PAN
    siglado = [[parties.index("PT"), parties.index("PAN")]]
    assert district_seats_from_votes(votes, siglado, 3).tolist() == [0, 1, 0]


def test_7_9_combination_ballots_count_for_the_candidacy() -> None:
    # X+Y alone: 30,000 + 15,000 < Z 50,000; with 6,000 ballots marked X and Y: 51,000 wins.
    votes = np.array([[30_000 + 15_000 + 6_000, 50_000]])
    siglado = [[0, 2]]
    assert district_seats_from_votes(votes, siglado, 3).tolist() == [1, 0, 0]


def test_district_seats_from_votes_draws_independents_and_ties() -> None:
    votes = np.array(
        [
            [[10, 20, 5], [7, 7, 1]],  # draw 0: district 0 -> cand 1; district 1 tie -> cand 0
            [[30, 20, 50], [1, 2, 3]],  # draw 1: independents (cand 2) win both
        ]
    )
    siglado = [[0, 1, -1], [1, 0, -1]]
    out = district_seats_from_votes(votes, siglado, 2)
    assert out.tolist() == [[0, 2], [0, 0]]


def test_200_district_requirement_excludes_party_and_its_votes() -> None:
    res = allocate_chamber([500, 300, 200], [0, 0, 0], eligible=[True, True, False])
    assert res.qualified.tolist() == [True, True, False]
    assert int(res.vne) == 800
    assert res.list_seats.tolist() == [125, 75, 0]


def test_7_12_defaults_are_the_2014_2019_text() -> None:
    r = ChamberRules()
    assert (r.size, r.district_seats, r.list_seats, r.max_seats) == (500, 300, 200, 300)
    assert r.threshold == pytest.approx(0.03) and str(r.threshold) == "3/100"
    assert str(r.overrepresentation_points) == "2/25"
    assert (r.circunscripciones, r.seats_per_circunscripcion) == (5, 40)
    assert r.min_district_candidacies == 200


def test_rules_accept_decimal_floats_exactly() -> None:
    assert ChamberRules(threshold=0.03).threshold == ChamberRules().threshold


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"votes": [1.5, 2], "district_seats": [0, 0]}, ValueError),
        ({"votes": [-1, 2], "district_seats": [0, 0]}, ValueError),
        ({"votes": ["a", "b"], "district_seats": [0, 0]}, TypeError),
        ({"votes": [1, 2], "district_seats": [200, 101]}, ValueError),
    ],
)
def test_bad_inputs_are_refused(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        allocate_chamber(**kwargs)


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        ChamberRules(size=499)
    with pytest.raises(ValueError):
        ChamberRules(circunscripciones=3)


def test_vectorised_shapes_and_whole_float_votes(official: pd.DataFrame) -> None:
    votes = np.tile(official["votes_used"].to_numpy(dtype=float), (3, 1))
    res = allocate_chamber(votes, official["mr_seats"].to_numpy())
    assert res.list_seats.shape == (3, 9) and res.vne.shape == (3,)
    assert (res.list_seats == official["pr_seats"].to_numpy()).all()


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@st.composite
def chamber_cases(draw: st.DrawFn, max_parties: int = 7) -> dict:
    """A national result: party votes, district seats (some possibly independent), extras."""
    n = draw(st.integers(2, max_parties))
    votes = draw(st.lists(st.integers(0, 5_000_000), min_size=n, max_size=n))
    # Cut 0..300 into n+1 pieces; the last piece is seats won by independents.
    cuts = sorted(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)))
    pieces = np.diff([0, *cuts, 300])
    ind_seats = draw(st.sampled_from([0, 0, 0, int(pieces[-1])]))
    mr = pieces[:-1].tolist()
    mr[0] += int(pieces[-1]) - ind_seats
    eligible = None
    if draw(st.booleans()):
        eligible = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        eligible[0] = True  # at least one party may present lists
    return {
        "votes": votes,
        "mr": mr,
        "independent_votes": draw(st.integers(0, 500_000)),
        "eligible": eligible,
    }


def _run(case: dict):
    try:
        return allocate_chamber(
            case["votes"],
            case["mr"],
            independent_votes=case["independent_votes"],
            eligible=case["eligible"],
        )
    except InfeasibleAllocationError:
        # Only when the reference agrees there is no lawful allocation.
        with pytest.raises(InfeasibleAllocationError):
            allocate_chamber_scalar(
                case["votes"],
                case["mr"],
                independent_votes=case["independent_votes"],
                eligible=case["eligible"],
            )
        return None


@settings(max_examples=200, deadline=None)
@given(chamber_cases())
def test_property_totals_and_limits(case: dict) -> None:
    res = _run(case)
    if res is None:
        return
    independents = 300 - sum(case["mr"])
    assert res.list_seats.sum() == 200
    assert res.total_seats.sum() + independents == 500
    assert (res.total_seats <= 300).all()
    # +8 / 300 limits: a party with list seats is within its limit; above it only on district
    # seats alone (the exception), and then with no list seats.
    assert (res.total_seats[res.list_seats > 0] <= res.seat_limit[res.list_seats > 0]).all()
    over = res.total_seats > res.seat_limit
    assert (res.list_seats[over & res.qualified] == 0).all()
    assert (res.total_seats <= np.maximum(res.seat_limit, res.district_seats)).all()
    # A capped party gets exactly what its limit leaves; unqualified parties get nothing.
    capped = res.capped
    expected = np.maximum(0, res.seat_limit - res.district_seats)
    assert (res.list_seats[capped] == expected[capped]).all()
    assert (res.list_seats[~res.qualified] == 0).all()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(chamber_cases(max_parties=5), min_size=1, max_size=4).filter(
        lambda cs: len({len(c["votes"]) for c in cs}) == 1
    )
)
def test_property_vectorised_equals_scalar(cases: list[dict]) -> None:
    refs = []
    n = len(cases[0]["votes"])
    elig = [c["eligible"] or [True] * n for c in cases]
    for c, e in zip(cases, elig, strict=True):
        try:
            refs.append(
                allocate_chamber_scalar(
                    c["votes"], c["mr"], independent_votes=c["independent_votes"], eligible=e
                )
            )
        except InfeasibleAllocationError:
            refs.append(None)
    votes = np.array([c["votes"] for c in cases])
    mr = np.array([c["mr"] for c in cases])
    ind = np.array([c["independent_votes"] for c in cases])
    if any(r is None for r in refs):
        with pytest.raises(InfeasibleAllocationError):
            allocate_chamber(votes, mr, independent_votes=ind, eligible=elig)
        return
    res = allocate_chamber(votes, mr, independent_votes=ind, eligible=elig)
    for i, ref in enumerate(refs):
        assert res.list_seats[i].tolist() == ref["list_seats"]
        assert res.capped[i].tolist() == ref["capped"]
        assert res.seat_limit[i].tolist() == ref["seat_limit"]
        assert res.qualified[i].tolist() == ref["qualified"]
        assert int(res.vne[i]) == ref["vne"] and int(res.vve[i]) == ref["vve"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=8),
    st.integers(0, 40),
    st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_property_largest_remainder_vectorised_equals_scalar(
    votes: list[int], seats: int, mask: list[bool]
) -> None:
    mask = mask[: len(votes)]
    if seats and not any(v and m for v, m in zip(votes, mask, strict=True)):
        with pytest.raises(InfeasibleAllocationError):
            largest_remainder(votes, seats, mask=mask)
        return
    got = largest_remainder(votes, seats, mask=mask).tolist()
    assert got == largest_remainder_scalar(votes, seats, mask=mask)
    assert sum(got) == seats
    # Hare-quota property: every party within one seat of its exact quota.
    total = sum(v for v, m in zip(votes, mask, strict=True) if m)
    for v, m, s in zip(votes, mask, got, strict=True):
        if m and total:
            assert abs(s * total - v * seats) < total


@settings(max_examples=200, deadline=None)
@given(chamber_cases(), st.integers(1, 2_000_000))
def test_property_monotone_in_own_votes_when_no_other_party_changes_status(
    case: dict, extra: int
) -> None:
    """docs/seats.md, "Monotonicity": raising party 0's votes (all else fixed) never lowers
    its seats when (a) no other party crosses the threshold and (b) no other party is capped,
    before or after.  Counterexamples without (a) or (b) are in the next tests."""
    case = {**case, "eligible": None}
    before = _run(case)
    more = {**case, "votes": [case["votes"][0] + extra, *case["votes"][1:]]}
    after = _run(more)
    if before is None or after is None:
        return
    same_status = (before.qualified[1:] == after.qualified[1:]).all()
    no_other_cap = not before.capped[1:].any() and not after.capped[1:].any()
    if same_status and no_other_cap:
        assert after.total_seats[0] >= before.total_seats[0]
        assert after.list_seats[0] >= before.list_seats[0]


def test_monotonicity_fails_when_another_partys_cap_lifts() -> None:
    """Why condition (b) is needed: party 0 gains votes, party 2's share falls, it is no
    longer over its limit, keeps the seat it was made to give up, and party 0 loses one."""
    before = allocate_chamber([622, 44, 366], [4, 1, 5], rules=TOY_RULES)
    after = allocate_chamber([669, 44, 366], [4, 1, 5], rules=TOY_RULES)
    assert before.capped.tolist() == [False, False, True]
    assert after.capped.tolist() == [False, False, False]
    assert (before.total_seats[0], after.total_seats[0]) == (11, 10)


def test_monotonicity_fails_when_another_party_drops_below_threshold() -> None:
    """Why condition (a) is needed (same arithmetic as the Senate example): party 1 falls
    under 3 % of the larger VVE and the re-based quota moves a remainder seat to party 2."""
    rules = ChamberRules(
        size=32,
        district_seats=0,
        list_seats=32,
        max_seats=None,
        overrepresentation_points=None,
        circunscripciones=1,
    )
    before = allocate_chamber([6784, 2586, 54126, 22684], [0] * 4, rules=rules)
    after = allocate_chamber([6954, 2586, 54126, 22684], [0] * 4, rules=rules)
    assert before.qualified.tolist() == [True, True, True, True]
    assert after.qualified.tolist() == [True, False, True, True]
    assert (before.list_seats[0], after.list_seats[0]) == (3, 2)


@st.composite
def circ_cases(draw: st.DrawFn) -> dict:
    n = draw(st.integers(2, 5))
    k = draw(st.integers(1, 5))
    per = draw(st.integers(1, 6))
    district = draw(st.integers(0, 3 * k * per))
    circ = draw(
        st.lists(st.lists(st.integers(0, 1_000), min_size=k, max_size=k), min_size=n, max_size=n)
    )
    cuts = sorted(draw(st.lists(st.integers(0, district), min_size=n - 1, max_size=n - 1)))
    mr = np.diff([0, *cuts, district]).tolist()
    rules = ChamberRules(
        size=district + k * per,
        district_seats=district,
        list_seats=k * per,
        max_seats=None,
        circunscripciones=k,
    )
    return {"circ": circ, "mr": mr, "rules": rules}


@settings(max_examples=200, deadline=None)
@given(st.lists(circ_cases(), min_size=1, max_size=3))
def test_property_circunscripcion_split(cases: list[dict]) -> None:
    for case in cases:
        circ, rules = case["circ"], case["rules"]
        votes = [sum(row) for row in circ]
        try:
            ref = allocate_chamber_scalar(
                votes, case["mr"], circunscripcion_votes=circ, rules=rules
            )
        except InfeasibleAllocationError:
            with pytest.raises(InfeasibleAllocationError):
                allocate_chamber(votes, case["mr"], circunscripcion_votes=circ, rules=rules)
            continue
        res = allocate_chamber(votes, case["mr"], circunscripcion_votes=circ, rules=rules)
        split = res.circunscripcion_seats
        assert split.tolist() == ref["circunscripcion_seats"]
        assert split.sum(axis=1).tolist() == res.list_seats.tolist()
        assert (split.sum(axis=0) == rules.seats_per_circunscripcion).all()
        assert (split[~res.qualified] == 0).all()
