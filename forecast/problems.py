"""Input problems with file, line and column, collected so every problem is reported at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
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


def data_rows(records: list[tuple[int, list[str]]], width: int, shown: str,
              problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """The data records (after the header) of :func:`csv_records`: blank ones skipped, one with
    another number of fields than the header's ``width`` reported in ``problems`` and skipped."""
    for line, values in records[1:]:
        if not any(v.strip() for v in values):
            continue
        if len(values) != width:
            problems.append(Problem(shown, line, "", f"{len(values)} fields; expected "
                                    f"{width} (one per header column)"))
            continue
        yield line, values
