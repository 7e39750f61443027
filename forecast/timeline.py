"""The as-of timeline: one fit per date, run in parallel on local cores (or a Dask cluster).

The fits run as a study with one factor, ``as_of`` (forecast.study), so each date's seeds are
derived from the study seed and the date — never from the execution order — and a timeline is
identical whether it runs serially, on local processes or on Dask.

Parallel runs use spawned processes: by default ``cores // chains`` of them, like a study (one
fit already samples its chains on parallel threads, so on 2 cores the default is serial, which
was measured faster: every process compiles its own models). nutpie's compiled models cannot be
pickled, so every worker compiles in its own process, keeps the compiled model in its in-process
cache (forecast/fit.py) and reuses it, with the new data swapped in, for every date it is given:
the model's structure is fixed per poll file (knot grid, pollsters, modes), so a worker compiles
once per ballot (the candidates in the race: three ballots in the 2018 campaign), not once per
date. Each worker samples its chains on ``cores // workers`` threads, so the processes share the
cores instead of oversubscribing them. A progress bar is shown on stderr when it is a terminal.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .election import Election
from .model import known_dates
from .output import TIMELINE_COLUMNS as COLUMNS
from .polls import PollTable
from .sampling import threads_for_workers
from .seeds import DEFAULT_SEED

log = logging.getLogger(__name__)

#: Columns of ``timeline.csv``.


def weekly_dates(polls: PollTable, election: Election, *, every_days: int = 7,
                 start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
    """As-of dates every ``every_days`` back from ``end`` (default: the last poll public)."""
    known = known_dates(polls.table)
    end = end or known.max().date()
    start = start or (known.sort_values().iloc[min(4, len(known) - 1)]).date()
    days = (end - start).days
    out = [end - dt.timedelta(days=k) for k in range(0, days + 1, every_days)]
    return sorted(d for d in out if d <= election.election_day)


def run_timeline(election_dir: str | Path, dates: list[dt.date], *,
                 out_dir: str | Path | None = "reports", seed: int = DEFAULT_SEED,
                 model_file: str | Path | None = None, spec_changes: dict | None = None,
                 progress: bool | None = None, client: object | str | None = None,
                 workers: int | None = None, seats: bool = True) -> pd.DataFrame:
    """Fit as of each date, in parallel, and return (and store) P(win), shares and seats over
    time.

    Parameters
    ----------
    election_dir
        Election folder.
    dates
        As-of dates (each fit uses the polls ended by its date).
    out_dir
        Where ``timeline.csv`` (one row per date and candidate on that date's ballot) and
        ``timeline.nc`` (the study Dataset) are written; ``None`` writes nothing.
    seed
        Timeline seed; each date's fit and simulation seeds are derived from it and the date.
    model_file, spec_changes
        Model specification file and settings changed for every fit (e.g. ``{"draws": 500}``).
    progress
        Progress bar on stderr (default: only when stderr is a terminal).
    client
        A ``distributed.Client`` or a scheduler address: run the fits on that Dask cluster.
    workers
        Local processes (default ``cores // chains``, at least 1, as for a study); ``1`` runs
        serially in this process. The result is the same whatever the number.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, sorted by date and candidate.
    """
    from .files import atomic_write_bytes
    from .fit import csv_bytes
    from .study import Study, save_study

    dates = sorted(set(dates))
    study = Study(election_dir, factors={"as_of": [d.isoformat() for d in dates]}, seed=seed,
                  spec_changes=spec_changes, model_file=model_file, seats=seats,
                  governors=False)
    n = study.local_workers(workers)
    threads = None
    if client is None and n > 1:
        cores = os.cpu_count() or 1
        threads = max(1, cores // n)
    with threads_for_workers(threads):
        ds = study.run(client=client, workers=n, progress=progress)
    #: How each fit ran (worker, compile and sampling seconds), for benchmarks.
    run_timeline.fit_records = study.fit_records
    frame = timeline_frame(ds)
    if out_dir is not None:
        out = Path(out_dir)
        atomic_write_bytes(out / "timeline.csv", csv_bytes(frame))
        save_study(ds, out / "timeline.nc")
        _refresh_report(out)
    return frame


def _refresh_report(out: Path) -> None:
    """Re-render the forecast in ``out`` (if it holds one) so its report shows the timeline."""
    from .output import read_manifest
    from .pipeline import rereport
    from .problems import InputError

    if read_manifest(out) is None or not (out / "fit.nc").is_file():
        return
    try:
        rereport(out / "fit.nc", out)
    except InputError as exc:  # the folder's forecast is of other definitions: leave it
        log.warning("timeline written; the report in %s was not refreshed: %s", out,
                    exc.problems[0] if exc.problems else exc)


def timeline_frame(ds) -> pd.DataFrame:
    """One row per as-of date and candidate on that date's ballot, from the study Dataset."""
    rows = []
    for day in ds["as_of"].values:
        point = ds.sel(as_of=day)
        for key in point["candidate"].values:
            c = point.sel(candidate=key)
            if not np.isfinite(float(c["p_win"])):
                continue  # not on the ballot as known on that date
            q = c["share_valid"]
            rows.append({"as_of": str(day), "candidate": str(key), "p_win": float(c["p_win"]),
                         "share_valid_q05": float(q.sel(quantile=0.05)),
                         "share_valid_q50": float(q.sel(quantile=0.5)),
                         "share_valid_q95": float(q.sel(quantile=0.95)),
                         "converged": bool(point["converged"]),
                         "polls_used": int(point["polls_used"])})
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["COLUMNS", "run_timeline", "timeline_frame", "weekly_dates"]
