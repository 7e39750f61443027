"""Backtest: forecast elections as of past dates and score them against the official results.

``forecast backtest ELECTION_DIR [ELECTION_DIR ...] [--as-of DATE ...] [--days-before N]
[--json]`` fits the model on the polls public by each as-of date (default: ``--days-before`` 4
days before election day), simulates election day and compares the draws with the election's
official-results file (``results_file`` in ``election.toml``); with several elections it also
prints a calibration table (coverage of the 50/80/90% intervals, mean interval scores, Brier and
log score of the winner, and the model's mean absolute error next to a naive poll average).
Definitions of every score are in ``docs/backtest.md``.

Results file (CSV, UTF-8): columns ``candidate,votes`` (an optional ``note`` column is free
text), one row per candidate key on the election-day ballot, the rows ``unregistered`` (votes
for non-registered candidates, write-ins) and ``null`` (null votes), and optionally ``other``:
**valid** votes for options that are not candidates of the election (minor candidates that are
not modelled). Candidates on the ballot and ``other`` make up the official valid vote;
candidates of the election who are not on the ballot (e.g. a withdrawn candidate whose name
stayed printed, whose votes count for a cancelled registration), ``unregistered`` and ``null``
make up the invalid part of the total. The forecast's own valid vote is that of the candidates
it forecasts (``share_total = share_valid * (1 - invalid)`` in the model): its ``share_valid``
is scored against each candidate's share of the votes of those candidates.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .dates import iso_date
from .election import Election, plain_column, show_value
from .files import read_input
from .problems import InputError, Problem, csv_records, data_rows, decode_utf8, did_you_mean
from .scoring import interval_block, summarise_blocks
from .seeds import DEFAULT_SEED

#: Rows of a results file that are not candidates: ``other`` (valid votes for options that are
#: not candidates of the election: minor candidates not modelled; optional, 0 when absent),
#: ``unregistered`` and ``null`` (both invalid; required, 0 if none).
RESERVED_ROWS = ("other", "unregistered", "null")
#: The reserved rows every results file must have.
REQUIRED_ROWS = ("unregistered", "null")
REQUIRED_COLUMNS = ("candidate", "votes")
OPTIONAL_COLUMNS = ("note",)
DEFAULT_ELECTION = "polls/mx2018"
EXIT_INPUT = 2
EXIT_NOT_CONVERGED = 3
# ASCII digits only and at most 15 of them (no electorate is near 10**15): int() of a
# 5,000-digit text raised ValueError.
_WHOLE = re.compile(r"^[0-9]{1,15}\Z")
#: A results file is a few lines; refuse anything larger than this before reading it.
MAX_RESULTS_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Results:
    """An official result, validated against an election definition.

    Attributes
    ----------
    path
        The results file.
    votes
        Votes per row key: every ballot candidate, any off-ballot candidate listed, and the
        ``other`` (0 when the file has no such row), ``unregistered`` and ``null`` rows.
    ballot
        Keys of the candidates on the election-day ballot, in election order.
    candidates
        Keys of every candidate of the election (on the ballot or not).
    """

    path: str
    votes: dict[str, int]
    ballot: tuple[str, ...]
    candidates: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """All votes cast (every row)."""
        return sum(self.votes.values())

    @property
    def other(self) -> int:
        """Valid votes for options that are not candidates of the election (``other`` row)."""
        return self.votes.get("other", 0)

    @property
    def valid(self) -> int:
        """The official valid vote: the candidates on the ballot and ``other``."""
        return sum(self.votes[k] for k in self.ballot) + self.other

    @property
    def invalid(self) -> int:
        """Null + non-registered + votes for candidates not on the ballot."""
        return self.total - self.valid

    def on_ballot(self, key: str) -> int:
        """Votes of a candidate on the ballot (0 for a candidate not on it: such votes are not
        valid)."""
        return self.votes[key] if key in self.ballot else 0

    def share_total(self, key: str) -> float:
        """A candidate's share of all votes cast (fraction; 0 when not on the ballot)."""
        return self.on_ballot(key) / self.total

    def share_valid(self, key: str) -> float:
        """A candidate's share of the official valid vote (fraction; 0 when not on the
        ballot)."""
        return self.on_ballot(key) / self.valid

    def share_among(self, key: str, keys: list[str] | tuple[str, ...]) -> float:
        """A candidate's share of the votes of the candidates ``keys`` (those a forecast
        models): the scale of the forecast's ``share_valid``. Candidates not on the ballot count
        0; NaN when those candidates have no valid votes at all."""
        base = sum(self.on_ballot(k) for k in keys)
        return self.on_ballot(key) / base if base else math.nan

    @property
    def winners(self) -> tuple[str, ...]:
        """The ballot candidate(s) with the most votes (several only on an exact tie)."""
        top = max(self.votes[k] for k in self.ballot)
        return tuple(k for k in self.ballot if self.votes[k] == top)


