"""Read and validate poll files into a tidy table, reporting every problem with file:line:column.

Schema (one row per published poll; documented in ``docs/poll-files.md``):

``pollster, field_start, field_end, published, sample_size, mode, basis, partial,
<candidate keys...>, other, undecided, source``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .election import RESERVED_COLUMNS, Election, plain_column, show_value
from .problems import InputError, Problem, csv_records, data_rows

REQUIRED_COLUMNS = ("pollster", "field_start", "field_end", "sample_size", "basis")
MODES = ("face_to_face", "phone", "ivr", "online", "mixed")
BASES = ("raw", "effective")
#: Shares above this are not percentages (``1e300`` and the like are rejected, not overflowed).
_MAX_SHARE = 100.0
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


@dataclass
class PollTable:
    """Validated polls of one election.

    Attributes
    ----------
    table
        One row per poll: ``poll`` (id), ``line``, ``pollster``, ``field_start``, ``field_end``,
        ``published``, ``midpoint``, ``sample_size``, ``sample_size_imputed``, ``mode``,
        ``basis``, ``partial``, one share column per candidate (NaN where not offered or dropped),
        ``other``, ``undecided``, ``decided_share`` and ``n_decided``.
    warnings
        Problems that did not stop loading, each with its documented treatment.
    path
        The poll file.
    """

    table: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    path: str = ""
    candidates: list[str] = field(default_factory=list)

    def as_of(self, day: dt.date) -> PollTable:
        """Polls whose fieldwork had ended by ``day`` (what was known then)."""
        keep = self.table["field_end"] <= pd.Timestamp(day)
        return PollTable(self.table[keep].reset_index(drop=True), list(self.warnings), self.path,
                         list(self.candidates))

    def __len__(self) -> int:
        return len(self.table)


def _decode(raw: bytes, shown: str, problems: list[Problem]) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Mexican spreadsheets are often Latin-1 / Windows-1252; read them, but say so.
        problems.append(Problem(shown, 0, "", "file is not UTF-8; read as Windows-1252 (Latin-1)",
                                "warning"))
        # A UTF-8 BOM followed by Latin-1 rows (rows pasted into a UTF-8 file) used to leave
        # "ï»¿" glued to the first column name ("missing required column pollster").
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        return raw.decode("cp1252", errors="replace")


def _line_at(text: str, index: int) -> int:
    """1-based line of ``text[index]``, counting line ends as the CSV reader does."""
    return len(re.findall(r"\r\n|\r|\n", text[:index])) + 1


def _parse_number(text: str, decimal_comma: bool, whole: bool = False) -> float | None:
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if s.endswith("%"):
        s = s[:-1]
    if decimal_comma:
        if s.count(",") == 1:
            s = s.replace(".", "").replace(",", ".")
        elif whole and _THOUSANDS.match(s):
            # A decimal-comma spreadsheet exports 1000 interviews as "1.000": that was read as
            # one interview. In a whole-number column of a ";" file, dots group thousands.
            s = s.replace(".", "")
    if not _NUMBER.match(s):
        return None
    value = float(s)
    return value if math.isfinite(value) else None


def _parse_date(text: str) -> dt.date | None:
    s = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


def read_polls(path: str | Path, election: Election) -> PollTable:
    """Read and validate a poll file against an election definition.

    Parameters
    ----------
    path
        CSV file (UTF-8 preferred; Latin-1, a BOM, ``;`` separators with decimal commas and
        ``42%`` are accepted).
    election
        The election the polls are about: candidate columns and windows are checked against it.

    Returns
    -------
    PollTable

    Raises
    ------
    InputError
        Listing every error found (file, line, column, what was expected).
    """
    path = Path(path)
    shown = str(path)
    problems: list[Problem] = []
    if not path.is_file():
        raise InputError([Problem(shown, 0, "", "poll file not found")])
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" is UTF-16 (tab-separated): say so rather than "binary data".
        raise InputError([Problem(shown, 1, "", "UTF-16 (or UTF-32) text: save the file as "
                                  "CSV UTF-8 (or Windows-1252)")])
    text = _decode(raw, shown, problems)
    if "\x00" in text:
        # The line of the first NUL, not always line 1.
        raise InputError([Problem(shown, _line_at(text, text.index("\x00")), "",
                                  "binary data (NUL bytes): expected a CSV text file")])
    if not text.strip():
        raise InputError([Problem(shown, 1, "", "empty file: expected a header line "
                                  f"with columns {', '.join(REQUIRED_COLUMNS)} and candidates")])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    decimal_comma = delimiter == ";"
    try:
        rows = list(csv_records(text, delimiter))
    except csv.Error as exc:
        # The line the reader stopped at (e.g. a field over the 128 KiB limit), not 0.
        raise InputError([Problem(shown, getattr(exc, "line", 0), "",
                                  f"not a readable CSV file: {exc}")]) from None
    header_line, header = rows[0]
    header = [h.strip().lower() for h in header]
    candidates = election.candidate_keys
    known = set(RESERVED_COLUMNS) | set(candidates) | set(election.other_options)
    for col in REQUIRED_COLUMNS:
        if col not in header:
            problems.append(Problem(shown, header_line, col, "missing required column"))
    for col in header:
        # A header name with a newline, control character or colon cannot be the COLUMN of
        # FILE:LINE:COLUMN: message (it broke the line); it is named in the message instead.
        label = plain_column(col)
        named = "" if label else f" {show_value(col)}"
        if col == "":
            problems.append(Problem(shown, header_line, "", "empty column name in header"))
        elif col not in known:
            problems.append(Problem(
                shown, header_line, label,
                f"unknown column{named}: not a candidate of {election.key} (candidates: "
                f"{', '.join(candidates)}) nor one of {', '.join(RESERVED_COLUMNS)}"))
    dupes = {c for c in header if header.count(c) > 1 and c}
    for col in sorted(dupes):
        label = plain_column(col)
        problems.append(Problem(shown, header_line, label,
                                f"column {show_value(col)} appears more than once" if not label
                                else "column appears more than once"))
    offered_cols = [c for c in candidates if c in header]
    if not offered_cols:
        problems.append(Problem(shown, header_line, "", "no candidate columns: expected at least "
                                f"two of {', '.join(candidates)}"))
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)

    records: list[dict] = []
    for line, values in data_rows(rows, len(header), shown, problems):
        rec = _validate_row(dict(zip(header, values, strict=True)), line, shown, election,
                            offered_cols, decimal_comma, problems)
        if rec is not None:
            records.append(rec)
    if not records and not any(p.severity == "error" for p in problems):
        problems.append(Problem(shown, 2, "", "no polls: expected at least one data row"))

    # The same poll listed twice would count its respondents twice.
    seen: dict[tuple, int] = {}
    for rec in records:
        key = (rec["pollster"].casefold(), rec["field_start"], rec["field_end"])
        if key in seen:
            problems.append(Problem(shown, rec["line"], "pollster",
                                    f"duplicate poll: same pollster and fieldwork dates as line "
                                    f"{seen[key]}"))
        else:
            seen[key] = rec["line"]
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)

    table = pd.DataFrame.from_records(records)
    for c in candidates:
        if c not in table:
            table[c] = np.nan
    for c in ("field_start", "field_end", "published", "midpoint"):
        table[c] = pd.to_datetime(table[c])
    table = table.sort_values(["field_end", "line"]).reset_index(drop=True)
    table.insert(0, "poll", [f"{r.pollster} {r.field_end:%Y-%m-%d}" for r in table.itertuples()])
    table["poll"] = _unique(table["poll"].tolist())
    warnings = [p for p in problems if p.severity == "warning"]
    return PollTable(table, warnings, shown, list(candidates))


def _unique(names: list[str]) -> list[str]:
    out, count = [], {}
    for n in names:
        count[n] = count.get(n, 0) + 1
        out.append(n if count[n] == 1 else f"{n} #{count[n]}")
    return out


def _validate_row(row: dict, line: int, shown: str, election: Election, offered_cols: list[str],
                  decimal_comma: bool, problems: list[Problem]) -> dict | None:
    errors_before = sum(p.severity == "error" for p in problems)

    def err(col: str, msg: str) -> None:
        problems.append(Problem(shown, line, col, msg))

    def warn(col: str, msg: str) -> None:
        problems.append(Problem(shown, line, col, msg, "warning"))

    pollster = row["pollster"].strip()
    if not pollster:
        err("pollster", "empty: expected the pollster's name")
    dates: dict[str, dt.date | None] = {}
    for col in ("field_start", "field_end", "published"):
        value = row.get(col, "").strip()
        if not value:
            if col != "published":
                err(col, "empty: expected a date YYYY-MM-DD")
            dates[col] = None
            continue
        parsed = _parse_date(value)
        if parsed is None:
            err(col, f"{value!r} is not a date: expected YYYY-MM-DD")
        dates[col] = parsed
    start, end, published = dates["field_start"], dates["field_end"], dates["published"]
    if start and end and start > end:
        err("field_end", f"field_end {end} is before field_start {start}: expected start <= end")
    if end and published and end > published:
        err("published", f"published {published} is before field_end {end}: expected "
                         "end <= publication")
    for col, day in (("field_start", start), ("field_end", end)):
        if day and not (election.campaign_start <= day <= election.election_day):
            err(col, f"{day} is outside the campaign window {election.campaign_start} .. "
                     f"{election.election_day}")

    basis = row["basis"].strip().lower()
    if basis not in BASES:
        err("basis", f"{row['basis']!r}: expected 'raw' (undecided in the base) or 'effective' "
                     "(undecided removed)")
    mode = row.get("mode", "").strip().lower()
    if mode and mode not in MODES:
        err("mode", f"{mode!r}: expected one of {', '.join(MODES)} or blank (unknown)")
    partial_text = row.get("partial", "").strip().lower()
    if partial_text not in ("", "0", "1", "true", "false", "yes", "no"):
        err("partial", f"{partial_text!r}: expected 1 (some options not reported) or blank")
    partial = partial_text in ("1", "true", "yes")

    size_text = row["sample_size"].strip()
    imputed = False
    sample_size = election.default_sample_size
    if not size_text:
        imputed = True
        warn("sample_size", f"missing: the documented default of {election.default_sample_size} "
                            "interviews is used")
    else:
        value = _parse_number(size_text, decimal_comma, whole=True)
        if value is None or value != int(value) or value < 1 or value > 10_000_000:
            err("sample_size", f"{size_text!r}: expected a positive whole number of interviews")
        else:
            sample_size = int(value)

    shares: dict[str, float] = {}
    other_cols = [c for c in election.other_options if c in row]
    for col in [*offered_cols, *other_cols, "other", "undecided"]:
        text = row.get(col, "").strip()
        if not text:
            continue
        value = _parse_number(text, decimal_comma)
        if value is None:
            err(col, f"{text!r}: expected a percentage between 0 and 100")
        elif not (0.0 <= value <= _MAX_SHARE):
            err(col, f"{text!r}: expected a percentage between 0 and 100")
        else:
            shares[col] = value

    if sum(p.severity == "error" for p in problems) > errors_before:
        return None
    # Options the election does not model (e.g. aspirants who never reached the ballot) count as
    # "other": outside the decided base, like write-ins.
    folded = [shares.pop(c) for c in other_cols if c in shares]
    if folded:
        shares["other"] = shares.get("other", 0.0) + sum(folded)

    # Candidates offered outside their window: warned, and their column dropped from this poll
    # (their respondents are treated like the undecided: the poll is renormalised over the rest).
    offered = [c for c in offered_cols if c in shares]
    for c in list(offered):
        cand = election.candidate(c)
        if start and end and (end < cand.available_from or start > cand.available_until):
            warn(c, f"{c} offered outside the candidate's window {cand.available_from} .. "
                    f"{cand.available_until} ({shares[c]:g}%): dropped from this poll")
            offered.remove(c)
    named_total = sum(shares[c] for c in offered_cols if c in shares) + shares.get("other", 0.0)
    if basis == "raw":
        total = named_total + shares.get("undecided", 0.0)
    else:
        total = named_total
    tol = election.total_tolerance
    if not partial and abs(total - 100.0) > tol:
        expected = ("candidates + other + undecided" if basis == "raw" else "candidates + other "
                    "(effective basis)")
        err(offered_cols[0] if offered_cols else "", f"shares sum to {total:g}: expected "
            f"{expected} = 100 ± {tol:g}, or partial = 1 if some options were not reported")
        return None
    if partial and total > 100.0 + tol:
        err("partial", f"shares sum to {total:g}: a partial row cannot exceed 100 ± {tol:g}")
        return None
    if len(offered) < 2:
        err("", f"{len(offered)} candidate(s) offered in window: expected at least two")
        return None
    decided = sum(shares[c] for c in offered)
    if decided <= 0:
        err(offered[0], "every offered candidate has 0%: expected some decided respondents")
        return None

    # Decided respondents: raw rows keep only the offered candidates (undecided, other and
    # dropped options leave the base); effective rows already exclude the undecided, whose share is
    # taken as reported or, when not reported, as the election's documented default.
    if basis == "raw":
        decided_share = decided / 100.0
    else:
        undecided = shares.get("undecided")
        base = 1.0 - (undecided / 100.0 if undecided is not None
                      else election.default_undecided_share)
        decided_share = base * decided / max(named_total, 1e-9)
    rec = {
        "line": line, "pollster": pollster, "field_start": start, "field_end": end,
        "published": published,
        "midpoint": start + (end - start) / 2 if start and end else None,
        "sample_size": sample_size, "sample_size_imputed": imputed, "mode": mode or "unknown",
        "basis": basis, "partial": partial,
        "other": shares.get("other", np.nan), "undecided": shares.get("undecided", np.nan),
        "decided_share": decided_share,
        "n_decided": max(1, round(sample_size * decided_share)),
    }
    for c in offered_cols:
        rec[c] = shares[c] if c in offered else np.nan
    return rec
