"""Reading and writing user files without losing or silently changing them.

* :func:`read_input` reads an input file or raises a one-line :class:`InputError` (missing,
  a folder, unreadable, too large) instead of a traceback.
* :func:`atomic_write_bytes` / :func:`atomic_write_file` replace a file through a uniquely named
  staging file beside it, fsync and a rename: readers see the old bytes or the new bytes, never a
  mix. The file keeps its mode (and owner/group where allowed); a new file gets
  ``0o666 & ~umask`` like any other program's output (0644 normally). A read-only file
  is refused, not replaced. A symlink is written *through*: the file it points to is replaced and
  the link stays a link (replacing the link by a copy would silently detach the user's set-up,
  e.g. a poll file shared from another folder). Write failures (permission, full disk) raise
  :class:`OutputError`, one line, and leave the old file as it was.
* :func:`file_lock` serialises writers of one file (``fcntl.flock`` on ``.NAME.lock`` beside
  it, removed again on release).
* :func:`csv_safe` neutralises spreadsheet formulas in text written to CSV.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .problems import InputError, OutputError, Problem, csv_records, data_rows, decode_utf8

#: Cells starting with these are formulas to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: How long :func:`file_lock` waits for another writer before giving up (seconds).
LOCK_TIMEOUT = 60.0
#: Staging files are ``.NAME.PID.TOKEN.tmp``: the PID tells a stale one (its writer is dead).
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{16}\.tmp$")
#: Staging files of earlier versions (``mkstemp``'s ``.NAME.XXXXXXXX.tmp`` and polls add's fixed
#: ``.NAME.staging``): removed when older than this (seconds), as no live writer uses them.
_LEGACY_AGE = 3600.0


def read_input(path: str | Path, *, missing: str = "file not found",
               max_bytes: int | None = None) -> bytes:
    """The bytes of an input file, or InputError with one line naming the file.

    Parameters
    ----------
    path
        The file (shown in messages as given).
    missing
        Message when there is no such file.
    max_bytes
        Refuse larger files (checked before reading, so a huge file costs no memory).

    Raises
    ------
    InputError
        Missing, a folder, unreadable (permissions), too large, or another OS error.
    """
    path = Path(path)
    shown = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError([Problem(shown, 0, "", "is a folder: expected a file")])
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or device would block or never end.
            raise InputError([Problem(shown, 0, "", "not a regular file: expected a file")])
        if max_bytes is not None and info.st_size > max_bytes:
            raise InputError([Problem(shown, 0, "", f"file is {info.st_size:,} bytes: at most "
                                      f"{max_bytes:,} are read (split the file)")])
        with open(path, "rb") as handle:
            if max_bytes is None:
                return handle.read()
            data = handle.read(max_bytes + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError([Problem(shown, 0, "", missing)]) from None
    except PermissionError:
        raise InputError([Problem(shown, 0, "", "cannot read: permission denied")]) from None
    except OSError as exc:
        raise InputError([Problem(shown, 0, "", f"cannot read: {os_error_reason(exc)}")]) from None
    if len(data) > max_bytes:  # grew while being read
        raise InputError([Problem(shown, 0, "", f"file is over {max_bytes:,} bytes: at most "
                                  f"{max_bytes:,} are read (split the file)")])
    return data


def name_inside(folder: Path, name: str, base: Path | None = None) -> str | None:
    """What is wrong with a file name a definition gives, else None.

    Names are relative to ``base`` (default ``folder``; e.g. ``congress/`` inside the election
    folder) and must stay inside ``folder`` as written: an absolute path or ``..`` that leaves
    it is refused (``poll_file = "../../x.csv"`` made ``polls add`` rewrite a file elsewhere).
    A symlink the user placed inside the folder is followed: that is a deliberate set-up, not a
    name in a definition file.
    """
    if not name.strip():
        return "empty: expected a file name"
    if "\x00" in name:
        return "contains a NUL character: expected a file name"
    if os.path.isabs(name) or Path(name).drive:
        return "an absolute path: expected a file name inside the election folder"
    prefix = os.path.relpath(base, folder) if base is not None else "."
    normal = os.path.normpath(os.path.join(prefix, name))
    if normal == ".." or normal.startswith(".." + os.sep) or normal == ".":
        return f"leads outside the folder {folder}: expected a file inside it"
    return None


def os_error_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (disk or quota full)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def _target(path: Path) -> Path:
    """The file a write replaces: ``path`` itself, or the file a symlink points to."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _staging_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or not a PID we can ask about): leave it
    return True


