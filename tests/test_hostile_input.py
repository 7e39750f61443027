"""Hostile input: property-based tests of the poll loader and the election-definition loader.

Every input either loads correctly or raises :class:`InputError` whose every problem formats as
``FILE:LINE:COLUMN: message`` on one line; no other exception escapes, and loading never changes
a file on disk nor creates one. Accepted alternative formats (``;`` with decimal commas, ``42%``,
a BOM, Windows-1252/Latin-1, CRLF or CR line endings, quoted newlines) must load to exactly the
same table as the clean file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from forecast.election import RESERVED_COLUMNS, Election, load_election
from forecast.polls import PollTable, read_polls
from forecast.problems import InputError, Problem

from .conftest import MX2018

#: Examples per property; HOSTILE_EXAMPLES=5000 for a deeper search (the default keeps the file
#: well under a minute).
PROPERTY = settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KEY = re.compile(r"[a-z][a-z0-9_]*")
#: Columns of the validated poll table that are not poll-file columns.
TABLE_COLUMNS = ("poll", "line", "midpoint", "sample_size_imputed", "decided_share", "n_decided")

# --------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------


def _snapshot(directory: Path) -> dict[str, str]:
    """Every file (sha256) and folder under ``directory``."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            out[os.path.relpath(os.path.join(root, name), directory)] = "dir"
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                out[os.path.relpath(full, directory)] = hashlib.sha256(handle.read()).hexdigest()
    return out


def _check_problems(problems: list[Problem], path: Path) -> None:
    """Each problem is ``FILE:LINE:COLUMN: message`` on a single printable line."""
    assert problems
    for p in problems:
        assert isinstance(p, Problem)
        assert p.path == str(path)
        assert type(p.line) is int and p.line >= 0, p
        assert isinstance(p.column, str) and isinstance(p.message, str) and p.message, p
        assert p.severity in ("error", "warning"), p
        text = str(p)
        assert text.isprintable(), repr(text)
        match = re.fullmatch(re.escape(str(path)) + r":(\d+):([^:]+): (warning: )?(.+)", text)
        assert match, repr(text)
        assert int(match[1]) == p.line and match[2] == (p.column or "-"), repr(text)
        assert (match[3] is not None) == (p.severity == "warning"), repr(text)


def _errors(exc: InputError) -> list[Problem]:
    return [p for p in exc.problems if p.severity == "error"]


# --------------------------------------------------------------------------------------------
# Poll files
# --------------------------------------------------------------------------------------------

ELECTION = load_election(MX2018)
POLL_PATH = MX2018 / "president.csv"


_REAL = list(csv.reader(io.StringIO(POLL_PATH.read_text(encoding="utf-8"), newline="")))
HEADER = _REAL[0]
SHARES = [c for c in HEADER if c in {*ELECTION.candidate_keys, *ELECTION.other_options,
                                     "other", "undecided"}]


def _distinct_rows() -> list[list[str]]:
    """Real rows whose pollsters, field_start and field_end are pairwise distinct, so changing one
    cell can never turn two rows into a duplicate poll (every error then belongs to that row)."""
    seen: list[set[str]] = [set(), set(), set()]
    chosen = []
    for row in _REAL[1:]:
        keys = (row[0].casefold(), row[1], row[2])
        if any(k in s for k, s in zip(keys, seen, strict=True)):
            continue
        for k, s in zip(keys, seen, strict=True):
            s.add(k)
        chosen.append(row)
    return chosen


BASE_ROWS = _distinct_rows()
assert len(BASE_ROWS) >= 8
ROW_INDICES = st.lists(st.integers(0, len(BASE_ROWS) - 1), min_size=1, max_size=4,
                       unique=True).map(lambda xs: tuple(sorted(xs)))


