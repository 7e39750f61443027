"""Backtest: forecast an election as of past dates and score it against the official result.

``forecast backtest ELECTION_DIR [--as-of DATE ...] [--json]`` fits the model on the polls that
had ended by each date, simulates election day and compares the draws with the election's
official-results file (``results_file`` in ``election.toml``). Definitions of every score are in
``docs/backtest.md``.

Results file (CSV, UTF-8): columns ``candidate,votes`` (an optional ``note`` column is free
text), one row per candidate key of the election, plus the rows ``unregistered`` (votes for
non-registered candidates) and ``null`` (null votes). Candidates on the election-day ballot make
up the valid vote; candidates of the election who are not on the ballot (e.g. a withdrawn
candidate whose name stayed printed, whose votes count for a cancelled registration),
``unregistered`` and ``null`` make up the invalid part of the total, as in the model
(``share_total = share_valid * (1 - invalid)``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .dates import iso_date
from .election import Election, plain_column, show_value
from .files import read_input
from .problems import InputError, Problem, csv_records, data_rows, decode_utf8, did_you_mean

#: Rows of a results file that are not candidates (both are part of the invalid vote).
RESERVED_ROWS = ("unregistered", "null")
REQUIRED_COLUMNS = ("candidate", "votes")
OPTIONAL_COLUMNS = ("note",)
DEFAULT_ELECTION = "polls/mx2018"
DEFAULT_SEED = 20180701
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
        ``unregistered`` and ``null`` rows.
    ballot
        Keys of the candidates on the election-day ballot (the valid vote), in election order.
    """

    path: str
    votes: dict[str, int]
    ballot: tuple[str, ...]

    @property
    def total(self) -> int:
        """All votes cast (every row)."""
        return sum(self.votes.values())

    @property
    def valid(self) -> int:
        """Votes for the candidates on the ballot."""
        return sum(self.votes[k] for k in self.ballot)

    @property
    def invalid(self) -> int:
        """Null + non-registered + votes for candidates not on the ballot."""
        return self.total - self.valid

    def share_total(self, key: str) -> float:
        """A ballot candidate's share of all votes cast (fraction)."""
        return self.votes[key] / self.total

    def share_valid(self, key: str) -> float:
        """A ballot candidate's share of the valid vote (fraction)."""
        return self.votes[key] / self.valid

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

    ballot = tuple(election.ballot)
    for key in [*ballot, *RESERVED_ROWS]:
        if key not in seen:
            what = ("a candidate on the ballot" if key in ballot else
                    "null votes" if key == "null" else "votes for non-registered candidates")
            problems.append(Problem(shown, 0, "candidate",
                                    f"no row for {key!r} ({what}): expected one (0 if none)"))
    if problems:
        raise InputError(problems)
    results = Results(shown, votes, ballot)
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


def _interval(values: np.ndarray) -> dict[str, float]:
    q = np.quantile(values, (0.05, 0.25, 0.5, 0.75, 0.95))
    return {"mean": float(values.mean()), "q05": float(q[0]), "q25": float(q[1]),
            "q50": float(q[2]), "q75": float(q[3]), "q95": float(q[4])}


