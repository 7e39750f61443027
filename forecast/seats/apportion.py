"""Cociente natural and resto mayor (Hare quota, largest remainders) in exact integer arithmetic.

LGIPE art. 16: a party gets one seat for each whole *cociente natural* (votes / seats) it
contains, and the seats still free go one each to the largest *restos* (unused votes).

Everything here works on integer vote counts.  ``floor(v / (V/S))`` is computed as
``(v*S) // V`` and the remainder as the integer ``v*S - floor*V``, which is the true remainder
scaled by ``S`` (the same positive factor for every party of one allocation), so comparisons
between remainders are exact.  No floats are involved, so a knife-edge case (two remainders
equal to the last vote) is decided by the tie rule, never by rounding noise.

Tie rule (not fixed by the law, rules document §7.5): equal remainders go to the party with
more votes, then to the party that comes first in column order.  A lot would not be
reproducible; a fixed order is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "InfeasibleAllocationError",
    "as_counts",
    "count_by_party",
    "in_draws",
    "largest_remainder",
    "largest_remainder_scalar",
    "per_draw_counts",
    "require_columns",
    "to_fraction",
]

# Products such as votes * seats * 100 must stay inside int64.  2**62 leaves a factor-2 margin.
_INT_LIMIT = 2**62


class InfeasibleAllocationError(ValueError):
    """The law leaves seats that no party may take (e.g. every qualifying party is capped)."""


def as_counts(x: ArrayLike, name: str) -> NDArray[np.int64]:
    """Return ``x`` as a non-negative int64 array, refusing non-integral values.

    Floats are accepted only when every value is a whole number: exact apportionment needs
    integer votes, and silently rounding simulated vote shares would hide a modelling choice
    from the caller (round them yourself, e.g. ``np.rint(share * electorate)``).
    """
    arr = np.asarray(x)
    if arr.dtype == np.bool_:
        raise TypeError(f"{name}: expected integer counts, got booleans")
    if np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.int64)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.floor(arr)):
            raise ValueError(f"{name}: expected whole numbers (integer counts)")
        if arr.size and np.max(np.abs(arr)) >= _INT_LIMIT:
            raise OverflowError(f"{name}: counts too large for exact int64 arithmetic")
        out = arr.astype(np.int64)
    else:
        raise TypeError(f"{name}: expected integer counts, got dtype {arr.dtype}")
    if np.any(out < 0):
        raise ValueError(f"{name}: counts must be non-negative")
    return out


def largest_remainder(
    votes: ArrayLike,
    seats: ArrayLike,
    *,
    mask: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Allocate ``seats`` by cociente natural and resto mayor, row by row.

    Parameters
    ----------
    votes : array_like of int, shape (..., parties)
        Vote counts; the last axis is the party axis, leading axes are draws (or anything).
    seats : int or array_like of int, shape (...)
        Seats to distribute in each row.
    mask : array_like of bool, shape (..., parties), optional
        Parties taking part; the others get 0 seats and their votes do not enter the quota.

    Returns
    -------
    numpy.ndarray of int64, shape (..., parties)
        Seats per party; every row sums to its ``seats``.

    Raises
    ------
    InfeasibleAllocationError
        If a row has seats to give but no votes among the parties taking part.
    """
    v = as_counts(votes, "votes")
    if v.ndim == 0:
        raise ValueError("votes: expected at least one party axis")
    m = np.ones(v.shape, dtype=bool) if mask is None else np.broadcast_to(mask, v.shape)
    v = np.where(m, v, 0)
    s = as_counts(seats, "seats")
    s = np.broadcast_to(s, v.shape[:-1])[..., None]
    total = v.sum(axis=-1, keepdims=True)
    if np.any((total == 0) & (s > 0)):
        raise InfeasibleAllocationError("seats to allocate but no votes among the parties")
    if total.size and int(total.max()) * max(int(s.max()), 1) >= _INT_LIMIT:
        raise OverflowError("votes * seats exceeds exact int64 range")
    safe_total = np.where(total == 0, 1, total)
    scaled = v * s
    whole = scaled // safe_total
    # The remainder v - whole*(V/S), multiplied by S (same factor for the whole row).
    rest = scaled - whole * safe_total
    left = (s[..., 0] - whole.sum(axis=-1))[..., None]
    n = v.shape[-1]
    index = np.broadcast_to(np.arange(n), v.shape)
    # lexsort: last key is primary.  Parties outside the mask go last, then remainder
    # descending, then votes descending, then column order (the documented tie rule).
    order = np.lexsort((index, -v, -rest, ~m), axis=-1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n), v.shape), axis=-1)
    return whole + (rank < left)


def largest_remainder_scalar(
    votes: Sequence[int],
    seats: int,
    *,
    mask: Sequence[bool] | None = None,
) -> list[int]:
    """Reference implementation of :func:`largest_remainder` for one row, with ``Fraction``.

    Written the way the law reads (rules document §2.8) so that the vectorised integer version
    can be checked against it.
    """
    take = [True] * len(votes) if mask is None else [bool(x) for x in mask]
    v = [int(x) if t else 0 for x, t in zip(votes, take, strict=True)]
    if seats == 0:
        return [0] * len(v)
    if sum(v) == 0:
        raise InfeasibleAllocationError("seats to allocate but no votes among the parties")
    quota = Fraction(sum(v), seats)
    out = [int(Fraction(x) // quota) for x in v]
    rest = [Fraction(x) - k * quota for x, k in zip(v, out, strict=True)]
    left = seats - sum(out)
    ranked = sorted((i for i in range(len(v)) if take[i]), key=lambda i: (-rest[i], -v[i], i))
    for i in ranked[:left]:
        out[i] += 1
    return out


def to_fraction(x: Fraction | int | float | str, name: str) -> Fraction:
    """Exact ``Fraction`` from a rule constant (floats via their decimal repr)."""
    # A float like 0.03 is not exactly 3/100 in binary; go through its decimal repr so that
    # ChamberRules(threshold=0.03) means what the user typed.
    if isinstance(x, float):
        x = str(x)
    try:
        return Fraction(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a rational number, got {x!r}") from err


def per_draw_counts(x: ArrayLike, n_draws: int, name: str) -> NDArray[np.int64]:
    """A scalar or per-draw count as an array of shape (n_draws,)."""
    arr = as_counts(x, name)
    if arr.ndim > 1:
        raise ValueError(f"{name}: expected a scalar or one value per draw")
    return np.broadcast_to(arr, (n_draws,)).copy()


def in_draws(rows: NDArray[np.int64], one: bool) -> str:
    """Message suffix naming the failing draws (nothing for a single result)."""
    return "" if one else f" in draw(s) {rows[:10].tolist()}"


def count_by_party(party: NDArray[np.int64], n_parties: int) -> NDArray[np.int64]:
    """Per-row counts of party indices (-1 = nobody) -> (rows, n_parties)."""
    n_rows = party.shape[0]
    width = n_parties + 1
    flat = (party + 1) + width * np.arange(n_rows)[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_rows * width).reshape(n_rows, width)
    return counts[:, 1:].astype(np.int64)


def require_columns(table: pd.DataFrame, columns: Iterable[str]) -> None:
    """Check that a table given to a ``*_table`` function has the columns it needs.

    Parameters
    ----------
    table : pandas.DataFrame
        The input table.
    columns : iterable of str
        Column names it must have.

    Raises
    ------
    KeyError
        Naming the missing columns, sorted.
    """
    missing = set(columns) - set(table.columns)
    if missing:
        raise KeyError(f"missing column(s): {sorted(missing)}")
