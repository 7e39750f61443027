"""Chamber of Deputies: 300 district seats + 200 list (PR) seats (CPEUM arts. 52-54, LGIPE 15-20).

The numbers of the law are a :class:`ChamberRules`, read from a rules file per year
(``polls/rules/mx/deputies-<year>.toml``, :func:`forecast.seats.law.load_rules`); the defaults
in code are the 2018 law.  The rules as implemented, and every choice on a point the law leaves
open, are in ``docs/seats.md``; section numbers (§) refer to the rules document
``electoral-rules.md``.

Inputs are per-party vote totals of the list election and per-party district seats with the
coalition *siglado* already applied (the seat counts for the party named in the coalition
agreement).  :func:`district_seats_from_votes` turns district candidacy votes into those counts.
From 2021 INE counts district seats by the winners' party *affiliation* for the
over-representation limits only: ``cap_district_seats`` gives that second count, and the
totals still use the credited (siglado) seats.

The main function, :func:`allocate_chamber`, works on arrays of shape ``(draws, parties)``
(or ``(parties,)`` for one result) in exact integer arithmetic.  :func:`allocate_chamber_scalar`
is a plain-Python ``Fraction`` transcription of the law, kept as the reference the vectorised
code is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from math import floor

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

__all__ = [
    "CAP_COUNTS",
    "ChamberAllocation",
    "ChamberRules",
    "allocate_chamber",
    "allocate_chamber_scalar",
    "allocate_chamber_table",
    "district_seats_from_votes",
    "split_circunscripciones",
    "split_circunscripciones_scalar",
]


#: How the over-representation limits count a party's district seats: by the coalition
#: agreement (``"siglado"``, INE 2018) or by the winner's party affiliation
#: (``"affiliation"``, INE/CG193/2021 and INE/CG645/2023).
CAP_COUNTS = ("siglado", "affiliation")


def majorities(size: int) -> tuple[int, int]:
    """(absolute majority, two-thirds) of a full chamber of ``size`` members."""
    return size // 2 + 1, -(-2 * size // 3)


@dataclass(frozen=True)
class ChamberRules:
    """Numbers of the Chamber law; defaults are the 2014-2019 constitutional text (2018).

    The defaults are a documented fallback equal to ``polls/rules/mx/deputies-2018.toml``
    (a test checks that they agree); every year's law is read from its rules file by
    :func:`forecast.seats.law.load_rules`.

    Parameters
    ----------
    size : int
        Seats in the chamber (500).
    district_seats : int
        Single-member district (MR) seats (300).
    list_seats : int
        Proportional-representation list seats (200).
    threshold : Fraction
        Minimum share of the votación válida emitida to take part in PR (3/100).
    overrepresentation_points : Fraction or None
        Seats may not exceed ``size * (share of VNE + this)``, truncated (8/100).
        ``None`` disables the cap.
    max_seats : int or None
        Absolute cap on one party's seats (300).  ``None`` disables it.
    circunscripciones : int
        Regions among which each party's list seats are split (5, of ``list_seats / 5`` each).
    min_district_candidacies : int
        Districts a party must contest to present lists (200).  Informational: the engine takes
        the resulting per-party flag as input (``eligible``).
    cap_counts : {"siglado", "affiliation"}
        How the 300-seat and +8-point limits count a party's district seats: as credited by
        the coalition agreement (2018) or by the winners' party affiliation (2021, 2024; the
        counts are then given as ``cap_district_seats``).  Informational for the engine, which
        uses ``cap_district_seats`` whenever it is given; the CLI requires that column under
        ``"affiliation"``.
    vve_includes_independents : bool
        Votes for independent candidates are part of the votación válida emitida, the base of
        the 3 % threshold (INE practice since 2018).
    source, year : str, int or None
        Where the rules were read from, and the election year; not compared.
    """

    size: int = 500
    district_seats: int = 300
    list_seats: int = 200
    threshold: Fraction = Fraction(3, 100)
    overrepresentation_points: Fraction | None = Fraction(8, 100)
    max_seats: int | None = 300
    circunscripciones: int = 5
    min_district_candidacies: int = 200
    cap_counts: str = "siglado"
    vve_includes_independents: bool = True
    source: str = field(default="built-in defaults (the 2018 law)", compare=False)
    year: int | None = field(default=2018, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", to_fraction(self.threshold, "threshold"))
        if self.overrepresentation_points is not None:
            pts = to_fraction(self.overrepresentation_points, "overrepresentation_points")
            object.__setattr__(self, "overrepresentation_points", pts)
        if self.size != self.district_seats + self.list_seats:
            raise ValueError("size must equal district_seats + list_seats")
        if min(self.district_seats, self.list_seats) < 0:
            raise ValueError("seat numbers must be non-negative")
        if not 0 <= self.threshold < 1:
            raise ValueError("threshold must be in [0, 1)")
        if self.overrepresentation_points is not None and self.overrepresentation_points < 0:
            raise ValueError("overrepresentation_points must be non-negative")
        if self.circunscripciones < 1 or self.list_seats % self.circunscripciones:
            raise ValueError("list_seats must split evenly over the circunscripciones")
        if self.cap_counts not in CAP_COUNTS:
            raise ValueError(f"cap_counts must be one of {', '.join(CAP_COUNTS)}")

    @property
    def seats_per_circunscripcion(self) -> int:
        """List seats elected in each circunscripción (40 in 2018)."""
        return self.list_seats // self.circunscripciones

    @property
    def majority(self) -> int:
        """Seats for an absolute majority of the full chamber (251 of 500)."""
        return majorities(self.size)[0]

    @property
    def two_thirds(self) -> int:
        """Seats for two thirds of the full chamber, rounded up (334 of 500): CPEUM 135."""
        return majorities(self.size)[1]


@dataclass(frozen=True)
class ChamberAllocation:
    """Result of :func:`allocate_chamber`; arrays have the shape of the ``votes`` input.

    Attributes
    ----------
    district_seats, list_seats, total_seats : numpy.ndarray of int64, (..., parties)
        Seats per party.  Seats won by independents are in no party's count, so
        ``total_seats`` sums to ``size`` minus independent district wins.
    qualified : numpy.ndarray of bool, (..., parties)
        Party takes part in PR: eligible (200 districts) and at least 3 % of the VVE.
    capped : numpy.ndarray of bool, (..., parties)
        Party's list seats were fixed by the 300-seat or +8-point limit.
    seat_limit : numpy.ndarray of int64, (..., parties)
        ``min(max_seats, floor(size * (share of VNE + points)))`` for qualified parties,
        0 for the others (they get no list seats, so no limit applies to them).
    vve, vne : numpy.ndarray of int64, (...)
        Votación válida emitida (threshold base) and votación nacional emitida (quota base).
    circunscripcion_seats : numpy.ndarray of int64, (..., parties, circunscripciones) or None
        List seats per circunscripción, when per-circunscripción votes were given.
    cap_district_seats : numpy.ndarray of int64, (..., parties)
        District seats as counted for the limits: ``cap_district_seats`` when given, else the
        credited ``district_seats``.
    """

    district_seats: NDArray[np.int64]
    list_seats: NDArray[np.int64]
    total_seats: NDArray[np.int64]
    qualified: NDArray[np.bool_]
    capped: NDArray[np.bool_]
    seat_limit: NDArray[np.int64]
    vve: NDArray[np.int64]
    vne: NDArray[np.int64]
    circunscripcion_seats: NDArray[np.int64] | None = None
    cap_district_seats: NDArray[np.int64] | None = None


def _seat_limit(
    votes: NDArray[np.int64],
    vne: NDArray[np.int64],
    qualified: NDArray[np.bool_],
    size: int,
    points: Fraction | None,
    max_seats: int | None,
) -> NDArray[np.int64]:
    """``min(max_seats, floor(size * (v/VNE + points)))`` in integers (0 where not qualified)."""
    limit = np.full(votes.shape, size if max_seats is None else max_seats, dtype=np.int64)
    if points is not None:
        vne_col = np.where(vne == 0, 1, vne)[:, None]
        num, den = points.numerator, points.denominator
        if int(vne_col.max()) * size * max(num, den) * 2 >= 2**62:
            raise OverflowError("votes too large for exact int64 limit arithmetic")
        # floor(size * (v/VNE + num/den)) == size*(v*den + num*VNE) // (den*VNE), exactly;
        # no rounding of the share first (rules document §7.4).
        pts_limit = (size * (votes * den + num * vne_col)) // (den * vne_col)
        limit = np.minimum(limit, pts_limit)
    return np.where(qualified, limit, 0)


def allocate_chamber(
    votes: ArrayLike,
    district_seats: ArrayLike,
    *,
    independent_votes: ArrayLike = 0,
    null_votes: ArrayLike = 0,
    nonregistered_votes: ArrayLike = 0,
    eligible: ArrayLike | None = None,
    circunscripcion_votes: ArrayLike | None = None,
    cap_district_seats: ArrayLike | None = None,
    rules: ChamberRules | None = None,
) -> ChamberAllocation:
    """Allocate the Chamber's list seats and return every party's seats.

    Parameters
    ----------
    votes : array_like of int, (draws, parties) or (parties,)
        List-election votes per party, combination ballots already split among the parties.
    district_seats : array_like of int, same shape (or broadcastable)
        District seats per party by siglado.  May sum to less than ``rules.district_seats``;
        the difference is seats won by independents.
    independent_votes : int or array_like (draws,)
        Votes for independent candidates: inside the VVE (threshold base), outside the VNE.
    null_votes, nonregistered_votes : int or array_like (draws,)
        Outside both the VVE and the VNE, so they never change the result; accepted (and
        checked to be counts) so that a complete vote table can be passed as is.
    eligible : array_like of bool, optional
        Party registered district candidacies in at least ``rules.min_district_candidacies``
        districts (CPEUM 54 I).  Default: every party.
    circunscripcion_votes : array_like of int, (draws, parties, circunscripciones), optional
        List votes per circunscripción; must add up to ``votes``.  When given, each party's
        list seats are also split among the circunscripciones (LGIPE 18-19).
    cap_district_seats : array_like of int, same shape as ``district_seats``, optional
        District seats as the 300-seat and +8-point limits count them, when that count differs
        from the credited one: from 2021 INE counts each winner for the party the winner is
        affiliated to (``rules.cap_counts == "affiliation"``).  The limits, and the list seats
        of a capped party (``limit - cap_district_seats``), use these; the totals use
        ``district_seats``.  Default: the credited ``district_seats``.
    rules : ChamberRules, optional
        The numbers of the law; default 2018.

    Returns
    -------
    ChamberAllocation

    Raises
    ------
    InfeasibleAllocationError
        If in some draw no party qualifies, or every qualifying party is capped while list
        seats remain (the law names nobody to receive them).
    """
    rules = ChamberRules() if rules is None else rules
    v = as_counts(votes, "votes")
    one = v.ndim == 1
    if v.ndim not in (1, 2):
        raise ValueError("votes: expected shape (parties,) or (draws, parties)")
    v = np.atleast_2d(v)
    n_draws = v.shape[0]
    mr = np.broadcast_to(as_counts(district_seats, "district_seats"), v.shape).copy()
    if np.any(mr.sum(axis=-1) > rules.district_seats):
        raise ValueError(f"district_seats sum to more than {rules.district_seats}")
    cap_mr = (
        mr
        if cap_district_seats is None
        else np.broadcast_to(as_counts(cap_district_seats, "cap_district_seats"), v.shape).copy()
    )
    ind = per_draw_counts(independent_votes, n_draws, "independent_votes")
    per_draw_counts(null_votes, n_draws, "null_votes")
    per_draw_counts(nonregistered_votes, n_draws, "nonregistered_votes")
    elig = (
        np.ones(v.shape, dtype=bool)
        if eligible is None
        else np.broadcast_to(np.asarray(eligible, dtype=bool), v.shape)
    )

    # VVE = VTE - null - non-registered: parties plus independents (CPEUM 54 II, §1).
    vve = v.sum(axis=-1) + (ind if rules.vve_includes_independents else 0)
    thr = rules.threshold
    # v/VVE >= num/den  <=>  v*den >= num*VVE; ">=" so exactly 3 % qualifies.
    qualified = elig & (v > 0) & (v * thr.denominator >= thr.numerator * vve[:, None])
    # VNE = sum of the qualifying parties (§7.2): drops null, non-registered, independents,
    # sub-threshold parties and parties without 200 districts (they cannot take list seats,
    # so keeping their votes in the quota would leave seats nobody can fill).
    vne = np.where(qualified, v, 0).sum(axis=-1)
    no_party = np.flatnonzero((vne == 0) & (rules.list_seats > 0))
    if no_party.size:
        raise InfeasibleAllocationError(
            "no party qualifies for list seats" + in_draws(no_party, one)
        )
    limit = _seat_limit(
        v, vne, qualified, rules.size, rules.overrepresentation_points, rules.max_seats
    )

    pr = largest_remainder(v, rules.list_seats, mask=qualified)
    capped = np.zeros(v.shape, dtype=bool)
    fixed = np.zeros(v.shape, dtype=np.int64)
    # Each round caps every party over its limit at once, then re-runs the whole allocation
    # among the others (§2.5, §7.6).  A cap can only be added, so this ends within `parties`
    # rounds.
    # The limits count district seats as `cap_mr` (the credited seats, or from 2021 the seats
    # by the winners' affiliation); the totals below use the credited `mr`.
    for _ in range(v.shape[1] + 1):
        over = qualified & ~capped & (cap_mr + pr > limit)
        rows = np.flatnonzero(over.any(axis=-1))
        if rows.size == 0:
            break
        capped[rows] |= over[rows]
        # Exception (CPEUM 54 V): district seats are never taken away; a party whose district
        # seats alone reach its limit simply gets no list seats.
        fixed[rows] = np.where(
            over[rows], np.maximum(0, limit[rows] - cap_mr[rows]), fixed[rows]
        )
        free = qualified[rows] & ~capped[rows]
        seats_left = rules.list_seats - np.where(capped[rows], fixed[rows], 0).sum(axis=-1)
        stuck = rows[(seats_left > 0) & ~free.any(axis=-1)]
        if stuck.size:
            raise InfeasibleAllocationError(
                "every qualifying party is capped but list seats remain" + in_draws(stuck, one)
            )
        again = largest_remainder(v[rows], seats_left, mask=free)
        pr[rows] = np.where(capped[rows], fixed[rows], again)
    else:  # pragma: no cover - the loop always breaks (caps only grow)
        raise RuntimeError("cap iteration did not converge")

    circ = None
    if circunscripcion_votes is not None:
        cv = as_counts(circunscripcion_votes, "circunscripcion_votes")
        cv = cv[None] if one else cv
        if cv.shape != (*v.shape, rules.circunscripciones):
            raise ValueError(
                "circunscripcion_votes: expected shape (draws, parties, "
                f"{rules.circunscripciones}), got {cv.shape}"
            )
        if np.any(cv.sum(axis=-1) != v):
            raise ValueError("circunscripcion_votes must add up to votes for every party")
        circ = split_circunscripciones(
            cv, pr, capped, qualified, seats_per_circ=rules.seats_per_circunscripcion
        )

    total = mr + pr
    result = ChamberAllocation(
        district_seats=mr,
        list_seats=pr,
        total_seats=total,
        qualified=qualified,
        capped=capped,
        seat_limit=limit,
        vve=vve,
        vne=vne,
        circunscripcion_seats=circ,
        cap_district_seats=cap_mr,
    )
    if one:
        result = ChamberAllocation(
            **{k: (None if x is None else x[0]) for k, x in result.__dict__.items()}
        )
    return result


def split_circunscripciones(
    circunscripcion_votes: ArrayLike,
    list_seats: ArrayLike,
    capped: ArrayLike,
    qualified: ArrayLike,
    *,
    seats_per_circ: int,
) -> NDArray[np.int64]:
    """Split each party's national list seats among the circunscripciones (LGIPE 18-19).

    Capped parties first: each spreads its seats over the circunscripciones by its own
    quotient (its votes / its seats) and largest remainders.  Then in every circunscripción
    the seats still free go to the other qualifying parties by the circunscripción's quotient
    and largest remainders.  When that does not give every party exactly its national total,
    the draw is redone by :func:`split_circunscripciones_scalar`'s ordered-claims rule, which
    gives the same answer whenever the plain procedure is consistent (docs/seats.md).

    Parameters
    ----------
    circunscripcion_votes : array_like of int, (draws, parties, circunscripciones)
    list_seats : array_like of int, (draws, parties)
        National list seats per party.
    capped : array_like of bool, (draws, parties)
        Parties whose list seats were fixed by a limit.
    qualified : array_like of bool, (draws, parties)
        Parties taking part in PR.
    seats_per_circ : int
        Seats elected in each circunscripción.

    Returns
    -------
    numpy.ndarray of int64, (draws, parties, circunscripciones)
    """
    cv = as_counts(circunscripcion_votes, "circunscripcion_votes")
    n_draws, n_parties, n_circ = cv.shape
    seats = as_counts(list_seats, "list_seats")
    capped = np.asarray(capped, dtype=bool)
    qualified = np.asarray(qualified, dtype=bool)
    if np.any(seats.sum(axis=-1) != seats_per_circ * n_circ):
        raise ValueError("list_seats must sum to seats_per_circ * circunscripciones")

    capped_seats = np.where(capped, seats, 0)
    out = largest_remainder(cv.reshape(-1, n_circ), capped_seats.reshape(-1)).reshape(cv.shape)
    room = seats_per_circ - out.sum(axis=1)  # (draws, circ)
    overfull = np.flatnonzero((room < 0).any(axis=-1))
    if overfull.size:
        raise InfeasibleAllocationError(
            "capped parties alone exceed a circunscripción's seats" + in_draws(overfull, False)
        )
    free = qualified & ~capped
    per_circ = np.transpose(cv, (0, 2, 1))  # (draws, circ, parties)
    free_votes = np.where(free[:, None, :], per_circ, 0).sum(axis=-1)
    no_votes = (free_votes == 0) & (room > 0)
    free_part = largest_remainder(
        per_circ,
        np.where(no_votes, 0, room),
        mask=np.broadcast_to(free[:, None, :], per_circ.shape),
    )
    free_part = np.transpose(free_part, (0, 2, 1))
    out = out + free_part
    bad = no_votes.any(axis=-1) | np.any(
        np.where(free, free_part.sum(axis=-1), 0) != np.where(free, seats, 0), axis=-1
    )
    for d in np.flatnonzero(bad):
        out[d] = split_circunscripciones_scalar(
            cv[d].tolist(),
            seats[d].tolist(),
            capped[d].tolist(),
            qualified[d].tolist(),
            seats_per_circ=seats_per_circ,
        )
    return out


def split_circunscripciones_scalar(
    circunscripcion_votes: Sequence[Sequence[int]],
    list_seats: Sequence[int],
    capped: Sequence[bool],
    qualified: Sequence[bool],
    *,
    seats_per_circ: int,
) -> list[list[int]]:
    """One draw of :func:`split_circunscripciones`, by ordered claims (reference version).

    Capped parties are split by their own quotient and largest remainders.  For the other
    qualifying parties, party ``p``'s ``j``-th seat in circunscripción ``k`` has the claim
    ``q[p,k] - (j-1)`` with ``q[p,k] = votes[p,k] * free_seats[k] / VEC[k]``.  Claims are
    granted from strongest to weakest (ties: more votes in the circunscripción, then party
    order, then circunscripción order), skipping a claim when the party already has its
    national total or the circunscripción is full.  Within one circunscripción the strongest
    claims are exactly the integer parts followed by the largest remainders, so this equals
    the statutory per-circunscripción procedure whenever that one hits every national total;
    otherwise it is the adjustment INE describes (§2.6, §7.7): a party already at its total
    takes no more seats, a party still short takes its next-best claim where there is room.
    """
    n_parties = len(list_seats)
    n_circ = len(circunscripcion_votes[0]) if n_parties else 0
    out = [[0] * n_circ for _ in range(n_parties)]
    for p in range(n_parties):
        if capped[p] and list_seats[p] > 0:
            out[p] = largest_remainder_scalar(circunscripcion_votes[p], list_seats[p])
    room = [seats_per_circ - sum(out[p][k] for p in range(n_parties)) for k in range(n_circ)]
    if any(r < 0 for r in room):
        raise InfeasibleAllocationError("capped parties alone exceed a circunscripción's seats")
    free = [bool(qualified[p]) and not capped[p] for p in range(n_parties)]
    vec = [
        sum(circunscripcion_votes[p][k] for p in range(n_parties) if free[p]) for k in range(n_circ)
    ]
    claims = []
    for p in range(n_parties):
        if not free[p]:
            continue
        for k in range(n_circ):
            if room[k] == 0:
                continue
            q = Fraction(circunscripcion_votes[p][k] * room[k], vec[k]) if vec[k] else Fraction(0)
            for j in range(list_seats[p]):
                claims.append((-(q - j), -circunscripcion_votes[p][k], p, k))
    claims.sort()
    need = [list_seats[p] if free[p] else 0 for p in range(n_parties)]
    for _, _, p, k in claims:
        if need[p] > 0 and room[k] > 0:
            out[p][k] += 1
            need[p] -= 1
            room[k] -= 1
    if any(need) or any(room):  # pragma: no cover - impossible when totals add up
        raise InfeasibleAllocationError("circunscripción split could not meet the totals")
    return out


def allocate_chamber_scalar(
    votes: Sequence[int],
    district_seats: Sequence[int],
    *,
    independent_votes: int = 0,
    eligible: Sequence[bool] | None = None,
    circunscripcion_votes: Sequence[Sequence[int]] | None = None,
    cap_district_seats: Sequence[int] | None = None,
    rules: ChamberRules | None = None,
) -> dict[str, list]:
    """Reference (one-result, ``Fraction``) version of :func:`allocate_chamber`.

    Returns a dict with ``list_seats``, ``total_seats``, ``qualified``, ``capped``,
    ``seat_limit`` (lists over parties), ``vve``, ``vne`` and, when circunscripción votes are
    given, ``circunscripcion_seats``.  ``cap_district_seats`` (default: ``district_seats``)
    is the count the limits use; the totals use ``district_seats``.
    """
    rules = ChamberRules() if rules is None else rules
    n = len(votes)
    elig = [True] * n if eligible is None else [bool(x) for x in eligible]
    counted = list(district_seats) if cap_district_seats is None else list(cap_district_seats)
    vve = sum(votes) + (independent_votes if rules.vve_includes_independents else 0)
    qualified = [
        elig[p] and votes[p] > 0 and Fraction(votes[p], vve) >= rules.threshold for p in range(n)
    ]
    vne = sum(votes[p] for p in range(n) if qualified[p])
    if vne == 0 and rules.list_seats > 0:
        raise InfeasibleAllocationError("no party qualifies for list seats")

    def limit_of(p: int) -> int:
        if not qualified[p]:
            return 0
        cap = rules.size if rules.max_seats is None else rules.max_seats
        if rules.overrepresentation_points is not None:
            share = Fraction(votes[p], vne)
            cap = min(cap, floor(rules.size * (share + rules.overrepresentation_points)))
        return cap

    limit = [limit_of(p) for p in range(n)]
    capped: dict[int, int] = {}
    while True:
        free = [qualified[p] and p not in capped for p in range(n)]
        seats_left = rules.list_seats - sum(capped.values())
        if seats_left > 0 and not any(free):
            raise InfeasibleAllocationError("every qualifying party is capped")
        pr = largest_remainder_scalar(votes, seats_left, mask=free)
        for p, s in capped.items():
            pr[p] = s
        new = {
            p: max(0, limit[p] - counted[p])
            for p in range(n)
            if free[p] and counted[p] + pr[p] > limit[p]
        }
        if not new:
            break
        capped.update(new)
    out: dict[str, list] = {
        "list_seats": pr,
        "total_seats": [district_seats[p] + pr[p] for p in range(n)],
        "qualified": qualified,
        "capped": [p in capped for p in range(n)],
        "seat_limit": limit,
        "vve": vve,
        "vne": vne,
    }
    if circunscripcion_votes is not None:
        out["circunscripcion_seats"] = split_circunscripciones_scalar(
            circunscripcion_votes,
            pr,
            [p in capped for p in range(n)],
            qualified,
            seats_per_circ=rules.seats_per_circunscripcion,
        )
    return out


def allocate_chamber_table(
    table: pd.DataFrame,
    *,
    independent_votes: int = 0,
    null_votes: int = 0,
    nonregistered_votes: int = 0,
    rules: ChamberRules | None = None,
) -> pd.DataFrame:
    """Allocate one result given as a table.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``party``, ``votes``, ``district_seats`` and optionally ``eligible`` (bool) and
        ``cap_district_seats`` (the count the limits use; a missing value means the party's
        ``district_seats``).
    independent_votes, null_votes, nonregistered_votes : int
        As in :func:`allocate_chamber`.
    rules : ChamberRules, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``party, votes, district_seats, list_seats, total_seats`` in input order;
        ``attrs`` holds ``vve``, ``vne`` and the ``capped`` parties.
    """
    require_columns(table, ("party", "votes", "district_seats"))
    eligible = table["eligible"].to_numpy(dtype=bool) if "eligible" in table else None
    cap = None
    if "cap_district_seats" in table:
        given = table["cap_district_seats"].astype("float64").to_numpy()
        credited = table["district_seats"].to_numpy(dtype="float64")
        cap = np.where(np.isnan(given), credited, given)
    res = allocate_chamber(
        table["votes"].to_numpy(),
        table["district_seats"].to_numpy(),
        independent_votes=independent_votes,
        null_votes=null_votes,
        nonregistered_votes=nonregistered_votes,
        eligible=eligible,
        cap_district_seats=cap,
        rules=rules,
    )
    out = pd.DataFrame(
        {
            "party": table["party"].to_numpy(),
            "votes": _column_counts(table["votes"]),
            "district_seats": res.district_seats,
            "list_seats": res.list_seats,
            "total_seats": res.total_seats,
        }
    )
    out.attrs.update(
        vve=int(res.vve),
        vne=int(res.vne),
        capped=[str(p) for p, c in zip(table["party"], res.capped, strict=True) if c],
    )
    return out


def _column_counts(col: pd.Series) -> NDArray[np.int64]:
    """Column as int64 counts (validated like every vote input)."""
    return as_counts(col.to_numpy(), str(col.name))


def district_seats_from_votes(
    candidacy_votes: ArrayLike,
    siglado: ArrayLike,
    n_parties: int,
) -> NDArray[np.int64]:
    """Count district seats per party from candidacy votes and the siglado.

    Parameters
    ----------
    candidacy_votes : array_like of int, (draws, districts, candidacies) or (districts, cand.)
        Votes of each candidacy in each district.  A coalition candidacy's votes are its
        parties' votes plus the ballots marked for several of them (§2.1); a candidacy that
        did not run in a district has 0 votes.
    siglado : array_like of int, (districts, candidacies)
        Index of the party credited with the seat if that candidacy wins (the party named in
        the coalition agreement; the party itself for a lone party); -1 for an independent.
    n_parties : int
        Length of the party axis of the result.

    Returns
    -------
    numpy.ndarray of int64, (draws, parties) or (parties,)
        District seats per party.  Independent wins are counted for nobody.

    Notes
    -----
    A tie for first place is given to the candidacy that comes first (the law orders a new
    election; a simulation needs an answer).
    """
    cv = as_counts(candidacy_votes, "candidacy_votes")
    one = cv.ndim == 2
    cv = cv[None] if one else cv
    sig = np.asarray(siglado, dtype=np.int64)
    if sig.shape != cv.shape[1:]:
        raise ValueError("siglado must have shape (districts, candidacies)")
    if np.any((sig < -1) | (sig >= n_parties)):
        raise ValueError("siglado: party index out of range")
    winner = cv.argmax(axis=-1)  # first maximum: ties go to the first candidacy
    party = np.take_along_axis(np.broadcast_to(sig, cv.shape), winner[..., None], axis=-1)[..., 0]
    out = count_by_party(party, n_parties)
    return out[0] if one else out
