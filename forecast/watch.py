"""What ``forecast watch`` watches: the election's definition and poll files."""

from __future__ import annotations

from pathlib import Path


def poll_files(election_dir: str | Path) -> list[Path]:
    """Every file of an election folder a forecast reads (TOML and CSV, sub-folders included,
    official results left out: they never enter a forecast)."""
    root = Path(election_dir)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".toml", ".csv")
                  and "results" not in p.relative_to(root).parts)


def snapshot(files: list[Path]) -> tuple:
    """A fingerprint of the files (modification time and size): it changes when one does."""
    out = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            out.append((str(path), None, None))
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)