def _cell(value: str, delimiter: str, quote_all: bool = False) -> str:
    if quote_all or any(ch in value for ch in (delimiter, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _render(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",",
            newline: str = "\n", trailing: bool = True, quote_all: bool = False) -> str:
    lines = [delimiter.join(_cell(v, delimiter, quote_all) for v in row) for row in [header, *rows]]
    return newline.join(lines) + (newline if trailing else "")


def _record_lines(rows: list[list[str]]) -> list[tuple[int, int]]:
    """(first, last) physical line of each data record of ``_render(rows)``."""
    out, line = [], 2
    for row in rows:
        breaks = len(re.findall(r"\r\n|\r|\n", _render([], header=row, trailing=False)))
        out.append((line, line + breaks))
        line += breaks + 1
    return out


def _read(data: bytes, election: Election = ELECTION) -> PollTable | InputError:
    """Write ``data`` to a fresh folder, read it, check the outcome and that nothing changed."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "president.csv"
        path.write_bytes(data)
        before = _snapshot(directory)
        try:
            result: PollTable | InputError = read_polls(path, election)
        except InputError as exc:
            _check_problems(exc.problems, path)
            assert _errors(exc), exc.problems
            result = exc
        else:
            _check_table(result, path, election)
        assert _snapshot(directory) == before
    return result


def _check_table(polls: PollTable, path: Path, election: Election) -> None:
    if polls.warnings:
        _check_problems(polls.warnings, path)
    assert all(w.severity == "warning" for w in polls.warnings)
    table = polls.table
    assert len(table) >= 1
    for c in election.candidate_keys + ["other", "undecided"]:
        values = table[c].dropna()
        assert ((values >= 0) & (values <= 100)).all(), c
    assert (table["sample_size"] >= 1).all() and (table["sample_size"] <= 10_000_000).all()
    assert (table["n_decided"] >= 1).all()
    assert (table["field_start"] <= table["field_end"]).all()
    assert (table["field_start"] >= pd.Timestamp(election.campaign_start)).all()
    assert (table["field_end"] <= pd.Timestamp(election.election_day)).all()
    assert table["line"].is_unique and (table["line"] >= 2).all()
    assert table["poll"].is_unique


def _signature(problems: list[Problem]) -> list[tuple]:
    return [(p.line, p.column, p.message, p.severity) for p in problems
            if "not UTF-8" not in p.message]


def _multiline_sources(rows: list[list[str]]) -> list[list[str]]:
    source = HEADER.index("source")
    return [[*r[:source], r[source].replace("; ", ";\n").replace(", ", ",\r\n"), *r[source + 1:]]
            for r in rows]


@cache
def _clean(indices: tuple[int, ...], multiline: bool) -> PollTable:
    rows = [BASE_ROWS[i] for i in indices]
    if multiline:
        rows = _multiline_sources(rows)
    result = _read(_render(rows).encode("utf-8"))
    assert isinstance(result, PollTable), result
    return result


def test_base_rows_load_and_lines_are_physical_lines():
    polls = _clean(tuple(range(len(BASE_ROWS))), True)
    rows = _multiline_sources(BASE_ROWS)
    assert sorted(polls.table["line"]) == [first for first, _ in _record_lines(rows)]
    assert any(last > first for first, last in _record_lines(rows))


@dataclass
class Variant:
    """An accepted alternative spelling of a clean poll file."""

    indices: tuple[int, ...]
    multiline: bool = False
    delimiter: str = ","
    decimal_comma: bool = False
    percent: str = ""
    thousands: str = ""
    newline: str = "\n"
    trailing: bool = True
    quote_all: bool = False
    header_style: str = "plain"
    encoding: str = "utf-8"
    bom: bool = False

    def rows(self) -> list[list[str]]:
        rows = [BASE_ROWS[i] for i in self.indices]
        if self.multiline:
            rows = _multiline_sources(rows)
        return [[self._value(col, v) for col, v in zip(HEADER, row, strict=True)] for row in rows]

    def _value(self, column: str, value: str) -> str:
        if column == "sample_size" and value and self.thousands:
            digits = value
            groups = []
            while len(digits) > 3:
                groups.insert(0, digits[-3:])
                digits = digits[:-3]
            value = self.thousands.join([digits, *groups])
        if column in SHARES and value:
            if self.decimal_comma:
                value = value.replace(".", ",")
            value += self.percent
        return value

    def header(self) -> list[str]:
        styles = {"plain": str, "upper": str.upper, "title": str.title,
                  "padded": lambda h: f"  {h} "}
        return [styles[self.header_style](h) for h in HEADER]

    def data(self) -> bytes:
        text = _render(self.rows(), self.header(), self.delimiter, self.newline, self.trailing,
                       self.quote_all)
        try:
            raw = text.encode(self.encoding)
        except UnicodeEncodeError:  # latin-1 has no en dash: such files are Windows-1252
            raw = text.encode("cp1252")
        return (b"\xef\xbb\xbf" if self.bom else b"") + raw


@st.composite
def variants(draw) -> Variant:
    delimiter = draw(st.sampled_from([",", ";"]))
    return Variant(
        indices=draw(ROW_INDICES),
        multiline=draw(st.booleans()),
        delimiter=delimiter,
        decimal_comma=delimiter == ";" and draw(st.booleans()),
        percent=draw(st.sampled_from(["", "%", " %", "\u00a0%"])),
        # A ";" file is written by a decimal-comma locale, whose thousands separator is ".".
        thousands=draw(st.sampled_from(["", " ", "\u00a0", *(["."] if delimiter == ";" else [])])),
        newline=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        trailing=draw(st.booleans()),
        quote_all=draw(st.booleans()),
        header_style=draw(st.sampled_from(["plain", "upper", "title", "padded"])),
        encoding=draw(st.sampled_from(["utf-8", "cp1252", "latin-1"])),
        bom=draw(st.booleans()),
    )


@PROPERTY
@given(variants())
@example(Variant((0, 1, 2), delimiter=";", decimal_comma=True, percent="%", thousands="."))
@example(Variant((0, 1, 2, 3), encoding="latin-1", bom=True, newline="\r\n"))
def test_accepted_formats_load_the_same_values(variant):
    """``;`` + decimal commas, ``42%``, thousands separators, BOM, Windows-1252/Latin-1, CRLF/CR,
    quoted newlines, no final newline, header case: same table, same warnings as the clean file."""
    clean = _clean(variant.indices, variant.multiline)
    data = variant.data()
    got = _read(data)
    assert isinstance(got, PollTable), got
    pd.testing.assert_frame_equal(got.table, clean.table)
    assert _signature(got.warnings) == _signature(clean.warnings)
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    encoding_warnings = [w for w in got.warnings if "not UTF-8" in w.message]
    assert len(encoding_warnings) == (0 if utf8 else 1)


#: Cell texts that have broken loaders before: numbers in every spelling, dates in other formats,
#: quoting and line-ending characters, encodings artefacts, huge and non-finite values.
HOSTILE_CELLS = [
    "", " ", "\t", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400",
    "-0", "0", "0.0", "100", "100.0001", "101", "-1", "42%", "42 %", "%", "42,5", "42,5%", "4.2e1",
    "42.", ".5", "1_000", "0x2A", "1,000", "1.000", "1.000,5", "10.000.000", "1e7", "10000001",
    "9" * 400, "9" * 5000, "0." + "0" * 5000 + "1", "１２", "٤٢", "2018-06-01", "2018-6-1",
    "01/06/2018", "06/01/2018", "2018/06/01", "20180601", "2018-06-01T00:00", "2018-02-30",
    "0000-00-00", "9999-99-99", "2018-06-01 ", "1 de junio de 2018", "\x00", "a\x00b", '"', '""',
    '"quoted"', "a\nb", "a\r\nb", "\r", "\n\n\n", "\ufeff", "\u2028", "\x85", "\x0c", "é",
    "Ã©", "\ufffd", ";", ",", ";;;;;;;;;;;;;;;;;;;;;;;;;;;;;", "raw", "RAW ", "effective",
    "decided", "true", "yes", "1", "TRUE", "face_to_face", "Phone", "telepathy",
    "x" * 140_000, "x," * 70_000, "=1+1", "@SUM(A1)", "\u202e", "🗳️",
]
HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE_CELLS),
    st.text(max_size=20),
    st.from_regex(r"[-+]?\d{1,6}([.,]\d{0,4})?([eE][-+]?\d{1,4})? ?%?", fullmatch=True),
    st.floats().map(repr),
    st.integers().map(str),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)


@PROPERTY
@given(ROW_INDICES, st.data(), HOSTILE_TEXT)
def test_one_hostile_cell_is_reported_on_its_row(indices, data, text):
    """A valid file with one cell replaced loads, or every error is on that row's lines."""
    rows = [list(BASE_ROWS[i]) for i in indices]
    r = data.draw(st.integers(0, len(rows) - 1), label="row")
    c = data.draw(st.integers(0, len(HEADER) - 1), label="column")
    rows[r][c] = text
    result = _read(_render(rows).encode("utf-8"))
    if isinstance(result, PollTable):
        assert len(result) == len(rows)
        return
    first, last = _record_lines(rows)[r]
    lines = {p.line for p in _errors(result)}
    assert lines <= set(range(first, last + 1)), (first, last, [str(p) for p in result.problems])


@PROPERTY
@given(ROW_INDICES, st.data(), HOSTILE_TEXT)
def test_one_hostile_header_cell_is_reported_on_the_header(indices, data, text):
    rows = [BASE_ROWS[i] for i in indices]
    header = list(HEADER)
    c = data.draw(st.integers(0, len(HEADER) - 1), label="column")
    header[c] = text
    result = _read(_render(rows, header).encode("utf-8"))
    if isinstance(result, PollTable):
        return
    span = len(re.findall(r"\r\n|\r|\n", _render([], header, trailing=False)))
    lines = {p.line for p in _errors(result)}
    # Every known column is already in the header, so a renamed column is unknown, empty or a
    # duplicate: the error is on the header (or the loader's own view of it, e.g. ";" wins).
    assert lines <= set(range(1, span + 2)), [str(p) for p in result.problems]


CSV_TOKENS = st.sampled_from([
    ",", ";", '"', "\n", "\r\n", "\r", "%", " ", "\t", "\x00", "\ufeff", "é", "\u2028", "\x85",
    ",".join(HEADER), ";".join(HEADER), *HEADER, "2018-06-01", "2018-06-03", "40", "20,5", "1e999",
    "nan", "raw", "effective", "1000",
])
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "utf-32"]


@PROPERTY
@given(st.lists(st.one_of(CSV_TOKENS, st.text(max_size=6)), max_size=80).map("".join),
       st.sampled_from(ENCODINGS))
def test_csv_soup_never_crashes(text, encoding):
    _read(text.encode(encoding, errors="replace"))


@PROPERTY
@given(st.binary(max_size=3000), st.sampled_from([b"", ",".join(HEADER).encode() + b"\n",
                                                   ";".join(HEADER).encode() + b"\r\n"]))
def test_random_bytes_never_crash(data, prefix):
    _read(prefix + data)


@PROPERTY
@given(ROW_INDICES, st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32"]))
def test_utf16_and_utf32_are_rejected_with_a_hint(indices, encoding):
    data = _render([BASE_ROWS[i] for i in indices]).encode(encoding)
    result = _read(data)
    assert isinstance(result, InputError)
    (problem,) = _errors(result)
    assert problem.line == 1
    assert "UTF-16" in problem.message or "NUL" in problem.message


GOOD = _render([BASE_ROWS[0]], trailing=False).split("\n")[1]
HEAD = ",".join(HEADER)


def _with(column: str, value: str, row: list[str] | None = None) -> str:
    cells = list(row or BASE_ROWS[0])
    cells[HEADER.index(column)] = value
    return ",".join(_cell(v, ",") for v in cells)


HOSTILE_FILES = [
    (b"", ":1:-: empty file"),
    (b"\xef\xbb\xbf", ":1:-: empty file"),
    (b" \r\n\t\n\n", ":1:-: empty file"),
    (HEAD.encode(), ":2:-: no polls"),
    ((HEAD + "\n").encode(), ":2:-: no polls"),
    ((HEAD + "\r\n\r\n\r\n").encode(), ":2:-: no polls"),
    (b"\xef\xbb\xbf" + (HEAD + "\r\n").encode(), ":2:-: no polls"),
    ((HEAD.replace("source", "amlo") + "\n" + GOOD).encode(), ":1:amlo: column appears more"),
    ((HEAD.replace(",", "\t") + "\n" + GOOD.replace(",", "\t")).encode(),
     ":1:pollster: missing required column"),
    ((HEAD + "\n" + _with("source", "x" * 200_000)).encode(), ":2:-: not a readable CSV file"),
    ((HEAD + "\n" + GOOD + "\n" + "y" * 1_000_000).encode(), ":3:-: not a readable CSV file"),
    ((HEAD + "\n" + _with("amlo", "1e400")).encode(), ":2:amlo: '1e400': expected a percentage"),
    ((HEAD + "\n" + _with("amlo", "9" * 400)).encode(), ":2:amlo: '999"),
    ((HEAD + "\n" + _with("sample_size", "9" * 5000)).encode(), ":2:sample_size: '999"),
    ((HEAD + "\n" + _with("amlo", "NaN")).encode(), ":2:amlo: 'NaN': expected a percentage"),
    ((HEAD + "\n" + _with("amlo", "-inf")).encode(), ":2:amlo: '-inf': expected a percentage"),
    ((HEAD + "\n" + _with("field_start", "2017/11/01")).encode(), ":2:field_start: '2017/11/01'"),
    ((HEAD + "\n" + _with("field_end", "30-11-2017")).encode(), ":2:field_end: '30-11-2017'"),
    ((HEAD + "\n" + _with("published", "2017-11-31")).encode(), ":2:published: '2017-11-31'"),
    ((HEAD + "\n" + GOOD + "\n" + GOOD.replace(",", ",\x00", 1)).encode(),
     ":3:-: binary data (NUL bytes)"),
    ((HEAD + "\n" + GOOD + '\n"unterminated,' + GOOD).encode(), ":3:-: 3 fields; expected 17"),
    ("pollster,field_start\n".encode("utf-16"), ":1:-: UTF-16"),
]


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param(d, e, id=f"{i}{re.sub(r'[^a-z0-9]+', '-', e.lower())[:40]}")
    for i, (d, e) in enumerate(HOSTILE_FILES)])
