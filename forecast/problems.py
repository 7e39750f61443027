"""Input problems with file, line and column, collected so every problem is reported at once."""

from __future__ import annotations

import csv
import difflib
import io
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem in an input file.

    Parameters
    ----------
    path
        The file the problem is in.
    line
        1-based line number (the header is line 1 of a CSV file); 0 when the file as a whole.
    column
        Column (CSV header name) or key (TOML) the problem is in; ``""`` when not tied to one.
    message
        What is wrong and what was expected.
    severity
        ``"error"`` (the file cannot be used) or ``"warning"`` (used, with a documented treatment).
    """

    path: str
    line: int
    column: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        column = self.column or "-"
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}:{column}: {tag}{self.message}"


class InputError(ValueError):
    """Raised when an input file has one or more errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [str(p) for p in errors]
        super().__init__(
            f"{len(errors)} problem(s) in input:\n" + "\n".join(lines) if lines else "input error"
        )


class OutputError(InputError):
    """Raised when a file cannot be written (permission, read-only file, full disk...).

    Same one-line ``FILE:LINE:COLUMN: message`` problems as :class:`InputError`, whose subclass it
    is so that every command already turns it into exit code 2 and no traceback.
    """


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` to a mistyped ``word``, else
    ``""`` (difflib's ratio >= 0.75: typos such as ``available_untill``, not unrelated words)."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [c for c in choices if isinstance(c, str)], n=1,
                                      cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_key(word: str, choices: Iterable[str], what: str = "setting") -> str:
    """Message for an unknown key: ``unknown setting 'x'; did you mean 'y'?`` or, without a close
    match, the list of allowed keys."""
    choices = list(choices)
    hint = did_you_mean(word, choices)
    shown = word if isinstance(word, str) and word.isprintable() and len(word) <= 60 else None
    name = f" {shown!r}" if shown is not None else f" {ascii(word)[:60]}"
    if hint:
        return f"unknown {what}{name}{hint}"
    return f"unknown {what}{name}: expected one of {', '.join(sorted(choices))}"


#: Characters refused in names (pollsters, candidates, parties): they reach the terminal and
#: one-line messages, where ESC starts escape codes and line/paragraph separators split lines.
#: Ordinary spaces of any width (category Zs) are allowed.
_BAD_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def name_problem(text: str) -> str | None:
    """What is wrong with a display name, else None: a control, format or line-separator
    character (ESC, CR, LF, TAB, U+2028, bidi overrides, zero-width characters...)."""
    for ch in text:
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            return (f"contains the control character U+{ord(ch):04X} "
                    f"({unicodedata.name(ch, 'unnamed')}): expected plain text on one line")
    return None


def decode_utf8(raw: bytes, shown: str) -> str:
    """Text of a file that must be UTF-8 (a BOM is allowed), or InputError naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(shown, line, "", "not UTF-8 text: save the file as UTF-8")]
                         ) from None


def display_path(path: str | Path) -> str:
    """Path as the user gave it (relative paths stay relative) for messages."""
    return str(path)


def csv_records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) of each CSV record, with the line where the record starts
    (a quoted field may span lines). A ``csv.Error`` carries ``line``: where the reader stopped,
    for the problem's LINE."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for values in reader:
            yield start, values
            start = reader.line_num + 1
    except csv.Error as exc:
        exc.line = reader.line_num
        raise


def data_rows(records: Iterable[tuple[int, list[str]]], width: int, shown: str,
              problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """The data records of :func:`csv_records` after the header (pass the iterator once the
    header was taken from it, so a large file is never held as a list of rows): blank ones
    skipped, one with another number of fields than the header's ``width`` reported in
    ``problems`` and skipped. A CSV error while reading becomes an :class:`InputError` at the line
    where the reader stopped."""
    try:
        for line, values in records:
            if not any(v.strip() for v in values):
                continue
            if len(values) != width:
                problems.append(Problem(shown, line, "", f"{len(values)} fields; expected "
                                        f"{width} (one per header column)"))
                continue
            yield line, values
    except csv.Error as exc:
        raise InputError([Problem(shown, getattr(exc, "line", 0), "",
                                  f"not a readable CSV file: {exc}")]) from None


def parse_toml(text: str, shown: str) -> dict:
    """``tomllib.loads(text)``, every failure an InputError naming ``shown`` and the line.

    tomllib raises RecursionError on arrays or inline tables nested a few thousand deep and a
    plain ValueError on a decimal integer of more than 4300 digits (Python's int-string limit):
    both escaped as tracebacks.
    """
    # Whether tomllib (recursive) or a later repr() of the value runs out of stack depends on
    # how deep the caller already is: refuse deep nesting before parsing, the same every time.
    if _max_nesting(text) > _MAX_NESTING:
        raise InputError([Problem(shown, 0, "", "not valid TOML: arrays or inline tables "
                                  "nested too deeply")])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 0
        # The line is in the message's place already: tomllib's " (at line L, column C)" goes.
        reason = str(exc).split(" (at ")[0]
        raise InputError([Problem(shown, line, "", f"not valid TOML: {reason}")]) from None
    except RecursionError:
        raise InputError([Problem(shown, 0, "", "not valid TOML: arrays or inline tables nested "
                                  "too deeply")]) from None
    except ValueError:
        match = re.search(r"\d[\d_]{4300,}", text)
        line = text.count("\n", 0, match.start()) + 1 if match else 0
        raise InputError([Problem(shown, line, "", "not valid TOML: an integer has more than "
                                  "4300 digits")]) from None


_MAX_NESTING = 50


def _max_nesting(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside strings and comments."""
    depth = deepest = 0
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote or c == "\n":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest
