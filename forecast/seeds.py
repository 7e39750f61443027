"""Seeds derived from one user seed, by purpose: never from the order in which work runs."""

from __future__ import annotations

import hashlib
import json

#: The seed every command and function uses unless given one (any integer will do: it is the
#: 2018 election day only as a memorable number).
DEFAULT_SEED = 20180701


def derive_seed(seed: int, purpose: str, levels: dict[str, object] | None = None) -> int:
    """A 32-bit seed from a seed, a purpose (e.g. ``"congress/simulate"``) and optional factor
    levels (order-free).

    The same arguments always give the same seed, wherever and in whatever order the work
    runs, so turning a stage or a scenario on or off never changes another one's numbers.
    """
    text = json.dumps({"seed": int(seed), "purpose": purpose,
                       "levels": {k: (levels or {})[k] for k in sorted(levels or {})}},
                      sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "little")