def test_hostile_files_are_rejected_with_the_right_location(data, expected):
    result = _read(data)
    assert isinstance(result, InputError)
    assert any(expected in str(p) for p in _errors(result)), [str(p) for p in result.problems]


def test_sample_size_thousands_dot_in_semicolon_files():
    """``1.000`` interviews: a decimal point (one) in a ``,`` file, as written by a decimal-point
    locale; a thousands separator (a thousand) in a ``;`` file, as written by a decimal-comma
    locale (whose spreadsheets export numbers as displayed)."""
    comma = _read((HEAD + "\n" + _with("sample_size", "1.000")).encode())
    row = list(BASE_ROWS[0])
    row[HEADER.index("sample_size")] = "1.000"
    semicolon = _read(_render([row], delimiter=";").encode())
    assert isinstance(comma, PollTable) and isinstance(semicolon, PollTable)
    assert comma.table["sample_size"].tolist() == [1]
    assert semicolon.table["sample_size"].tolist() == [1000]


# --------------------------------------------------------------------------------------------
# Election definitions
# --------------------------------------------------------------------------------------------


class Raw(str):
    """TOML text inserted as is (values no Python object renders, e.g. 5,000-digit integers)."""


def _toml_string(s: str) -> str:
    def esc(ch: str) -> str:
        if ch in '"\\':
            return "\\" + ch
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"\\u{ord(ch):04x}"
        return ch  # U+2028, U+0085 and the like stay raw: TOML allows them in strings

    return '"' + "".join(esc(ch) for ch in s) + '"'


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_string(k)


