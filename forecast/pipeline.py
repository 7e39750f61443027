"""The commands as functions: run, update and re-report a forecast (forecast/engine.py does the
work, forecast/output.py writes the folder)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from .engine import (
    DEFAULT_SEED,
    Forecast,
    ForecastInputs,
    check_as_of,
    compute,
    default_as_of,
    load_forecast,
    prepare_stages,
    stage_by_name,
    stored_fits,
)
from .engine import load_inputs as load_forecast_inputs
from .output import check_output, read_manifest, write_forecast
from .problems import InputError, Problem
from .stages import Options

log = logging.getLogger(__name__)


def options(*, model_file: str | Path | None = None, spec_changes: dict | None = None,
            congress: bool = True, governors: bool = True) -> Options:
    """The forecast options from command-line style arguments."""
    return Options(model_file=str(model_file) if model_file else None,
                   spec_changes=dict(spec_changes or {}), congress=congress,
                   governors=governors)


def run(election_dir: str | Path, *, as_of: dt.date | None = None,
        out_dir: str | Path = "reports", seed: int = DEFAULT_SEED,
        model_file: str | Path | None = None, spec_changes: dict | None = None,
        progress: bool | None = None, update_timeline: bool = False, congress: bool = True,
        governors: bool = True, reuse: bool = True, hook=None) -> Forecast:
    """Fit (or reuse), simulate and write a forecast folder; returns the forecast.

    Inputs and ``out_dir`` are checked before anything is fitted: a bad poll file or output
    folder raises InputError and leaves ``out_dir`` untouched. A fit stored in ``out_dir`` is
    reused when it is exactly the fit this run would make (same polls, settings and seed).
    """
    inputs = load_forecast_inputs(election_dir, options(
        model_file=model_file, spec_changes=spec_changes, congress=congress,
        governors=governors))
    out = check_output(out_dir)
    stored = stored_fits(out, inputs) if reuse and out.is_dir() else None
    forecast = compute(inputs, as_of=as_of, seed=seed, stored=stored, progress=progress)
    write_forecast(forecast, out, extend_timeline=update_timeline, hook=hook)
    return forecast


@dataclass
class UpdatePlan:
    """What ``forecast update`` would do: the new as-of date and the stages to refit."""

    as_of: dt.date
    previous_as_of: str | None
    changed: list[str]
    new_polls: dict[str, int]

    @property
    def nothing_new(self) -> bool:
        return not self.changed and self.previous_as_of == self.as_of.isoformat()


def plan_update(inputs: ForecastInputs, out_dir: str | Path, seed: int) -> UpdatePlan:
    """Compare the forecast in ``out_dir`` with one made now from the latest polls."""
    as_of = default_as_of(inputs)
    check_as_of(inputs, as_of)
    manifest = read_manifest(out_dir) or {}
    stored = manifest.get("fits", {})
    prepared, _ = prepare_stages(inputs, as_of, seed)
    changed = [name for name, prep in prepared.items()
               if stored.get(name, {}).get("fit_key") != prep.key]
    previous = manifest.get("as_of")
    new_polls = {}
    for name, stage_inputs in inputs.stages.items():
        known = stage_by_name(name).known(stage_inputs)
        if previous:
            new_polls[name] = int(((known > str(previous)) & (known <= str(as_of))).sum())
    return UpdatePlan(as_of, previous, changed, new_polls)


def update(election_dir: str | Path, *, out_dir: str | Path = "reports",
           seed: int | None = None, model_file: str | Path | None = None,
           spec_changes: dict | None = None, progress: bool | None = None,
           congress: bool = True, governors: bool = True
           ) -> tuple[UpdatePlan, dict | None, Forecast | None]:
    """Refit after new polls: nothing when no poll is new; otherwise only the stages whose
    inputs changed, and the point is added to ``timeline.csv`` when the folder has one.

    Returns the plan, the previous summary (if any) and the new forecast (None when nothing was
    new). The seed defaults to the previous forecast's.
    """
    inputs = load_forecast_inputs(election_dir, options(
        model_file=model_file, spec_changes=spec_changes, congress=congress,
        governors=governors))
    out = check_output(out_dir)
    manifest = read_manifest(out) or {}
    if seed is None:
        seed = int(manifest.get("seed", DEFAULT_SEED))
    plan = plan_update(inputs, out, seed)
    previous = _read_summary(out)
    if plan.nothing_new and previous is not None:
        return plan, previous, None
    forecast = compute(inputs, as_of=plan.as_of, seed=seed, stored=stored_fits(out, inputs),
                       progress=progress)
    write_forecast(forecast, out, extend_timeline=True)
    return plan, previous, forecast


def _read_summary(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def rereport(fit_path: str | Path, out_dir: str | Path, *, seed: int | None = None,
             election_dir: str | Path | None = None) -> Forecast:
    """Simulate again from the fits of a forecast folder and write the report into ``out_dir``.

    ``fit_path`` is the presidential fit (``fit.nc``); the other fits are read from its folder.
    They must make up one forecast (same as-of date and key) made with the election's current
    definitions; the seed defaults to the forecast's own, which gives its numbers again.

    Raises
    ------
    InputError
        Not a fit file, fits of different forecasts, definitions changed since, bad ``--out``.
    """
    from .fit import FIT_KIND
    from .storage import read_attrs

    fit_path = Path(fit_path)
    attrs = read_attrs(fit_path)
    if attrs.get("kind") != FIT_KIND:
        raise InputError([Problem(str(fit_path), 0, "", "not a presidential fit of this "
                                  "toolkit (or one saved by an older version): run `forecast "
                                  "run` again")])
    directory = Path(election_dir) if election_dir else fit_path.parent / attrs["election_dir"]
    inputs = load_forecast_inputs(directory, options())
    out = check_output(out_dir)
    forecast = load_forecast(fit_path.parent, inputs, seed=seed)
    write_forecast(forecast, out)
    return forecast


__all__ = ["UpdatePlan", "options", "plan_update", "rereport", "run", "update"]