def read_results(path: str | Path, election: Election) -> Results:
    """Read and validate an official-results file.

    Parameters
    ----------
    path
        CSV with columns ``candidate,votes`` (optional ``note``); see the module docstring.
    election
        The election: candidate keys are checked against it, and its ballot defines the valid
        vote.

    Returns
    -------
    Results

    Raises
    ------
    InputError
        Every problem found, each as ``FILE:LINE:COLUMN: message`` (missing file, unknown or
        repeated candidate, votes that are not a whole number, a ballot candidate or a reserved
        row missing, no valid votes).
    """
    path = Path(path)
    shown = str(path)
    raw = read_input(path, missing="results file not found: expected a CSV with columns "
                     "candidate,votes", max_bytes=MAX_RESULTS_BYTES)
    text = decode_utf8(raw, shown)
    if "\x00" in text:
        raise InputError([Problem(shown, 1, "", "binary data (NUL bytes): expected a CSV text "
                                  "file")])
    if not text.strip():
        raise InputError([Problem(shown, 1, "", "empty file: expected a header line "
                                  "candidate,votes")])
    try:
        rows = list(csv_records(text))
    except csv.Error as exc:
        raise InputError([Problem(shown, getattr(exc, "line", 0), "",
                                  f"not a readable CSV file: {exc}")]) from None

    problems: list[Problem] = []
    header_line, header = rows[0]
    header = [h.strip().lower() for h in header]
    for col in REQUIRED_COLUMNS:
        if col not in header:
            problems.append(Problem(shown, header_line, col, "missing required column"))
    allowed_columns = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for col in header:
        if col not in allowed_columns:
            # A header name with a line break or colon would break FILE:LINE:COLUMN: it is
            # quoted in the message instead.
            label = plain_column(col)
            problems.append(Problem(shown, header_line, label,
                                    f"unknown column{'' if label else ' ' + show_value(col)}"
                                    f"{did_you_mean(col, allowed_columns)}: expected candidate, "
                                    "votes (and optionally note)"))
    for col in sorted({c for c in header if header.count(c) > 1}):
        problems.append(Problem(shown, header_line, plain_column(col),
                                f"column {show_value(col)} appears more than once"))
    if problems:
        raise InputError(problems)

    known = election.candidate_keys
    allowed = [*known, *RESERVED_ROWS]
    votes: dict[str, int] = {}
    seen: dict[str, int] = {}
    for line, values in data_rows(rows[1:], len(header), shown, problems):
        row = dict(zip(header, values, strict=True))
        key = row["candidate"].strip().lower()
        count_text = row["votes"].strip()
        if key not in allowed:
            problems.append(Problem(
                shown, line, "candidate",
                f"{show_value(row['candidate'].strip())} is not a candidate of {election.key}"
                f"{did_you_mean(key, allowed)}: expected one of {', '.join(allowed)}"))
        elif key in seen:
            problems.append(Problem(shown, line, "candidate",
                                    f"{key!r} appears twice (first on line {seen[key]})"))
        else:
            seen[key] = line
        if not _WHOLE.match(count_text):
            problems.append(Problem(shown, line, "votes",
                                    f"{show_value(count_text)}: expected a whole number of "
                                    "votes (digits only, no separators)"))
            continue
        if key in allowed and key not in votes:
            votes[key] = int(count_text)
    votes.setdefault("other", 0)

    ballot = tuple(election.ballot)
    for key in [*ballot, *REQUIRED_ROWS]:
        if key not in seen:
            what = ("a candidate on the ballot" if key in ballot else
                    "null votes" if key == "null" else "votes for non-registered candidates")
            problems.append(Problem(shown, 0, "candidate",
                                    f"no row for {key!r} ({what}): expected one (0 if none)"))
    if problems:
        raise InputError(problems)
    results = Results(shown, votes, ballot, tuple(known))
    if results.valid <= 0:
        raise InputError([Problem(shown, 0, "votes", "the ballot candidates have no votes: "
                                  "expected a positive valid vote")])
    return results


def results_path(election: Election, override: str | Path | None = None) -> Path:
    """The election's results file (``results_file`` in ``election.toml``, or ``override``).

    Raises
    ------
    InputError
        ``results_file`` is not set, or names a file that does not exist (the problem points at
        the line of ``election.toml`` that names it).
    """
    if override is not None:
        return Path(override)
    toml = election.directory / "election.toml"
    if not election.results_file:
        raise InputError([Problem(str(toml), 0, "results_file", "not set: expected "
                                  "results_file = \"results/<file>.csv\" naming the official "
                                  "result (or pass --results FILE)")])
    path = election.directory / election.results_file
    if not path.is_file():
        line = 0
        if toml.is_file():
            for i, text in enumerate(toml.read_text(encoding="utf-8-sig").splitlines(), 1):
                if re.match(r"^\s*results_file\s*=", text):
                    line = i
                    break
        raise InputError([Problem(str(toml), line, "results_file",
                                  f"{election.results_file!r}: results file {path} not found")])
    return path