def _toml(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


D = dt.date
BASE_TOP: dict[str, object] = {
    "key": "hx2030", "name": "Hostile 2030", "election_day": D(2030, 6, 2),
    "campaign_start": D(2030, 1, 1), "poll_file": "president.csv",
    "results_file": "results/official.csv", "default_sample_size": 800,
    "default_undecided_share": 0.2, "total_tolerance": 2.5, "other_options": ["write_in"],
}
BASE_COALITIONS: dict[str, dict[str, object]] = {
    "red": {"name": "Red", "parties": ["r1", "r2"]},
    "blue": {"name": "Blue", "parties": []},
}
BASE_CANDIDATES: list[dict[str, object]] = [
    {"key": "ana", "name": "Ana", "party": "r1", "coalition": "red",
     "available_from": D(2030, 1, 1), "available_until": D(2030, 6, 2), "note": ""},
    {"key": "bob", "name": "Bob", "party": "b", "coalition": "blue",
     "available_from": D(2030, 1, 1), "available_until": D(2030, 6, 2)},
    {"key": "cy", "name": "Cy", "party": "r2", "coalition": "red",
     "available_from": D(2030, 1, 1), "available_until": D(2030, 3, 1), "note": "withdrew"},
]


@dataclass
class Doc:
    """An election.toml as data, rendered with the line of every key and table."""

    top: dict = field(default_factory=lambda: dict(BASE_TOP))
    coalitions: dict = field(default_factory=lambda: {k: dict(v) for k, v in
                                                      BASE_COALITIONS.items()})
    candidates: list = field(default_factory=lambda: [dict(c) for c in BASE_CANDIDATES])
    touched: set = field(default_factory=set)

    def render(self) -> tuple[str, dict[tuple, int]]:
        lines: list[str] = []
        where: dict[tuple, int] = {}

        def put(place: tuple, text: str) -> None:
            lines.append(text)
            where[place] = len(lines)

        for k, v in self.top.items():
            put(("top", k), f"{_toml_key(k)} = {_toml(v)}")
        if "coalitions" not in self.top:
            for ck, table in self.coalitions.items():
                lines.append("")
                put(("coalition", ck), f"[coalitions.{_toml_key(ck)}]")
                for k, v in table.items():
                    put(("coalition", ck, k), f"{_toml_key(k)} = {_toml(v)}")
        if "candidates" not in self.top:
            for i, table in enumerate(self.candidates):
                lines.append("")
                put(("candidate", i), "[[candidates]]")
                for k, v in table.items():
                    put(("candidate", i, k), f"{_toml_key(k)} = {_toml(v)}")
        return "\n".join(lines) + "\n", where

    def allowed_lines(self, where: dict[tuple, int]) -> set[int]:
        """Lines an error may point at: the whole file (0), a table header, or a key a mutation
        touched (or that is checked against one: the dates, other_options)."""
        allowed = {0}
        for place, line in where.items():
            if len(place) == 2 and place[0] in ("coalition", "candidate"):
                allowed.add(line)
        for place in self.touched:
            if place in where:
                allowed.add(where[place])
            if place[0] == "top" and place[1] in ("election_day", "campaign_start"):
                allowed |= {where.get(("top", "election_day"), 0),
                            where.get(("top", "campaign_start"), 0)}
            if place[0] != "top" or place[1] in ("candidates", "coalitions"):
                allowed.add(where.get(("top", "other_options"), 0))
        return allowed


INTERESTING_KEYS = [*RESERVED_COLUMNS, *TABLE_COLUMNS, "index", "class", "count", "ana", "bob",
                    "cy", "red", "blue", "write_in", "hx2030", "x\n", "ana\n", "Ana", "a b", "",
                    "a:b", "_a", "1a", "ñ"]
SCALARS = st.one_of(
    st.text(max_size=12), st.sampled_from(INTERESTING_KEYS),
    st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, -1, 10**7, 10**7 + 1]),
    st.floats(), st.booleans(),
    st.dates(), st.datetimes(timezones=st.none() | st.just(dt.UTC)), st.times(),
    st.builds(lambda n: Raw("9" * n), st.integers(4000, 6000)),
    st.builds(lambda n: Raw("0x" + "f" * n), st.integers(1, 20_000)),
    st.builds(lambda n: Raw("[" * n + "]" * n), st.integers(1, 3000)),
    st.builds(lambda n: Raw("{a = " * n + "1" + "}" * n), st.integers(1, 3000)),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5) | st.sampled_from(INTERESTING_KEYS), children,
                      max_size=3),
    max_leaves=8,
)
CANDIDATE_FIELDS = ["key", "name", "party", "coalition", "available_from", "available_until",
                    "note", "extra"]


