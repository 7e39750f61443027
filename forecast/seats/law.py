"""Seat law by year, as data: read a rules file (``polls/rules/mx/deputies-2024.toml``...).

A rules file holds every number the engine needs for one chamber and one election, each key
commented in the file with its article and source.  :func:`load_rules` reads one, checks every
section, key and value, and returns a :class:`~forecast.seats.ChamberRules` or
:class:`~forecast.seats.SenateRules`.  A file is named by its path or, inside the rules library
(``<project>/polls/rules/``), by its name without ``.toml``: ``"mx/deputies-2021"``.

Problems are reported the project's way (``forecast.problems``): ``FILE:LINE:KEY: message``,
one line each, all at once, as an :class:`~forecast.problems.InputError`.  The layout and the
meaning of every key are in ``docs/seats.md`` ("Seat law by year").
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from forecast.election import plain_column, show_value
from forecast.problems import InputError, Problem, decode_utf8
from forecast.seats.chamber import CAP_COUNTS, ChamberRules, majorities
from forecast.seats.senate import SenateRules
from forecast.settings import key_line, read_toml

if TYPE_CHECKING:
    from forecast.election import Election

__all__ = [
    "CHAMBERS",
    "RULES_FOLDER",
    "available_rules",
    "find_rules",
    "load_rules",
    "rules_folders",
    "rules_for_election",
    "rules_for_year",
]

#: The rules library, relative to a project folder (the one holding ``polls/``).
RULES_FOLDER = Path("polls") / "rules"
#: Country folder of the Mexican federal rules inside the library.
COUNTRY = "mx"
CHAMBERS = ("deputies", "senate")
# Library names: lowercase path segments, no "..", no absolute paths.
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*\Z")
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")

type Rules = ChamberRules | SenateRules


# --------------------------------------------------------------------------------------------
# Finding a rules file
# --------------------------------------------------------------------------------------------


def rules_folders(library: str | Path | None = None) -> list[Path]:
    """Folders searched for a rules name, in order.

    An explicit ``library`` folder alone; otherwise the rules library of the current directory's
    project (``./polls/rules``), then that of the project this package lives in (the way
    :func:`forecast.spec.find_model_file` finds ``models/``).
    """
    if library is not None:
        return [Path(library)]
    here = Path.cwd() / RULES_FOLDER
    project = Path(__file__).resolve().parents[2] / RULES_FOLDER
    return [here] if here.resolve() == project.resolve() else [here, project]


def available_rules(library: str | Path | None = None) -> list[str]:
    """Names of the rules files in the library (``"mx/deputies-2018"``, ...), sorted."""
    names: set[str] = set()
    for folder in rules_folders(library):
        if folder.is_dir():
            names.update(p.relative_to(folder).with_suffix("").as_posix()
                         for p in folder.rglob("*.toml"))
    return sorted(names)


def find_rules(name: str, library: str | Path | None = None) -> Path:
    """The file of the rules named ``name`` (``"mx/deputies-2021"``) in the rules library.

    Raises
    ------
    InputError
        The name is not a library name, or no folder holds it (the message lists the names
        that exist).
    """
    if not _NAME.match(name) or ".." in name.split("/"):
        raise InputError([Problem(show_value(name), 0, "", "expected a rules file path or a "
                                  "rules name like 'mx/deputies-2024'")])
    folders = rules_folders(library)
    for folder in folders:
        path = folder / f"{name}.toml"
        if path.is_file():
            return path
    known = available_rules(library)
    where = " or ".join(str(f) for f in folders)
    hint = difflib.get_close_matches(name, known, n=1)
    also = f"; did you mean '{hint[0]}'?" if hint else ""
    listed = f" (available: {', '.join(known)})" if known else ""
    raise InputError([Problem(name, 0, "", f"no rules named '{name}' in {where}{listed}{also}")])


def rules_for_year(chamber: str, year: int, library: str | Path | None = None) -> Rules:
    """The federal rules of ``chamber`` (``"deputies"`` or ``"senate"``) for an election year."""
    if chamber not in CHAMBERS:
        raise ValueError(f"chamber must be one of {', '.join(CHAMBERS)}")
    return load_rules(f"{COUNTRY}/{chamber}-{year}", library=library, chamber=chamber)


def rules_for_election(election: Election, chamber: str) -> Rules:
    """The rules an election definition names for ``chamber``.

    ``election.toml`` names them in a ``[seat_rules]`` table, by library name or by a path
    relative to the election folder::

        [seat_rules]
        deputies = "mx/deputies-2018"
        senate = "mx/senate-2018"

    Library names resolve in the rules library of the election's project (``polls/rules/``
    next to the election folder), then as :func:`load_rules` does.

    Raises
    ------
    InputError
        No ``[seat_rules]`` entry for the chamber, a value that is not a string, or a rules
        file that does not load.
    """
    if chamber not in CHAMBERS:
        raise ValueError(f"chamber must be one of {', '.join(CHAMBERS)}")
    shown = str(election.directory / "election.toml")
    text = ""
    if Path(shown).is_file():
        text = decode_utf8(Path(shown).read_bytes(), shown)
    table = election.extra.get("seat_rules")
    if not isinstance(table, dict):
        line = key_line(text, "", "seat_rules") if table is not None else 0
        raise InputError([Problem(shown, line, "seat_rules", "expected a [seat_rules] table "
                                  f"naming the rules of each chamber, e.g. {chamber} = "
                                  f"\"{COUNTRY}/{chamber}-{election.election_day.year}\"")])
    value = table.get(chamber)
    line = key_line(text, "seat_rules", chamber)
    if not isinstance(value, str):
        got = "missing;" if value is None else f"{show_value(value)}:"
        raise InputError([Problem(shown, line, f"seat_rules.{chamber}",
                                  f"{got} expected the name or path of a {chamber} rules file")])
    relative = election.directory / value
    if value.endswith(".toml") or relative.is_file():
        return load_rules(relative, chamber=chamber)
    project = election.directory.resolve().parent  # the polls/ folder holding the election
    local = project / "rules"
    library = local if (local / f"{value}.toml").is_file() else None
    return load_rules(value, library=library, chamber=chamber)


# --------------------------------------------------------------------------------------------
# Reading and checking a rules file
# --------------------------------------------------------------------------------------------

# Value checks: each returns None when the value does, else what was expected.
type Check = Callable[[object], str | None]


def _integer(low: int, high: int) -> Check:
    def check(value: object) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"an integer between {low} and {high}"
    return check


def _number(low: float, high: float, *, allow_false: bool = False) -> Check:
    def check(value: object) -> str | None:
        if allow_false and value is False:
            return None
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value) and low <= value < high)
        off = " (or false: no limit)" if allow_false else ""
        return None if ok else f"a number at least {low:g} and below {high:g}{off}"
    return check


def _integer_or_false(low: int, high: int) -> Check:
    inner = _integer(low, high)

    def check(value: object) -> str | None:
        return None if value is False or inner(value) is None else (
            f"an integer between {low} and {high} (or false: no limit)")
    return check


def _choice(*options: str) -> Check:
    def check(value: object) -> str | None:
        ok = isinstance(value, str) and value in options
        return None if ok else "one of " + ", ".join(f"'{o}'" for o in options)
    return check


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _text(value: object) -> str | None:
    ok = isinstance(value, str) and len(value) <= 500
    return None if ok else "a string (500 characters at most)"


@dataclass(frozen=True)
class _Key:
    check: Check
    required: bool = True


_SIZE = 100_000
_LAW = {"chamber": _Key(_choice(*CHAMBERS)), "year": _Key(_integer(1900, 2200)),
        "title": _Key(_text, required=False)}
_THRESHOLD = {"percent": _Key(_number(0, 100))}
_VOTES = {"vve_includes_independents": _Key(_boolean),
          "vne": _Key(_choice("qualifying_parties"))}
_MAJORITIES = {"majority": _Key(_integer(1, _SIZE), required=False),
               "two_thirds": _Key(_integer(1, _SIZE), required=False)}
LAYOUTS: dict[str, dict[str, dict[str, _Key]]] = {
    "deputies": {
        "law": _LAW,
        "seats": {
            "size": _Key(_integer(1, _SIZE)),
            "district_seats": _Key(_integer(0, _SIZE)),
            "list_seats": _Key(_integer(0, _SIZE)),
            "circunscripciones": _Key(_integer(1, 1_000)),
            "seats_per_circunscripcion": _Key(_integer(0, _SIZE), required=False),
            "min_district_candidacies": _Key(_integer(0, _SIZE)),
        },
        "threshold": _THRESHOLD,
        "votes": _VOTES,
        "limits": {
            "overrepresentation_points": _Key(_number(0, 100, allow_false=True)),
            "max_seats": _Key(_integer_or_false(1, _SIZE)),
            "cap_counts": _Key(_choice(*CAP_COUNTS)),
        },
        "majorities": _MAJORITIES,
    },
    "senate": {
        "law": _LAW,
        "seats": {
            "states": _Key(_integer(1, 1_000)),
            "plurality_per_state": _Key(_integer(0, 100)),
            "first_minority_per_state": _Key(_integer(0, 100)),
            "list_seats": _Key(_integer(0, _SIZE)),
            "size": _Key(_integer(1, _SIZE), required=False),
        },
        "threshold": _THRESHOLD,
        "votes": _VOTES,
        "majorities": _MAJORITIES,
    },
}


def _section_line(text: str, section: str) -> int:
    for i, line in enumerate(text.split("\n")):
        header = _HEADER.match(line.strip())
        if header and header.group(1).strip().strip("\"'") == section:
            return i + 1
    return key_line(text, "", section)


def _close(name: str, known: list[str]) -> str | None:
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return match[0] if match else None


def _hint(name: str, known: list[str]) -> str:
    match = _close(name, known)
    return f" (did you mean '{match}'?)" if match else f" (expected one of: {', '.join(known)})"


def load_rules(source: str | Path, *, library: str | Path | None = None,
               chamber: str | None = None) -> Rules:
    """Read a seat-law rules file.

    Parameters
    ----------
    source
        A path to a ``.toml`` file, or a name in the rules library (``"mx/deputies-2021"``).
        A string that names an existing file, or ends in ``.toml``, is a path.
    library
        The rules library folder; default ``./polls/rules`` then the package's project's
        ``polls/rules`` (see :func:`rules_folders`).
    chamber
        When given, the file must be the rules of this chamber (``"deputies"``/``"senate"``).

    Returns
    -------
    ChamberRules or SenateRules
        According to the file's ``[law] chamber``; ``source`` is the file's path.

    Raises
    ------
    InputError
        Every problem in the file, one line each as ``FILE:LINE:SECTION.KEY: message``: unknown
        sections and keys (with a "did you mean" hint), missing keys, values of the wrong type
        or out of range, seat numbers that do not add up, stated majorities that do not follow
        from the chamber size; or the file missing, not UTF-8 or not valid TOML.
    """
    text_source = str(source)
    if isinstance(source, Path) or Path(text_source).is_file() or text_source.endswith(".toml"):
        path = Path(source)
    else:
        path = find_rules(text_source, library)
    shown = str(path)
    data, text = read_toml(path, missing="rules file not found")
    problems: list[Problem] = []

    def add(line: int, key: str, message: str) -> None:
        column = plain_column(key)
        named = "" if column else f"{show_value(key)}: "
        problems.append(Problem(shown, line, column, named + message))

    law = data.get("law")
    kind = law.get("chamber") if isinstance(law, dict) else None
    if kind not in CHAMBERS:
        line = key_line(text, "law", "chamber") or _section_line(text, "law")
        got = "missing;" if kind is None else f"{show_value(kind)}:"
        add(line, "law.chamber",
            f"{got} expected 'deputies' or 'senate' (which chamber these rules are for)")
        raise InputError(problems)
    if chamber is not None and kind != chamber:
        add(key_line(text, "law", "chamber"), "law.chamber",
            f"these are {kind} rules; expected {chamber} rules")
        raise InputError(problems)
    layout = LAYOUTS[kind]
    values: dict[tuple[str, str], object] = {}
    # A misspelt key or section is reported once, as unknown with its hint, not also as the
    # missing key it was meant to be.
    hinted: set[tuple[str, str]] = set()
    for section, table in data.items():
        line = _section_line(text, section)
        if section not in layout:
            add(line, section, "unknown section" + _hint(section, list(layout)))
            meant = _close(section, list(layout))
            if meant is not None:
                hinted.update((meant, key) for key in layout[meant])
            continue
        if not isinstance(table, dict):
            add(line, section, f"{show_value(table)}: expected a [{section}] table")
            continue
        keys = layout[section]
        for key, value in table.items():
            kline = key_line(text, section, key)
            if key not in keys:
                add(kline, f"{section}.{key}", "unknown key" + _hint(key, list(keys)))
                hinted.add((section, _close(key, list(keys)) or ""))
                continue
            want = keys[key].check(value)
            if want is not None:
                add(kline, f"{section}.{key}", f"{show_value(value)}: expected {want}")
                continue
            values[(section, key)] = value
    for section, keys in layout.items():
        for key, spec in keys.items():
            if spec.required and (section, key) not in values and (section, key) not in hinted \
                    and not any(p.column == f"{section}.{key}" for p in problems):
                where = _section_line(text, section) if section in data else 0
                add(where, f"{section}.{key}", f"missing; expected {spec.check(None)}")
    if problems:
        raise InputError(problems)

    def line_of(section: str, key: str) -> int:
        return key_line(text, section, key)

    def get(section: str, key: str) -> object:
        return values.get((section, key))

    year = get("law", "year")
    threshold = Fraction(str(get("threshold", "percent"))) / 100
    independents = bool(get("votes", "vve_includes_independents"))
    if kind == "deputies":
        size, district, listed = (int(get("seats", k)) for k in  # type: ignore[arg-type]
                                  ("size", "district_seats", "list_seats"))
        circ = int(get("seats", "circunscripciones"))  # type: ignore[arg-type]
        if district + listed != size:
            add(line_of("seats", "size"), "seats.size",
                f"expected district_seats + list_seats = {district + listed}, got {size}")
        if listed % circ:
            add(line_of("seats", "circunscripciones"), "seats.circunscripciones",
                f"expected a divisor of list_seats ({listed}): each circunscripción elects as "
                f"many list seats, got {circ}")
        per = get("seats", "seats_per_circunscripcion")
        if per is not None and not listed % circ and per != listed // circ:
            add(line_of("seats", "seats_per_circunscripcion"),
                "seats.seats_per_circunscripcion",
                f"expected list_seats / circunscripciones = {listed // circ}, got {per}")
        points = get("limits", "overrepresentation_points")
        max_seats = get("limits", "max_seats")
        if isinstance(max_seats, int) and not isinstance(max_seats, bool) and max_seats > size:
            add(line_of("limits", "max_seats"), "limits.max_seats",
                f"expected at most the chamber size ({size}), got {max_seats}")
        rules_kwargs = {
            "size": size, "district_seats": district, "list_seats": listed,
            "threshold": threshold,
            "overrepresentation_points": None if points is False
            else Fraction(str(points)) / 100,
            "max_seats": None if max_seats is False else max_seats,
            "circunscripciones": circ,
            "min_district_candidacies": get("seats", "min_district_candidacies"),
            "cap_counts": get("limits", "cap_counts"),
            "vve_includes_independents": independents,
            "source": shown, "year": year,
        }
        build: Callable[..., Rules] = ChamberRules
    else:
        states = int(get("seats", "states"))  # type: ignore[arg-type]
        plural = int(get("seats", "plurality_per_state"))  # type: ignore[arg-type]
        minority = int(get("seats", "first_minority_per_state"))  # type: ignore[arg-type]
        listed = int(get("seats", "list_seats"))  # type: ignore[arg-type]
        size = states * (plural + minority) + listed
        stated = get("seats", "size")
        if stated is not None and stated != size:
            add(line_of("seats", "size"), "seats.size",
                f"expected states * (plurality_per_state + first_minority_per_state) + "
                f"list_seats = {size}, got {stated}")
        rules_kwargs = {
            "states": states, "plurality_per_state": plural,
            "first_minority_per_state": minority, "list_seats": listed,
            "threshold": threshold, "vve_includes_independents": independents,
            "source": shown, "year": year,
        }
        build = SenateRules
    majority, two_thirds = majorities(size)
    for key, expected, what in (("majority", majority, "more than half"),
                                ("two_thirds", two_thirds, "two thirds, rounded up,")):
        stated_value = get("majorities", key)
        if stated_value is not None and stated_value != expected:
            add(line_of("majorities", key), f"majorities.{key}",
                f"expected {expected} ({what} of {size} seats), got {stated_value}")
    if problems:
        raise InputError(problems)
    try:
        return build(**rules_kwargs)
    except (TypeError, ValueError) as exc:  # pragma: no cover - the checks above come first
        raise InputError([Problem(shown, 0, "", f"inconsistent rules: {exc}")]) from None
