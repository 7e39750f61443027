"""`forecast polls add` never loses or silently changes what the user gives: concurrent adds,
SIGKILL at random points, encodings and separators, modes, symlinks, hostile names, every
refusal exit 2 with a message and nothing changed."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import signal
import stat
import time
from pathlib import Path

import pytest

from forecast import poll_file as poll_file_module
from forecast.cli import main
from forecast.poll_file import add_polls
from forecast.problems import InputError, OutputError

from . import processes
from .conftest import MX2018

HEADER = ("pollster,field_start,field_end,published,sample_size,mode,basis,partial,"
          "amlo,anaya,meade,zavala,rodriguez,rios_piter,other,undecided,source")


def _row(name: str, day: int = 20) -> str:
    return (f"{name},2018-06-{day:02d},2018-06-{day + 2:02d},2018-06-{day + 4:02d},1000,phone,"
            "raw,,45,22,17,,5,,,11,x")


@pytest.fixture
def small(tmp_path):
    """The 2018 folder with its first 12 polls (fast to validate in the process tests)."""
    target = tmp_path / "mx2018"
    shutil.copytree(MX2018, target)
    lines = (target / "president.csv").read_bytes().split(b"\n")
    (target / "president.csv").write_bytes(b"\n".join(lines[:13]) + b"\n")
    return target


def _rows(folder: Path, *rows: str, header: str = HEADER, name: str = "new.csv",
          encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = folder / name
    path.write_bytes(newline.join([header, *rows, ""]).encode(encoding))
    return path


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         stat.S_IMODE(p.lstat().st_mode))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(capsys, folder: Path, argv: list[str]) -> list[str]:
    """Run the CLI; it must exit 2, print one-line messages and change nothing in ``folder``."""
    before = _snapshot(folder)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].endswith("nothing was written")
    assert all(line.isprintable() for line in err), err
    assert _snapshot(folder) == before
    return err[:-1]


# --------------------------------------------------------------------------------------------
# Concurrency and kills
# --------------------------------------------------------------------------------------------


def test_twenty_concurrent_double_adds_keep_every_row(small, tmp_path):
    """Two processes add at the same moment, 20 times: every row that exited 0 is in the file
    (before the lock, 2 of 20 pairs lost a row while both exited 0)."""
    ctx = processes.context()
    poll_file = small / "president.csv"
    expected = poll_file.read_bytes().count(b"\n")
    for i in range(20):
        names = [f"Pair A{i}", f"Pair B{i}"]
        paths = [_rows(tmp_path, _row(n), name=f"{n}.csv") for n in names]
        barrier = ctx.Barrier(2)
        procs = [ctx.Process(target=processes.add, args=(str(small), str(p), barrier))
                 for p in paths]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        text = poll_file.read_text(encoding="utf-8")
        for name, proc in zip(names, procs, strict=True):
            assert proc.exitcode == 0, (i, name)
            assert text.count(f"\n{_row(name)}\n") == 1, (i, name)
        expected += 2
        assert text.count("\n") == expected
    assert sorted(p.name for p in small.iterdir() if p.name.startswith(".")) == []


def test_sigkill_at_random_points_leaves_the_old_or_the_new_file(small, tmp_path):
    """30 kills: half anywhere in the add, half while the staging file is being written. The
    poll file is always byte for byte the old or the new one; the next add removes the dead
    writers' staging files."""
    ctx = processes.context()
    rng = random.Random(20180701)
    poll_file = small / "president.csv"
    for probe_name in ("Probe", "Warm probe"):  # the second one times a warm forkserver
        start = time.perf_counter()
        probe = ctx.Process(target=processes.add, args=(str(small), str(_rows(
            tmp_path, _row(probe_name), name=f"{probe_name}.csv"))))
        probe.start()
        probe.join(60)
        duration = time.perf_counter() - start
        assert probe.exitcode == 0
    outcomes = {"old": 0, "new": 0}
    for i in range(30):
        old = poll_file.read_bytes()
        name = f"Killed {i}"
        rows = _rows(tmp_path, _row(name), name=f"k{i}.csv")
        writing = ctx.Event()
        proc = ctx.Process(target=processes.add, args=(str(small), str(rows), None, writing,
                                                       i % 2 == 0))
        proc.start()
        if i % 2 == 0:
            assert writing.wait(30)
            time.sleep(rng.uniform(0, 0.025))  # the slow write takes about 20 ms
        else:
            time.sleep(rng.uniform(0, duration))
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.join(60)
        now = poll_file.read_bytes()
        new = old + f"{_row(name)}\n".encode()
        assert now in (old, new), i
        outcomes["old" if now == old else "new"] += 1
        assert stat.S_IMODE(poll_file.stat().st_mode) == 0o644
    assert outcomes["old"] > 0
    # Whatever the dead writers left (staging files, a lock file) does not block the next add,
    # which removes it.
    added = add_polls(small, _rows(tmp_path, _row("After"), name="after.csv"))
    assert added.rows == 1
    assert sorted(p.name for p in small.iterdir() if p.name.startswith(".")) == []