@st.composite
def docs(draw) -> Doc:
    doc = Doc()
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["top", "drop_top", "coalition", "candidate", "rename"]))
        if kind == "top":
            k = draw(st.sampled_from([*BASE_TOP, "coalitions", "candidates", "extra"]))
            doc.top[k] = draw(VALUES)
            doc.touched.add(("top", k))
        elif kind == "drop_top":
            k = draw(st.sampled_from(sorted(doc.top)))
            doc.top.pop(k)
            doc.touched.add(("top", k))
        elif kind == "coalition":
            ck = draw(st.sampled_from(sorted(doc.coalitions)))
            k = draw(st.sampled_from(["name", "parties", "extra"]))
            doc.coalitions[ck][k] = draw(VALUES)
            doc.touched.add(("coalition", ck, k))
        elif kind == "candidate":
            i = draw(st.integers(0, len(doc.candidates) - 1))
            k = draw(st.sampled_from(CANDIDATE_FIELDS))
            if draw(st.booleans()) or k not in doc.candidates[i]:
                doc.candidates[i][k] = draw(VALUES)
            else:
                doc.candidates[i].pop(k)
            doc.touched.add(("candidate", i, k))
        else:
            ck = draw(st.sampled_from(sorted(doc.coalitions)))
            new = draw(st.text(max_size=6) | st.sampled_from(INTERESTING_KEYS))
            if new not in doc.coalitions:
                doc.coalitions[new] = doc.coalitions.pop(ck)
                doc.touched = {("coalition", new, *p[2:]) if p[:2] == ("coalition", ck) else p
                               for p in doc.touched} | {("coalition", new)}
    return doc