def _win_probabilities(draws: xr.Dataset, candidates: list[str]) -> np.ndarray:
    if "win" in draws:
        return draws["win"].transpose("draw", "candidate").values.mean(axis=0)
    valid = draws["share_valid"].transpose("draw", "candidate").values
    tied = np.isclose(valid, valid.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
    return (tied / tied.sum(axis=1, keepdims=True)).mean(axis=0)


def score(draws: xr.Dataset, results: Results) -> dict:
    """Score election-day draws against the official result (pure; no fitting).

    Parameters
    ----------
    draws
        Output of :func:`forecast.simulate.simulate` (or :func:`forecast.simulate.outcomes`):
        ``share_total`` and ``share_valid`` by (``draw``, ``candidate``), and ``win`` (if absent,
        the plurality winner of ``share_valid``, ties split).
    results
        The official result. The draws' candidates may differ from its ballot: a ballot
        candidate the forecast leaves out (no poll offered them) counts like ``other`` (valid
        votes the forecast does not model), and a forecast candidate who is not on the ballot
        (withdrew after the as-of date) has an actual share of 0.

    Returns
    -------
    dict
        ``candidates.<key>``: ``error``, ``in_50``, ``in_80``, ``in_90`` (share of the total
        vote: forecast mean minus actual, and whether the actual share lies in the central
        50% / 80% / 90% interval, bounds included), ``actual``, ``mean``, ``p_win``, ``won``,
        ``on_ballot``, and the blocks ``share_total`` and ``share_valid``
        (:func:`forecast.scoring.interval_block`: ``actual``, ``mean``, ``q05 … q95``,
        ``error``, ``in_*``, ``is_*``). ``share_valid`` is the share of the votes of the
        forecast's candidates (the forecast's valid vote). Overall: ``actual_winner``,
        ``p_actual_winner``, ``brier`` (``sum_k (p_k - o_k)^2``, o_k = 1 for the winner, over
        the forecast's candidates and an actual winner it left out), ``log_score`` (natural log
        of P(actual winner), floored at ``log_score_floor`` = 1/(2 n_draws)),
        ``log_score_floored``, ``mean_abs_error`` (share of the total vote),
        ``mean_abs_error_valid``, ``n_in_50``, ``n_in_80``, ``n_in_90``, ``n_draws``,
        ``unmodelled`` (ballot candidates the forecast leaves out), ``off_ballot`` (forecast
        candidates not on the ballot), ``unmodelled_valid_share`` (share of the official valid
        vote the forecast does not model: ``other`` and the unmodelled candidates). Shares and
        probabilities are fractions.

    Raises
    ------
    ValueError
        A draw candidate the result does not know, none of them on the ballot, or no draws.
    """
    candidates = [str(c) for c in draws["candidate"].values]
    known = set(results.votes) | set(results.ballot) | set(results.candidates)
    strangers = [c for c in candidates if c not in known]
    if strangers:
        raise ValueError(f"draws are for {candidates}: {strangers} not in the result "
                         f"({sorted(known)})")
    if not any(c in results.ballot for c in candidates):
        raise ValueError(f"draws are for {candidates}, none of them on the ballot "
                         f"{list(results.ballot)}")
    n = int(draws.sizes["draw"])
    if n < 1:
        raise ValueError("no draws to score")
    total = draws["share_total"].transpose("draw", "candidate").values
    valid = draws["share_valid"].transpose("draw", "candidate").values
    p_win = _win_probabilities(draws, candidates)
    winners = results.winners
    outcome = np.array([1.0 / len(winners) if c in winners else 0.0 for c in candidates])
    left_out = [w for w in winners if w not in candidates]
    out: dict = {"candidates": {}}
    for i, c in enumerate(candidates):
        st = interval_block(total[:, i], results.share_total(c))
        sv = interval_block(valid[:, i], results.share_among(c, candidates))
        out["candidates"][c] = {
            "error": st["error"], "in_50": st["in_50"], "in_80": st["in_80"],
            "in_90": st["in_90"], "actual": st["actual"], "mean": st["mean"],
            "p_win": float(p_win[i]), "won": c in winners, "on_ballot": c in results.ballot,
            "share_total": st, "share_valid": sv,
        }
    p_actual = float(sum(p_win[candidates.index(w)] for w in winners if w in candidates))
    floor = 1.0 / (2 * n)
    blocks = out["candidates"].values()
    unmodelled = [c for c in results.ballot if c not in candidates]
    brier = float(np.sum((p_win - outcome) ** 2)) + len(left_out) / len(winners) ** 2
    out.update({
        "actual_winner": "=".join(winners),
        "p_actual_winner": p_actual,
        "brier": brier,
        "log_score": math.log(max(p_actual, floor)),
        "log_score_floor": floor,
        "log_score_floored": p_actual < floor,
        "mean_abs_error": float(np.mean([abs(b["error"]) for b in blocks])),
        "mean_abs_error_valid": float(np.mean([abs(b["share_valid"]["error"])
                                               for b in blocks])),
        "n_in_50": sum(b["in_50"] for b in blocks),
        "n_in_80": sum(b["in_80"] for b in blocks),
        "n_in_90": sum(b["in_90"] for b in blocks),
        "n_draws": n,
        "unmodelled": unmodelled,
        "off_ballot": [c for c in candidates if c not in results.ballot],
        "unmodelled_valid_share": (results.other + sum(results.votes[c] for c in unmodelled))
        / results.valid,
    })
    return out


# --------------------------------------------------------------------------------------------
# The naive poll average
# --------------------------------------------------------------------------------------------

#: Days of polls the naive average takes (public in the 14 days up to the as-of date).
NAIVE_WINDOW_DAYS = 14


def naive_average(table: pd.DataFrame, options: list[str], as_of: dt.date,
                  window_days: int = NAIVE_WINDOW_DAYS) -> dict | None:
    """The naive poll average: each option's mean share in the polls public in the
    ``window_days`` days up to the as-of date.

    Each poll's shares are first renormalised over the options it offered among ``options``
    (undecided, ``other`` and options outside ``options`` leave its base); the mean of each
    option is taken over the polls offering it, and the means are renormalised to sum to 1
    (polls that leave a minor option out would otherwise overstate the rest).

    Parameters
    ----------
    table
        A validated poll table (``PollTable.table``: ``known`` or ``published``/``field_end``,
        one share column per option, NaN where not offered).
    options
        The options averaged (a forecast's candidates).
    as_of
        The as-of date: polls public after it are not used.
    window_days
        Length of the window: polls public on the as-of date or the ``window_days - 1`` days
        before it.

    Returns
    -------
    dict or None
        ``shares`` (option -> fraction, only options some poll in the window offered),
        ``polls`` (polls averaged), ``window_days``, ``first``/``last`` (the window's days);
        None when no poll was public in the window.
    """
    from .model import known_dates

    known = known_dates(table)
    end = pd.Timestamp(as_of)
    start = end - pd.Timedelta(days=window_days - 1)
    rows = table[((known >= start) & (known <= end)).to_numpy()]
    columns = [o for o in options if o in rows.columns]
    if rows.empty or not columns:
        return None
    shares = rows[columns].astype(float)
    base = shares.sum(axis=1, skipna=True)
    shares = shares[base > 0].div(base[base > 0], axis=0)
    if shares.empty:
        return None
    means = shares.mean(axis=0, skipna=True).dropna()
    means = means / means.sum()
    return {"shares": {str(k): float(v) for k, v in means.items()}, "polls": int(len(shares)),
            "window_days": int(window_days), "first": start.date().isoformat(),
            "last": end.date().isoformat()}


def naive_block(average: dict | None, blocks: dict[str, dict]) -> dict | None:
    """The naive average next to the model: per option the naive share, its error, and the mean
    absolute errors of both over the options the naive average covers (``blocks``: interval
    blocks of the model by option, with ``actual``)."""
    if average is None:
        return None
    keys = [k for k in blocks if k in average["shares"]]
    if not keys:
        return None
    shares = {k: {"naive": average["shares"][k], "actual": blocks[k]["actual"],
                  "error": average["shares"][k] - blocks[k]["actual"],
                  "model_error": blocks[k]["error"]} for k in keys}
    return {**{k: v for k, v in average.items() if k != "shares"}, "options": shares,
            "mean_abs_error": float(np.mean([abs(v["error"]) for v in shares.values()])),
            "model_mean_abs_error": float(np.mean([abs(v["model_error"])
                                                   for v in shares.values()])),
            "n": len(keys)}


# --------------------------------------------------------------------------------------------
# The calibration table
# --------------------------------------------------------------------------------------------

#: Levels of the calibration table, in order, and the unit of their quantities.
TABLE_LEVELS = (("candidate shares", "share"), ("party shares", "share"), ("seats", "seats"),
                ("governors", "share"))


def calibration(record: dict) -> list[dict]:
    """The calibration rows of one backtest record, one per level it has.

    Levels: ``candidate shares`` (every forecast candidate's share of the valid vote; Brier and
    log score of the winner; the naive poll average), ``party shares`` (Congress national vote
    per party, when the election has an official party vote), ``seats`` (seats per party in each
    chamber, when it has official seats), ``governors`` (every candidacy's share in every race;
    Brier and log score of the race winners, means over the races).

    Each row: ``election``, ``as_of``, ``level``, ``unit`` (``share``: fractions, or
    ``seats``), ``n``, ``coverage`` and ``interval_score`` by level (``"50"``, ``"80"``,
    ``"90"``), ``mae`` (model: mean |mean - actual|; over the naive average's options when it
    has one), ``brier``, ``log_score``, ``naive_mae``, ``naive_n`` (None where not defined).
    """
    rows = []

    def row(level: str, unit: str, blocks: list[dict], *, brier=None, log_score=None,
            naive: dict | None = None) -> None:
        if not blocks:
            return
        pooled = summarise_blocks(blocks)
        rows.append({
            "election": record["election_key"], "as_of": record["as_of"], "level": level,
            "unit": unit, "n": pooled["n"], "coverage": pooled["coverage"],
            "interval_score": pooled["interval_score"],
            "mae": naive["model_mean_abs_error"] if naive else pooled["mae"],
            "brier": brier, "log_score": log_score,
            "naive_mae": naive["mean_abs_error"] if naive else None,
            "naive_n": naive["n"] if naive else None,
        })

    row("candidate shares", "share",
        [c["share_valid"] for c in record["candidates"].values()],
        brier=record["brier"], log_score=record["log_score"], naive=record.get("naive"))
    vote = record.get("party_vote")
    if vote:
        row("party shares", "share", list(vote["parties"].values()), naive=vote.get("naive"))
    seats = record.get("seats") or {}
    seat_blocks = [b for chamber in seats.values() if isinstance(chamber, dict)
                   for b in chamber.get("parties", {}).values()]
    row("seats", "seats", seat_blocks)
    gov = record.get("governors")
    if gov:
        row("governors", "share",
            [b for state in gov["states"].values() for b in state["shares"].values()],
            brier=gov["brier"], log_score=gov["log_score"])
    return rows


def calibration_table(records: list[dict]) -> list[dict]:
    """Calibration rows of every record, then one pooled row per level (``election`` ``all``):
    coverage and interval scores pooled over every quantity of the level, ``mae`` and
    ``naive_mae`` pooled over their quantities, Brier and log score the means over the
    records."""
    rows = [r for record in records for r in record.get("calibration") or calibration(record)]
    if len(records) < 2:
        return rows
    pooled = []
    for level, unit in TABLE_LEVELS:
        some = [r for r in rows if r["level"] == level]
        if not some:
            continue
        n = sum(r["n"] for r in some)

        def weighted(get, weight=lambda r: r["n"], some=some) -> float | None:
            pairs = [(get(r), weight(r)) for r in some if get(r) is not None
                     and weight(r) and not math.isnan(get(r))]
            total = sum(w for _, w in pairs)
            return sum(v * w for v, w in pairs) / total if total else None

        def mean_of(key: str, some=some) -> float | None:
            values = [r[key] for r in some if r[key] is not None]
            return float(np.mean(values)) if values else None

        pooled.append({
            "election": "all", "as_of": "", "level": level, "unit": unit, "n": n,
            "coverage": {k: weighted(lambda r, k=k: r["coverage"][k]) for k in ("50", "80", "90")},
            "interval_score": {k: weighted(lambda r, k=k: r["interval_score"][k])
                               for k in ("50", "80", "90")},
            "mae": weighted(lambda r: r["mae"], lambda r: r["naive_n"] or r["n"]),
            "brier": mean_of("brier"), "log_score": mean_of("log_score"),
            "naive_mae": weighted(lambda r: r["naive_mae"], lambda r: r["naive_n"] or 0),
            "naive_n": sum(r["naive_n"] or 0 for r in some) or None,
        })
    return rows + pooled


def format_calibration(rows: list[dict]) -> str:
    """The calibration table for the terminal (shares in points, seats in seats)."""
    head = (f"{'election':<10}{'as of':<12}{'level':<18}{'n':>4}{'in50':>6}{'in80':>6}"
            f"{'in90':>6}{'IS50':>8}{'IS80':>8}{'IS90':>8}{'Brier':>8}{'log':>8}"
            f"{'MAE':>7}{'naive':>7}")
    lines = ["calibration: coverage of the central 50/80/90% intervals, mean interval score "
             "(Gneiting & Raftery 2007; points of share, or seats), Brier and log score of the "
             "winner, mean absolute error of the model and of the naive poll average "
             f"({NAIVE_WINDOW_DAYS} days)", head]

    def num(value, width: int, fmt: str) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"{'-':>{width}}"
        return f"{value:>{width}{fmt}}"

    for r in rows:
        scale = 100.0 if r["unit"] == "share" else 1.0

        def scaled(v, scale=scale):
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v * scale

        lines.append(
            f"{r['election']:<10}{r['as_of']:<12}{r['level']:<18}{r['n']:>4}"
            + "".join(num(r["coverage"][k], 6, ".2f") for k in ("50", "80", "90"))
            + "".join(num(scaled(r["interval_score"][k]), 8, ".2f") for k in ("50", "80", "90"))
            + num(r["brier"], 8, ".3f") + num(r["log_score"], 8, ".3f")
            + num(scaled(r["mae"]), 7, ".2f") + num(scaled(r["naive_mae"]), 7, ".2f"))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Backtests
# --------------------------------------------------------------------------------------------

#: Default as-of date of a backtest: this many days before election day.
DAYS_BEFORE = 4


def default_backtest_date(election: Election, days_before: int = DAYS_BEFORE) -> dt.date:
    """The default as-of date of a backtest: ``days_before`` days before election day."""
    return election.election_day - dt.timedelta(days=days_before)


@dataclass
class _Prepared:
    """One election's validated inputs, result files and as-of dates (before any fitting)."""

    inputs: object
    results: Results
    dates: list[dt.date]
    official_seats: object = None
    official_votes: dict | None = None
    governor_results: dict | None = None


def _prepare(election_dir: str | Path, dates: list[dt.date | None] | None, *,
             spec_changes: dict | None, model_file: str | Path | None,
             results_file: str | Path | None, congress: bool, governors: bool,
             days_before: int) -> _Prepared:
    from .congress.backtest import read_official_seats, read_official_votes
    from .engine import check_as_of, load_inputs
    from .governors.backtest import load_governor_results
    from .stages import Options

    inputs = load_inputs(election_dir, Options(
        model_file=str(model_file) if model_file else None,
        spec_changes=dict(spec_changes or {}), congress=congress, governors=governors))
    election = inputs.election
    results = read_results(results_path(election, results_file), election)
    days = [d for d in (dates or []) if d is not None] or [
        default_backtest_date(election, days_before)]
    problems = []
    for day in days:
        try:
            check_as_of(inputs, day)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    prepared = _Prepared(inputs, results, days)
    cong = inputs.stages.get("congress")
    if cong is not None and cong.definition.seats_results is not None:
        prepared.official_seats = read_official_seats(cong.definition.seats_results,
                                                      cong.definition)
    if cong is not None and getattr(cong.definition, "vote_results", None) is not None:
        prepared.official_votes = read_official_votes(cong.definition.vote_results,
                                                      cong.definition)
    gov = inputs.stages.get("governors")
    if gov is not None and gov.races.results_path is not None:
        prepared.governor_results = load_governor_results(gov.races.results_path, gov.races)
    return prepared


def _records(prepared: _Prepared, *, seed: int, progress: bool | None) -> list[dict]:
    from .congress.backtest import score_party_vote, score_seats
    from .engine import compute
    from .governors.backtest import backtest_governors

    inputs, results = prepared.inputs, prepared.results
    election = inputs.election
    records = []
    for day in prepared.dates:
        forecast = compute(inputs, as_of=day, seed=seed, progress=progress)
        president = forecast.results["president"]
        result = president.fit
        scores = score(president.draws, results)
        average = naive_average(inputs.stage("president").polls.table,
                                list(scores["candidates"]), result.as_of)
        scores["naive"] = naive_block(average, {k: c["share_valid"] for k, c in
                                                scores["candidates"].items()})
        cong = inputs.stages.get("congress")
        if "congress" in forecast.results:
            congress_result = forecast.results["congress"]
            if prepared.official_seats is not None:
                scores["seats"] = score_seats(congress_result.draws, cong.definition,
                                              prepared.official_seats)
                scores["seats"]["party_poll_converged"] = \
                    congress_result.fit.diagnostics.converged
            if prepared.official_votes is not None:
                vote = score_party_vote(congress_result.draws, prepared.official_votes)
                party_average = naive_average(cong.polls.table, list(vote["parties"]),
                                              result.as_of)
                vote["naive"] = naive_block(party_average, vote["parties"])
                vote["party_poll_converged"] = congress_result.fit.diagnostics.converged
                scores["party_vote"] = vote
        if "governors" in forecast.results and prepared.governor_results is not None:
            governor_result = forecast.results["governors"]
            scores["governors"] = backtest_governors(governor_result.draws,
                                                     prepared.governor_results)
            scores["governors"]["converged"] = governor_result.fit.diagnostics.converged
        record = {
            "schema": SCHEMA,
            "election": election.name,
            "election_key": election.key,
            "election_day": election.election_day.isoformat(),
            "as_of": result.as_of.isoformat(),
            "polls_used": int(len(result.polls)),
            "results_file": results.path,
            "model": _shown_path(result.spec.source),
            "actual_total_votes": results.total,
            "actual_valid_votes": results.valid,
            "actual_other_votes": results.other,
            **scores,
            "notes": _notes(forecast),
            "converged": result.diagnostics.converged,
            "diagnostics": result.diagnostics.as_dict(),
        }
        record["calibration"] = calibration(record)
        records.append(record)
    return records


SCHEMA = "forecast.backtest/2"
TABLE_SCHEMA = "forecast.backtest-table/1"


def backtest(election_dir: str | Path, dates: list[dt.date | None] | None = None, *,
             seed: int = DEFAULT_SEED, spec_changes: dict | None = None,
             model_file: str | Path | None = None, results_file: str | Path | None = None,
             progress: bool | None = None, congress: bool = True,
             governors: bool = True, days_before: int = DAYS_BEFORE) -> list[dict]:
    """Fit as of each date, simulate, and score against the official result.

    Parameters
    ----------
    election_dir
        Election folder (``election.toml``, polls, ``results_file``).
    dates
        As-of dates (only polls public by then are used); ``None`` or an empty list means one
        backtest as of ``days_before`` days before election day.
    seed
        Seed of the sampler and of the simulation (as ``forecast run``).
    spec_changes
        Model-spec overrides (e.g. ``{"draws": 300, "chains": 2}``).
    model_file
        Model spec TOML (default: the election's own, see ``model_file`` in docs/model.md).
    results_file
        Results CSV overriding the election's ``results_file``.
    congress
        Also fit the party polls and score the Congress projection: the seats (``seats`` key)
        when the Congress definition has a ``seats_results_file``, the national party vote
        (``party_vote``) when it has a ``vote_results_file``.
    governors
        Also fit the state polls and score the governor races (``governors`` key) against
        the official results, when the election has governor races with a results file.
    days_before
        Default as-of date: this many days before election day.

    Returns
    -------
    list[dict]
        One record per date, in the order given: ``schema``, ``election``, ``election_key``,
        ``as_of``, ``polls_used``, ``results_file``, the :func:`score` keys, ``naive`` (the naive
        poll average, :func:`naive_block`), ``calibration`` (:func:`calibration`), ``notes``
        (the forecast's notes and poll warnings), ``converged`` and ``diagnostics``.

    Raises
    ------
    InputError
        Bad election, poll, model or results file, or an as-of date with fewer than two polls
        or after election day; raised before any fitting.
    """
    prepared = _prepare(election_dir, dates, spec_changes=spec_changes, model_file=model_file,
                        results_file=results_file, congress=congress, governors=governors,
                        days_before=days_before)
    return _records(prepared, seed=seed, progress=progress)


def backtest_many(election_dirs: list[str | Path], *, seed: int = DEFAULT_SEED,
                  spec_changes: dict | None = None, model_file: str | Path | None = None,
                  progress: bool | None = None, congress: bool = True, governors: bool = True,
                  days_before: int = DAYS_BEFORE) -> list[dict]:
    """Backtest several elections, each as of ``days_before`` days before its election day.

    Every election's inputs, results files and as-of date are checked before any fitting (one
    InputError lists the problems of all of them). Returns one record per election, in order
    (as :func:`backtest`); :func:`calibration_table` turns them into the calibration table.
    """
    prepared, problems = [], []
    for directory in election_dirs:
        try:
            prepared.append(_prepare(directory, None, spec_changes=spec_changes,
                                     model_file=model_file, results_file=None,
                                     congress=congress, governors=governors,
                                     days_before=days_before))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return [r for p in prepared for r in _records(p, seed=seed, progress=progress)]


def table_document(records: list[dict]) -> dict:
    """The JSON document of a several-election backtest: the records and the table."""
    return {"schema": TABLE_SCHEMA, "records": records, "table": calibration_table(records)}


def format_table(record: dict) -> str:
    """A backtest record as a terminal table (shares of the total vote, in %)."""
    lines = [f"{record['election']} — backtest as of {record['as_of']} "
             f"({record['polls_used']} polls) against {record['results_file']}",
             f"{'candidate':<12}{'actual':>8}{'mean':>8}{'error':>8}"
             f"{'50% interval':>17}{'in':>4}{'80% interval':>17}{'in':>4}"
             f"{'90% interval':>17}{'in':>4}{'P(win)':>8}"]
    ranked = sorted(record["candidates"].items(), key=lambda kv: -kv[1]["actual"])
    for key, c in ranked:
        st = c["share_total"]
        mark = "*" if c["won"] else " "
        lines.append(
            f"{key + mark:<12}{100 * c['actual']:>8.2f}{100 * c['mean']:>8.2f}"
            f"{100 * c['error']:>+8.2f}{_span(st['q25'], st['q75']):>17}"
            f"{_yes(c['in_50']):>4}{_span(st['q10'], st['q90']):>17}{_yes(c['in_80']):>4}"
            f"{_span(st['q05'], st['q95']):>17}{_yes(c['in_90']):>4}{c['p_win']:>8.3f}")
    floored = " (floored)" if record["log_score_floored"] else ""
    n = len(ranked)
    lines += [
        "shares of the total vote in %; error = forecast mean - actual; * = actual winner",
        f"P(actual winner = {record['actual_winner']}) {record['p_actual_winner']:.4f}   "
        f"Brier {record['brier']:.4g}   log score {record['log_score']:.4g}{floored}   "
        f"mean |error| {100 * record['mean_abs_error']:.2f} pt   "
        f"in 50%: {record['n_in_50']}/{n}   in 80%: {record['n_in_80']}/{n}   "
        f"in 90%: {record['n_in_90']}/{n}",
    ]
    if record.get("unmodelled"):
        lines.append(f"not in the forecast (no poll offered them): "
                     f"{', '.join(record['unmodelled'])}")
    if record.get("unmodelled_valid_share"):
        lines.append(f"valid vote the forecast does not model (other options and candidates "
                     f"left out): {100 * record['unmodelled_valid_share']:.2f}%")
    naive = record.get("naive")
    if naive:
        lines.append(f"naive average of the {naive['polls']} poll(s) public "
                     f"{naive['first']}–{naive['last']}: mean |error| "
                     f"{100 * naive['mean_abs_error']:.2f} pt of the valid vote, model "
                     f"{100 * naive['model_mean_abs_error']:.2f} pt")
    vote = record.get("party_vote")
    if vote:
        lines.append("party vote (share of the valid vote %: actual, mean, 90% interval)")
        for key, b in vote["parties"].items():
            lines.append(f"  {key:<12}{100 * b['actual']:>7.2f}{100 * b['mean']:>7.2f}   "
                         f"{_span(b['q05'], b['q95'])} {'in' if b['in_90'] else 'OUT':>4}")
    for chamber, block in record.get("seats", {}).items():
        if not isinstance(block, dict):
            continue
        lines.append(f"{chamber}: coalition seats (actual, median, 90% interval, "
                     "P(actual majority status))")
        for key, c in block["coalitions"].items():
            lines.append(f"  {key:<6}{c['actual']:>5}{c['q50']:>8.0f}   "
                         f"{c['q05']:.0f}–{c['q95']:.0f} {'in' if c['in_90'] else 'OUT':>4}"
                         f"{c['p_actual_majority_status']:>8.3f}")
        lines.append(f"  parties in 90%: {block['n_in_90_parties']}/{len(block['parties'])}")
    gov = record.get("governors")
    if gov:
        lines.append("governors: state, actual winner, P(actual winner)")
        for state, g in gov["states"].items():
            lines.append(f"  {state:<12}{g['actual_winner']:<6}{g['p_actual_winner']:>7.3f}")
        lines.append(f"  actual winner P >= 0.5 in {gov['n_winner_p_ge_half']}/{gov['n_states']}"
                     f"; Brier {gov['brier']:.4f}; 90% coverage {gov['coverage_90']:.2f}")
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _span(low: float, high: float) -> str:
    return f"{100 * low:.2f}–{100 * high:.2f}"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="forecast backtest",
        description="Forecast elections as of past dates and score the forecasts against their "
                    "official results; several elections give a calibration table (see "
                    "docs/backtest.md).")
    p.add_argument("election_dirs", nargs="*", default=[DEFAULT_ELECTION], metavar="DIR",
                   help=f"election folder(s) (default {DEFAULT_ELECTION})")
    p.add_argument("--as-of", type=iso_date, nargs="+", action="extend", default=None,
                   metavar="DATE", help="as-of date(s) YYYY-MM-DD of a single election: only "
                   "polls public by then (repeatable; default: --days-before days before "
                   "election day)")
    p.add_argument("--days-before", type=int, default=DAYS_BEFORE, metavar="N",
                   help=f"default as-of date of each election: N days before its election day "
                   f"(default {DAYS_BEFORE})")
    p.add_argument("--json", action="store_true",
                   help="print JSON: one election: one object for one date, a list for several; "
                   "several elections: {schema, records, table}")
    p.add_argument("--results", default=None,
                   help="official-results CSV of a single election (default: results_file of "
                   "election.toml)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--model", default=None, help="model spec TOML for every election (default: "
                   "each election's model_file, else models/president.toml)")
    p.add_argument("--draws", type=int, default=None, help="draws per chain (override)")
    p.add_argument("--tune", type=int, default=None, help="tuning steps per chain (override)")
    p.add_argument("--chains", type=int, default=None, help="chains (override)")
    p.add_argument("--no-congress", action="store_true",
                   help="skip the Congress backtest (no party-poll fit)")
    p.add_argument("--no-governors", action="store_true",
                   help="skip the governor backtest (no state-poll fit)")
    p.add_argument("--strict", action="store_true",
                   help="exit 3 when any fit fails its convergence checks")
    return p


