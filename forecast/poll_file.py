"""Adding polls to an election's poll file: validate, refuse duplicates, append atomically.

``forecast polls add ELECTION ROWS.csv`` (docs/poll-files.md, "Adding polls"):

* the rows file is decoded and validated exactly as ``forecast validate`` reads a poll file
  (UTF-8, or Windows-1252 with a warning; ``,`` or ``;`` with decimal commas; ``47%``);
* the values are written in the poll file's own encoding, separator and line end, normalised
  (``47%`` is stored as ``47``, ``1.000`` interviews of a ``;`` file as ``1000``);
* the whole read-check-write runs under an exclusive lock (:func:`forecast.files.file_lock`), so
  two ``polls add`` at once both land; the file is replaced through a uniquely named staging
  file, fsync and a rename, keeping its mode; a read-only file is refused; a symlinked poll file
  is written through to its target.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .election import Election, load_election, show_value
from .files import atomic_write_bytes, file_lock, read_input
from .polls import MAX_POLL_FILE_BYTES, MAX_POLLS, PollFormat, PollTable, parse_polls
from .problems import InputError, OutputError, Problem

#: Columns compared when the appended rows are read back before the file is replaced.
_COMPARED = ("pollster", "poll_id", "field_start", "field_end", "published", "known",
             "sample_size", "sample_size_imputed", "mode", "basis", "partial", "tolerance",
             "other", "undecided", "n_decided")


@dataclass
class Added:
    """What :func:`add_polls` appended.

    ``warnings`` are the rows file's warnings (treatments applied, e.g. a missing sample size or
    a Windows-1252 rows file), naming the rows file and its lines; the command prints them.
    """

    poll_file: Path
    rows: int
    polls_before: int
    polls_after: int
    warnings: list[Problem] = field(default_factory=list)


def add_polls(election_dir: str | Path, rows_path: str | Path) -> Added:
    """Append the polls in ``rows_path`` to the election's poll file.

    The new rows are validated with the same rules as the poll file (errors name ``rows_path``,
    its lines and columns), duplicates of polls already in the file are refused (same pollster,
    dates and shares, or the same ``poll_id``), and the poll file is replaced atomically under an
    exclusive lock. On any error it is left byte for byte as it was.

    Parameters
    ----------
    election_dir
        The election folder (its ``election.toml`` names the poll file, inside the folder).
    rows_path
        CSV with a header of the poll file's own columns (a subset is allowed; missing optional
        columns are left blank) and one row per new poll.

    Returns
    -------
    Added

    Raises
    ------
    InputError
        Every problem found, as ``FILE:LINE:COLUMN: message``.
    OutputError
        The poll file could not be replaced (read-only, permission, disk full, locked for too
        long); it is left as it was.
    """
    election = load_election(election_dir)
    poll_path = election.poll_path
    rows_path = Path(rows_path)
    shown = str(rows_path)
    raw_new = read_input(rows_path, missing="rows file not found", max_bytes=MAX_POLL_FILE_BYTES)
    new = parse_polls(raw_new, shown, election, keep_cells=True)
    with file_lock(poll_path):
        # Read under the lock: a concurrent add has either finished or not started.
        old_raw = read_input(poll_path, missing="poll file not found",
                             max_bytes=MAX_POLL_FILE_BYTES)
        # A poll file with its header and no rows yet (forecast init) takes its first polls.
        existing = parse_polls(old_raw, str(poll_path), election, table=False,
                               allow_empty=True)
        payload = _appended(existing, new, election, poll_path, shown, old_raw)
        atomic_write_bytes(poll_path, payload)
    return Added(poll_file=poll_path, rows=len(new), polls_before=len(existing),
                 polls_after=len(existing) + len(new), warnings=list(new.warnings))


def _appended(existing: PollTable, new: PollTable, election: Election, poll_path: Path,
              shown: str, old_raw: bytes) -> bytes:
    """The poll file's new bytes: the old bytes untouched, then the new rows in its format."""
    fmt = existing.format
    assert fmt is not None and new.format is not None and new.cells is not None
    problems: list[Problem] = []
    for col in new.format.header:
        if col not in fmt.header:
            problems.append(Problem(shown, 1, col, f"column not in the poll file {poll_path}: "
                                    f"expected some of {', '.join(fmt.header)}"))
    if len(existing) + len(new) > MAX_POLLS:
        problems.append(Problem(shown, 0, "", f"the poll file would hold "
                                f"{len(existing) + len(new):,} polls: at most {MAX_POLLS:,} "
                                "(start a new poll file; docs/poll-files.md)"))
    # Duplicates of polls already in the file: same pollster, dates and shares, or poll_id.
    known = {key: line for line, (key, _) in existing.duplicate_keys.items()}
    ids = {poll_id: line for line, (_, poll_id) in existing.duplicate_keys.items() if poll_id}
    for line, (key, poll_id) in new.duplicate_keys.items():
        if poll_id and poll_id in ids:
            problems.append(Problem(shown, line, "poll_id",
                                    f"duplicate poll: poll_id {show_value(poll_id)} already in "
                                    f"{poll_path} at line {ids[poll_id]}"))
        elif key in known:
            problems.append(Problem(shown, line, "pollster", f"duplicate poll: already in "
                                    f"{poll_path} at line {known[key]}"))
    if problems:
        raise InputError(problems)

    numeric = {*election.candidate_keys, *election.other_options, "other", "undecided",
               "tolerance"}
    chunks: list[bytes] = []
    for line, cells in new.cells.items():
        values = [_stored(cells.get(col, ""), col in numeric, fmt) for col in fmt.header]
        out = io.StringIO(newline="")
        csv.writer(out, delimiter=fmt.delimiter, lineterminator=fmt.newline).writerow(values)
        try:
            chunks.append(out.getvalue().encode(fmt.encoding))
        except UnicodeEncodeError:
            for col, value in zip(fmt.header, values, strict=True):
                try:
                    value.encode(fmt.encoding)
                except UnicodeEncodeError as exc:
                    bad = show_value(exc.object[exc.start])
                    problems.append(Problem(
                        shown, line, col, f"{show_value(value)}: {bad} cannot be written in "
                        f"{poll_path}, which is Windows-1252: save the poll file as UTF-8 to "
                        "add it"))
    if problems:
        raise InputError(problems)
    data = b"".join(chunks)
    _check_read_back(old_raw, data, fmt, new, election, poll_path)
    ending = fmt.newline.encode("ascii")
    prefix = old_raw if old_raw.endswith((b"\n", b"\r")) else old_raw + ending
    return prefix + data


