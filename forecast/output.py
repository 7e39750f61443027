"""A forecast folder, written as a unit: every file built in a temporary sibling folder, a
manifest written last, then the folder moved into place.

A crash, a kill or a full disk at any moment leaves either the old forecast or the new one at
the target path, never a mix (tests/test_paths.py kills a run after each file). Files get the
usual permissions (``0666 & ~umask``: 0644 normally), the folder ``0777 & ~umask``.

``manifest.json`` lists every file with its SHA-256 and size, the as-of date, the seed, the
forecast key, how each fit was obtained and how long it took (timings live here, not in
``summary.json``, so that the summary depends on the inputs and seed alone).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from . import __version__
from .engine import Forecast, stage_by_name
from .files import os_error_reason
from .problems import InputError, OutputError, Problem

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "forecast.manifest/1"
#: Files a forecast folder keeps from one run to the next (written by ``forecast timeline``).
KEPT = ("timeline.csv", "timeline.nc")


#: Columns of timeline.csv (forecast.timeline writes the same table).
TIMELINE_COLUMNS = ["as_of", "candidate", "p_win", "share_valid_q05", "share_valid_q50",
                    "share_valid_q95", "converged", "polls_used"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _looks_like_forecast(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() or (
        (folder / "summary.json").is_file() and (folder / "index.html").is_file())


def check_output(out_dir: str | Path) -> Path:
    """Check, before any fitting, that ``out_dir`` can receive a forecast.

    It must be a new folder, an empty one, or a forecast folder (written by this toolkit), in a
    writable parent folder.

    Raises
    ------
    InputError
        With one line saying what is wrong with ``--out``.
    """
    out = Path(out_dir)
    shown = str(out)
    if out.is_symlink():
        out = out.resolve()
    if out.exists() and not out.is_dir():
        raise InputError([Problem(shown, 0, "--out", "is a file: expected a folder for the "
                                  "forecast")])
    if out.is_dir():
        entries = [p for p in out.iterdir() if not p.name.startswith(".")]
        if entries and not _looks_like_forecast(out):
            sample = ", ".join(sorted(p.name for p in entries)[:3])
            raise InputError([Problem(shown, 0, "--out", f"holds files that are not a forecast "
                                      f"({sample}...): choose an empty folder or a forecast "
                                      "folder")])
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
        probe.rmdir()
    except OSError as exc:
        raise InputError([Problem(shown, 0, "--out", f"cannot write in {parent}: "
                                  f"{exc.strerror or exc}")]) from None
    return out


def read_manifest(folder: str | Path) -> dict | None:
    """The manifest of a forecast folder (None when it has none or it is unreadable)."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def verify_folder(folder: str | Path) -> dict:
    """The manifest of a forecast folder whose files all match it.

    Raises
    ------
    InputError
        No manifest, or a file missing or changed since the forecast was written.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("schema") != MANIFEST_SCHEMA:
        raise InputError([Problem(str(folder / MANIFEST), 0, "", "no forecast manifest: not a "
                                  "complete forecast folder (run `forecast run` again)")])
    bad = []
    for name, entry in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or _sha256(path) != entry.get("sha256"):
            bad.append(name)
    if bad:
        raise InputError([Problem(str(folder / MANIFEST), 0, "files",
                                  f"{', '.join(bad[:5])} missing or changed since the forecast "
                                  "was written: run `forecast run` again")])
    return manifest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def timeline_with(timeline: pd.DataFrame | None, summary: dict) -> pd.DataFrame | None:
    """``timeline`` with this forecast's as-of point added (or replaced); None stays None."""
    if timeline is None:
        return None
    frame = timeline[timeline["as_of"].astype(str) != summary["as_of"]]
    rows = [{"as_of": summary["as_of"], "candidate": key, "p_win": c["p_win"],
             "share_valid_q05": c["share_valid"]["q05"], "share_valid_q50": c["share_valid"]["q50"],
             "share_valid_q95": c["share_valid"]["q95"],
             "converged": summary["diagnostics"]["converged"],
             "polls_used": summary["polls_used"]} for key, c in summary["candidates"].items()]
    out = pd.concat([frame, pd.DataFrame(rows, columns=TIMELINE_COLUMNS)], ignore_index=True)
    return out.sort_values(["as_of", "candidate"]).reset_index(drop=True)


