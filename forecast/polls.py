"""Read and validate poll files into a tidy table, reporting every problem with file:line:column.

Schema (one row per published poll; documented in ``docs/poll-files.md``):

``pollster, poll_id, field_start, field_end, published, sample_size, mode, basis, partial,
tolerance, <candidate keys...>, other, undecided, source``.

Dates may be days (``2018-06-14``) or months (``2018-06``); a poll may give only its
publication date. The table carries the resolved window (``field_start`` .. ``field_end``,
``midpoint``, ``window_days``), how precise it is (``date_precision``) and the day the poll was
public (``known``, what :meth:`PollTable.as_of` filters on).
"""

from __future__ import annotations

import calendar
import codecs
import csv
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .election import RESERVED_COLUMNS, Election, plain_column, show_value
from .files import read_input
from .problems import InputError, Problem, csv_records, data_rows, did_you_mean, name_problem

REQUIRED_COLUMNS = ("pollster", "field_start", "field_end", "sample_size", "basis")
#: Required unless the file has a ``published`` column (a poll may give only its publication).
FIELDWORK_COLUMNS = ("field_start", "field_end")
MODES = ("face_to_face", "phone", "ivr", "online", "mixed")
BASES = ("raw", "effective")
#: Columns whose values are numbers (decimal commas in ``;`` files); the rest are text.
NUMBER_COLUMNS = ("sample_size", "tolerance")
#: A poll file holds at most this many polls, and this many bytes: a clear message beyond,
#: instead of gigabytes of memory (docs/poll-files.md, "Size limits").
MAX_POLLS = 100_000
MAX_POLL_FILE_BYTES = 64 * 1024 * 1024
#: The largest per-row ``tolerance`` (points), as ``total_tolerance`` in election.toml.
MAX_TOLERANCE = 50.0
#: Shares above this are not percentages (``1e300`` and the like are rejected, not overflowed).
_MAX_SHARE = 100.0
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")
DATE_FORMS = "YYYY-MM-DD (or YYYY-MM for a month)"


@dataclass(frozen=True)
class PollFormat:
    """How a poll file is written, so rows added to it are written the same way.

    ``encoding`` is ``"utf-8"`` (a BOM, if any, stays where it is) or ``"cp1252"``;
    ``delimiter`` ``","`` or ``";"`` (then numbers use decimal commas); ``newline`` the line end
    of the header line; ``header`` the column names (trimmed, lower case).
    """

    encoding: str
    delimiter: str
    newline: str
    header: tuple[str, ...]

    @property
    def decimal_comma(self) -> bool:
        """Whether numbers are written with a decimal comma (``;`` files)."""
        return self.delimiter == ";"


@dataclass
class PollTable:
    """Validated polls of one election.

    Attributes
    ----------
    table
        One row per poll: ``poll`` (id), ``line``, ``pollster``, ``poll_id``, the resolved
        fieldwork window ``field_start`` .. ``field_end`` (a month: its first and last day; a
        publication date alone: the election's assumed fieldwork before it), ``published``
        (NaT when not given; a month: its last day), ``known`` (the day the poll was public:
        ``published``, else ``field_end``), ``midpoint`` (middle of the window), ``window_days``
        (its length in days), ``date_precision`` (``day``, ``month`` or ``published``),
        ``sample_size``, ``sample_size_imputed``, ``mode``, ``basis``, ``partial``,
        ``tolerance`` (the row's own, NaN when it uses the election's), one share column per
        candidate (NaN where not offered or dropped), ``other``, ``undecided``,
        ``decided_share`` and ``n_decided``.
    warnings
        Problems that did not stop loading, each with its documented treatment.
    path
        The poll file.
    candidates
        The election's candidate keys.
    format
        How the file is written (encoding, separator, line end, header).
    cells
        Only from ``parse_polls(..., keep_cells=True)``: line -> each valid row's values as they
        should be stored (trimmed, ``47%`` -> ``47``, decimal points), by column name.
    duplicate_keys
        Line -> (pollster, dates and shares; poll_id): what makes two rows the same poll.
    """

    table: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    path: str = ""
    candidates: list[str] = field(default_factory=list)
    format: PollFormat | None = None
    cells: dict[int, dict[str, str]] | None = field(default=None, repr=False)
    duplicate_keys: dict[int, tuple[tuple, str]] = field(default_factory=dict, repr=False)

    def as_of(self, day: dt.date) -> PollTable:
        """Polls that were public by ``day`` (``known`` <= day): what was known then."""
        keep = self.table["known"] <= pd.Timestamp(day)
        kept = set(self.table.loc[keep, "line"])
        return PollTable(self.table[keep].reset_index(drop=True), list(self.warnings), self.path,
                         list(self.candidates), self.format,
                         duplicate_keys={k: v for k, v in self.duplicate_keys.items()
                                         if k in kept})

    def __len__(self) -> int:
        return len(self.table)


