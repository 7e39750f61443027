"""`forecast polls add` under stress: concurrent adds, SIGKILL at random points, memory.

Run: .venv/bin/python benchmarks/bench_polls_add.py [--pairs 20] [--kills 30] [--memory N]

* ``--pairs``: that many times, two processes add one poll each to the same election folder at
  the same moment (forked, started by a barrier). Counts the rows lost (a process exited 0 but
  its row is not in the file) and the processes that failed.
* ``--kills``: that many times, a process adding a poll gets SIGKILL after a random delay;
  counts the poll files left with the old bytes, the new bytes or anything else (partial).
* ``--memory N``: peak memory (max RSS of a child process) of adding one poll to a poll file of
  N rows (N <= the row limit), and the wall time.

Works on any version of the package (the figures in docs/poll-files.md compare the code before
and after the locking and atomic-write changes: run it with PYTHONPATH pointing at an old
checkout to measure that one).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing as mp
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from forecast.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("pollster,field_start,field_end,published,sample_size,mode,basis,partial,"
          "amlo,anaya,meade,zavala,rodriguez,rios_piter,other,undecided,source")


def row(name: str) -> str:
    """A valid 2018 poll by the pollster ``name`` (one per name)."""
    return f"{name},2018-06-20,2018-06-22,2018-06-24,1000,phone,raw,,45,22,17,,5,,,11,stress"


def write_rows(folder: Path, name: str) -> Path:
    path = folder / f"{name}.csv"
    path.write_text(f"{HEADER}\n{row(name)}\n", encoding="utf-8")
    return path


def _add(election: str, rows: str, barrier, slow: bool = False, writing=None) -> None:
    if barrier is not None:
        barrier.wait()
    if slow:
        _slow_writes(writing)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["polls", "add", election, rows])
    os._exit(code)


def _slow_writes(writing=None) -> None:
    """Write the staging file in small pieces with pauses, so kills land mid-write; set the
    event ``writing`` when the write starts."""
    import forecast.fit
    import forecast.poll_file as poll_file

    # forecast.files since the atomic-write changes; forecast.fit before.
    files = forecast.fit
    with contextlib.suppress(ImportError):
        if (Path(forecast.fit.__file__).parent / "files.py").is_file():
            import forecast.files as files
    original = files.atomic_write_bytes

    def slow(path, payload):
        def write(tmp):
            if writing is not None:
                writing.set()
            with open(tmp, "wb") as handle:
                for i in range(0, len(payload), 512):
                    handle.write(payload[i:i + 512])
                    handle.flush()
                    time.sleep(0.0005)
        return files.atomic_write_file(path, write)

    files.atomic_write_bytes = slow
    if getattr(poll_file, "atomic_write_bytes", None) is original:
        poll_file.atomic_write_bytes = slow


def concurrent_pairs(election: Path, rows_dir: Path, pairs: int) -> dict:
    """Two adds at once, ``pairs`` times; rows lost and failures."""
    ctx = mp.get_context("fork")
    poll_file = election / "president.csv"
    lost = failed = 0
    for i in range(pairs):
        names = [f"Stress A{i}", f"Stress B{i}"]
        paths = [write_rows(rows_dir, n) for n in names]
        barrier = ctx.Barrier(2)
        procs = [ctx.Process(target=_add, args=(str(election), str(p), barrier))
                 for p in paths]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        text = poll_file.read_text(encoding="utf-8")
        for name, proc in zip(names, procs, strict=True):
            if proc.exitcode == 0 and f"\n{row(name)}" not in text:
                lost += 1
            elif proc.exitcode != 0:
                failed += 1
    return {"pairs": pairs, "rows_lost": lost, "adds_failed": failed}


def kills(election: Path, rows_dir: Path, trials: int, seed: int = 1) -> dict:
    """SIGKILL an add after a random delay, ``trials`` times; what the poll file holds.

    Odd trials: a delay anywhere in the add. Even trials: the staging file is written slowly and
    the kill lands at a random point after the write started (staging, fsync, rename)."""
    ctx = mp.get_context("fork")
    rng = random.Random(seed)
    poll_file = election / "president.csv"
    outcome = {"old": 0, "new": 0, "partial": 0, "finished_before_kill": 0,
               "staging_left": 0}
    # How long one add takes here, to spread the kills over it.
    probe = ctx.Process(target=_add, args=(str(election), str(write_rows(rows_dir, "Probe")),
                                           None, True))
    start = time.perf_counter()
    probe.start()
    probe.join()
    duration = time.perf_counter() - start
    for i in range(trials):
        old = poll_file.read_bytes()
        name = f"Kill {i}"
        writing = ctx.Event()
        proc = ctx.Process(target=_add, args=(str(election), str(write_rows(rows_dir, name)),
                                              None, i % 2 == 0, writing))
        proc.start()
        if i % 2 == 0:
            writing.wait(timeout=10)
            time.sleep(rng.uniform(0, 0.08))
        else:
            time.sleep(rng.uniform(0, duration))
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        now = poll_file.read_bytes()
        new = old + f"{row(name)}\n".encode()
        if proc.exitcode == 0:
            outcome["finished_before_kill"] += 1
        outcome["staging_left"] += sum(1 for p in election.iterdir()
                                       if p.name.startswith(".president.csv.")
                                       and p.name.endswith((".tmp", ".staging")))
        if now == old:
            outcome["old"] += 1
        elif now == new:
            outcome["new"] += 1
        else:
            outcome["partial"] += 1
            poll_file.write_bytes(old)  # go on from a valid file
    leftovers = sorted(p.name for p in election.iterdir() if p.name.startswith("."))
    return {"kills": trials, **outcome, "add_seconds": round(duration, 3),
            "leftover_files": leftovers}


def _memory_child(election: str, rows: str, conn) -> None:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["polls", "add", election, rows])
    conn.send((code, time.perf_counter() - start,
               resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    os._exit(0)


def memory(election: Path, rows_dir: Path, n_rows: int) -> dict:
    """Peak RSS of a process adding one poll to a poll file of ``n_rows`` rows."""
    poll_file = election / "president.csv"
    # Rows without warnings (a warning per row made the old loader quadratic: measured apart).
    body = [row(f"Big {i}") for i in range(n_rows)]
    poll_file.write_text("\n".join([HEADER, *body]) + "\n", encoding="utf-8")
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    proc = ctx.Process(target=_memory_child, args=(str(election), str(write_rows(rows_dir,
                                                                                 "Memory")),
                                                   child))
    proc.start()
    code, seconds, peak = parent.recv()
    proc.join()
    return {"rows": n_rows, "exit": code, "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak / 1024), "parent_rss_mb_at_fork": round(base / 1024)}


def main_bench(argv: list[str] | None = None) -> int:
    """Run the stress measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--memory", type=int, default=0, help="rows of the big poll file")
    args = parser.parse_args(argv)
    import forecast

    print(f"forecast package: {Path(forecast.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        election = base / "mx2018"
        rows_dir = base / "rows"
        rows_dir.mkdir()
        shutil.copytree(ROOT / "polls" / "mx2018", election)
        if args.pairs:
            print("concurrent adds:", concurrent_pairs(election, rows_dir, args.pairs))
        if args.kills:
            print("SIGKILL during add:", kills(election, rows_dir, args.kills))
        if args.memory:
            print("memory:", memory(election, rows_dir, args.memory))
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