def _share_block(values: np.ndarray, actual: float) -> dict:
    block = {"actual": actual, **_interval(values)}
    block["error"] = block["mean"] - actual
    block["in_50"] = bool(block["q25"] <= actual <= block["q75"])
    block["in_90"] = bool(block["q05"] <= actual <= block["q95"])
    return block


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
        The official result; its ballot must be the draws' candidates.

    Returns
    -------
    dict
        ``candidates.<key>``: ``error``, ``in_50``, ``in_90`` (share of the total vote:
        forecast mean minus actual, and whether the actual share lies in the central 50% /
        90% interval, bounds included), ``actual``, ``mean``, ``p_win``, ``won``, and the blocks
        ``share_total`` and ``share_valid`` (``actual``, ``mean``, ``q05 … q95``, ``error``,
        ``in_50``, ``in_90``). Overall: ``actual_winner``, ``p_actual_winner``, ``brier``
        (``sum_k (p_k - o_k)^2``, o_k = 1 for the winner), ``log_score`` (natural log of
        P(actual winner), floored at ``log_score_floor`` = 1/(2 n_draws)),
        ``log_score_floored``, ``mean_abs_error`` (share of the total vote), ``n_in_50``,
        ``n_in_90``, ``n_draws``. Shares and probabilities are fractions.
    """
    candidates = [str(c) for c in draws["candidate"].values]
    if sorted(candidates) != sorted(results.ballot):
        raise ValueError(f"draws are for {candidates}, the result for {list(results.ballot)}")
    n = int(draws.sizes["draw"])
    if n < 1:
        raise ValueError("no draws to score")
    total = draws["share_total"].transpose("draw", "candidate").values
    valid = draws["share_valid"].transpose("draw", "candidate").values
    p_win = _win_probabilities(draws, candidates)
    winners = results.winners
    outcome = np.array([1.0 / len(winners) if c in winners else 0.0 for c in candidates])
    out: dict = {"candidates": {}}
    for i, c in enumerate(candidates):
        st = _share_block(total[:, i], results.share_total(c))
        sv = _share_block(valid[:, i], results.share_valid(c))
        out["candidates"][c] = {
            "error": st["error"], "in_50": st["in_50"], "in_90": st["in_90"],
            "actual": st["actual"], "mean": st["mean"],
            "p_win": float(p_win[i]), "won": c in winners,
            "share_total": st, "share_valid": sv,
        }
    p_actual = float(sum(p_win[candidates.index(w)] for w in winners))
    floor = 1.0 / (2 * n)
    blocks = out["candidates"].values()
    out.update({
        "actual_winner": "=".join(winners),
        "p_actual_winner": p_actual,
        "brier": float(np.sum((p_win - outcome) ** 2)),
        "log_score": math.log(max(p_actual, floor)),
        "log_score_floor": floor,
        "log_score_floored": p_actual < floor,
        "mean_abs_error": float(np.mean([abs(b["error"]) for b in blocks])),
        "n_in_50": sum(b["in_50"] for b in blocks),
        "n_in_90": sum(b["in_90"] for b in blocks),
        "n_draws": n,
    })
    return out


def backtest(election_dir: str | Path, dates: list[dt.date | None] | None = None, *,
             seed: int = DEFAULT_SEED, spec_changes: dict | None = None,
             model_file: str | Path | None = None, results_file: str | Path | None = None,
             progress: bool | None = None, congress: bool = True,
             governors: bool = True) -> list[dict]:
    """Fit as of each date, simulate, and score against the official result.

    Parameters
    ----------
    election_dir
        Election folder (``election.toml``, polls, ``results_file``).
    dates
        As-of dates (only polls whose fieldwork had ended by then are used); ``None`` or an
        empty list means one backtest with every poll.
    seed
        Seed of the sampler and of the simulation (as ``forecast run``).
    spec_changes
        Model-spec overrides (e.g. ``{"draws": 300, "chains": 2}``).
    model_file
        Model spec TOML (default ``models/president.toml``).
    results_file
        Results CSV overriding the election's ``results_file``.
    congress
        Also fit the party polls and score the seat projection against the official seats
        (``seats`` key), when the election has a Congress definition with a
        ``seats_results_file``.
    governors
        Also fit the state polls and score the governor races (``governors`` key) against
        the official results, when the election has governor races with a results file.

    Returns
    -------
    list[dict]
        One record per date, in the order given: ``schema``, ``election``, ``election_key``,
        ``as_of``, ``polls_used``, ``results_file``, the :func:`score` keys, ``converged`` and
        ``diagnostics``.

    Raises
    ------
    InputError
        Bad election, poll, model or results file, or an as-of date with fewer than two polls
        or after election day; raised before any fitting.
    """
    from .congress.backtest import read_official_seats, score_seats
    from .engine import check_as_of, compute, load_inputs
    from .governors.backtest import backtest_governors, load_governor_results
    from .stages import Options

    inputs = load_inputs(election_dir, Options(
        model_file=str(model_file) if model_file else None,
        spec_changes=dict(spec_changes or {}), congress=congress, governors=governors))
    election = inputs.election
    results = read_results(results_path(election, results_file), election)
    dates = list(dates) if dates else [None]
    problems = []
    for day in dates:
        try:
            if day is not None:
                check_as_of(inputs, day)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    official = None
    cong = inputs.stages.get("congress")
    if cong is not None and cong.definition.seats_results is not None:
        official = read_official_seats(cong.definition.seats_results, cong.definition)
    gov = inputs.stages.get("governors")
    gov_results = None
    if gov is not None and gov.races.results_path is not None:
        gov_results = load_governor_results(gov.races.results_path, gov.races)
    records = []
    for day in dates:
        forecast = compute(inputs, as_of=day, seed=seed, progress=progress)
        president = forecast.results["president"]
        result = president.fit
        scores = score(president.draws, results)
        if "congress" in forecast.results and official is not None:
            congress_result = forecast.results["congress"]
            scores["seats"] = score_seats(congress_result.draws, cong.definition, official)
            scores["seats"]["party_poll_converged"] = congress_result.fit.diagnostics.converged
        if "governors" in forecast.results and gov_results is not None:
            governor_result = forecast.results["governors"]
            scores["governors"] = backtest_governors(governor_result.draws, gov_results)
            scores["governors"]["converged"] = governor_result.fit.diagnostics.converged
        records.append({
            "schema": "forecast.backtest/1",
            "election": election.name,
            "election_key": election.key,
            "election_day": election.election_day.isoformat(),
            "as_of": result.as_of.isoformat(),
            "polls_used": int(len(result.polls)),
            "results_file": results.path,
            "actual_total_votes": results.total,
            "actual_valid_votes": results.valid,
            **scores,
            "converged": result.diagnostics.converged,
            "diagnostics": result.diagnostics.as_dict(),
        })
    return records


def format_table(record: dict) -> str:
    """A backtest record as a terminal table (shares of the total vote, in %)."""
    lines = [f"{record['election']} — backtest as of {record['as_of']} "
             f"({record['polls_used']} polls) against {record['results_file']}",
             f"{'candidate':<12}{'actual':>8}{'mean':>8}{'error':>8}"
             f"{'50% interval':>17}{'in':>4}{'90% interval':>17}{'in':>4}{'P(win)':>8}"]
    ranked = sorted(record["candidates"].items(), key=lambda kv: -kv[1]["actual"])
    for key, c in ranked:
        st = c["share_total"]
        mark = "*" if c["won"] else " "
        lines.append(
            f"{key + mark:<12}{100 * c['actual']:>8.2f}{100 * c['mean']:>8.2f}"
            f"{100 * c['error']:>+8.2f}{_span(st['q25'], st['q75']):>17}"
            f"{'yes' if c['in_50'] else 'no':>4}{_span(st['q05'], st['q95']):>17}"
            f"{'yes' if c['in_90'] else 'no':>4}{c['p_win']:>8.3f}")
    floored = " (floored)" if record["log_score_floored"] else ""
    lines += [
        "shares of the total vote in %; error = forecast mean - actual; * = actual winner",
        f"P(actual winner = {record['actual_winner']}) {record['p_actual_winner']:.4f}   "
        f"Brier {record['brier']:.4g}   log score {record['log_score']:.4g}{floored}   "
        f"mean |error| {100 * record['mean_abs_error']:.2f} pt   "
        f"in 50%: {record['n_in_50']}/{len(ranked)}   in 90%: {record['n_in_90']}/{len(ranked)}",
    ]
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


def _span(low: float, high: float) -> str:
    return f"{100 * low:.2f}–{100 * high:.2f}"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="forecast backtest",
        description="Forecast an election as of past dates and score the forecast against its "
                    "official result (see docs/backtest.md).")
    p.add_argument("election_dir", nargs="?", default=DEFAULT_ELECTION,
                   help=f"election folder (default {DEFAULT_ELECTION})")
    p.add_argument("--as-of", type=iso_date, nargs="+", action="extend", default=None,
                   metavar="DATE", help="as-of date(s) YYYY-MM-DD: only polls whose fieldwork "
                   "had ended by then (repeatable; default: every poll)")
    p.add_argument("--json", action="store_true",
                   help="print JSON: one object for one date, a list of objects for several")
    p.add_argument("--results", default=None,
                   help="official-results CSV (default: results_file of election.toml)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--model", default=None, help="model spec TOML (default "
                   "models/president.toml)")
    p.add_argument("--draws", type=int, default=None, help="draws per chain (override)")
    p.add_argument("--tune", type=int, default=None, help="tuning steps per chain (override)")
    p.add_argument("--chains", type=int, default=None, help="chains (override)")
    p.add_argument("--no-congress", action="store_true",
                   help="skip the seat backtest (no party-poll fit)")
    p.add_argument("--no-governors", action="store_true",
                   help="skip the governor backtest (no state-poll fit)")
    p.add_argument("--strict", action="store_true",
                   help="exit 3 when any fit fails its convergence checks")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``forecast backtest``; returns the exit code (0, 2 bad input, 3 strict)."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                 ("chains", args.chains)) if v is not None}
    try:
        records = backtest(args.election_dir, args.as_of, seed=args.seed, spec_changes=changes,
                           model_file=args.model, results_file=args.results,
                           congress=not args.no_congress, governors=not args.no_governors)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"forecast backtest: {errors} error(s) in the input; nothing was written",
              file=sys.stderr)
        return EXIT_INPUT
    for record in records:
        if not record["converged"]:
            print("\n" + "!" * 72 + f"\nWARNING: THE FIT AS OF {record['as_of']} DID NOT "
                  "CONVERGE — its scores are not reliable.\n"
                  + "\n".join(record["diagnostics"]["problems"]) + "\n" + "!" * 72,
                  file=sys.stderr)
    if args.json:
        payload = records[0] if len(records) == 1 else records
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        from .fit import Diagnostics

        for i, record in enumerate(records):
            if i:
                print()
            print(format_table(record))
            print(Diagnostics(**record["diagnostics"]).describe())
    if args.strict and not all(r["converged"] for r in records):
        return EXIT_NOT_CONVERGED
    return 0


__all__ = ["RESERVED_ROWS", "Results", "backtest", "format_table", "main", "read_results",
           "results_path", "score"]


if __name__ == "__main__":
    raise SystemExit(main())
