"""``forecast update`` after one new presidential poll, end to end, and the forecast folder's size.

Run: .venv/bin/python benchmarks/bench_update.py [--draws N] [--tune N]

On a scratch copy of polls/mx2018 without its last presidential poll:

1. ``forecast run`` (full settings: president, Congress, governors, report) -- not timed;
2. the last poll goes in with ``forecast polls add``;
3. ``forecast update`` in a new process (``cold``: it compiles the presidential model; the
   party-poll and governor fits are reused, their polls did not change);
4. the same again in one long-running process after a first update (``warm``: what
   ``forecast watch`` does; the compiled model is reused);
5. ``forecast update`` with no new poll (nothing to do).

Prints each wall time, what was refitted, and the folder's size by file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _split_last_poll(election: Path) -> Path:
    """Remove the last line of the poll file; return a rows file holding it."""
    poll_file = election / "president.csv"
    lines = poll_file.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = election.parent / "new_poll.csv"
    rows.write_text(lines[0] + lines[-1], encoding="utf-8")
    poll_file.write_text("".join(lines[:-1]), encoding="utf-8")
    return rows


def _cli(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "forecast.cli", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--tune", type=int, default=None)
    args = parser.parse_args()
    extra = [*(["--draws", str(args.draws)] if args.draws else []),
             *(["--tune", str(args.tune)] if args.tune else [])]
    scratch = Path(tempfile.mkdtemp(prefix="bench_update_"))
    shutil.copytree(ROOT / "polls", scratch / "polls")
    shutil.copytree(ROOT / "models", scratch / "models")
    election = scratch / "polls" / "mx2018"
    out = scratch / "reports"
    rows = _split_last_poll(election)
    seconds = _cli("run", str(election), "--out", str(out), *extra)
    print(f"forecast run (before the new poll): {seconds:.1f} s")
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"forecast folder: {size / 1e6:.1f} MB")
    for p in sorted(out.iterdir(), key=lambda p: -p.stat().st_size)[:6]:
        print(f"  {p.name:<22}{p.stat().st_size / 1e6:8.2f} MB")
    backup = scratch / "backup"
    shutil.copytree(election, backup / "election")
    shutil.copytree(out, backup / "reports")

    _cli("polls", "add", str(election), str(rows))
    cold = _cli("update", str(election), "--out", str(out), *extra)
    print(f"update after one new poll, new process (compiles): {cold:.1f} s")
    noop = _cli("update", str(election), "--out", str(out), *extra)
    print(f"update with no new poll: {noop:.1f} s")

    # Warm: one long-running process (forecast watch): a first forecast compiles the models;
    # then a poll arrives and it updates.
    from forecast.pipeline import run, update
    from forecast.poll_file import add_polls

    shutil.rmtree(election)
    shutil.rmtree(out)
    shutil.copytree(backup / "election", election)
    shutil.copytree(backup / "reports", out)
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v}
    start = time.perf_counter()
    run(election, out_dir=scratch / "warmup", seed=2, spec_changes=changes, progress=False)
    print(f"warm process, first forecast (compiles the models): "
          f"{time.perf_counter() - start:.1f} s")
    add_polls(election, rows)
    start = time.perf_counter()
    plan, _, _ = update(election, out_dir=out, spec_changes=changes, progress=False)
    print(f"warm process, update after one new poll (refits {', '.join(plan.changed)}): "
          f"{time.perf_counter() - start:.1f} s")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
