"""District swing: vote-share tables, uniform and proportional swing, and residual noise.

Groundwork for the district-level Congress vote model (pure functions, no PyMC). The method and
the measured figures are in ``docs/swing.md``.

**Table format.** Every function here works on a *district share table*: a ``pandas.DataFrame``
indexed by ``district_code`` (``edon*100 + district``) with

- ``edon``: the state number (1–32), used to group districts into states;
- ``valid_votes``: the district's valid vote, used to weight national shares;
- one column per bloc: the bloc's votes as a fraction of ``valid_votes``.

:func:`read_district_shares` builds such a table from a returns file. :func:`bloc_columns` lists
its bloc columns. Shares are fractions (0.25 = 25 %); swings of kind ``"uniform"`` are differences
of fractions and swings of kind ``"proportional"`` are natural-log ratios.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

SwingKind = Literal["uniform", "proportional"]
SWING_KINDS: tuple[str, ...] = ("uniform", "proportional")
META_COLUMNS: tuple[str, ...] = ("edon", "valid_votes")
BlocSpec = Mapping[str, Sequence[str] | Mapping[str, float]]


def bloc_columns(table: pd.DataFrame) -> list[str]:
    """Return the bloc columns of a district share table (every column but ``edon``,
    ``valid_votes``), in table order."""
    return [c for c in table.columns if c not in META_COLUMNS]


def _bloc_weights(members: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    if isinstance(members, str):
        raise TypeError(f"bloc members must be a list of columns, not the string {members!r}")
    if isinstance(members, Mapping):
        return {str(k): float(v) for k, v in members.items()}
    return {str(k): 1.0 for k in members}


def district_shares(
    returns: pd.DataFrame,
    blocs: BlocSpec,
    *,
    other: str | None = "other",
    tolerance: float = 1e-9,
) -> pd.DataFrame:
    """Turn a district returns table into a district share table.

    Parameters
    ----------
    returns : pandas.DataFrame
        One row per district with ``district_code``, ``edon``, ``valid_votes`` and the vote
        columns named in `blocs` (as in the ``deputies_district_*.csv`` files).
    blocs : mapping
        ``bloc -> members``. Members are either a list of vote columns (each counted once) or a
        mapping ``column -> weight`` to split a column among blocs (e.g. combination ballots of
        two parties that later sit in different blocs: ``{"coal_prd_pt": 0.5}``). Blocs are data,
        supplied by the caller; nothing about particular parties is coded here.
    other : str or None, default "other"
        Name of a remainder bloc, ``valid_votes`` minus the sum of the blocs, so that every row
        sums to 1. ``None`` leaves it out (rows then sum to 1 only if the blocs cover every vote).
    tolerance : float, default 1e-9
        A remainder below ``-tolerance`` (as a share) means columns were counted twice and raises.

    Returns
    -------
    pandas.DataFrame
        Index ``district_code``; columns ``edon``, ``valid_votes`` (int) and one share column per
        bloc in the order given (then `other`).

    Raises
    ------
    KeyError
        If a member column is missing from `returns`.
    ValueError
        On duplicate districts, non-positive valid votes, negative votes or a negative remainder.
    """
    if not blocs:
        raise ValueError("blocs is empty")
    names = [str(b) for b in blocs]
    if other is not None and other in names:
        raise ValueError(f"remainder name {other!r} is also a bloc")
    if returns["district_code"].duplicated().any():
        raise ValueError("duplicate district_code in returns")
    valid = pd.to_numeric(returns["valid_votes"], errors="raise").to_numpy(dtype=float)
    if not np.all(valid > 0):
        raise ValueError("valid_votes must be positive in every district")
    votes = np.zeros((len(returns), len(names)))
    for j, (name, members) in enumerate(blocs.items()):
        for column, weight in _bloc_weights(members).items():
            if column not in returns.columns:
                raise KeyError(f"bloc {name!r}: column {column!r} not in the returns file")
            values = pd.to_numeric(returns[column], errors="raise").to_numpy(dtype=float)
            if np.any(values < 0):
                raise ValueError(f"column {column!r} has negative votes")
            votes[:, j] += weight * values
    shares = votes / valid[:, None]
    out = pd.DataFrame(shares, columns=names, index=pd.Index(returns["district_code"].to_numpy(),
                                                                name="district_code"))
    if other is not None:
        remainder = 1.0 - shares.sum(axis=1)
        if np.any(remainder < -tolerance):
            worst = out.index[int(np.argmin(remainder))]
            raise ValueError(f"blocs exceed valid_votes (district {worst}); a column is counted "
                             "twice")
        out[other] = np.clip(remainder, 0.0, None)
    out.insert(0, "valid_votes", valid.astype(np.int64))
    out.insert(0, "edon", returns["edon"].to_numpy(dtype=np.int64))
    return out.sort_index()


def read_district_shares(
    path: str | Path, blocs: BlocSpec, *, other: str | None = "other"
) -> pd.DataFrame:
    """Read a ``deputies_district_*.csv`` returns file into a district share table.

    The file is read with ``keep_default_na=False`` (Nueva Alianza's code is ``na``); blank vote
    cells count as 0. See :func:`district_shares` for `blocs`, `other` and the result.
    """
    raw = pd.read_csv(path, keep_default_na=False, dtype=str)
    raw = raw.replace("", "0")
    return district_shares(raw, blocs, other=other)


def national_shares(table: pd.DataFrame, blocs: Iterable[str] | None = None) -> pd.Series:
    """Valid-vote-weighted national share of each bloc (the national vote, not a district mean).

    Parameters
    ----------
    table : pandas.DataFrame
        A district share table.
    blocs : iterable of str, optional
        Bloc columns to use; default all of them.
    """
    cols = bloc_columns(table) if blocs is None else list(blocs)
    weights = table["valid_votes"].to_numpy(dtype=float)
    values = table[cols].to_numpy(dtype=float)
    return pd.Series(weights @ values / weights.sum(), index=cols, name="share")


def _check_kind(kind: str) -> None:
    if kind not in SWING_KINDS:
        raise ValueError(f"kind must be one of {SWING_KINDS}, got {kind!r}")


def _common(base: pd.DataFrame, target: pd.DataFrame, blocs: Iterable[str] | None) -> list[str]:
    cols = [c for c in bloc_columns(base) if c in bloc_columns(target)] if blocs is None \
        else list(blocs)
    if not cols:
        raise ValueError("base and target have no bloc in common")
    return cols


def _swing(base: np.ndarray, target: np.ndarray, kind: str) -> np.ndarray:
    _check_kind(kind)
    if kind == "uniform":
        return target - base
    if np.any(base <= 0) or np.any(target <= 0):
        raise ValueError("proportional swing needs positive shares; drop blocs with zero shares")
    return np.log(target) - np.log(base)


def national_swing(
    base: pd.DataFrame,
    target: pd.DataFrame,
    kind: SwingKind = "uniform",
    blocs: Iterable[str] | None = None,
) -> pd.Series:
    """National swing per bloc between two elections (maps may differ).

    ``uniform``: ``T - B`` (difference of national shares); ``proportional``: ``log(T / B)``.
    `blocs` defaults to the bloc columns the two tables share.
    """
    cols = _common(base, target, blocs)
    b = national_shares(base, cols).to_numpy()
    t = national_shares(target, cols).to_numpy()
    return pd.Series(_swing(b, t, kind), index=cols, name=f"{kind}_swing")


def _aligned(base: pd.DataFrame, target: pd.DataFrame) -> None:
    if not base.index.sort_values().equals(target.index.sort_values()):
        raise ValueError("base and target must cover the same districts (same map)")


def district_swings(
    base: pd.DataFrame,
    target: pd.DataFrame,
    kind: SwingKind = "uniform",
    blocs: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per-district swing between two elections on the same district map.

    Parameters
    ----------
    base, target : pandas.DataFrame
        District share tables with the same ``district_code`` index.
    kind : {"uniform", "proportional"}
        ``uniform``: ``t - b`` (additive, in share units; ×100 for points);
        ``proportional``: ``log(t / b)`` (multiplicative, as a log ratio). Proportional swing
        needs every share of the chosen blocs to be positive.
    blocs : iterable of str, optional
        Blocs to use; default those present in both tables.

    Returns
    -------
    pandas.DataFrame
        Index ``district_code`` (base order); columns ``edon`` (of the base) and one swing
        column per bloc.
    """
    _aligned(base, target)
    cols = _common(base, target, blocs)
    t = target.loc[base.index, cols].to_numpy(dtype=float)
    b = base[cols].to_numpy(dtype=float)
    out = pd.DataFrame(_swing(b, t, kind), index=base.index, columns=cols)
    out.insert(0, "edon", base["edon"].to_numpy())
    return out


@dataclass(frozen=True)
class SwingDecomposition:
    """Swing residuals split into a state and a district component.

    Attributes
    ----------
    residuals : pandas.DataFrame
        District swing minus national swing; index ``district_code``, columns ``edon`` + blocs.
    offset : pandas.Series
        Mean residual over districts (unweighted) per bloc: the gap between the average district
        swing and the national (vote-weighted) swing.
    state_effects : pandas.DataFrame
        Index ``edon``; per bloc, the state's mean residual minus `offset`.
    district_effects : pandas.DataFrame
        Index ``district_code``; per bloc, the residual minus its state's mean.
        ``offset + state_effect + district_effect == residual`` exactly.
    sds : pandas.DataFrame
        Index: the blocs, then ``"pooled"``. Columns ``state_sd`` and ``district_sd`` (variance
        components, one-way random-effects ANOVA estimates), ``state_sd_naive`` (sd of the
        state means) and ``total_sd`` (sd of the residuals). ``pooled`` is the square root of
        the mean variance over blocs.
    """

    residuals: pd.DataFrame
    offset: pd.Series
    state_effects: pd.DataFrame
    district_effects: pd.DataFrame
    sds: pd.DataFrame


def variance_components(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-way random-effects variance components, column by column (method of moments).

    Model: ``y[i] = mu + u[g(i)] + e[i]``, ``u ~ (0, s_between^2)``, ``e ~ (0, s_within^2)``.
    ``s_within^2 = SSW / (N - K)`` and ``s_between^2 = max(0, (MSB - MSW) / n0)`` with
    ``MSB = SSB / (K - 1)`` and ``n0 = (N - sum(n_k^2) / N) / (K - 1)`` (the ANOVA estimator for
    unequal group sizes; unbiased before truncation at 0).

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(N,)`` or ``(N, J)``; one column per variable.
    groups : numpy.ndarray
        Shape ``(N,)``; group label of each row. Needs ``K >= 2`` groups and ``N > K``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(s_between^2, s_within^2)``, each of shape ``(J,)`` (or scalar arrays for 1-D input).
    """
    y = np.asarray(values, dtype=float)
    squeeze = y.ndim == 1
    y = y[:, None] if squeeze else y
    codes, sizes = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)[1:]
    n, k = y.shape[0], sizes.size
    if k < 2 or n <= k:
        raise ValueError("need at least 2 groups and more rows than groups")
    sums = np.zeros((k, y.shape[1]))
    np.add.at(sums, codes, y)
    means = sums / sizes[:, None]
    grand = y.mean(axis=0)
    ssw = ((y - means[codes]) ** 2).sum(axis=0)
    ssb = (sizes[:, None] * (means - grand) ** 2).sum(axis=0)
    msw = ssw / (n - k)
    msb = ssb / (k - 1)
    n0 = (n - (sizes**2).sum() / n) / (k - 1)
    between = np.maximum(0.0, (msb - msw) / n0)
    if squeeze:
        return between[0], msw[0]
    return between, msw


def decompose_swing(
    base: pd.DataFrame,
    target: pd.DataFrame,
    kind: SwingKind = "uniform",
    blocs: Iterable[str] | None = None,
) -> SwingDecomposition:
    """Split district swing residuals (district swing minus national swing) into state and
    district components.

    Parameters
    ----------
    base, target : pandas.DataFrame
        District share tables on the same map (e.g. 2012 and 2015, both on the 2005 map).
    kind : {"uniform", "proportional"}
        Swing definition, as in :func:`district_swings`; the national swing is the same kind,
        from valid-vote-weighted national shares.
    blocs : iterable of str, optional
        Blocs to decompose; default those present in both tables.

    Returns
    -------
    SwingDecomposition
        Residuals, their components and the per-bloc and pooled standard deviations.
    """
    swings = district_swings(base, target, kind, blocs)
    cols = bloc_columns(swings)
    nat = national_swing(base, target, kind, cols)
    resid = swings.copy()
    resid[cols] = swings[cols].to_numpy() - nat.to_numpy()[None, :]
    r = resid[cols].to_numpy()
    states = resid["edon"].to_numpy()
    offset = r.mean(axis=0)
    state_means = resid.groupby("edon")[cols].mean()
    district_eff = r - state_means.loc[states].to_numpy()
    between, within = variance_components(r, states)
    naive = state_means.to_numpy().std(axis=0, ddof=1)
    total = r.std(axis=0, ddof=1)
    sds = pd.DataFrame(
        {
            "state_sd": np.sqrt(between),
            "district_sd": np.sqrt(within),
            "state_sd_naive": naive,
            "total_sd": total,
        },
        index=pd.Index(cols, name="bloc"),
    )
    sds.loc["pooled"] = np.sqrt((sds.to_numpy() ** 2).mean(axis=0))
    return SwingDecomposition(
        residuals=resid,
        offset=pd.Series(offset, index=cols, name="offset"),
        state_effects=state_means - offset[None, :],
        district_effects=pd.DataFrame(district_eff, index=resid.index, columns=cols),
        sds=sds,
    )


def predict_shares(
    base: pd.DataFrame,
    swing: pd.Series,
    kind: SwingKind,
    *,
    normalize: bool = True,
) -> pd.DataFrame:
    """Apply a national swing to every district of a baseline.

    ``uniform``: ``b + swing`` (shares below 0 are set to 0); ``proportional``:
    ``b * exp(swing)``. With `normalize` each district's predicted shares are then rescaled to
    sum to 1, which assumes the blocs in `swing` cover the whole valid vote.

    Parameters
    ----------
    base : pandas.DataFrame
        District share table.
    swing : pandas.Series
        National swing per bloc, of the same `kind` (see :func:`national_swing`).
    kind : {"uniform", "proportional"}
    normalize : bool, default True

    Returns
    -------
    pandas.DataFrame
        Index ``district_code``; one predicted-share column per bloc of `swing`.
    """
    _check_kind(kind)
    cols = list(swing.index)
    b = base[cols].to_numpy(dtype=float)
    s = swing.to_numpy(dtype=float)[None, :]
    pred = np.clip(b + s, 0.0, None) if kind == "uniform" else b * np.exp(s)
    if normalize:
        totals = b.sum(axis=1)
        if not np.allclose(totals, 1.0, atol=1e-6):
            raise ValueError("normalize=True needs blocs that cover the whole vote (rows sum to 1)")
        pred = pred / pred.sum(axis=1, keepdims=True)
    return pd.DataFrame(pred, index=base.index, columns=cols)


def score_swing(
    base: pd.DataFrame,
    target: pd.DataFrame,
    *,
    blocs: Iterable[str] | None = None,
    kinds: Sequence[str] = ("none", "uniform", "proportional"),
    normalize: bool = True,
) -> pd.DataFrame:
    """Score how well each swing kind predicts the target's district shares from the baseline
    plus the *true* national swing (the target's own national result).

    Parameters
    ----------
    base, target : pandas.DataFrame
        District share tables on the same map (the baseline may be a past vote re-aggregated to
        the target's districts).
    blocs : iterable of str, optional
        Blocs to predict and score; default those in both tables. With `normalize` they must
        cover the whole vote.
    kinds : sequence of str
        Any of ``"none"`` (baseline unchanged, a reference), ``"uniform"``, ``"proportional"``.
    normalize : bool, default True
        See :func:`predict_shares`.

    Returns
    -------
    pandas.DataFrame
        Index: the kinds. Columns: ``rmse`` (over districts × blocs, share units),
        ``mae``, ``rmse_<bloc>`` per bloc, ``winners_correct`` (districts whose largest bloc is
        predicted right), ``districts`` and ``winners_share``.
    """
    _aligned(base, target)
    cols = _common(base, target, blocs)
    truth = target.loc[base.index, cols].to_numpy(dtype=float)
    rows = {}
    for kind in kinds:
        if kind == "none":
            pred = base[cols].to_numpy(dtype=float)
        else:
            nat = national_swing(base, target, kind, cols)
            pred = predict_shares(base, nat, kind, normalize=normalize).to_numpy()
        err = pred - truth
        correct = int((pred.argmax(axis=1) == truth.argmax(axis=1)).sum())
        row = {"rmse": float(np.sqrt((err**2).mean())), "mae": float(np.abs(err).mean())}
        row |= {f"rmse_{c}": float(v) for c, v in zip(cols, np.sqrt((err**2).mean(axis=0)),
                                                      strict=True)}
        row |= {"winners_correct": correct, "districts": len(truth),
                "winners_share": correct / len(truth)}
        rows[kind] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "kind"
    return out
