"""Adding polls to an election's poll file: validate, refuse duplicates, append atomically."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .election import load_election
from .fit import atomic_write_bytes
from .polls import read_polls
from .problems import InputError, Problem


@dataclass
class Added:
    """What :func:`add_polls` appended."""

    poll_file: Path
    rows: int
    polls_before: int
    polls_after: int


def _header_and_rows(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [r for r in rows if any(c.strip() for c in r)]
    return ([h.strip().lower() for h in rows[0]] if rows else []), rows[1:]


def add_polls(election_dir: str | Path, rows_path: str | Path) -> Added:
    """Append the polls in ``rows_path`` to the election's poll file.

    The new rows are validated with the same rules as the poll file (errors name ``rows_path``,
    its lines and columns), duplicates of polls already in the file are refused, and the poll file
    is replaced atomically (temporary file + rename). On any error it is left byte for byte as it
    was.

    Parameters
    ----------
    election_dir
        The election folder (its ``election.toml`` names the poll file).
    rows_path
        CSV with a header of the poll file's own columns (a subset is allowed; missing optional
        columns are left blank) and one row per new poll.

    Raises
    ------
    InputError
        Every problem found, as ``FILE:LINE:COLUMN: message``.
    """
    election = load_election(election_dir)
    poll_path = election.poll_path
    rows_path = Path(rows_path)
    existing = read_polls(poll_path, election)  # the file itself must be valid to add to it
    new = read_polls(rows_path, election)  # same rules, messages name the new file
    shown = str(rows_path)
    new_text = rows_path.read_bytes().decode("utf-8-sig", errors="replace")
    new_header, new_rows = _header_and_rows(new_text)
    old_bytes = poll_path.read_bytes()
    old_text = old_bytes.decode("utf-8-sig")
    old_header, _ = _header_and_rows(old_text)
    problems: list[Problem] = []
    for col in new_header:
        if col not in old_header:
            problems.append(Problem(shown, 1, col, f"column not in the poll file {poll_path}: "
                                    f"expected some of {', '.join(old_header)}"))
    if "," not in old_text.splitlines()[0]:
        problems.append(Problem(str(poll_path), 1, "", "the poll file must be comma-separated "
                                "to append to it"))
    # Duplicates of polls already in the file (same pollster and fieldwork dates).
    known = {(r.pollster.casefold(), r.field_start, r.field_end): int(r.line)
             for r in existing.table.itertuples()}
    for r in new.table.itertuples():
        key = (r.pollster.casefold(), r.field_start, r.field_end)
        if key in known:
            problems.append(Problem(shown, int(r.line), "pollster",
                                    f"duplicate poll: already in {poll_path} at line "
                                    f"{known[key]}"))
    if problems:
        raise InputError(problems)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for values in new_rows:
        record = dict(zip(new_header, values, strict=False))
        writer.writerow([record.get(col, "") for col in old_header])
    prefix = old_bytes if old_bytes.endswith(b"\n") else old_bytes + b"\n"
    payload = prefix + out.getvalue().encode("utf-8")
    # Validate the combined file before it replaces the old one.
    staging = poll_path.with_name(f".{poll_path.name}.staging")
    try:
        staging.write_bytes(payload)
        combined = read_polls(staging, election)
    except InputError as exc:
        raise InputError([Problem(shown, 0, p.column, p.message) for p in exc.problems]) from None
    finally:
        staging.unlink(missing_ok=True)
    atomic_write_bytes(poll_path, payload)
    return Added(poll_file=poll_path, rows=len(new.table), polls_before=len(existing.table),
                 polls_after=len(combined.table))
