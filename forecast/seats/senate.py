"""Senate: 64 plurality + 32 first-minority + 32 national-list seats (CPEUM 56, LGIPE 21).

The numbers of the law are a :class:`SenateRules`, read from a rules file per election year
(``polls/rules/mx/senate-<year>.toml``, :func:`forecast.seats.law.load_rules`); the defaults in
code are the 2018 law, which the 2024 election applied unchanged.

In each of the 32 entities the list (candidacy) with the most votes takes both of its formulas'
seats and the list that came second takes one seat for its first formula (first minority).
The 32 list seats go to the parties with at least 3 % of the votación válida emitida, by
cociente natural and resto mayor over the votación nacional emitida.  There is no 300-style or
+8-point cap and no circunscripción split.

:func:`allocate_senate` takes per-party plurality and first-minority seats already decided;
:func:`senate_state_seats` decides them from per-state candidacy votes and the siglado.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast.seats.apportion import (
    InfeasibleAllocationError,
    as_counts,
    count_by_party,
    in_draws,
    largest_remainder,
    largest_remainder_scalar,
    per_draw_counts,
    require_columns,
    to_fraction,
)
from forecast.seats.chamber import majorities

__all__ = [
    "SenateAllocation",
    "SenateRules",
    "allocate_senate",
    "allocate_senate_scalar",
    "allocate_senate_table",
    "senate_state_seats",
    "senate_state_seats_table",
]


@dataclass(frozen=True)
class SenateRules:
    """Numbers of the Senate law; defaults are the 2014-2019 constitutional text (2018).

    Parameters
    ----------
    states : int
        Entities electing senators (32, Ciudad de México included).
    plurality_per_state : int
        Seats of the list with most votes in an entity (2).
    first_minority_per_state : int
        Seats of the runner-up list (1).
    list_seats : int
        National list seats (32).
    threshold : Fraction
        Minimum share of the votación válida emitida for list seats (3/100).
    vve_includes_independents : bool
        Votes for independent candidates are part of the votación válida emitida.
    source, year : str, int or None
        Where the rules were read from, and the election year; not compared.

    The defaults are a documented fallback equal to ``polls/rules/mx/senate-2018.toml`` (a test
    checks that they agree).
    """

    states: int = 32
    plurality_per_state: int = 2
    first_minority_per_state: int = 1
    list_seats: int = 32
    threshold: Fraction = Fraction(3, 100)
    vve_includes_independents: bool = True
    source: str = field(default="built-in defaults (the 2018 law)", compare=False)
    year: int | None = field(default=2018, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", to_fraction(self.threshold, "threshold"))
        if not 0 <= self.threshold < 1:
            raise ValueError("threshold must be in [0, 1)")
        if min(self.states, self.plurality_per_state, self.first_minority_per_state) < 0:
            raise ValueError("seat numbers must be non-negative")
        if self.list_seats < 0:
            raise ValueError("seat numbers must be non-negative")

    @property
    def plurality_seats(self) -> int:
        """Plurality (MR) seats in the chamber (64)."""
        return self.states * self.plurality_per_state

    @property
    def first_minority_seats(self) -> int:
        """First-minority seats in the chamber (32)."""
        return self.states * self.first_minority_per_state

    @property
    def size(self) -> int:
        """Seats in the chamber (128)."""
        return self.plurality_seats + self.first_minority_seats + self.list_seats

    @property
    def majority(self) -> int:
        """Seats for an absolute majority of the full chamber (65 of 128)."""
        return majorities(self.size)[0]

    @property
    def two_thirds(self) -> int:
        """Seats for two thirds of the full chamber, rounded up (86 of 128): CPEUM 135."""
        return majorities(self.size)[1]


@dataclass(frozen=True)
class SenateAllocation:
    """Result of :func:`allocate_senate`; arrays have the shape of the ``votes`` input.

    Attributes
    ----------
    plurality_seats, first_minority_seats, list_seats, total_seats : numpy.ndarray of int64
        Seats per party, (..., parties).  Seats held by independents are in nobody's count.
    qualified : numpy.ndarray of bool
        Party reached the threshold (takes part in the list allocation).
    vve, vne : numpy.ndarray of int64, (...)
        Votación válida emitida (threshold base) and votación nacional emitida (quota base).
    """

    plurality_seats: NDArray[np.int64]
    first_minority_seats: NDArray[np.int64]
    list_seats: NDArray[np.int64]
    total_seats: NDArray[np.int64]
    qualified: NDArray[np.bool_]
    vve: NDArray[np.int64]
    vne: NDArray[np.int64]


def allocate_senate(
    votes: ArrayLike,
    plurality_seats: ArrayLike,
    first_minority_seats: ArrayLike,
    *,
    independent_votes: ArrayLike = 0,
    null_votes: ArrayLike = 0,
    nonregistered_votes: ArrayLike = 0,
    rules: SenateRules | None = None,
) -> SenateAllocation:
    """Allocate the Senate's national list seats and return every party's seats.

    Parameters
    ----------
    votes : array_like of int, (draws, parties) or (parties,)
        National-list votes per party (combination ballots already split among parties).
    plurality_seats, first_minority_seats : array_like of int, broadcastable to ``votes``
        Seats per party by siglado; may sum to less than 64 / 32 when independents win.
    independent_votes : int or array_like (draws,)
        Inside the VVE (threshold base), outside the VNE.
    null_votes, nonregistered_votes : int or array_like (draws,)
        Outside both; accepted for completeness, they never change the result.
    rules : SenateRules, optional

    Returns
    -------
    SenateAllocation

    Raises
    ------
    InfeasibleAllocationError
        If in some draw no party reaches the threshold.
    """
    rules = SenateRules() if rules is None else rules
    v = as_counts(votes, "votes")
    one = v.ndim == 1
    if v.ndim not in (1, 2):
        raise ValueError("votes: expected shape (parties,) or (draws, parties)")
    v = np.atleast_2d(v)
    mr = np.broadcast_to(as_counts(plurality_seats, "plurality_seats"), v.shape).copy()
    pm = np.broadcast_to(as_counts(first_minority_seats, "first_minority_seats"), v.shape).copy()
    if np.any(mr.sum(axis=-1) > rules.plurality_seats):
        raise ValueError(f"plurality_seats sum to more than {rules.plurality_seats}")
    if np.any(pm.sum(axis=-1) > rules.first_minority_seats):
        raise ValueError(f"first_minority_seats sum to more than {rules.first_minority_seats}")
    n_draws = v.shape[0]
    ind = per_draw_counts(independent_votes, n_draws, "independent_votes")
    per_draw_counts(null_votes, n_draws, "null_votes")
    per_draw_counts(nonregistered_votes, n_draws, "nonregistered_votes")

    vve = v.sum(axis=-1) + (ind if rules.vve_includes_independents else 0)
    thr = rules.threshold
    qualified = (v > 0) & (v * thr.denominator >= thr.numerator * vve[:, None])
    vne = np.where(qualified, v, 0).sum(axis=-1)
    none = np.flatnonzero((vne == 0) & (rules.list_seats > 0))
    if none.size:
        raise InfeasibleAllocationError("no party qualifies for list seats" + in_draws(none, one))
    pr = largest_remainder(v, rules.list_seats, mask=qualified)
    result = SenateAllocation(
        plurality_seats=mr,
        first_minority_seats=pm,
        list_seats=pr,
        total_seats=mr + pm + pr,
        qualified=qualified,
        vve=vve,
        vne=vne,
    )
    if one:
        result = SenateAllocation(**{k: x[0] for k, x in result.__dict__.items()})
    return result


def allocate_senate_scalar(
    votes: Sequence[int],
    plurality_seats: Sequence[int],
    first_minority_seats: Sequence[int],
    *,
    independent_votes: int = 0,
    rules: SenateRules | None = None,
) -> dict[str, list]:
    """Reference (one-result, ``Fraction``) version of :func:`allocate_senate`."""
    rules = SenateRules() if rules is None else rules
    vve = sum(votes) + (independent_votes if rules.vve_includes_independents else 0)
    qualified = [x > 0 and Fraction(x, vve) >= rules.threshold for x in votes]
    if not any(qualified) and rules.list_seats > 0:
        raise InfeasibleAllocationError("no party qualifies for list seats")
    pr = largest_remainder_scalar(votes, rules.list_seats, mask=qualified)
    return {
        "list_seats": pr,
        "total_seats": [
            a + b + c for a, b, c in zip(plurality_seats, first_minority_seats, pr, strict=True)
        ],
        "qualified": qualified,
        "vve": vve,
        "vne": sum(x for x, q in zip(votes, qualified, strict=True) if q),
    }


def allocate_senate_table(
    table: pd.DataFrame,
    *,
    independent_votes: int = 0,
    null_votes: int = 0,
    nonregistered_votes: int = 0,
    rules: SenateRules | None = None,
) -> pd.DataFrame:
    """Allocate one result given as a table.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``party``, ``votes``, ``plurality_seats``, ``first_minority_seats``.
    independent_votes, null_votes, nonregistered_votes : int
        As in :func:`allocate_senate`.
    rules : SenateRules, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``party, votes, plurality_seats, first_minority_seats, list_seats,
        total_seats`` in input order; ``attrs`` holds ``vve`` and ``vne``.
    """
    require_columns(table, ("party", "votes", "plurality_seats", "first_minority_seats"))
    votes = as_counts(table["votes"].to_numpy(), "votes")
    res = allocate_senate(
        votes,
        table["plurality_seats"].to_numpy(),
        table["first_minority_seats"].to_numpy(),
        independent_votes=independent_votes,
        null_votes=null_votes,
        nonregistered_votes=nonregistered_votes,
        rules=rules,
    )
    out = pd.DataFrame(
        {
            "party": table["party"].to_numpy(),
            "votes": votes,
            "plurality_seats": res.plurality_seats,
            "first_minority_seats": res.first_minority_seats,
            "list_seats": res.list_seats,
            "total_seats": res.total_seats,
        }
    )
    out.attrs.update(vve=int(res.vve), vne=int(res.vne))
    return out


def senate_state_seats(
    candidacy_votes: ArrayLike,
    formula_parties: ArrayLike,
    n_parties: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Plurality and first-minority seats per party from per-state candidacy votes.

    Candidacies, not parties, compete (§3.1, §7.10): a coalition's list is one competitor with
    its parties' votes plus the ballots marked for several of them.  The winning list's two
    formulas each take a seat for the party named for that formula in the coalition agreement
    (siglado); the runner-up's first formula takes the first-minority seat for its party.

    Parameters
    ----------
    candidacy_votes : array_like of int, (draws, states, candidacies) or (states, candidacies)
        0 for a candidacy that did not run in a state.
    formula_parties : array_like of int, (states, candidacies, 2)
        Party index credited with formula 1 and formula 2 of each candidacy; -1 for an
        independent (the seat counts for nobody).
    n_parties : int
        Length of the party axis of the result.

    Returns
    -------
    plurality_seats, first_minority_seats : numpy.ndarray of int64, (draws, parties)
        Or ``(parties,)`` for 2-D input.

    Notes
    -----
    Ties go to the candidacy that comes first (the law orders a new election; a simulation
    needs an answer).
    """
    cv = as_counts(candidacy_votes, "candidacy_votes")
    one = cv.ndim == 2
    cv = cv[None] if one else cv
    fp = np.asarray(formula_parties, dtype=np.int64)
    if fp.shape != (*cv.shape[1:], 2):
        raise ValueError("formula_parties must have shape (states, candidacies, 2)")
    if cv.shape[-1] < 2:
        raise ValueError("need at least two candidacies per state")
    if np.any((fp < -1) | (fp >= n_parties)):
        raise ValueError("formula_parties: party index out of range")
    first = cv.argmax(axis=-1)  # first maximum: ties go to the first candidacy
    rest = cv.copy()
    np.put_along_axis(rest, first[..., None], -1, axis=-1)
    second = rest.argmax(axis=-1)
    fp_b = np.broadcast_to(fp, (*cv.shape, 2))
    win = np.take_along_axis(fp_b, first[..., None, None], axis=-2)[..., 0, :]
    run = np.take_along_axis(fp_b, second[..., None, None], axis=-2)[..., 0, 0]
    n_draws = cv.shape[0]
    plurality = count_by_party(win.reshape(n_draws, -1), n_parties)
    minority = count_by_party(run.reshape(n_draws, -1), n_parties)
    return (plurality[0], minority[0]) if one else (plurality, minority)


