"""Read an election definition (``election.toml``): day, candidates, windows, coalitions.

Nothing about a particular election lives in code: a new election is a new folder with its own
``election.toml`` and poll file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from .colors import color_problem
from .files import name_inside, read_input
from .problems import InputError, Problem, decode_utf8, name_problem, parse_toml, unknown_key

#: Poll-file columns that are not candidates.
RESERVED_COLUMNS = (
    "pollster", "poll_id", "field_start", "field_end", "published", "sample_size", "mode",
    "basis", "partial", "tolerance", "other", "undecided", "source",
)
#: Columns the validated poll table (``forecast.polls.PollTable``) adds: a candidate with one of
#: these keys would overwrite them (``line``) or crash the loader (``poll``), so they are refused.
TABLE_COLUMNS = ("poll", "line", "midpoint", "sample_size_imputed", "decided_share", "n_decided",
                 "known", "window_days", "date_precision")
#: Settings of a [coalitions.<key>] table and of a [[candidates]] table.
COALITION_KEYS = ("name", "parties", "color")
CANDIDATE_KEYS = ("key", "name", "party", "coalition", "available_from", "available_until",
                  "note", "short_name", "color")
#: Top-level numeric settings: (type, lowest, highest). The two ``assumed_*`` settings date a
#: poll that gives only its publication date (docs/poll-files.md, "Dates"); their defaults are
#: the medians of the 2018 poll file (63 polls with both dates: publication 3 days after the
#: end of fieldwork; 95 polls: 4 days of fieldwork).
NUMBERS: dict[str, tuple[type, float, float]] = {
    "default_sample_size": (int, 1, 10**7),
    "default_undecided_share": (float, 0.0, 0.95),
    "total_tolerance": (float, 0.0, 50.0),
    "assumed_publication_lag_days": (int, 0, 60),
    "assumed_fieldwork_days": (int, 1, 60),
}
#: Tables read by other parts of the toolkit, kept as read in ``Election.extra``: the seat law
#: of each chamber (forecast.seats.law.rules_for_election).
EXTRA_TABLES = ("seat_rules",)
TOP_KEYS = ("key", "name", "election_day", "campaign_start", "poll_file", "results_file",
            "model_file", "candidates", "coalitions", "other_options", *NUMBERS,
            *EXTRA_TABLES)
#: ``model_file`` as a name in the project's models library (``"kr/president"`` ->
#: ``models/kr/president.toml``): lowercase path segments, no ``..``.
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*\Z")
# ``\Z``, not ``$``: ``$`` also matches before a final newline, which let "x\n" pass as a key.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Coalition:
    """A party or alliance that backs candidates (``parties`` are its member parties)."""

    key: str
    name: str
    parties: tuple[str, ...] = ()
    color: str | None = None  # "#rrggbb" for charts (None: a default, forecast.colors)


@dataclass(frozen=True)
class Candidate:
    """A candidate and the window in which polls may offer them.

    ``available_from``/``available_until`` bound the dates on which the candidate was in the race;
    a candidate is on the election-day ballot when the window contains election day.
    """

    key: str
    name: str
    coalition: str
    party: str
    available_from: dt.date
    available_until: dt.date
    note: str = ""
    short_name: str = ""  # for charts and sentences (default: the name)
    color: str | None = None  # "#rrggbb" for charts (None: a default, forecast.colors)

    @property
    def label(self) -> str:
        """The short name for charts, else the name."""
        return self.short_name or self.name

    def available_on(self, day: dt.date) -> bool:
        """Whether the candidate was in the race on ``day``."""
        return self.available_from <= day <= self.available_until


@dataclass(frozen=True)
class Election:
    """An election definition, as read from ``election.toml``."""

    key: str
    name: str
    election_day: dt.date
    campaign_start: dt.date
    candidates: tuple[Candidate, ...]
    coalitions: dict[str, Coalition]
    directory: Path
    poll_file: str = "president.csv"
    default_sample_size: int = 800
    default_undecided_share: float = 0.2
    total_tolerance: float = 2.5
    assumed_publication_lag_days: int = 3
    assumed_fieldwork_days: int = 4
    results_file: str | None = None
    #: The model settings the election names (forecast.spec.election_model_file): a name in the
    #: project's models library or a ``.toml`` file inside the election folder; None: none named.
    model_file: str | None = None
    other_options: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def candidate_keys(self) -> list[str]:
        """Keys of every candidate, in definition order (the model's ``candidate`` dimension)."""
        return [c.key for c in self.candidates]

    @property
    def ballot(self) -> list[str]:
        """Keys of the candidates on the election-day ballot."""
        return [c.key for c in self.candidates if c.available_on(self.election_day)]

    def candidate(self, key: str) -> Candidate:
        """The candidate with this key."""
        for c in self.candidates:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def poll_path(self) -> Path:
        """Path of the presidential poll file."""
        return self.directory / self.poll_file


def _line_of(text: str, pattern: str, occurrence: int = 0) -> int:
    """1-based line of the ``occurrence``-th line matching ``pattern`` (0 when absent)."""
    # split("\n"), not splitlines(): TOML lines end at "\n" only, and splitlines() also breaks at
    # U+2028, U+0085, form feeds... that TOML allows in strings and comments, which shifted every
    # later line number.
    lines = text.split("\n")
    hits = [i + 1 for i, line in enumerate(lines) if re.search(pattern, line)]
    return hits[occurrence] if occurrence < len(hits) else 0


def _top_key_line(text: str, key: str) -> int:
    """Line of a top-level ``key = ...`` or ``[key...]`` header (0 when not found)."""
    quoted = rf"({re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    return (_line_of(text, rf"^\s*{quoted}\s*=")
            or _line_of(text, rf"^\s*\[\[?\s*{quoted}\s*[\].]"))