def clean_staging(path: str | Path) -> list[Path]:
    """Remove staging files of ``path`` left by writers that died (killed, power cut).

    A staging file is removed when the process whose PID it carries no longer runs on this
    machine (the check is local: do not share one election folder between machines that write
    it at the same time), or, for the names of earlier versions, when it is over an hour old.
    Returns the files removed.
    """
    target = _target(Path(path))
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    legacy = re.compile(rf"^\.{re.escape(target.name)}\.([A-Za-z0-9_]{{8}}\.tmp|staging)$")
    now = time.time()
    for entry in entries:
        match = _STAGING.match(entry.name)
        stale = False
        if match and match["name"] == target.name:
            stale = int(match["pid"]) != os.getpid() and not _alive(int(match["pid"]))
        elif legacy.match(entry.name):
            with contextlib.suppress(OSError):
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_replaceable(path: Path, target: Path) -> os.stat_result | None:
    """The target's stat (None when it does not exist yet), or OutputError when read-only."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError([Problem(str(path), 0, "",
                                   f"cannot write: {os_error_reason(exc)}")]) from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputError([Problem(str(path), 0, "", "is a folder: expected a file")])
    # Mode bits, not os.access: root may write anything, but a 0444 file says "do not change".
    if not info.st_mode & 0o222:
        raise OutputError([Problem(str(path), 0, "", f"read-only file (mode "
                                   f"{stat.S_IMODE(info.st_mode):04o}): not replaced; make it "
                                   "writable (chmod u+w) to change it")])
    return info


def atomic_write_file(path: str | Path, write: Callable[[str], object]) -> Path:
    """Have ``write`` fill a staging file beside ``path``, then rename it over ``path``.

    For writers that need a file name (netCDF); :func:`atomic_write_bytes` for bytes. The
    result keeps the replaced file's mode (new files: ``0o666 & ~umask``); a symlink is written
    through to its target; a read-only file is refused. Returns ``path``.

    Raises
    ------
    OutputError
        Read-only target, permission denied, disk full or another OS error: one line; the old
        file is left as it was and the staging file removed.
    """
    path = Path(path)
    target = _target(path)
    shown = str(path)
    if target != path and not target.parent.is_dir():
        # A dangling link: do not create folders wherever it points.
        raise OutputError([Problem(shown, 0, "", f"symlink to {target}, whose folder does not "
                                   "exist: not written")])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError([Problem(shown, 0, "", f"cannot create its folder: "
                                   f"{os_error_reason(exc)}")]) from None
    old = _check_replaceable(path, target)
    clean_staging(target)
    tmp = _staging_name(target)
    try:
        # O_EXCL with 0o666: a unique name, and the kernel applies the umask (mkstemp gave 0600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        os.close(fd)
        write(str(tmp))
        if old is not None:
            mode = stat.S_IMODE(old.st_mode)
            with contextlib.suppress(OSError):
                # Keep owner and group (a 0664 file shared by a newsroom group); only root or
                # the owner (for its own groups) may, so failure is not an error.
                if (os.stat(tmp).st_uid, os.stat(tmp).st_gid) != (old.st_uid, old.st_gid):
                    os.chown(tmp, old.st_uid, old.st_gid)
        os.chmod(tmp, mode)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError([Problem(shown, 0, "", f"cannot write: {os_error_reason(exc)}; the "
                                   "file was left as it was")]) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)
    return path


def atomic_write_bytes(path: str | Path, payload: bytes) -> Path:
    """Replace ``path`` by ``payload`` atomically (see :func:`atomic_write_file`)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            handle.write(payload)

    return atomic_write_file(path, write)