def _load(data: bytes, extra: dict[str, bytes] | None = None) -> Election | InputError:
    """Write ``election.toml`` (and other files) to a fresh folder, load, check, compare disk."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "elect"
        directory.mkdir()
        path = directory / "election.toml"
        path.write_bytes(data)
        for name, content in (extra or {}).items():
            (directory / name).write_bytes(content)
        before = _snapshot(Path(tmp))
        try:
            result: Election | InputError = load_election(directory)
        except InputError as exc:
            _check_problems(exc.problems, path)
            assert _errors(exc), exc.problems
            result = exc
        else:
            _check_election(result)
        assert _snapshot(Path(tmp)) == before
    return result


def _check_election(e: Election) -> None:
    assert KEY.fullmatch(e.key) and isinstance(e.name, str)
    assert type(e.election_day) is dt.date and type(e.campaign_start) is dt.date
    assert e.campaign_start <= e.election_day
    keys = e.candidate_keys
    assert len(keys) >= 2 and len(set(keys)) == len(keys) and len(e.ballot) >= 2
    for c in e.candidates:
        assert KEY.fullmatch(c.key), c.key
        assert c.key not in RESERVED_COLUMNS and c.key not in TABLE_COLUMNS, c.key
        assert all(isinstance(s, str) for s in (c.name, c.coalition, c.party, c.note)), c
        assert type(c.available_from) is dt.date and type(c.available_until) is dt.date
        assert c.available_from <= c.available_until
        assert not e.coalitions or c.coalition in e.coalitions
    for ck, co in e.coalitions.items():
        assert KEY.fullmatch(ck) and co.key == ck and isinstance(co.name, str)
        assert isinstance(co.parties, tuple) and all(isinstance(p, str) for p in co.parties)
    assert type(e.default_sample_size) is int and 1 <= e.default_sample_size <= 10**7
    assert type(e.default_undecided_share) is float and 0 <= e.default_undecided_share <= 0.95
    assert type(e.total_tolerance) is float and 0 <= e.total_tolerance <= 50
    assert isinstance(e.poll_file, str)
    assert e.results_file is None or isinstance(e.results_file, str)
    assert isinstance(e.other_options, tuple)
    for o in e.other_options:
        assert KEY.fullmatch(o) and o not in keys and o not in RESERVED_COLUMNS


def _canon(value: object) -> object:
    """``value`` with NaN made comparable (NaN != NaN would make equal elections differ)."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    return value