def senate_state_seats_table(table: pd.DataFrame) -> pd.DataFrame:
    """Plurality and first-minority seats per party from a long table of state results.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per state and candidacy with columns ``state``, ``candidacy``, ``votes``,
        ``formula1_party``, ``formula2_party`` (party credited with each formula by siglado;
        empty / NaN for an independent).

    Returns
    -------
    pandas.DataFrame
        Columns ``party, plurality_seats, first_minority_seats``, one row per party named in
        the formula columns, in order of first appearance.
    """
    require_columns(table, ("state", "candidacy", "votes", "formula1_party", "formula2_party"))
    if table.duplicated(["state", "candidacy"]).any():
        raise ValueError("duplicate (state, candidacy) rows")
    names = pd.unique(
        pd.concat([table["formula1_party"], table["formula2_party"]]).dropna().astype(str)
    )
    code = {p: i for i, p in enumerate(names)}
    states = pd.unique(table["state"])
    cands = pd.unique(table["candidacy"])
    s_idx = pd.Index(states).get_indexer(table["state"])
    c_idx = pd.Index(cands).get_indexer(table["candidacy"])
    votes = np.zeros((len(states), len(cands)), dtype=np.int64)
    votes[s_idx, c_idx] = as_counts(table["votes"].to_numpy(), "votes")
    fp = np.full((len(states), len(cands), 2), -1, dtype=np.int64)
    for j, col in enumerate(("formula1_party", "formula2_party")):
        fp[s_idx, c_idx, j] = [
            -1 if pd.isna(x) or str(x) == "" else code[str(x)] for x in table[col]
        ]
    plurality, minority = senate_state_seats(votes, fp, len(names))
    return pd.DataFrame(
        {"party": names, "plurality_seats": plurality, "first_minority_seats": minority}
    )