def _input_problems(exc: InputError) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    errors = sum(p.severity == "error" for p in exc.problems)
    print(f"forecast backtest: {errors} error(s) in the input; nothing was written",
          file=sys.stderr)
    return EXIT_INPUT


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``forecast backtest``; returns the exit code (0, 2 bad input, 3 strict)."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                 ("chains", args.chains)) if v is not None}
    several = len(args.election_dirs) > 1
    if several and (args.as_of or args.results):
        option = "--as-of" if args.as_of else "--results"
        print(f"forecast backtest: {option} applies to a single election; with several "
              f"elections each is backtested --days-before N days before its election day",
              file=sys.stderr)
        return EXIT_INPUT
    if args.days_before < 0:
        print("forecast backtest: --days-before must be 0 or more", file=sys.stderr)
        return EXIT_INPUT
    common = {"seed": args.seed, "spec_changes": changes, "model_file": args.model,
              "congress": not args.no_congress, "governors": not args.no_governors,
              "days_before": args.days_before}
    try:
        if several:
            records = backtest_many(args.election_dirs, **common)
        else:
            records = backtest(args.election_dirs[0], args.as_of, results_file=args.results,
                               **common)
    except InputError as exc:
        return _input_problems(exc)
    for record in records:
        if not record["converged"]:
            print("\n" + "!" * 72 + f"\nWARNING: THE {record['election_key']} FIT AS OF "
                  f"{record['as_of']} DID NOT CONVERGE — its scores are not reliable.\n"
                  + "\n".join(record["diagnostics"]["problems"]) + "\n" + "!" * 72,
                  file=sys.stderr)
    if args.json:
        if several:
            payload = table_document(records)
        else:
            payload = records[0] if len(records) == 1 else records
        print(to_json(payload))
    else:
        from .fit import Diagnostics

        for i, record in enumerate(records):
            if i:
                print()
            print(format_table(record))
            print(Diagnostics(**record["diagnostics"]).describe())
        print()
        print(format_calibration(calibration_table(records)))
    if args.strict and not all(r["converged"] for r in records):
        return EXIT_NOT_CONVERGED
    return 0