def _outcome(result: Election | InputError) -> object:
    if isinstance(result, InputError):
        return [(p.line, p.column, p.message, p.severity) for p in result.problems]
    return _canon({k: v for k, v in vars(result).items() if k != "directory"})


def _poll_file_for(e: Election) -> tuple[bytes, dict[str, float]]:
    """A one-poll file offering every ballot candidate (shares are integers summing to 100)."""
    ballot = e.ballot
    shares = {c: 1.0 for c in ballot}
    shares[ballot[0]] = 100.0 - (len(ballot) - 1)
    header = ["pollster", "field_start", "field_end", "sample_size", "basis", *e.candidate_keys,
              *e.other_options]
    day = e.election_day.isoformat()
    row = ["P", day, day, "1000", "raw", *(f"{shares[c]:g}" if c in shares else ""
                                            for c in e.candidate_keys),
           *("" for _ in e.other_options)]
    return (",".join(header) + "\n" + ",".join(row) + "\n").encode(), shares


@PROPERTY
@given(docs())
@example(Doc(top={**BASE_TOP, "name": "a\u2028b", "total_tolerance": "x"},
             touched={("top", "name"), ("top", "total_tolerance")}))
@example(Doc(candidates=[{**BASE_CANDIDATES[0], "key": "poll"}, *BASE_CANDIDATES[1:]],
             touched={("candidate", 0, "key")}))
