"""Read and validate the state-poll file of the governor races, every problem at once.

Schema (one row per published poll release; ``docs/governors.md``)::

    state, pollster, field_start, field_end, published, sample_size, mode, basis,
    <candidate keys: the candidacy_keys of races.toml>, other_candidates, undecided, source,
    reported, notes

Each problem is reported as ``FILE:LINE:COLUMN: message`` (the header is line 1) and loading
raises :class:`~forecast.problems.InputError` listing all of them, as for national polls.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..election import plain_column, show_value
from ..files import read_input
from ..polls import (
    DATE_FORMS,
    MAX_POLL_FILE_BYTES,
    MAX_POLLS,
    MODES,
    _line_at,
    _parse_number,
    parse_period,
)
from ..problems import InputError, Problem, csv_records, data_rows, did_you_mean, name_problem
from .races import OTHER_CANDIDACY, POLL_OPTIONAL_COLUMNS, POLL_REQUIRED_COLUMNS, GovernorRaces

REQUIRED_COLUMNS = POLL_REQUIRED_COLUMNS
OPTIONAL_COLUMNS = POLL_OPTIONAL_COLUMNS

BASES = ("raw", "effective")
REPORTED = ("complete", "main", "partial")


@dataclass
class GovernorPolls:
    """Validated state polls.

    Attributes
    ----------
    table
        One row per usable poll: ``poll`` (id), ``line``, ``state``, ``pollster``,
        ``field_start``, ``field_end``, ``published``, ``known`` (date the poll was public:
        ``published``, else ``field_end``), ``reference`` (fieldwork midpoint, else the end or
        publication date), ``sample_size``, ``sample_size_imputed``, ``mode``, ``basis``,
        ``reported``, one share column per candidate key (percent; NaN where not given),
        ``unlisted`` (named options not on the race's list, outside the decided base),
        ``undecided``, ``rest`` (percent of decided voters for ballot options the
        release did not itemise; NaN when its base is unknown) and ``n_decided``.
    warnings
        Problems that did not stop loading, each with its treatment.
    path
        The poll file.
    """

    table: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    path: str = ""

    def as_of(self, day: dt.date) -> GovernorPolls:
        """Polls public by ``day``: published by then (or, if undated, fieldwork ended)."""
        keep = self.table["known"] <= pd.Timestamp(day)
        return GovernorPolls(self.table[keep].reset_index(drop=True), list(self.warnings),
                             self.path)

    def count_by_state(self, states: list[str]) -> dict[str, int]:
        """Number of polls per state (zeros included)."""
        counts = self.table["state"].value_counts()
        return {s: int(counts.get(s, 0)) for s in states}

    def __len__(self) -> int:
        return len(self.table)


def _parse_others(text: str) -> float | None:
    """Sum of ``name=pct;name=pct`` (``None`` if malformed)."""
    total = 0.0
    for part in text.split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            return None
        value = _parse_number(part.rsplit("=", 1)[1], decimal_comma=False)
        if value is None or not 0 <= value <= 100:
            return None
        total += value
    return total


def read_governor_polls(path: str | Path, races: GovernorRaces) -> GovernorPolls:
    """Read and validate a state-poll file against the race definitions.

    Parameters
    ----------
    path
        CSV file (UTF-8; a BOM is accepted).
    races
        The races the polls are about: states, candidate columns and windows are checked.

    Returns
    -------
    GovernorPolls

    Raises
    ------
    InputError
        Listing every error found (``FILE:LINE:COLUMN: message``).

    Notes
    -----
    Treatments (warnings): a blank sample size gets ``default_sample_size``; a blank basis is read
    as raw with the undecided unknown (the poll is renormalised over the options it gives); a
    candidate given outside its window is dropped from that poll; a row that gives fewer than two
    options and no known decided base carries no information on relative support and is skipped.
    """
    path = Path(path)
    shown = str(path)
    raw = read_input(path, missing="state-poll file not found", max_bytes=MAX_POLL_FILE_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(shown, line, "", "not UTF-8 text: save the file as UTF-8")]
                         ) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError([Problem(shown, 1, "", "binary or UTF-16 data: expected a CSV text "
                                  "file (UTF-8)")])
    if "\x00" in text:
        raise InputError([Problem(shown, _line_at(text, text.index("\x00")), "",
                                  "binary data (NUL bytes): expected a CSV text file")])
    if not text.strip():
        raise InputError([Problem(shown, 1, "", "empty file: expected a header line with "
                                  f"columns {', '.join(REQUIRED_COLUMNS)} and candidates")])
    rows = csv_records(text)
    try:
        _, header = next(rows)
    except csv.Error as exc:
        raise InputError([Problem(shown, exc.line, "", f"not a readable CSV file: {exc}")]
                         ) from None
    header = [h.strip().lower() for h in header]
    problems: list[Problem] = []
    for col in REQUIRED_COLUMNS:
        if col not in header:
            problems.append(Problem(shown, 1, col, "missing required column"))
    candidate_columns = [k for k in races.keys if k != OTHER_CANDIDACY]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(candidate_columns)
    for col in header:
        label = plain_column(col)
        if col == "":
            problems.append(Problem(shown, 1, "", "empty column name in header"))
        elif col not in known:
            problems.append(Problem(shown, 1, label, f"unknown column"
                                    f"{'' if label else ' ' + show_value(col)}"
                                    f"{did_you_mean(col, sorted(known))}: expected "
                                    f"candidate keys ({', '.join(races.options)}) or "
                                    f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}"))
    for col in sorted({c for c in header if c and header.count(c) > 1}):
        problems.append(Problem(shown, 1, plain_column(col), "column appears more than once"))
    option_cols = [c for c in candidate_columns if c in header]
    if not option_cols:
        problems.append(Problem(shown, 1, "", "no candidate columns: expected some of "
                                f"{', '.join(races.options)}"))
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)

    records = []
    for count, (line, values) in enumerate(data_rows(rows, len(header), shown, problems), 1):
        if count > MAX_POLLS:
            raise InputError([Problem(shown, line, "", f"more than {MAX_POLLS:,} polls: a poll "
                                      "file holds at most that many (docs/poll-files.md)")])
        rec = _validate_row(dict(zip(header, values, strict=True)), line, shown, races,
                            option_cols, problems)
        if rec is not None:
            records.append(rec)
    seen: dict[tuple, int] = {}
    for rec in records:
        key = rec.pop("_key")
        if key in seen:
            problems.append(Problem(shown, rec["line"], "pollster", "duplicate poll: same state, "
                                    f"pollster, dates and shares as line {seen[key]}"))
        else:
            seen[key] = rec["line"]
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    columns = ["line", "state", "pollster", "field_start", "field_end", "published", "known",
               "reference", "date_precision", "window_days", "sample_size",
               "sample_size_imputed", "mode", "basis", "reported",
               *races.options, "unlisted", "undecided", "rest", "n_decided"]
    table = pd.DataFrame.from_records(records, columns=columns)
    for c in ("field_start", "field_end", "published", "known", "reference"):
        table[c] = pd.to_datetime(table[c])
    for c in [*races.options, "unlisted", "undecided", "rest"]:
        table[c] = table[c].astype(float)
    table = table.sort_values(["known", "line"]).reset_index(drop=True)
    ids = [f"{r.state} {r.pollster} {r.known:%Y-%m-%d}" for r in table.itertuples()]
    count: dict[str, int] = {}
    unique = []
    for i in ids:
        count[i] = count.get(i, 0) + 1
        unique.append(i if count[i] == 1 else f"{i} #{count[i]}")
    table.insert(0, "poll", unique)
    return GovernorPolls(table, [p for p in problems if p.severity == "warning"], shown)


def _validate_row(row: dict, line: int, shown: str, races: GovernorRaces,
                  option_cols: list[str], problems: list[Problem]) -> dict | None:
    first = len(problems)  # this row's problems start here (not a count per row: quadratic)

    def err(col: str, msg: str) -> None:
        problems.append(Problem(shown, line, col, msg))

    def warn(col: str, msg: str) -> None:
        problems.append(Problem(shown, line, col, msg, "warning"))

    state = row["state"].strip().lower()
    if state not in races.states:
        err("state", f"{show_value(row['state'])} is not a race of {races.path.name} "
                     f"(states: {', '.join(races.states)})")
        return None
    race = races.race(state)
    pollster = row["pollster"].strip()
    if not pollster:
        err("pollster", "empty: expected the pollster's name")
    elif (bad := name_problem(pollster)) is not None:
        err("pollster", f"{show_value(pollster)} {bad}")
    window = _dates(row, races, err)
    basis = row["basis"].strip().lower()
    if basis and basis not in BASES:
        err("basis", f"{row['basis']!r}: expected 'raw' (undecided in the base), 'effective' "
                     "(undecided removed) or blank (not stated)")
    mode = row.get("mode", "").strip().lower()
    if mode and mode not in MODES:
        err("mode", f"{mode!r}: expected one of {', '.join(MODES)} or blank (unknown)")
    reported = row["reported"].strip().lower()
    if reported not in REPORTED:
        err("reported", f"{row['reported']!r}: expected one of {', '.join(REPORTED)}")
    size_text = row["sample_size"].strip()
    sample_size, imputed = races.default_sample_size, False
    if size_text:
        value = _parse_number(size_text, decimal_comma=False, whole=True)
        if value is None or value != int(value) or not 1 <= value <= 10_000_000:
            err("sample_size", f"{size_text!r}: expected a positive whole number of interviews")
        else:
            sample_size = int(value)
    shares: dict[str, float] = {}
    for col in [*option_cols, "undecided"]:
        text = row.get(col, "").strip()
        if not text:
            continue
        value = _parse_number(text, decimal_comma=False)
        if value is None or not 0.0 <= value <= 100.0:
            err(col, f"{text!r}: expected a percentage between 0 and 100")
            continue
        if col != "undecided" and col not in race.keys:
            err(col, f"{value:g}% for {col!r}, which is not a candidate in {state} (candidates: "
                     f"{', '.join(race.keys)})")
            continue
        shares[col] = value
    other = 0.0
    others_text = row.get("other_candidates", "").strip()
    if others_text:
        parsed = _parse_others(others_text)
        if parsed is None:
            err("other_candidates", f"{show_value(others_text)}: expected name=percent pairs "
                                    "separated by ';'")
        else:
            other = parsed
    if any(p.severity == "error" for p in problems[first:]) or window is None:
        return None
    start, end, published, precision = window
    # Two releases are one poll when state, house, dates and published shares are the same
    # (same-day releases by one house with other figures are different polls).
    duplicate_key = (state, pollster.casefold(), start, end, published,
                     tuple(sorted(shares.items())), other)

    if not size_text:
        imputed = True
        warn("sample_size", f"missing: the documented default of {races.default_sample_size} "
                            "interviews is used")
    if not basis:
        warn("basis", "not stated: read as raw with the undecided unknown (the poll is "
                      "renormalised over the options it gives)")
    # Named others go to the race's `other` candidacy (Partido Humanista) where it has one;
    # elsewhere they are people not on the ballot or not modelled and leave the decided base.
    if other and OTHER_CANDIDACY in race.keys:
        shares[OTHER_CANDIDACY] = other
        other = 0.0
    options = [k for k in race.keys if k in shares]
    itemised = sum(shares[k] for k in options)
    undecided = shares.get("undecided")
    total = itemised + other + ((undecided or 0.0) if basis != "effective" else 0.0)
    tol = races.total_tolerance
    if total > 100.0 + tol:
        err(options[0] if options else "", f"shares sum to {total:g}: expected at most "
                                           f"100 ± {tol:g}")
        return None
    if basis == "effective" and reported == "complete" and abs(itemised + other - 100) > tol:
        err(options[0] if options else "", f"shares sum to {itemised + other:g}: a complete "
            f"effective row must sum to 100 ± {tol:g} (or mark it main/partial)")
        return None
    ref = start + (end - start) / 2 if start and end else end or published
    for k in list(options):
        cand = race.candidate(k)
        day = ref or published
        if day is not None and not cand.available_on(day):
            warn(k, f"{k} given outside the candidate's window {cand.available_from} .. "
                    f"{cand.available_until} ({shares[k]:g}%): dropped from this poll")
            options.remove(k)
    # Decided voters for options not itemised: known only when the decided base is known.
    rest = np.nan
    if reported != "complete":
        if basis == "effective":
            rest = max(0.0, 100.0 - itemised)
        elif basis == "raw" and undecided is not None:
            rest = max(0.0, 100.0 - undecided - itemised)
    n_named = len(options) + (1 if np.isfinite(rest) and rest > 0 else 0)
    if len(options) < 1 or n_named < 2 and not np.isfinite(rest):
        warn(options[0] if options else "", f"{len(options)} option(s) given and no known "
             "decided base: no information on relative support; row not used")
        return None
    if basis == "effective":
        base = 1.0 - (undecided / 100.0 if undecided is not None
                      else races.default_undecided_share)
        decided = base * (itemised + (rest if np.isfinite(rest) else 0.0)) / max(
            itemised + other + (rest if np.isfinite(rest) else 0.0), 1e-9)
    else:
        decided = (itemised + (rest if np.isfinite(rest) else 0.0)) / 100.0
    rec = {
        "line": line, "state": state, "pollster": pollster, "field_start": start,
        "field_end": end, "published": published, "known": published or end, "reference": ref,
        "date_precision": precision,
        "window_days": (end - start).days + 1 if start and end else 1 if end else np.nan,
        "_key": duplicate_key,
        "sample_size": sample_size, "sample_size_imputed": imputed, "mode": mode or "unknown",
        "basis": basis or "unknown", "reported": reported, "unlisted": other,
        "undecided": np.nan if undecided is None else undecided, "rest": rest,
        "n_decided": max(1, round(sample_size * decided)),
    }
    for k in races.options:
        rec[k] = shares[k] if k in options else np.nan
    return rec



def _dates(row: dict, races: GovernorRaces, err: Callable[[str, str], None]
           ) -> tuple[dt.date | None, dt.date | None, dt.date | None, str] | None:
    """(field_start, field_end, published, precision) of a release, or None after ``err``.

    Days or months (``2018-06``: its first day as a start, its last day as an end or a
    publication date; a month alone in field_start or field_end is the fieldwork window), clipped
    to the campaign window like national polls. A release may give only field_end, or only its
    publication date (then ``reference`` is that date: docs/governors.md).
    """
    periods: dict[str, tuple[dt.date, dt.date, str] | None] = {}
    lo, hi = races.campaign_start, races.election_day
    texts = {col: row[col].strip() for col in ("field_start", "field_end", "published")}
    ok = True
    for col, text in texts.items():
        periods[col] = None
        if not text:
            continue
        period = parse_period(text)
        if period is None:
            err(col, f"{text!r} is not a date: expected {DATE_FORMS}")
            ok = False
        elif (not lo <= period[0] <= hi) if period[2] == "day" else (period[1] < lo
                                                                     or period[0] > hi):
            err(col, f"{text} is outside the campaign window {lo} .. {hi}")
            ok = False
        else:
            periods[col] = period
    if not ok:
        return None
    fs, fe, pub = periods["field_start"], periods["field_end"], periods["published"]
    if fe is None and pub is None and (fs is None or fs[2] != "month"):
        err("published", f"no date: expected field_end or published ({DATE_FORMS}); an undated "
                         "poll cannot be placed before or after an as-of date")
        return None
    if fs is not None and fe is None:
        if fs[2] != "month":
            err("field_end", f"empty while field_start is given: expected a date {DATE_FORMS} "
                             "(a month may stand alone)")
            return None
        fe = fs
    if fe is not None and fs is None and fe[2] == "month":
        fs = fe
    start = fs[0] if fs else None
    end = fe[1] if fe else None
    if start and end and start > end:
        err("field_end", f"field_end {texts['field_end']} is before field_start "
                         f"{texts['field_start']}")
        return None
    if fe and pub and fe[0] > pub[1]:
        err("published", f"published {texts['published']} is before field_end "
                         f"{texts['field_end']}")
        return None
    published = pub[1] if pub else None
    months = [p for p in (fs, fe) if p is not None and p[2] == "month"]
    precision = ("month" if months else "day") if fe else "published"
    if end is not None:
        end = min(end, hi, published or hi)
    if start is not None:
        start = min(max(start, lo), end or start)
    return start, end, published, precision
