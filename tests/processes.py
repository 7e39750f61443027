"""Child processes for the concurrency and kill tests (module-level, so the forkserver can run
them): a fresh single-threaded server forks each child, which is cheap and safe, unlike
forking the multi-threaded test process."""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import os
import time

_PRELOAD = ["forecast.cli", "forecast.poll_file", "forecast.files"]


def context() -> mp.context.BaseContext:
    """The forkserver context, with the package preloaded in the server."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def add(election: str, rows: str, barrier=None, writing=None, slow: bool = False) -> None:
    """``forecast polls add`` in this process; exit with its code. ``barrier``: start together;
    ``slow``: write the staging file in small pieces, setting ``writing`` when it starts."""
    from forecast.cli import main

    if barrier is not None:
        barrier.wait()
    if slow:
        _slow_writes(writing)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["polls", "add", election, rows])
    os._exit(code)


def _slow_writes(writing) -> None:
    import forecast.files as files
    import forecast.poll_file as poll_file

    def slow(path, payload):
        def write(tmp):
            if writing is not None:
                writing.set()
            with open(tmp, "wb") as handle:
                for i in range(0, len(payload), 256):
                    handle.write(payload[i:i + 256])
                    handle.flush()
                    time.sleep(0.001)
        return files.atomic_write_file(path, write)

    poll_file.atomic_write_bytes = slow


def hold_lock(path: str, seconds: float, ready) -> None:
    """Hold the writer lock of ``path`` for ``seconds``; set ``ready`` once held."""
    from forecast.files import file_lock

    with file_lock(path):
        ready.set()
        time.sleep(seconds)
    os._exit(0)
