"""Colours of candidates, parties and coalitions: read from an election's data files, with
defaults by a fixed rule when a file gives none.

No election's colours live here: the election folder's files give them (``color = "#rrggbb"``
of ``[[candidates]]`` and ``[coalitions.*]`` in ``election.toml``, ``[party_colors]`` of
``congress/congress.toml``, ``[candidacies.*]`` of ``governors/races.toml``; docs/report.md).
A key without a colour gets the first colour of :data:`DEFAULT_PALETTE`, in definition order,
that is not too close (:data:`MIN_DISTANCE`) to a colour already in use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: ``#rrggbb``: the only colour form the data files accept (no names, no shorthand, no alpha).
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}\Z")

#: Default colours, in the order they are handed out (Tableau 10, a palette designed for
#: distinct categories; documented in docs/report.md).
DEFAULT_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
                   "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")

#: A default colour closer than this (CIE76 ΔE in CIELAB) to a colour in use is skipped.
MIN_DISTANCE = 20.0

#: Colour of seats or states that belong to nobody (no race, median rounding).
NEUTRAL = "#e6e6e6"


def color_problem(value: object) -> str | None:
    """What is wrong with a colour from a data file, else None."""
    if not isinstance(value, str) or not HEX_COLOR.match(value):
        shown = repr(value) if isinstance(value, str) and len(value) < 40 else "the value"
        return f"{shown} is not a colour: expected \"#rrggbb\" (six hex digits)"
    return None


def _lab(color: str) -> tuple[float, float, float]:
    """CIELAB (D65) of a ``#rrggbb`` colour."""
    rgb = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def color_distance(a: str, b: str) -> float:
    """CIE76 colour difference (ΔE) between two ``#rrggbb`` colours (about 2.3: just noticeable;
    under 20: easily confused in a small legend patch)."""
    la, lb = _lab(a), _lab(b)
    return sum((p - q) ** 2 for p, q in zip(la, lb, strict=True)) ** 0.5


def assign_colors(keys: Iterable[str], given: Mapping[str, str | None] | None = None,
                  *, taken: Iterable[str] = ()) -> dict[str, str]:
    """A colour for every key: the given one, else the next default by the fixed rule.

    Parameters
    ----------
    keys
        Keys in definition order.
    given
        Colours from the data files (missing or None: not given).
    taken
        Colours already in use elsewhere on the same chart (kept apart from the defaults).

    Returns
    -------
    dict
        Key -> ``#rrggbb``. Defaults are taken in :data:`DEFAULT_PALETTE` order, skipping any
        within :data:`MIN_DISTANCE` of a colour in use; when none is left, the palette is reused
        in order.
    """
    keys = list(keys)
    given = dict(given or {})
    out: dict[str, str] = {k: str(given[k]).lower() for k in keys if given.get(k)}
    used = [*out.values(), *(t.lower() for t in taken)]
    spare = 0
    for k in keys:
        if k in out:
            continue
        choice = next((c for c in DEFAULT_PALETTE if c not in used
                       and all(color_distance(c, u) >= MIN_DISTANCE for u in used)), None)
        if choice is None:
            choice = DEFAULT_PALETTE[spare % len(DEFAULT_PALETTE)]
            spare += 1
        out[k] = choice
        used.append(choice)
    return out


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``)."""
    return "#000000" if _lab(background)[0] > 58 else "#ffffff"


def mix_with_white(color: str, strength: float) -> str:
    """``color`` at ``strength`` (0: white, 1: the colour itself), as ``#rrggbb``."""
    s = min(max(float(strength), 0.0), 1.0)
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - s * (255 - c)):02x}" for c in rgb)