# --------------------------------------------------------------------------------------------
# Encodings, separators, normalisation
# --------------------------------------------------------------------------------------------


def test_cp1252_semicolon_rows_are_stored_decoded_and_normalised(mx2018_copy, tmp_path):
    """A Windows-1252 ';' rows file (decimal commas, '47%', '1.000' interviews) lands in the
    UTF-8 ',' poll file with the decoded values: one pollster, not 'Buend\\ufffda'."""
    poll_file = mx2018_copy / "president.csv"
    before = poll_file.read_bytes()
    rows = _rows(tmp_path, "Buendía & Laredo;2018-06-20;2018-06-22;2018-06-24;1.000;phone;raw;;"
                 "45,5%;22;16,5;;5;;;11;nota", header=HEADER.replace(",", ";"),
                 encoding="cp1252", newline="\r\n")
    added = add_polls(mx2018_copy, rows)
    assert [str(w) for w in added.warnings] == [
        f"{rows}:0:-: warning: file is not UTF-8; read as Windows-1252 (Latin-1)"]
    assert poll_file.read_bytes() == before + (
        "Buendía & Laredo,2018-06-20,2018-06-22,2018-06-24,1000,phone,raw,,45.5,22,16.5,,5,,,11,"
        "nota\n").encode()
    assert added.polls_after == 96


def test_rows_go_into_a_cp1252_semicolon_poll_file_in_its_own_format(mx2018_copy, tmp_path):
    poll_file = mx2018_copy / "president.csv"
    text = poll_file.read_text(encoding="utf-8")
    semicolon = "\r\n".join(line.replace(",", ";") for line in [
        HEADER, "Parametría,2017-12-14,2017-12-17,,800,face_to_face,raw,,31,19,20,10,2,,,18,x"])
    poll_file.write_bytes((semicolon + "\r\n").encode("cp1252"))
    poll_file.chmod(0o664)
    before = poll_file.read_bytes()
    assert text  # the shipped file was replaced by a one-poll cp1252 ';' file
    rows = _rows(tmp_path, "Peña Encuestas,2018-06-20,2018-06-22,,1200,phone,raw,,45.5%,22,16.5,"
                 ",5,,,11,señal", "Mitad,2018-06,,2018-06-24,900,,raw,,45,22,17,,5,,,11,")
    added = add_polls(mx2018_copy, rows)
    assert added.warnings == []
    assert poll_file.read_bytes() == before + (
        "Peña Encuestas;2018-06-20;2018-06-22;;1200;phone;raw;;45,5;22;16,5;;5;;;11;señal\r\n"
        "Mitad;2018-06;;2018-06-24;900;;raw;;45;22;17;;5;;;11;\r\n").encode("cp1252")
    assert stat.S_IMODE(poll_file.stat().st_mode) == 0o664


def test_a_character_the_cp1252_poll_file_cannot_hold_is_refused(mx2018_copy, tmp_path,
                                                                   capsys):
    poll_file = mx2018_copy / "president.csv"
    poll_file.write_bytes(poll_file.read_text(encoding="utf-8").encode("cp1252"))
    rows = _rows(tmp_path, _row("Ωmega"))
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{rows}:2:pollster: 'Ωmega': 'Ω' cannot be written in {poll_file}, which is "
        "Windows-1252: save the poll file as UTF-8 to add it"]


def test_semicolon_rows_file_accepted_by_validate_is_accepted_by_add(mx2018_copy, tmp_path):
    rows = _rows(tmp_path, _row("Punto y coma").replace(",", ";"),
                 header=HEADER.replace(",", ";"))
    assert add_polls(mx2018_copy, rows).rows == 1
    last = (mx2018_copy / "president.csv").read_text(encoding="utf-8").splitlines()[-1]
    assert last == _row("Punto y coma")


def test_rows_warnings_are_returned(mx2018_copy, tmp_path):
    rows = _rows(tmp_path, _row("Sin muestra").replace(",1000,", ",,"))
    added = add_polls(mx2018_copy, rows)
    assert [str(w) for w in added.warnings] == [
        f"{rows}:2:sample_size: warning: missing: the documented default of 800 interviews is "
        "used"]


# --------------------------------------------------------------------------------------------
# Modes, read-only files, symlinks, paths outside the folder
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o664])
def test_the_poll_file_keeps_its_mode(mx2018_copy, tmp_path, mode):
    poll_file = mx2018_copy / "president.csv"
    poll_file.chmod(mode)
    add_polls(mx2018_copy, _rows(tmp_path, _row("Modo")))
    assert stat.S_IMODE(poll_file.stat().st_mode) == mode


def test_a_read_only_poll_file_is_refused(mx2018_copy, tmp_path, capsys):
    poll_file = mx2018_copy / "president.csv"
    poll_file.chmod(0o444)
    rows = _rows(tmp_path, _row("Solo lectura"))
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{poll_file}:0:-: read-only file (mode 0444): not replaced; make it writable "
        "(chmod u+w) to change it"]