def write_forecast(forecast: Forecast, out_dir: str | Path, *, extend_timeline: bool = False,
                   hook=None) -> Path:
    """Write the fits, the report and the manifest of a forecast as one folder.

    Parameters
    ----------
    forecast
        The forecast (forecast.engine).
    out_dir
        The target folder (checked by :func:`check_output`).
    extend_timeline
        Add this forecast's as-of point to the folder's ``timeline.csv`` (``forecast update``).
    hook
        Called with each file name after it is written (tests kill the process there).
    """
    from .fit import csv_bytes
    from .report.build import render
    from .storage import EXACT_ENCODING

    out = check_output(out_dir)
    parent = out.parent
    _clear_leftovers(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    # Held while the folder is built: a later run knows a locked temporary folder is in use,
    # and an unlocked one was left by a run that died (the lock dies with the process).
    lock = os.open(tmp, os.O_RDONLY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    mask = _umask()
    try:
        os.chmod(tmp, 0o777 & ~mask)
        summary = forecast.summary
        from .report.timeline_charts import read_timeline_files

        timeline, timeline_dataset = read_timeline_files(out) if out.is_dir() else (None, None)
        if extend_timeline:
            timeline = timeline_with(timeline, summary)
        fits = {}
        attrs = {"forecast_key": forecast.key, "forecast_seed": str(forecast.seed),
                 "forecast_as_of": forecast.as_of.isoformat(),
                 "forecast_notes": json.dumps(forecast.notes)}
        for name, result in forecast.results.items():
            stage = stage_by_name(name)
            definition = stage.definition_key(forecast.inputs.stage(name))
            stage.save_fit(result.fit, tmp / stage.fit_file,
                           {**attrs, "definition_key": definition})
            _done(hook, stage.fit_file)
            d = result.fit.diagnostics
            fits[name] = {"file": stage.fit_file, "fit_key": result.fit.key,
                          "reused": bool(result.reused), "converged": bool(d.converged),
                          "fit_seconds": d.fit_seconds, "compile_seconds": d.compile_seconds}
        report = render(forecast, summary=summary, timeline=timeline,
                        timeline_dataset=timeline_dataset)
        files = dict(report.files)
        if timeline is not None:
            files["timeline.csv"] = csv_bytes(timeline)
        for name, payload in files.items():
            (tmp / name).write_bytes(payload)
            _done(hook, name)
        for name, ds in report.datasets.items():
            encoding = {v: dict(EXACT_ENCODING) for v in ds.data_vars
                        if ds[v].dtype.kind in "fiub"}
            ds.to_netcdf(tmp / name, engine="netcdf4", encoding=encoding)
            _done(hook, name)
        if out.is_dir():
            for name in KEPT:
                if (out / name).is_file() and not (tmp / name).exists():
                    shutil.copy2(out / name, tmp / name)
            for entry in out.iterdir():
                # Hidden files (.gitkeep) stay with the folder.
                if entry.name.startswith(".") and entry.is_file():
                    shutil.copy2(entry, tmp / entry.name)
        listing = {}
        for path in sorted(tmp.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                os.chmod(path, 0o666 & ~mask)
                listing[path.name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
        manifest = {
            "schema": MANIFEST_SCHEMA, "version": __version__,
            "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "election_key": forecast.election.key, "as_of": forecast.as_of.isoformat(),
            "seed": int(forecast.seed), "forecast_key": forecast.key, "fits": fits,
            "files": listing,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.chmod(tmp / MANIFEST, 0o666 & ~mask)
        _fsync_folder(tmp)
        _done(hook, MANIFEST)
        _swap_into_place(tmp, out)
    except OSError as exc:
        # A full disk or a folder that turned read-only: one line; the old forecast stays.
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError([Problem(str(out), 0, "--out", "cannot write the forecast: "
                                   f"{os_error_reason(exc)}; the folder was left as it "
                                   "was")]) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    return out


def _clear_leftovers(out: Path) -> None:
    """Remove temporary folders beside ``out`` left by runs that died (no process holds
    their lock any more)."""
    for path in out.parent.glob(f".{out.name}.*-*"):
        if not path.is_dir() or not any(path.name.startswith(f".{out.name}.{kind}-")
                                        for kind in ("new", "old")):
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run is building it
        finally:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)


def _done(hook, name: str) -> None:
    if hook is not None:
        hook(name)


def _fsync_folder(folder: Path) -> None:
    """Flush every file of ``folder`` and the folder itself to disk before it is moved in."""
    for path in folder.iterdir():
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False when unavailable."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b),
                            _RENAME_EXCHANGE)
    return result == 0


def _swap_into_place(new: Path, out: Path) -> None:
    """Put ``new`` at ``out``; the old folder is removed afterwards.

    With an existing forecast the two folders are exchanged in one atomic step where the
    system allows it (Linux); elsewhere the old folder is first moved aside (a crash between
    the two renames leaves it beside the target, as ``.<name>.old-*``).
    """
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(new, out)
    shutil.rmtree(old, ignore_errors=True)
