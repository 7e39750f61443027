"""``forecast seats allocate``: apply one year's seat law to one vote table given as CSV.

The law is a rules file (``--rules FILE`` or a library name such as ``mx/deputies-2021``;
``--year 2018|2021|2024`` for the Mexican federal rules of that election; default 2018), read by
:func:`forecast.seats.law.load_rules`.

Input: one row per party, ``party,votes`` plus ``district_seats`` (deputies; optional
``eligible`` 1/0 for the 200-district requirement and ``cap_district_seats``, the district seats
the over-representation limits count when they differ from the credited ones: required when
the rules count them by party affiliation, 2021 and 2024; an empty cell means "same as
district_seats") or ``plurality_seats,first_minority_seats`` (senate).  Rows named
``independent``, ``unregistered`` and ``null`` (any case) carry those vote totals; an
``independent`` row may also hold seats won by independent candidates.  They are not parties,
so they are not printed.

Output (stdout): the parties in input order, with columns ``party,votes,district_seats,
list_seats,total_seats`` (or ``party,votes,plurality_seats,first_minority_seats,list_seats,
total_seats``).

Every problem in the file is reported on stderr as ``FILE:LINE:COLUMN: what was expected``, the
project's format (``forecast.problems``): LINE counts from 1 (the header is line 1; 0 means the
file as a whole, e.g. a column that does not add up), COLUMN is the CSV column name (``-`` when
the problem is not in one column).  Problems in a rules file are reported the same way, with
``SECTION.KEY`` as COLUMN.  On any problem the exit code is 2 and nothing is written to stdout.
A ``cap_district_seats`` column under rules that count district seats by siglado (2018) is
ignored, with a warning on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecast.files import csv_safe
from forecast.problems import InputError
from forecast.seats.apportion import InfeasibleAllocationError
from forecast.seats.chamber import ChamberRules, allocate_chamber
from forecast.seats.law import COUNTRY, available_rules, load_rules
from forecast.seats.senate import SenateRules, allocate_senate

__all__ = ["main"]

# Row names that carry non-party vote totals (case-insensitive), mapped to their role.
SPECIAL_ROWS = {
    "independent": "independent",
    "independents": "independent",
    "unregistered": "unregistered",
    "nonregistered": "unregistered",
    "non-registered": "unregistered",
    "null": "null",
}

# Larger counts could overflow the exact int64 arithmetic; no electorate is near this.
MAX_VOTES = 10**12

# At most 30 digits: int() of a 5,000-digit text raised ValueError (a traceback).
_INTEGER = re.compile(r"[0-9]{1,30}")
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}
#: Election years with Mexican federal rules files, for ``--year``.
YEARS = (2018, 2021, 2024)
DEFAULT_YEAR = 2018
CAP = "cap_district_seats"


@dataclass(frozen=True)
class _Layout:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    seat_columns: tuple[str, ...]
    seat_totals: dict[str, int]


def _layout(chamber: str, rules: ChamberRules | SenateRules) -> _Layout:
    if isinstance(rules, ChamberRules):
        return _Layout(
            required=("party", "votes", "district_seats"),
            optional=("eligible", CAP),
            seat_columns=("district_seats",),
            seat_totals={"district_seats": rules.district_seats},
        )
    return _Layout(
        required=("party", "votes", "plurality_seats", "first_minority_seats"),
        optional=(),
        seat_columns=("plurality_seats", "first_minority_seats"),
        seat_totals={
            "plurality_seats": rules.plurality_seats,
            "first_minority_seats": rules.first_minority_seats,
        },
    )


@dataclass
class _Parsed:
    parties: list[str] = field(default_factory=list)
    columns: dict[str, list[int]] = field(default_factory=dict)
    eligible: list[bool] = field(default_factory=list)
    special: dict[str, int] = field(default_factory=dict)
    special_seats: dict[str, int] = field(default_factory=dict)
    # cap_district_seats per party (None: empty cell, the credited count); None: no column.
    cap: list[int | None] | None = None


class _Problems:
    """Problems as ``FILE:LINE:COLUMN: message``, the project's format (forecast.problems):
    LINE counts from 1 (0 = the file as a whole), COLUMN is the CSV column name ("-" when the
    problem is not in one column)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[int, str, str]] = []

    def add(self, line: int, column: str, msg: str) -> None:
        self.items.append((line, column or "-", msg))

    def render(self) -> str:
        # Stable sort by line: problems of one line keep the order of the columns.
        ordered = sorted(self.items, key=lambda item: item[0])
        return "".join(f"{_plain(self.name)}:{ln}:{_plain(c)}: {_plain(m)}\n"
                       for ln, c, m in ordered)

    @property
    def errors(self) -> bool:
        return any(not m.startswith("warning: ") for _, _, m in self.items)