def _shown_path(source: str) -> str | None:
    """A model file's path as a record shows it: relative to the current directory when inside
    it (records name no machine path of their own); None for the documented defaults."""
    if source == "defaults":
        return None
    try:
        relative = os.path.relpath(source)
    except ValueError:
        return source
    return source if relative.startswith("..") else relative


def _notes(forecast) -> list[str]:
    """The forecast's notes (candidates left out, stages left out, the model file) without the
    poll file's row warnings (those are `forecast validate`'s)."""
    notes: list[str] = []
    for result in forecast.results.values():
        notes += [str(n) for n in result.fit.meta.get("notes", [])]
    notes += [str(n) for n in forecast.notes]
    for result in forecast.results.values():
        notes += [str(w) for w in result.fit.meta.get("poll_warnings", [])
                  if re.match(r"^[^:]*:0:", str(w))]
    return notes


def to_json(payload: object) -> str:
    """``payload`` as JSON text: NaN (a score with nothing to score) becomes null, numpy
    numbers plain numbers."""
    return json.dumps(_plain(payload), indent=2, ensure_ascii=False, allow_nan=False)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    return value


__all__ = ["DAYS_BEFORE", "NAIVE_WINDOW_DAYS", "RESERVED_ROWS", "Results", "backtest",
           "backtest_many", "calibration", "calibration_table", "default_backtest_date",
           "format_calibration", "format_table", "main", "naive_average", "naive_block",
           "read_results", "results_path", "score", "table_document", "to_json"]


if __name__ == "__main__":
    raise SystemExit(main())
