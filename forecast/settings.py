"""Model-settings files (``models/*.toml``): ``[section]`` tables of ``key = value`` lines, each
key one field of a frozen settings dataclass, every key and value checked."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, Self

from .election import plain_column, show_value
from .files import read_input
from .problems import InputError, Problem, decode_utf8, did_you_mean, parse_toml

#: Settings files are a few kilobytes; anything larger than this is not one (read no further).
MAX_SETTINGS_BYTES = 1024 * 1024
#: No count a model takes (draws, chains, days, votes) is near this: a 5,000-digit integer in a
#: settings file is a typo or an attack, not a setting.
MAX_INT_SETTING = 10**12

_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")

#: ``expected(name, kind, value)``: what the field ``name`` (of type ``kind``, e.g. ``"float"``)
#: should be when ``value`` does not do, else None.
type Expectation = Callable[[str, str, object], str | None]


class Settings:
    """Methods shared by the settings dataclasses (each has a ``source`` field: its file)."""

    def with_(self, **changes: object) -> Self:
        """A copy with some settings changed (for studies and tests)."""
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """Plain dict of the settings (stored with every fit)."""
        out = asdict(self)
        out.pop("source")
        return out


def read_toml(path: Path, missing: str = "file not found") -> tuple[dict, str]:
    """Parse a TOML file that must be UTF-8.

    Parameters
    ----------
    path
        The file.
    missing
        Message when there is no such file.

    Returns
    -------
    data, text
        The parsed tables and the file's text (to find the line of a key).

    Raises
    ------
    InputError
        File missing, not UTF-8 or not valid TOML.
    """
    shown = str(path)
    raw = read_input(path, missing=missing, max_bytes=MAX_SETTINGS_BYTES)
    # Line endings as Path.read_text gives them, so old Mac files (lone \r) keep loading.
    text = decode_utf8(raw, shown).replace("\r\n", "\n").replace("\r", "\n")
    return parse_toml(text, shown), text


def key_line(text: str, section: str, key: str) -> int:
    """1-based line of ``key = ...`` in ``[section]`` (``""``: before any header), else 0.

    A key not found in its section (e.g. written as a dotted key) falls back to its first
    ``key = ...`` line anywhere, which is right whenever the key name is used only once.
    """
    lines = text.split("\n")
    current = ""
    for i, line in enumerate(lines):
        header = _HEADER.match(line.strip())
        if header:
            current = header.group(1)
        elif current == section and line.split("=")[0].strip() == key:
            return i + 1
    for i, line in enumerate(lines):
        if line.split("=")[0].strip() == key:
            return i + 1
    return 0


def load_settings[S: Settings](path: str | Path, cls: type[S],
                               layout: Mapping[tuple[str, str], str], expected: Expectation,
                               *, missing: str = "file not found") -> S:
    """Read a settings file into ``cls``, checking every section, key and value.

    Parameters
    ----------
    path
        The TOML file.
    cls
        The settings dataclass; fields not in the file keep their defaults, ``source`` is set to
        the path.
    layout
        ``(section, key) -> field name``: every key the file may have.
    expected
        Checks one value (see :data:`Expectation`); float fields are stored as ``float``.
    missing
        Message when there is no such file.

    Raises
    ------
    InputError
        Every unknown section or key and every wrong value, with file, line and
        ``section.key``; or the file missing, not UTF-8 or not valid TOML.
    """
    path = Path(path)
    shown = str(path)
    data, text = read_toml(path, missing)
    kinds = {f.name: str(f.type) for f in fields(cls)}
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    known = [f"{s}.{k}" for s, k in layout]
    sections = sorted({s for s, _ in layout})
    for section, table in data.items():
        if not isinstance(table, dict):
            # A setting written before any [section] header, e.g. "draws = 500".
            label = plain_column(section)
            problems.append(Problem(shown, key_line(text, "", section) if label else 0, label,
                                    f"{'' if label else show_value(section) + ': '}expected a "
                                    f"[section] (one of {', '.join(sections)})"
                                    f"{did_you_mean(section, [k for _, k in layout])}"))
            continue
        for key, value in table.items():
            name = layout.get((section, key))
            column = plain_column(f"{section}.{key}")
            line = key_line(text, section, key) if column else 0
            if name is None:
                # A mistyped key ("draw") or section ("[sampeler]") gets the closest setting.
                dotted = f"{section}.{key}"
                named = "" if column else show_value(dotted) + ": "
                problems.append(Problem(shown, line, column, f"{named}unknown setting"
                                        f"{did_you_mean(dotted, known)}"))
                continue
            kind = kinds[name]
            try:
                want = expected(name, kind, value)
                if want is None and kind == "float":
                    value = float(value)
            except (OverflowError, ValueError):
                # A TOML integer of thousands of digits (0xffff...) is no float.
                want = "a number of ordinary size"
            if want is None and kind == "int" and isinstance(value, int) \
                    and abs(value) > MAX_INT_SETTING:
                want = f"an integer of at most {MAX_INT_SETTING:,}"
            if want is not None:
                problems.append(Problem(shown, line, column,
                                        f"{show_value(value)}: expected {want}"))
                continue
            values[name] = value
    if problems:
        raise InputError(problems)
    return cls(**values, source=shown)
