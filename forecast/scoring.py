"""Interval scores shared by every backtest (president, Congress, governors): the central
50/80/90% intervals of draws, whether the actual value lies in them, and the interval score of
Gneiting & Raftery (2007).

The interval score of the central ``(1 - alpha)`` interval ``[l, u]`` for the actual value ``x``
is ``(u - l) + (2 / alpha) (l - x) 1{x < l} + (2 / alpha) (x - u) 1{x > u}``: the width of the
interval plus a penalty for a miss that grows with the distance and with the interval's nominal
coverage (Gneiting & Raftery 2007, *Strictly proper scoring rules, prediction, and estimation*,
JASA 102:359-378, section 6.2). Lower is better; it is in the unit of the quantity (a share, a
number of seats). docs/backtest.md defines every score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

#: Nominal coverages of the central intervals scored (percent).
LEVELS = (50, 80, 90)
#: Quantiles kept for every scored quantity: the bounds of the three central intervals and the
#: median.
QUANTILES = {"q05": 0.05, "q10": 0.10, "q25": 0.25, "q50": 0.50, "q75": 0.75, "q90": 0.90,
             "q95": 0.95}
#: The bounds of each central interval.
BOUNDS = {50: ("q25", "q75"), 80: ("q10", "q90"), 90: ("q05", "q95")}


def interval_score(low: float, high: float, actual: float, level: int) -> float:
    """Interval score of the central ``level``% interval ``[low, high]`` for ``actual``."""
    alpha = 1.0 - level / 100.0
    penalty = 0.0
    if actual < low:
        penalty = 2.0 / alpha * (low - actual)
    elif actual > high:
        penalty = 2.0 / alpha * (actual - high)
    return float(high - low + penalty)


def interval_block(values: np.ndarray, actual: float) -> dict:
    """Mean, quantiles and the interval checks of one quantity's draws against its actual value.

    Returns ``actual``, ``mean``, ``q05 … q95`` (the keys of :data:`QUANTILES`), ``error``
    (mean minus actual), ``in_50``, ``in_80``, ``in_90`` (actual inside the central interval,
    bounds included) and ``is_50``, ``is_80``, ``is_90`` (interval scores).
    """
    values = np.asarray(values, dtype=float)
    q = np.quantile(values, list(QUANTILES.values()))
    block: dict = {"actual": actual, "mean": float(values.mean())}
    block.update({k: float(v) for k, v in zip(QUANTILES, q, strict=True)})
    block["error"] = block["mean"] - actual
    for level, (lo, hi) in BOUNDS.items():
        block[f"in_{level}"] = bool(block[lo] <= actual <= block[hi])
    for level, (lo, hi) in BOUNDS.items():
        block[f"is_{level}"] = interval_score(block[lo], block[hi], actual, level)
    return block


def summarise_blocks(blocks: Iterable[dict]) -> dict:
    """Pooled scores of interval blocks: ``n``, ``coverage`` and ``interval_score`` per level
    (fraction of actual values inside, mean interval score) and ``mae`` (mean |error|).

    Blocks without ``in_80``/``is_*`` (written before those existed) are scored on the levels
    they have."""
    blocks = [b for b in blocks if b is not None]
    out: dict = {"n": len(blocks), "coverage": {}, "interval_score": {}}
    for level in LEVELS:
        hits = [b[f"in_{level}"] for b in blocks if f"in_{level}" in b]
        scores = [b[f"is_{level}"] for b in blocks if f"is_{level}" in b]
        out["coverage"][str(level)] = float(np.mean(hits)) if hits else math.nan
        out["interval_score"][str(level)] = float(np.mean(scores)) if scores else math.nan
    errors = [abs(b["error"]) for b in blocks if "error" in b]
    out["mae"] = float(np.mean(errors)) if errors else math.nan
    return out