def _plain(text: str) -> str:
    """``text`` with control characters escaped: values quoted from the file (ESC, CR, U+2028)
    reached the terminal as escape codes and split the one-line messages."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def _split_line(text: str) -> tuple[list[str], tuple[int, str] | None]:
    """Split one CSV line into its fields (RFC-4180 quoting).

    On a quoting error also returns ``(index of the field being read, message)``.
    """
    fields: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            i += 1
            buf = []
            while True:
                if i >= n:
                    return fields, (len(fields), "expected a closing quote")
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            if i < n and text[i] != ",":
                return fields, (len(fields), "expected ',' after a closing quote")
            value = "".join(buf)
        else:
            j = text.find(",", i)
            j = n if j < 0 else j
            value = text[i:j]
            i = j
        fields.append(value)
        if i >= n:
            return fields, None
        i += 1  # skip the comma


def _parse_count(raw: str) -> int | None:
    s = raw.strip()
    return int(s) if _INTEGER.fullmatch(s) else None


def _parse(
    text: str, rules: ChamberRules | SenateRules, rules_name: str, problems: _Problems
) -> _Parsed:
    layout = _layout("deputies" if isinstance(rules, ChamberRules) else "senate", rules)
    out = _Parsed()
    numbered = [
        (k + 1, ln.removesuffix("\r")) for k, ln in enumerate(text.split("\n")) if ln.strip()
    ]
    expected_header = ",".join(layout.required)
    if not numbered:
        problems.add(0, "", f"expected a header row: {expected_header}")
        return out
    head_no, head_text = numbered[0]
    header_raw, err = _split_line(head_text)
    if err:
        problems.add(head_no, "", err[1])
        return out
    header = [name.strip().lower() for name in header_raw]
    allowed = layout.required + layout.optional
    position: dict[str, int] = {}  # first occurrence of each column name
    for k, (key, raw) in enumerate(zip(header, header_raw, strict=True)):
        if key in position:
            problems.add(head_no, key, "duplicate column")
        elif key not in allowed:
            problems.add(
                head_no,
                raw.strip() or f"#{k + 1}",
                f"unexpected column (expected: {', '.join(allowed)})",
            )
        position.setdefault(key, k)
    for key in layout.required:
        if key not in position:
            problems.add(head_no, key, f"missing column (expected header: {expected_header})")
    by_affiliation = isinstance(rules, ChamberRules) and rules.cap_counts == "affiliation"
    if by_affiliation and CAP not in position:
        problems.add(
            head_no,
            CAP,
            f"missing column: the rules ({rules_name}) count district seats by the winners' "
            "party affiliation for the over-representation limits; give each party's count "
            "(an empty cell: same as district_seats)",
        )
    elif CAP in position and not by_affiliation:
        problems.add(
            head_no,
            CAP,
            f"warning: column ignored: the rules ({rules_name}) count district seats for the "
            "over-representation limits as credited (siglado)",
        )
    use_cap = by_affiliation and CAP in position
    if use_cap:
        out.cap = []
    cap_complete = use_cap

    def name_of(index: int) -> str:
        return header[index] if index < len(header) else ""

    for key in ("votes", *layout.seat_columns):
        out.columns[key] = []
    bad_column: set[str] = set()  # seat columns whose sum would be meaningless
    first_seen: dict[str, int] = {}
    for line_no, text_line in numbered[1:]:
        cells, err = _split_line(text_line)
        if err:
            problems.add(line_no, name_of(err[0]), err[1])
            bad_column.update(layout.seat_columns)
            continue
        if len(cells) != len(header):
            problems.add(line_no, "", f"expected {len(header)} fields, got {len(cells)}")
            bad_column.update(layout.seat_columns)
            continue

        def cell(key: str, cells: list[str] = cells) -> str | None:
            return cells[position[key]] if key in position else None

        # Without a party column the row cannot be recorded, but its cells are still checked.
        raw_party = cell("party")
        party = role = None
        if raw_party is not None:
            party = raw_party.strip()
            role = SPECIAL_ROWS.get(party.lower())
            if party == "":
                problems.add(line_no, "party", "expected a party name")
                party = None
            elif not party.replace(" ", "").isprintable():
                # Names are printed: ESC, CR or U+2028 would reach the terminal as control codes.
                problems.add(line_no, "party", "expected a party name without control "
                             f"characters, got {ascii(party)}")
                party = None
            elif (role or party.casefold()) in first_seen:
                # "PAN" and "pan" are one party (they were allocated seats twice).
                problems.add(
                    line_no,
                    "party",
                    f"duplicate row '{party}' (first on line "
                    f"{first_seen[role or party.casefold()]})",
                )
                bad_column.update(layout.seat_columns)
                party = None
            else:
                first_seen[role or party.casefold()] = line_no

        raw_votes = cell("votes")
        votes = None
        if raw_votes is not None:
            votes = _parse_count(raw_votes)
            if votes is None:
                problems.add(
                    line_no, "votes", f"expected a non-negative integer, got '{raw_votes}'"
                )
            elif votes >= MAX_VOTES:
                problems.add(
                    line_no, "votes", f"expected fewer than {MAX_VOTES} votes, got {votes}"
                )
                votes = None

        seats: dict[str, int] = {}
        for key in layout.seat_columns:
            raw = cell(key)
            if raw is None:
                continue
            if role is not None and raw.strip() == "":
                seats[key] = 0
                continue
            n = _parse_count(raw)
            if n is None:
                problems.add(line_no, key, f"expected a non-negative integer, got '{raw}'")
                bad_column.add(key)
            elif role in ("null", "unregistered") and n != 0:
                problems.add(line_no, key, f"expected 0 or empty: {role} votes hold no seats")
                bad_column.add(key)
            else:
                seats[key] = n

        cap_value: int | None = None
        raw_cap = cell(CAP)
        if raw_cap is not None and raw_cap.strip() != "":
            n = _parse_count(raw_cap)
            if n is None:
                problems.add(line_no, CAP, f"expected a non-negative integer, got '{raw_cap}'")
                cap_complete = False
            elif role is not None and n != 0:
                problems.add(
                    line_no, CAP, "expected 0 or empty: the limits count party seats only"
                )
                cap_complete = False
            elif n > layout.seat_totals["district_seats"]:
                problems.add(
                    line_no,
                    CAP,
                    f"expected at most {layout.seat_totals['district_seats']}, got {n}",
                )
                cap_complete = False
            else:
                cap_value = n
        elif raw_cap is not None and role is None:
            cap_complete = False  # empty: the party's credited count

        flag = True
        raw = cell("eligible")
        if raw is not None and role is None:
            value = raw.strip().lower()
            if value in _FALSE:
                flag = False
            elif value not in _TRUE and value != "":
                problems.add(
                    line_no, "eligible", f"expected 1/0/true/false (or empty), got '{raw}'"
                )

        if party is None:
            continue
        if role is not None:
            out.special[role] = votes or 0
            for key, n in seats.items():
                out.special_seats[key] = out.special_seats.get(key, 0) + n
            continue
        out.parties.append(party)
        out.columns["votes"].append(votes if votes is not None else 0)
        for key in layout.seat_columns:
            out.columns[key].append(seats.get(key, 0))
        out.eligible.append(flag)
        if out.cap is not None:
            out.cap.append(cap_value)

    if not out.parties:
        # Seat sums of an empty table would only repeat this problem.
        if not problems.items:
            problems.add(0, "", "expected at least one party row")
        return out
    for key, total in layout.seat_totals.items():
        if key not in position or key in bad_column:
            continue
        got = sum(out.columns[key]) + out.special_seats.get(key, 0)
        if got != total:
            problems.add(0, key, f"expected the column to sum to {total}, got {got}")
    if cap_complete and out.cap is not None and "district_seats" not in bad_column:
        # Every winner counts once: for a party, or as an independent.
        total = layout.seat_totals["district_seats"]
        got = sum(n or 0 for n in out.cap) + out.special_seats.get("district_seats", 0)
        if got != total:
            problems.add(
                0,
                CAP,
                f"expected the column, with the independents' district seats, to sum to "
                f"{total}, got {got}",
            )
    return out


def _allocate(parsed: _Parsed, rules: ChamberRules | SenateRules) -> list[list[object]]:
    votes = np.array(parsed.columns["votes"], dtype=np.int64)
    kwargs = {
        "independent_votes": parsed.special.get("independent", 0),
        "null_votes": parsed.special.get("null", 0),
        "nonregistered_votes": parsed.special.get("unregistered", 0),
    }
    if isinstance(rules, ChamberRules):
        mr = parsed.columns["district_seats"]
        cap = None
        if parsed.cap is not None:
            cap = [m if c is None else c for m, c in zip(mr, parsed.cap, strict=True)]
        res = allocate_chamber(
            votes, mr, eligible=parsed.eligible, cap_district_seats=cap, rules=rules, **kwargs
        )
        return [
            [p, int(v), int(m), int(ls), int(t)]
            for p, v, m, ls, t in zip(
                parsed.parties, votes, mr, res.list_seats, res.total_seats, strict=True
            )
        ]
    pl = parsed.columns["plurality_seats"]
    pm = parsed.columns["first_minority_seats"]
    res_s = allocate_senate(votes, pl, pm, rules=rules, **kwargs)
    return [
        [p, int(v), int(a), int(b), int(ls), int(t)]
        for p, v, a, b, ls, t in zip(
            parsed.parties, votes, pl, pm, res_s.list_seats, res_s.total_seats, strict=True
        )
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast seats allocate",
        description=(
            "Allocate Mexico's Chamber of Deputies or Senate seats for one vote table under "
            "one year's seat law, read from a rules file (see docs/seats.md, 'Seat law by "
            "year'). Default: the law in force for the 2018 election."
        ),
    )
    parser.add_argument(
        "--chamber", required=True, choices=("deputies", "senate"), help="which chamber"
    )
    parser.add_argument(
        "--votes",
        required=True,
        metavar="FILE",
        help=(
            "CSV, one row per party: party,votes,district_seats[,eligible][,cap_district_seats] "
            "(deputies) or party,votes,plurality_seats,first_minority_seats (senate); "
            "optional rows 'independent', 'unregistered', 'null'.  '-' reads standard input."
        ),
    )
    law = parser.add_mutually_exclusive_group()
    law.add_argument(
        "--rules",
        metavar="FILE",
        help=(
            "rules file (.toml) or a name in the rules library polls/rules/, e.g. "
            "mx/deputies-2024"
        ),
    )
    law.add_argument(
        "--year",
        type=int,
        choices=YEARS,
        help=f"the Mexican federal rules of that election: {COUNTRY}/<chamber>-<year> in the "
        f"rules library (default {DEFAULT_YEAR})",
    )
    return parser


def _rules(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[ChamberRules | SenateRules, str]:
    """The rules the arguments choose, and how to name them in messages.

    Raises InputError for a rules file with problems; exits through ``parser.error`` (code 2)
    for a year without rules for the chamber.
    """
    if args.rules is not None:
        rules = load_rules(args.rules, chamber=args.chamber)
        return rules, args.rules
    name = f"{COUNTRY}/{args.chamber}-{args.year or DEFAULT_YEAR}"
    if name not in available_rules():
        if args.year is None:
            # No rules library here: the built-in defaults are the 2018 law.
            default = ChamberRules() if args.chamber == "deputies" else SenateRules()
            return default, default.source
        years = sorted(
            n.rsplit("-", 1)[1] for n in available_rules()
            if n.startswith(f"{COUNTRY}/{args.chamber}-")
        )
        parser.error(
            f"--year {args.year}: no {args.chamber} rules for that year in the rules library "
            f"({args.chamber} rules for: {', '.join(years) or 'none'})"
        )
    return load_rules(name, chamber=args.chamber), name


def main(argv: list[str] | None = None) -> int:
    """Run ``forecast seats allocate``; return the exit code (0 ok, 2 bad input).

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``forecast seats allocate``; default ``sys.argv[1:]``.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        rules, rules_name = _rules(parser, args)
    except SystemExit as stop:  # argparse reports usage errors itself (stderr, code 2)
        return int(stop.code or 0)
    except InputError as exc:
        sys.stderr.write("".join(f"{p}\n" for p in exc.problems))
        return 2
    name = "<stdin>" if args.votes == "-" else args.votes
    problems = _Problems(name)
    try:
        raw = sys.stdin.buffer.read() if args.votes == "-" else Path(args.votes).read_bytes()
    except OSError as err:
        problems.add(0, "", f"expected a readable file ({err.strerror or err})")
        sys.stderr.write(problems.render())
        return 2
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.add(raw[: err.start].count(b"\n") + 1, "", "expected UTF-8 text")
        sys.stderr.write(problems.render())
        return 2
    parsed = _parse(text, rules, rules_name, problems)
    if not problems.errors:
        try:
            rows = _allocate(parsed, rules)
        except (InfeasibleAllocationError, ValueError) as err:
            problems.add(0, "votes", f"cannot allocate: {err}")
    if problems.errors:
        sys.stderr.write(problems.render())
        return 2
    sys.stderr.write(problems.render())  # warnings only
    columns = (
        ["party", "votes", "district_seats", "list_seats", "total_seats"]
        if args.chamber == "deputies"
        else [
            "party",
            "votes",
            "plurality_seats",
            "first_minority_seats",
            "list_seats",
            "total_seats",
        ]
    )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    # Party names as text, not formulas, in a spreadsheet (forecast.files.csv_safe).
    writer.writerows([[csv_safe(row[0]), *row[1:]] for row in rows])
    sys.stdout.write(buf.getvalue())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