def test_hostile_election_values(doc):
    """Wrong types, huge integers, deep nesting, odd keys: a valid Election or located errors;
    the same with a BOM and CRLF; and a valid poll file then loads against any accepted one."""
    text, where = doc.render()
    result = _load(text.encode("utf-8"))
    if isinstance(result, InputError):
        lines = {p.line for p in _errors(result)}
        assert lines <= doc.allowed_lines(where), ([str(p) for p in result.problems], where)
    crlf = _load(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert _outcome(crlf) == _outcome(result)
    assert isinstance(_load(text.encode("utf-16")), InputError)
    if isinstance(result, Election):
        data, shares = _poll_file_for(result)
        polls = _read(data, result)
        assert isinstance(polls, PollTable), polls
        row = polls.table.iloc[0]
        assert {c: row[c] for c in shares} == shares


@PROPERTY
@given(docs(), st.data())
def test_election_text_mutations(doc, data):
    """Lines inserted, deleted or repeated; the file truncated; re-encoded."""
    text, _ = doc.render()
    lines = text.split("\n")
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    action = data.draw(st.sampled_from(["insert", "delete", "repeat", "truncate"]))
    if action == "insert":
        lines.insert(i, data.draw(st.text(max_size=30) | st.sampled_from(
            ["[coalitions]", "[[coalitions]]", "[candidates]", "[[candidates.x]]", "key = 1",
             "candidates = []", "[coalitions.red.name]", "=", "[", '"""', "election_day = 1"])))
    elif action == "delete":
        del lines[i]
    elif action == "repeat":
        lines.insert(i, lines[i])
    text = "\n".join(lines)
    if action == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    _load(text.encode(encoding, errors="replace"))


@PROPERTY
@given(st.binary(max_size=2000))
def test_election_random_bytes(data):
    _load(data)


@pytest.mark.parametrize(("text", "expected"), [
    ("", ":0:candidates: expected at least two"),
    ("election_day = " + "[" * 5000 + "]" * 5000, ":0:-: not valid TOML"),
    ("election_day = " + "9" * 5000, ":1:-: not valid TOML"),
    ("election_day = 0x" + "f" * 5000, ":1:election_day: <integer"),
    ('key = "x\\n"', ":1:key: 'x\\n': expected a lowercase key"),
    ('[coalitions."a\\nb"]', ":0:-: coalition 'a\\nb': expected a lowercase key"),
    ('[coalitions."a: b"]', ":1:-: coalition 'a: b': expected a lowercase key"),
    ("[coalitions.'Red']", ":1:coalitions.Red: expected a lowercase key"),
    ("name = 5", ":1:name: 5: expected a string"),
    ("name = [1]", ":1:name: [1]: expected a string"),
    ("poll_file = {a = 1}", ":1:poll_file: {'a': 1}: expected a string"),
    ("results_file = true", ":1:results_file: True: expected a string"),
    ("coalitions = [1, 2]", ":1:coalitions: expected a table"),
    ("[candidates]\nkey = 'a'", ":0:candidates: expected at least two"),
    ("# a\u2028comment\u2029\x85\nelection_day = 'x'", ":2:election_day: 'x' is not a date"),
])
def test_hostile_election_files(text, expected):
    result = _load(text.encode("utf-8"))
    assert isinstance(result, InputError)
    assert any(expected in str(p) for p in _errors(result)), [str(p) for p in result.problems]


def test_line_separators_in_strings_do_not_shift_line_numbers():
    # In a note (free text): names refuse control characters and line separators.
    doc = Doc()
    doc.candidates[0]["note"] = "Elección\u2028\u2029\x85\x0b\x0c\x1c"
    doc.candidates[2]["available_until"] = "soon"
    text, where = doc.render()
    result = _load(text.encode("utf-8"))
    assert isinstance(result, InputError)
    (problem,) = _errors(result)
    assert problem.line == where[("candidate", 2)]


@pytest.mark.parametrize("key", TABLE_COLUMNS)
def test_candidate_keys_cannot_shadow_poll_table_columns(key):
    doc = Doc()
    doc.candidates[0]["key"] = key
    text, where = doc.render()
    result = _load(text.encode("utf-8"))
    assert isinstance(result, InputError)
    assert [(p.line, p.column) for p in _errors(result)] == [(where[("candidate", 0)], "key")]


def test_election_encodings():
    text, _ = Doc(top={**BASE_TOP, "name": "Elección"}).render()
    clean = _load(text.encode("utf-8"))
    assert isinstance(clean, Election) and clean.name == "Elección"
    assert _outcome(_load(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())) == \
        _outcome(clean)
    for encoding in ("latin-1", "cp1252", "utf-16"):
        result = _load(text.encode(encoding))
        assert isinstance(result, InputError)
        assert "not UTF-8" in str(_errors(result)[0])


def test_missing_or_non_file_definition():
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(InputError) as info:
            load_election(tmp)
        (Path(tmp) / "election.toml").mkdir()
        with pytest.raises(InputError) as info2:
            load_election(tmp)
    assert str(info.value.problems[0]).endswith(":0:-: no election definition: expected "
                                                "election.toml")
    assert str(info2.value.problems[0]).endswith(":0:-: is a folder: expected a file")