def test_a_symlinked_poll_file_is_written_through(mx2018_copy, tmp_path):
    shared = tmp_path / "shared.csv"
    poll_file = mx2018_copy / "president.csv"
    shutil.move(poll_file, shared)
    poll_file.symlink_to(shared)
    before = shared.read_bytes()
    add_polls(mx2018_copy, _rows(tmp_path, _row("Enlace")))
    assert poll_file.is_symlink() and os.readlink(poll_file) == str(shared)
    assert shared.read_bytes() == before + (_row("Enlace") + "\n").encode()


@pytest.mark.parametrize("name", ["../../x.csv", "/tmp/x.csv", "sub/../../x.csv"])
def test_a_poll_file_outside_the_folder_is_refused(mx2018_copy, tmp_path, capsys, name):
    outside = tmp_path / "x.csv"
    shutil.copy(mx2018_copy / "president.csv", outside)
    toml = mx2018_copy / "election.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'poll_file = "president.csv"', f'poll_file = "{name}"'), encoding="utf-8")
    rows = _rows(tmp_path, _row("Fuera"))
    digest = outside.read_bytes()
    errors = _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)])
    expected = ("an absolute path: expected a file name inside the election folder"
                if name.startswith("/") else
                f"leads outside the folder {mx2018_copy}: expected a file inside it")
    assert errors == [f"{toml}:8:poll_file: {name!r}: {expected}"]
    assert outside.read_bytes() == digest


# --------------------------------------------------------------------------------------------
# Tracebacks turned into messages
# --------------------------------------------------------------------------------------------


def test_an_unreadable_rows_file_is_a_message(mx2018_copy, tmp_path, capsys, monkeypatch):
    rows = _rows(tmp_path, _row("Secreto"))
    real_open = open

    def denied(name, *args, **kwargs):
        if str(name) == str(rows):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{rows}:0:-: cannot read: permission denied"]


def test_a_full_disk_is_a_message(mx2018_copy, tmp_path, capsys, monkeypatch):
    rows = _rows(tmp_path, _row("Lleno"))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    poll_file = mx2018_copy / "president.csv"
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{poll_file}:0:-: cannot write: no space left on the device (disk or quota full); the "
        "file was left as it was"]


def test_the_row_limit(mx2018_copy, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(poll_file_module, "MAX_POLLS", 96)
    rows = _rows(tmp_path, _row("Uno"), _row("Dos"))
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{rows}:0:-: the poll file would hold 97 polls: at most 96 (start a new poll file; "
        "docs/poll-files.md)"]


# --------------------------------------------------------------------------------------------
# Hostile names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "shown", "code"), [
    ("Evil\x1b[31mRed", "'Evil\\x1b[31mRed'", "U+001B (unnamed)"),
    ('"Two\nLines"', "'Two\\nLines'", "U+000A (unnamed)"),
    ('"Carriage\rReturn"', "'Carriage\\rReturn'", "U+000D (unnamed)"),
    ("Line\u2028Separator", "'Line\\u2028Separator'", "U+2028 (LINE SEPARATOR)"),
    ("Right\u202eLeft", "'Right\\u202eLeft'", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
])
def test_control_characters_in_pollster_names_are_refused(mx2018_copy, tmp_path, capsys, cell,
                                                          shown, code):
    rows = _rows(tmp_path, _row(cell))
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{rows}:2:pollster: {shown} contains the control character {code}: expected plain "
        "text on one line"]


def test_formula_like_names_are_data_and_duplicates_by_poll_id(mx2018_copy, tmp_path, capsys):
    rows = _rows(tmp_path, _row("=HYPERLINK(1)").replace(",x", ",x,id-1"),
                 header=HEADER + ",poll_id", name="a.csv")
    poll_file = mx2018_copy / "president.csv"
    header = poll_file.read_text(encoding="utf-8").split("\n", 1)
    poll_file.write_text(header[0] + ",poll_id\n" + "\n".join(
        line + "," for line in header[1].splitlines()) + "\n", encoding="utf-8")
    assert add_polls(mx2018_copy, rows).rows == 1  # stored as given: the output CSVs neutralise
    again = _rows(tmp_path, _row("Otra casa", 10).replace(",x", ",x,id-1"),
                  header=HEADER + ",poll_id", name="b.csv")
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(again)]) == [
        f"{again}:2:poll_id: duplicate poll: poll_id 'id-1' already in {poll_file} at line 97"]


def test_bad_rows_file_exits_2_without_traceback(mx2018_copy, tmp_path, capsys):
    rows = tmp_path / "new.csv"
    rows.write_bytes(b"\xff\xfe" + "pollster\n".encode("utf-16-le"))
    assert _refused(capsys, mx2018_copy, ["polls", "add", str(mx2018_copy), str(rows)]) == [
        f"{rows}:1:-: UTF-16 (or UTF-32) text: save the file as CSV UTF-8 (or Windows-1252)"]
    with pytest.raises(InputError):
        add_polls(mx2018_copy, tmp_path / "missing.csv")
    assert issubclass(OutputError, InputError)