def decode_poll_text(raw: bytes, shown: str, problems: list[Problem]) -> tuple[str, str]:
    """Text and encoding (``"utf-8"`` or ``"cp1252"``) of a poll file's bytes; a warning in
    ``problems`` when not UTF-8. InputError for UTF-16/32 and NUL bytes."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" is UTF-16 (tab-separated): say so rather than "binary data".
        raise InputError([Problem(shown, 1, "", "UTF-16 (or UTF-32) text: save the file as "
                                  "CSV UTF-8 (or Windows-1252)")])
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Mexican spreadsheets are often Latin-1 / Windows-1252; read them, but say so.
        problems.append(Problem(shown, 0, "", "file is not UTF-8; read as Windows-1252 (Latin-1)",
                                "warning"))
        # A UTF-8 BOM followed by Latin-1 rows (rows pasted into a UTF-8 file) used to leave
        # "ï»¿" glued to the first column name ("missing required column pollster").
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        text, encoding = raw.decode("cp1252", errors="replace"), "cp1252"
    if "\x00" in text:
        # The line of the first NUL, not always line 1.
        raise InputError([Problem(shown, _line_at(text, text.index("\x00")), "",
                                  "binary data (NUL bytes): expected a CSV text file")])
    return text, encoding


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


def format_number(value: float) -> str:
    """A number as stored in a poll file: shortest exact text, no ``.0`` (``47``, ``47.5``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _parse_date(text: str) -> dt.date | None:
    s = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


def parse_period(text: str) -> tuple[dt.date, dt.date, str] | None:
    """``YYYY-MM-DD`` -> (day, day, "day"); ``YYYY-MM`` -> (first, last day, "month"); else
    None (other spellings are refused: ``06/2018`` is ambiguous across locales)."""
    s = text.strip()
    day = _parse_date(s)
    if day is not None:
        return day, day, "day"
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", s)  # ASCII digits, like days
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        return None
    year, month = int(match[1]), int(match[2])
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return first, last, "month"


def read_polls(path: str | Path, election: Election) -> PollTable:
    """Read and validate a poll file against an election definition.

    Parameters
    ----------
    path
        CSV file (UTF-8 preferred; Latin-1, a BOM, ``;`` separators with decimal commas and
        ``42%`` are accepted). At most :data:`MAX_POLLS` rows and :data:`MAX_POLL_FILE_BYTES`.
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
    raw = read_input(path, missing="poll file not found", max_bytes=MAX_POLL_FILE_BYTES)
    return parse_polls(raw, str(path), election)


def parse_polls(raw: bytes, shown: str, election: Election, *,
                keep_cells: bool = False, table: bool = True,
                allow_empty: bool = False) -> PollTable:
    """Validate the bytes of a poll file (see :func:`read_polls`); ``shown`` names it in
    messages. ``keep_cells`` also returns each row's values as they should be stored
    (``PollTable.cells``, for ``polls add``). With ``table=False`` every row is validated but
    only its ``line`` is kept in the table (with ``duplicate_keys`` and ``format``): what
    ``polls add`` needs of the file it appends to, in a fraction of the memory.
    ``allow_empty`` accepts a file with a header and no rows (the poll file ``polls add`` fills
    for the first time: ``forecast init`` writes one)."""
    problems: list[Problem] = []
    text, encoding = decode_poll_text(raw, shown, problems)
    if not text.strip():
        raise InputError([Problem(shown, 1, "", "empty file: expected a header line "
                                  f"with columns {', '.join(REQUIRED_COLUMNS)} and candidates")])
    # The first line without splitting the whole text (a copy of every line of a big file).
    first_line = re.match(r"[^\r\n]*(\r\n|\r|\n)?", text)
    assert first_line is not None
    first = first_line.group(0).rstrip("\r\n")
    newline = first_line.group(1) or "\n"
    delimiter = ";" if first.count(";") > first.count(",") else ","
    decimal_comma = delimiter == ";"
    records = csv_records(text, delimiter)
    try:
        header_line, header = next(records)
    except csv.Error as exc:
        # The line the reader stopped at (e.g. a field over the 128 KiB limit), not 0.
        raise InputError([Problem(shown, getattr(exc, "line", 0), "",
                                  f"not a readable CSV file: {exc}")]) from None
    header = [h.strip().lower() for h in header]
    candidates = election.candidate_keys
    known = set(RESERVED_COLUMNS) | set(candidates) | set(election.other_options)
    required = [c for c in REQUIRED_COLUMNS
                if c not in FIELDWORK_COLUMNS or "published" not in header]
    for col in required:
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
            hint = did_you_mean(col, sorted(known))
            problems.append(Problem(
                shown, header_line, label,
                f"unknown column{named}{hint}: not a candidate of {election.key} (candidates: "
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

    out: list[dict] = []
    cells: dict[int, dict[str, str]] = {}
    count = 0
    for line, values in data_rows(records, len(header), shown, problems):
        count += 1
        if count > MAX_POLLS:
            raise InputError([Problem(shown, line, "", f"more than {MAX_POLLS:,} polls: a poll "
                                      "file holds at most that many (split it by year or "
                                      "race; docs/poll-files.md)")])
        rec = _validate_row(dict(zip(header, values, strict=True)), line, shown, election,
                            offered_cols, decimal_comma, problems, keep_cells)
        if rec is not None:
            if keep_cells:
                cells[line] = rec.pop("_cells")
            out.append(rec if table else {"line": rec["line"], "_key": rec["_key"]})
    if not out and not allow_empty and not any(p.severity == "error" for p in problems):
        problems.append(Problem(shown, 2, "", "no polls: expected at least one data row"))

    # The same poll listed twice would count its respondents twice. Two polls by one house
    # with the same dates (daily trackers, two questionnaires) are different polls unless their
    # shares are the same too, or they carry the same poll_id.
    duplicate_keys = {rec["line"]: rec.pop("_key") for rec in out}
    seen: dict[tuple, int] = {}
    ids: dict[str, int] = {}
    for rec in out:
        key, poll_id = duplicate_keys[rec["line"]]
        if poll_id and poll_id in ids:
            problems.append(Problem(shown, rec["line"], "poll_id",
                                    f"duplicate poll: poll_id {show_value(poll_id)} is also on "
                                    f"line {ids[poll_id]}"))
        elif key in seen:
            problems.append(Problem(shown, rec["line"], "pollster",
                                    f"duplicate poll: same pollster, dates and shares as line "
                                    f"{seen[key]}"))
        else:
            seen.setdefault(key, rec["line"])
            if poll_id:
                ids[poll_id] = rec["line"]
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    warnings = [p for p in problems if p.severity == "warning"]
    fmt = PollFormat(encoding, delimiter, newline, tuple(header))
    if not table:
        return PollTable(pd.DataFrame({"line": [r["line"] for r in out]}), warnings, shown,
                         list(candidates), fmt, None, duplicate_keys)
    frame = pd.DataFrame.from_records(out)
    for c in candidates:
        if c not in frame:
            frame[c] = np.nan
    for c in ("field_start", "field_end", "published", "known", "midpoint"):
        frame[c] = pd.to_datetime(frame[c])
    frame["tolerance"] = frame["tolerance"].astype(float)
    frame = frame.sort_values(["field_end", "line"]).reset_index(drop=True)
    frame.insert(0, "poll", [f"{r.pollster} {r.field_end:%Y-%m-%d}" for r in frame.itertuples()])
    frame["poll"] = _unique(frame["poll"].tolist())
    return PollTable(frame, warnings, shown, list(candidates),
                     fmt, cells if keep_cells else None, duplicate_keys)


def _unique(names: list[str]) -> list[str]:
    out, count = [], {}
    for n in names:
        count[n] = count.get(n, 0) + 1
        out.append(n if count[n] == 1 else f"{n} #{count[n]}")
    return out


def _validate_row(row: dict, line: int, shown: str, election: Election, offered_cols: list[str],
                  decimal_comma: bool, problems: list[Problem], keep_cells: bool = False
                  ) -> dict | None:
    # Only this row's problems are looked at: counting the whole list per row was quadratic
    # (a 100,000-row file with a warning per row took minutes).
    first = len(problems)

    def err(col: str, msg: str) -> None:
        problems.append(Problem(shown, line, col, msg))

    def warn(col: str, msg: str) -> None:
        problems.append(Problem(shown, line, col, msg, "warning"))

    pollster = row["pollster"].strip()
    if not pollster:
        err("pollster", "empty: expected the pollster's name")
    elif (bad := name_problem(pollster)) is not None:
        err("pollster", f"{show_value(pollster)} {bad}")
    poll_id = row.get("poll_id", "").strip()
    if poll_id and (bad := name_problem(poll_id)) is not None:
        err("poll_id", f"{show_value(poll_id)} {bad}")
    window = _poll_window(row, election, err)

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
    tolerance: float | None = None
    tol_text = row.get("tolerance", "").strip()
    if tol_text:
        tolerance = _parse_number(tol_text, decimal_comma)
        if tolerance is None or not 0.0 <= tolerance <= MAX_TOLERANCE:
            err("tolerance", f"{tol_text!r}: expected how far (points) this row's total may be "
                             f"from 100, between 0 and {MAX_TOLERANCE:g}, or blank (the "
                             f"election's total_tolerance, {election.total_tolerance:g})")
            tolerance = None

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

    if any(p.severity == "error" for p in problems[first:]) or window is None:
        return None
    start, end, published, known, precision = window
    # What makes two rows one poll (checked by the caller): the same house, fieldwork and
    # shares (published figures, before any treatment), or the same poll_id.
    duplicate_key = (pollster.casefold(), start, end, tuple(sorted(shares.items())))
    stored = {col: (format_number(shares[col]) if col in shares else "")
              for col in [*offered_cols, *other_cols, "other", "undecided"]}
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
        if end < cand.available_from or start > cand.available_until:
            warn(c, f"{c} offered outside the candidate's window {cand.available_from} .. "
                    f"{cand.available_until} ({shares[c]:g}%): dropped from this poll")
            offered.remove(c)
    named_total = sum(shares[c] for c in offered_cols if c in shares) + shares.get("other", 0.0)
    if basis == "raw":
        total = named_total + shares.get("undecided", 0.0)
    else:
        total = named_total
    tol = election.total_tolerance if tolerance is None else tolerance
    where = "" if tolerance is None else " (this row's tolerance)"
    if not partial and abs(total - 100.0) > tol:
        expected = ("candidates + other + undecided" if basis == "raw" else "candidates + other "
                    "(effective basis)")
        err(offered_cols[0] if offered_cols else "", f"shares sum to {total:g}: expected "
            f"{expected} = 100 ± {tol:g}{where}, or partial = 1 if some options were not "
            "reported")
        return None
    if partial and total > 100.0 + tol:
        err("partial", f"shares sum to {total:g}: a partial row cannot exceed 100 ± {tol:g}"
                       f"{where}")
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
        "line": line, "pollster": pollster, "poll_id": poll_id, "field_start": start,
        "field_end": end, "published": published, "known": known,
        "midpoint": start + (end - start) / 2, "window_days": (end - start).days + 1,
        "date_precision": precision,
        "sample_size": sample_size, "sample_size_imputed": imputed, "mode": mode or "unknown",
        "basis": basis, "partial": partial,
        "tolerance": np.nan if tolerance is None else tolerance,
        "other": shares.get("other", np.nan), "undecided": shares.get("undecided", np.nan),
        "decided_share": decided_share,
        "n_decided": max(1, round(sample_size * decided_share)),
        "_key": (duplicate_key, poll_id),
    }
    for c in offered_cols:
        rec[c] = shares[c] if c in offered else np.nan
    if keep_cells:
        # The row as it is stored by `polls add`: values as read (trimmed, "47%" -> 47, decimal
        # points); text columns as given.
        rec["_cells"] = {
            **{col: value for col, value in row.items()},
            "pollster": pollster, "poll_id": poll_id,
            **{col: row.get(col, "").strip() for col in ("field_start", "field_end",
                                                        "published")},
            "sample_size": "" if imputed else str(sample_size), "mode": mode, "basis": basis,
            "partial": "1" if partial else "",
            "tolerance": "" if tolerance is None else format_number(tolerance),
            **stored,
        }
    return rec


def _poll_window(row: dict, election: Election, err: Callable[[str, str], None]
                 ) -> tuple[dt.date, dt.date, dt.date | None, dt.date, str] | None:
    """(field_start, field_end, published, known, precision) of a row, or None after ``err``.

    A month stands for its first (start) and last (end) day, clipped to the campaign window; a
    publication date alone stands for ``assumed_fieldwork_days`` of fieldwork ending
    ``assumed_publication_lag_days`` before it (docs/poll-files.md, "Dates").
    """
    periods: dict[str, tuple[dt.date, dt.date, str] | None] = {}
    bad = False
    for col in ("field_start", "field_end", "published"):
        value = row.get(col, "").strip()
        periods[col] = None
        if value:
            periods[col] = parse_period(value)
            if periods[col] is None:
                err(col, f"{value!r} is not a date: expected {DATE_FORMS}")
                bad = True
    if bad:
        return None
    fs, fe, pub = periods["field_start"], periods["field_end"], periods["published"]
    lo, hi = election.campaign_start, election.election_day
    if fs is None and fe is None:
        if pub is None:
            err("field_end", f"empty: expected fieldwork dates {DATE_FORMS}, or a published "
                             "date")
            return None
        if pub[1] < lo or pub[0] > hi:
            err("published", f"{row['published'].strip()} is outside the campaign window "
                             f"{lo} .. {hi}")
            return None
        lag = dt.timedelta(days=election.assumed_publication_lag_days)
        end = pub[1] - lag
        start = pub[0] - lag - dt.timedelta(days=election.assumed_fieldwork_days - 1)
        start, end = max(start, lo), max(min(end, hi), lo)
        start = min(start, end)
        return start, end, pub[1], pub[1], "published"
    texts = {col: row.get(col, "").strip() for col in ("field_start", "field_end", "published")}
    checks = [("field_start", fs), ("field_end", fe)]
    if fs is None or fe is None:
        given, missing = ("field_start", "field_end") if fe is None else ("field_end",
                                                                         "field_start")
        one = fs or fe
        assert one is not None
        if one[2] != "month":
            err(missing, f"empty while {given} is given: expected a date {DATE_FORMS} (a month "
                         "may stand alone)")
            return None
        fs = fe = one
        texts["field_start"] = texts["field_end"] = texts[given]
        checks = [(given, one)]
    precision = "day" if fs[2] == fe[2] == "day" else "month"
    start, end = fs[0], fe[1]
    if start > end:
        err("field_end", f"field_end {texts['field_end']} is before field_start "
                         f"{texts['field_start']}: expected start <= end")
        return None
    if pub is not None and fe[0] > pub[1]:
        err("published", f"published {texts['published']} is before field_end "
                         f"{texts['field_end']}: expected end <= publication")
        return None
    ok = True
    for col, period in checks:
        # A day outside the window is an error; a month only when none of it is inside.
        inside = (lo <= period[0] <= hi) if period[2] == "day" else not (
            period[1] < lo or period[0] > hi)
        if not inside:
            err(col, f"{texts[col]} is outside the campaign window {lo} .. {hi}")
            ok = False
    if not ok:
        return None
    if precision == "month":
        # A month is clipped to what is possible: the campaign, and no later than publication.
        end = min(end, hi, pub[1] if pub is not None else hi)
        start = min(max(start, lo), end)
    published = pub[1] if pub is not None else None
    return start, end, published, published or end, precision