def _stored(value: str, numeric: bool, fmt: PollFormat) -> str:
    # Values are kept with decimal points; a ";" file writes decimal commas like the rest of it.
    return value.replace(".", ",") if numeric and fmt.decimal_comma else value


def _check_read_back(old_raw: bytes, data: bytes, fmt: PollFormat, new: PollTable,
                     election: Election, poll_path: Path) -> None:
    """Read the appended rows as the poll file would be read: the same values as the rows
    file, or OutputError (nothing is written). A safety net for the conversion above."""
    end = min((i for i in (old_raw.find(b"\n"), old_raw.find(b"\r")) if i >= 0),
              default=len(old_raw))
    header = old_raw[:end] + fmt.newline.encode("ascii")
    try:
        back = parse_polls(header + data, str(poll_path), election)
    except InputError as exc:
        back = exc
    columns = [c for c in (*_COMPARED, *election.candidate_keys) if c in new.table]
    same = not isinstance(back, InputError) and len(back) == len(new)
    if same:
        a = new.table.sort_values("line")[columns].reset_index(drop=True)
        b = back.table.sort_values("line")[columns].reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
        except AssertionError:
            same = False
    if not same:
        raise OutputError([Problem(str(poll_path), 0, "", "the new rows would not read back "
                                   "with the same values in this file's format: nothing was "
                                   "written (please report this)")])