@contextlib.contextmanager
def file_lock(path: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold an exclusive lock for writing ``path`` (the file a symlink points to).

    ``fcntl.flock`` on ``.NAME.lock`` beside the file. The lock file is removed while the lock
    is still held, and a waiter that then gets a removed lock file starts again, so no file is
    left behind and two writers never both hold the lock. Yields the locked target.

    Raises
    ------
    OutputError
        The lock could not be created (folder not writable) or another process held it for
        ``timeout`` seconds.
    """
    path = Path(path)
    target = _target(path)
    lock = target.with_name(f".{target.name}.lock")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError([Problem(str(path), 0, "", f"cannot lock the file for writing: "
                                       f"{os_error_reason(exc)}")]) from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OutputError([Problem(
                            str(path), 0, "", f"another process has been writing to it for "
                            f"{timeout:g} s (lock {lock.name}): try again later")]) from None
                    time.sleep(0.01)
            try:
                same = os.fstat(fd).st_ino == os.stat(lock).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder removed this lock file on release: take the new one
                os.close(fd)
                continue
        except BaseException:
            os.close(fd)
            raise
        try:
            yield target
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)
        return


def csv_safe(text: str) -> str:
    """``text`` made inert for spreadsheets: a cell starting with ``= + - @``, TAB or CR gets a
    leading ``'`` (OWASP's CSV-injection advice), so a pollster named ``=HYPERLINK(...)`` shows
    as text instead of running as a formula. Other text is returned unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


#: Data tables (baselines, coalition lists, results) are at most this large.
MAX_TABLE_BYTES = 16 * 1024 * 1024
_WHOLE = re.compile(r"[0-9]{1,15}")


def whole_number(text: str) -> int | None:
    """A non-negative whole number written with ASCII digits (at most 15: int() of a
    5,000-digit text raises ValueError, and no count is near 10**15), else None."""
    s = text.strip()
    return int(s) if _WHOLE.fullmatch(s) else None


def read_csv_rows(path: str | Path, problems: list[Problem], *, required: tuple[str, ...],
                  missing: str = "file not found", lower: bool = False,
                  max_bytes: int = MAX_TABLE_BYTES) -> list[tuple[int, dict[str, str]]] | None:
    """The rows of a UTF-8 CSV table as (line, {column: value}), checked for its columns.

    Every problem goes to ``problems`` as ``FILE:LINE:COLUMN`` (the file unreadable, not UTF-8,
    binary, not CSV, a required column missing, a column twice, a row of another length); None
    when the file cannot be used at all. Values are not stripped; header names are (and
    lower-cased with ``lower``).
    """
    path = Path(path)
    shown = str(path)
    try:
        text = decode_utf8(read_input(path, missing=missing, max_bytes=max_bytes), shown)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if "\x00" in text:
        problems.append(Problem(shown, text[: text.index("\x00")].count("\n") + 1, "",
                                "binary data (NUL bytes): expected a CSV text file"))
        return None
    records = csv_records(text)
    try:
        header_line, header = next(records, (1, []))
    except csv.Error as exc:
        problems.append(Problem(shown, getattr(exc, "line", 0), "",
                                f"not a readable CSV file: {exc}"))
        return None
    header = [h.strip().lower() if lower else h.strip() for h in header]
    if not any(header):
        problems.append(Problem(shown, 1, "", f"empty file: expected a header line with "
                                f"{', '.join(required)}"))
        return None
    before = len(problems)
    for c in required:
        if c not in header:
            problems.append(Problem(shown, header_line, c, "missing required column"))
    for c in sorted({c for c in header if header.count(c) > 1}):
        label = c if c.isprintable() and ":" not in c else ""
        problems.append(Problem(shown, header_line, label,
                                f"column {ascii(c)[:80]} appears more than once"))
    if len(problems) > before:
        return None
    rows = []
    try:
        for line, values in data_rows(records, len(header), shown, problems):
            rows.append((line, dict(zip(header, values, strict=True))))
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    return rows
