"""forecast/files.py: atomic writes that keep modes, refuse read-only files, write through
symlinks, lock writers and clean up after killed ones; one-line errors; csv_safe."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

import pandas as pd
import pytest

from forecast.files import (
    atomic_write_bytes,
    atomic_write_file,
    clean_staging,
    csv_safe,
    file_lock,
    name_inside,
    read_input,
)
from forecast.fit import atomic_write_bytes as fit_atomic_write_bytes
from forecast.fit import atomic_write_file as fit_atomic_write_file
from forecast.fit import csv_bytes
from forecast.problems import InputError, OutputError, did_you_mean, name_problem

from . import processes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_fit_keeps_the_writers_importable():
    assert fit_atomic_write_bytes is atomic_write_bytes
    assert fit_atomic_write_file is atomic_write_file


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600, 0o640])
def test_replacing_a_file_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "polls.csv"
    path.write_bytes(b"old\n")
    path.chmod(mode)
    atomic_write_bytes(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert _mode(path) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["polls.csv"]


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.csv", b"x")
        atomic_write_file(tmp_path / "b.nc", lambda tmp: Path(tmp).write_bytes(b"y"))
        os.umask(0o002)
        atomic_write_bytes(tmp_path / "c.csv", b"z")
    finally:
        os.umask(old)
    assert (_mode(tmp_path / "a.csv"), _mode(tmp_path / "b.nc"), _mode(tmp_path / "c.csv")) \
        == (0o644, 0o644, 0o664)


def test_a_read_only_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "polls.csv"
    path.write_bytes(b"old\n")
    path.chmod(0o444)
    with pytest.raises(OutputError) as info:
        atomic_write_bytes(path, b"new\n")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:0:-: read-only file (mode 0444): not replaced; make it writable (chmod u+w) to "
        "change it"]
    assert path.read_bytes() == b"old\n" and _mode(path) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["polls.csv"]


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "polls.csv"
    target.write_bytes(b"old\n")
    target.chmod(0o664)
    link = tmp_path / "election" / "polls.csv"
    link.parent.mkdir()
    link.symlink_to(target)
    atomic_write_bytes(link, b"new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new\n" and _mode(target) == 0o664
    assert sorted(p.name for p in shared.iterdir()) == ["polls.csv"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["polls.csv"]


def test_full_disk_is_one_line_and_leaves_the_file(tmp_path, monkeypatch):
    path = tmp_path / "polls.csv"
    path.write_bytes(b"old\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError) as info:
        atomic_write_bytes(path, b"new\n")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:0:-: cannot write: no space left on the device (disk or quota full); the file "
        "was left as it was"]
    assert path.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["polls.csv"]


def test_permission_denied_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "polls.csv"
    path.write_bytes(b"old\n")
    real_open = os.open

    def denied(name, flags, *args):
        if str(name).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(OutputError) as info:
        atomic_write_bytes(path, b"new\n")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:0:-: cannot write: permission denied; the file was left as it was"]
    assert isinstance(info.value, InputError)  # every command turns it into exit 2


def test_unreadable_missing_and_folder_inputs(tmp_path, monkeypatch):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InputError) as info:
        read_input(folder)
    assert str(info.value.problems[0]) == f"{folder}:0:-: is a folder: expected a file"
    with pytest.raises(InputError) as info:
        read_input(tmp_path / "none.csv", missing="poll file not found")
    assert str(info.value.problems[0]) == f"{tmp_path / 'none.csv'}:0:-: poll file not found"
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 101)
    with pytest.raises(InputError) as info:
        read_input(big, max_bytes=100)
    assert str(info.value.problems[0]) == (f"{big}:0:-: file is 101 bytes: at most 100 are "
                                           "read (split the file)")
    secret = tmp_path / "secret.csv"
    secret.write_bytes(b"x")
    real_open = open

    def denied(name, *args, **kwargs):
        if str(name) == str(secret):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    with pytest.raises(InputError) as info:
        read_input(secret)
    assert str(info.value.problems[0]) == f"{secret}:0:-: cannot read: permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_for_real(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes(b"x")
    secret.chmod(0)
    with pytest.raises(InputError) as info:
        read_input(secret)
    assert str(info.value.problems[0]) == f"{secret}:0:-: cannot read: permission denied"


def test_lock_excludes_a_second_writer_and_leaves_no_file(tmp_path):
    path = tmp_path / "polls.csv"
    path.write_bytes(b"x")
    ctx = processes.context()
    ready = ctx.Event()
    holder = ctx.Process(target=processes.hold_lock, args=(str(path), 0.5, ready))
    holder.start()
    assert ready.wait(10)
    start = time.monotonic()
    with file_lock(path):
        waited = time.monotonic() - start
    holder.join()
    assert waited > 0.3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["polls.csv"]
    ready = ctx.Event()
    holder = ctx.Process(target=processes.hold_lock, args=(str(path), 1.0, ready))
    holder.start()
    assert ready.wait(10)
    with pytest.raises(OutputError) as info, file_lock(path, timeout=0.1):
        pass
    holder.join()
    assert str(info.value.problems[0]) == (f"{path}:0:-: another process has been writing to "
                                           "it for 0.1 s (lock .polls.csv.lock): try again later")


def test_stale_staging_files_of_dead_writers_are_removed(tmp_path):
    path = tmp_path / "polls.csv"
    path.write_bytes(b"x")
    ctx = processes.context()
    child = ctx.Process(target=os._exit, args=(0,))
    child.start()
    child.join()
    dead = tmp_path / f".polls.csv.{child.pid}.0123456789abcdef.tmp"
    alive = tmp_path / f".polls.csv.{os.getppid()}.0123456789abcdef.tmp"
    old_style = tmp_path / ".polls.csv.staging"
    other = tmp_path / f".other.csv.{child.pid}.0123456789abcdef.tmp"
    for p in (dead, alive, old_style, other):
        p.write_bytes(b"partial")
    os.utime(old_style, (time.time() - 7200, time.time() - 7200))
    assert sorted(p.name for p in clean_staging(path)) == sorted([dead.name, old_style.name])
    assert alive.exists() and other.exists()


def test_names_must_stay_inside_the_folder(tmp_path):
    assert name_inside(tmp_path, "president.csv") is None
    assert name_inside(tmp_path, "results/x.csv") is None
    assert name_inside(tmp_path, "../results/x.csv", tmp_path / "congress") is None
    assert name_inside(tmp_path, "../../x.csv") == (f"leads outside the folder {tmp_path}: "
                                                    "expected a file inside it")
    assert name_inside(tmp_path, "a/../../x.csv") is not None
    assert name_inside(tmp_path, "/etc/passwd") == ("an absolute path: expected a file name "
                                                    "inside the election folder")
    assert name_inside(tmp_path, "../x.csv", tmp_path / "congress" / "sub") is None
    assert name_inside(tmp_path, "../../../x.csv", tmp_path / "congress" / "sub") is not None


@pytest.mark.parametrize(("text", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("Mitofsky", "Mitofsky"),
    ("", ""), ("a=b", "a=b"),
])
def test_csv_safe(text, expected):
    assert csv_safe(text) == expected


def test_csv_bytes_neutralises_formulas_but_not_numbers():
    frame = pd.DataFrame({"pollster": ["=1+1", "@x", "Ok"], "share": [-0.5, 0.25, 1.0]})
    assert csv_bytes(frame) == b"pollster,share\n'=1+1,-0.5\n'@x,0.25\nOk,1\n"


@pytest.mark.parametrize(("text", "message"), [
    ("Mitofsky", None), ("Buendía & Laredo", None), ("El\u00a0Financiero", None),
    ("a\x1b[31mb", "contains the control character U+001B (unnamed): expected plain text on "
                   "one line"),
    ("a\rb", "contains the control character U+000D (unnamed): expected plain text on one line"),
    ("a\u2028b", "contains the control character U+2028 (LINE SEPARATOR): expected plain text "
                 "on one line"),
    ("a\u202eb", "contains the control character U+202E (RIGHT-TO-LEFT OVERRIDE): expected "
                 "plain text on one line"),
])
def test_name_problem(text, message):
    assert name_problem(text) == message


def test_did_you_mean():
    keys = ["available_until", "available_from", "total_tolerance", "default_sample_size"]
    assert did_you_mean("available_untill", keys) == "; did you mean 'available_until'?"
    assert did_you_mean("total_tolerence", keys) == "; did you mean 'total_tolerance'?"
    assert did_you_mean("default_sample_sise", keys) == "; did you mean 'default_sample_size'?"
    assert did_you_mean("colour", keys) == ""


def test_a_dangling_symlink_into_a_missing_folder_is_refused(tmp_path):
    link = tmp_path / "polls.csv"
    link.symlink_to(tmp_path / "gone" / "polls.csv")
    with pytest.raises(OutputError) as info:
        atomic_write_bytes(link, b"x")
    gone = tmp_path / "gone" / "polls.csv"
    assert str(info.value.problems[0]) == (f"{link}:0:-: symlink to {gone}, whose folder does "
                                           "not exist: not written")
    assert not (tmp_path / "gone").exists()


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "polls.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as info:
        read_input(fifo)
    assert str(info.value.problems[0]) == f"{fifo}:0:-: not a regular file: expected a file"