def _table_key_line(text: str, start: int, key: str) -> int:
    """Line of ``key = ...`` in the table whose header is on line ``start`` (else ``start``)."""
    lines = text.split("\n")
    quoted = rf"({re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    for i in range(start, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if re.match(rf"^{quoted}\s*=", stripped):
            return i + 1
    return start


def show_value(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a message: one line, at most ``limit`` characters.

    ``repr`` raises ValueError on integers of more than 4300 digits (a TOML hex integer can be
    that long), and nested garbage can be megabytes long.
    """
    try:
        text = repr(value)
    except ValueError:
        if isinstance(value, int):
            return f"<integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
        return f"<{type(value).__name__} holding an integer of more than 4300 digits>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plain_column(name: str) -> str:
    """``name`` if it can stand as COLUMN in ``FILE:LINE:COLUMN: message``, else ``""`` (shown
    as ``-``; the caller then names it in the message). A hostile key or header with a newline,
    a control character or a colon would break the one-line, colon-separated format."""
    return name if name.isprintable() and ":" not in name else ""


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def load_election(directory: str | Path) -> Election:
    """Read ``election.toml`` from an election folder.

    Parameters
    ----------
    directory
        Folder holding ``election.toml`` (and the poll files it names).

    Returns
    -------
    Election

    Raises
    ------
    InputError
        With every problem found, each naming file, line and key.
    """
    directory = Path(directory)
    path = directory / "election.toml"
    shown = str(path)
    raw = read_input(path, missing="no election definition: expected election.toml")
    text = decode_utf8(raw, shown)
    data = parse_toml(text, shown)

    problems: list[Problem] = []

    def need_date(table: dict, key: str, line: int) -> dt.date | None:
        if key not in table:
            problems.append(Problem(shown, line, key, "missing; expected a date YYYY-MM-DD"))
            return None
        value = _as_date(table[key])
        if value is None:
            problems.append(Problem(shown, line, key,
                                    f"{show_value(table[key])} is not a date; expected YYYY-MM-DD"))
        return value

    def top_line(key: str) -> int:
        return _line_of(text, rf"^\s*{re.escape(key)}\s*=")

    election_day = need_date(data, "election_day", top_line("election_day"))
    campaign_start = need_date(data, "campaign_start", top_line("campaign_start"))
    if election_day and campaign_start and campaign_start > election_day:
        problems.append(Problem(shown, top_line("campaign_start"), "campaign_start",
                                "campaign_start is after election_day"))
    key = data.get("key", directory.name)
    name = data.get("name", key)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.append(Problem(shown, top_line("key"), "key",
                                f"{show_value(key)}: expected a lowercase key like 'mx2018'"))
    # Free-text settings must be strings: a list or table used to be kept as is (name) or turned
    # into its repr (poll_file), and a huge integer made str() raise ValueError.
    for skey in ("name", "poll_file", "results_file"):
        if skey in data and not isinstance(data[skey], str):
            problems.append(Problem(shown, top_line(skey), skey,
                                    f"{show_value(data[skey])}: expected a string"))
        elif skey == "name" and skey in data and (bad := name_problem(name)):
            problems.append(Problem(shown, top_line(skey), skey, f"{show_value(name)} {bad}"))
        elif skey in data and skey != "name" and (bad := name_inside(directory, data[skey])):
            # Names are relative to the folder and must stay in it: "../../x.csv" made
            # `polls add` rewrite a file outside the election.
            problems.append(Problem(shown, top_line(skey), skey,
                                    f"{show_value(data[skey])}: {bad}"))
    if "model_file" in data:
        value = data["model_file"]
        if not isinstance(value, str):
            problems.append(Problem(shown, top_line("model_file"), "model_file",
                                    f"{show_value(value)}: expected a string"))
        elif value.endswith(".toml") and (bad := name_inside(directory, value)):
            problems.append(Problem(shown, top_line("model_file"), "model_file",
                                    f"{show_value(value)}: {bad}"))
        elif not value.endswith(".toml") and not MODEL_NAME.match(value):
            problems.append(Problem(shown, top_line("model_file"), "model_file",
                                    f"{show_value(value)}: expected a name in the models library "
                                    "like 'kr/president' (models/kr/president.toml) or a .toml "
                                    "file inside the election folder"))
    for ukey in data:
        if ukey not in TOP_KEYS:
            column = plain_column(ukey)
            problems.append(Problem(shown, _top_key_line(text, ukey), column,
                                    unknown_key(ukey, TOP_KEYS)))

    coalitions: dict[str, Coalition] = {}
    raw_coalitions = data.get("coalitions", {})
    if not isinstance(raw_coalitions, dict):
        problems.append(Problem(shown, top_line("coalitions"), "coalitions",
                                "expected a table [coalitions.<key>]"))
        raw_coalitions = {}
    for ckey, table in raw_coalitions.items():
        # Also [coalitions."key"] and [ coalitions . key ]: quoted keys are where hostile names
        # come from, and they were reported at line 0.
        quoted = re.escape(ckey)
        line = _line_of(text,
                        rf"^\s*\[\s*coalitions\s*\.\s*({quoted}|\"{quoted}\"|'{quoted}')\s*\]")
        # A quoted TOML key may hold anything ("a\nb", "a: b"): such a key is named in the
        # message, not the COLUMN field.
        column = plain_column(f"coalitions.{ckey}")
        named = "" if column else f"coalition {show_value(ckey)}: "
        if not KEY_PATTERN.match(ckey):
            problems.append(Problem(shown, line, column,
                                    f"{named}expected a lowercase key (letters, digits, _)"))
        if not isinstance(table, dict) or not isinstance(table.get("name", ""), str):
            problems.append(Problem(
                shown, line, column,
                f"{named}expected a table with name = \"...\" and parties = [...]"))
            continue
        if bad := name_problem(table.get("name", "")):
            problems.append(Problem(shown, line, column and f"{column}.name",
                                    f"{named}{show_value(table['name'])} {bad}"))
        for extra in table:
            if extra not in COALITION_KEYS:
                where = plain_column(f"{column}.{extra}") if column else ""
                problems.append(Problem(
                    shown, _table_key_line(text, line, extra) if where else line, where,
                    f"{named}{unknown_key(extra, COALITION_KEYS)}"))
        parties = table.get("parties", [])
        if not isinstance(parties, list) or not all(isinstance(p, str) for p in parties):
            problems.append(Problem(shown, line, column and f"{column}.parties",
                                    f"{named}expected a list of party keys"))
            parties = []
        color = table.get("color")
        if color is not None and (bad := color_problem(color)):
            problems.append(Problem(shown, _table_key_line(text, line, "color"),
                                    column and f"{column}.color", f"{named}{bad}"))
            color = None
        coalitions[ckey] = Coalition(ckey, table.get("name", ckey), tuple(parties), color)

    candidates: list[Candidate] = []
    raw_candidates = data.get("candidates", [])
    if not isinstance(raw_candidates, list) or not raw_candidates:
        problems.append(Problem(shown, 0, "candidates",
                                "expected at least two [[candidates]] tables"))
        raw_candidates = []
    seen: set[str] = set()
    for i, table in enumerate(raw_candidates):
        line = _line_of(text, r"^\s*\[\[candidates\]\]", i)
        if not isinstance(table, dict):
            problems.append(Problem(shown, line, "candidates", "expected a [[candidates]] table"))
            continue
        ckey = table.get("key")
        if not isinstance(ckey, str) or not KEY_PATTERN.match(ckey):
            problems.append(Problem(
                shown, line, "key",
                f"candidate key {show_value(ckey)}: expected a lowercase key like 'amlo'"))
            continue
        if ckey in RESERVED_COLUMNS:
            problems.append(Problem(shown, line, "key",
                                    f"candidate key {ckey!r} is a reserved poll-file column"))
        if ckey in TABLE_COLUMNS:
            problems.append(Problem(shown, line, "key",
                                    f"candidate key {ckey!r} is a column of the poll table "
                                    f"({', '.join(TABLE_COLUMNS)}): choose another key"))
        if ckey in seen:
            problems.append(Problem(shown, line, "key", f"candidate key {ckey!r} appears twice"))
        seen.add(ckey)
        coalition = table.get("coalition")
        if not isinstance(coalition, str) or (coalitions and coalition not in coalitions):
            problems.append(Problem(
                shown, line, "coalition",
                f"candidate {ckey!r}: coalition {show_value(coalition)} is not defined; "
                f"expected one of {sorted(coalitions)}"))
            # Not str(coalition): that raises ValueError for a 5,000-digit integer. The error
            # above already stops loading, so the value is never used.
            coalition = coalition if isinstance(coalition, str) else ""
        # Free text must be strings: str() kept lists as their repr and raised ValueError for a
        # 5,000-digit integer.
        texts = {"name": ckey, "party": coalition, "note": "", "short_name": ""}
        for skey, default in texts.items():
            value = table.get(skey, default)
            if not isinstance(value, str):
                problems.append(Problem(shown, line, skey, f"candidate {ckey!r}: "
                                        f"{show_value(value)}: expected a string"))
            elif skey != "note" and (bad := name_problem(value)):
                # Names reach the terminal and one-line messages; the note is free text.
                problems.append(Problem(shown, line, skey, f"candidate {ckey!r}: "
                                        f"{show_value(value)} {bad}"))
            else:
                texts[skey] = value
        color = table.get("color")
        if color is not None and (bad := color_problem(color)):
            problems.append(Problem(shown, _table_key_line(text, line, "color"), "color",
                                    f"candidate {ckey!r}: {bad}"))
            color = None
        for extra in table:
            if extra not in CANDIDATE_KEYS:
                column = plain_column(extra)
                problems.append(Problem(
                    shown, _table_key_line(text, line, extra) if column else line, column,
                    f"candidate {ckey!r}: {unknown_key(extra, CANDIDATE_KEYS)}"))
        start = _as_date(table.get("available_from", campaign_start))
        end = _as_date(table.get("available_until", election_day))
        if start is None or end is None:
            problems.append(Problem(shown, line, "available_from",
                                    f"candidate {ckey!r}: window dates must be YYYY-MM-DD"))
            continue
        if start > end:
            problems.append(Problem(
                shown, line, "available_until",
                f"candidate {ckey!r}: available_until is before available_from"))
        candidates.append(Candidate(
            key=ckey, name=texts["name"], coalition=coalition, party=texts["party"],
            available_from=start, available_until=end, note=texts["note"],
            short_name=texts["short_name"], color=color,
        ))
    if len(candidates) < 2 and raw_candidates:
        problems.append(Problem(shown, 0, "candidates", "expected at least two candidates"))
    if election_day and candidates and sum(c.available_on(election_day) for c in candidates) < 2:
        problems.append(Problem(shown, 0, "candidates",
                                "fewer than two candidates are available on election_day"))

    settings: dict[str, float | int] = {}
    for nkey, (kind, low, high) in NUMBERS.items():
        if nkey not in data:
            continue
        value = data[nkey]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and kind is int and not isinstance(value, int):
            ok = False
        if not ok or not (low <= value <= high):
            problems.append(Problem(
                shown, top_line(nkey), nkey,
                f"{show_value(value)}: expected a {kind.__name__} in [{low}, {high}]"))
        else:
            settings[nkey] = kind(value)

    other_options = data.get("other_options", [])
    if not isinstance(other_options, list) or not all(
            isinstance(o, str) and KEY_PATTERN.match(o) for o in other_options):
        problems.append(Problem(shown, top_line("other_options"), "other_options",
                                "expected a list of lowercase column names"))
        other_options = []
    for o in other_options:
        if o in seen or o in RESERVED_COLUMNS:
            problems.append(Problem(shown, top_line("other_options"), "other_options",
                                    f"{o!r} is already a candidate or reserved column"))

    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    assert election_day is not None and campaign_start is not None
    return Election(
        key=key, name=name, election_day=election_day, campaign_start=campaign_start,
        candidates=tuple(candidates), coalitions=coalitions, directory=directory,
        poll_file=str(data.get("poll_file", "president.csv")),
        results_file=data.get("results_file"), model_file=data.get("model_file"),
        other_options=tuple(other_options),
        extra={k: data[k] for k in EXTRA_TABLES if k in data},
        **settings,
    )
