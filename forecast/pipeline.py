"""The main job: polls + model spec -> fit -> simulate -> report (and the as-of timeline)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from .congress.forecast import (
    congress_dataset,
    congress_directory,
    congress_forecast,
    congress_section,
    congress_tables,
    load_congress_inputs,
    party_fit_for,
    save_party_fit,
)
from .election import Election, load_election
from .fit import Fit, atomic_write_bytes, atomic_write_file, fit, load_fit, save_fit
from .governors.forecast import (
    GOVERNOR_FIT,
    fit_governor_polls,
    governor_forecast,
    governor_section,
    governor_tables,
    load_governor_fit,
    load_governor_inputs,
    national_signal,
    save_governor_fit,
)
from .governors.model import GovernorFit
from .polls import PollTable, read_polls
from .report import (
    plot_house_effects,
    plot_share_distributions,
    plot_timeline,
    plot_trend,
    plot_win_probability,
    write_report,
)
from .report.charts import candidate_colors
from .simulate import daily_support, simulate, summarize
from .spec import ModelSpec, find_model_file, load_spec

DEFAULT_MODEL = Path("models") / "president.toml"
PARTY_FIT = "party_fit.nc"


@dataclass
class Inputs:
    """Everything a forecast is computed from, validated."""

    election: Election
    polls: PollTable
    spec: ModelSpec


def load_inputs(election_dir: str | Path, model_file: str | Path | None = None) -> Inputs:
    """Read and validate the election, its polls and the model spec (raises InputError)."""
    election = load_election(election_dir)
    polls = read_polls(election.poll_path, election)
    spec = load_spec(model_file) if model_file else _default_spec(election)
    return Inputs(election, polls, spec)


def _default_spec(election: Election) -> ModelSpec:
    """``models/president.toml`` next to the election's ``polls/`` tree, else the defaults."""
    path = find_model_file(election.directory, DEFAULT_MODEL)
    return load_spec(path) if path is not None else ModelSpec()


def forecast_summary(result: Fit, draws: xr.Dataset, warnings: list[str]) -> dict:
    """The ``summary.json`` document (schema in docs/outputs.md)."""
    election = result.election
    summary = summarize(draws)
    for key, block in summary["candidates"].items():
        cand = election.candidate(key)
        block["name"] = cand.name
        block["coalition"] = cand.coalition
    return {
        "schema": "forecast.summary/1",
        "election": election.name,
        "election_key": election.key,
        "election_day": election.election_day.isoformat(),
        "as_of": result.as_of.isoformat(),
        "polls_used": int(len(result.polls)),
        **summary,
        "invalid_share": {"mean": float(draws["invalid_share"].mean())},
        "diagnostics": result.diagnostics.as_dict(),
        "model": result.spec.as_dict(),
        "poll_warnings": warnings,
    }


def unpolled_notes(result: Fit) -> list[str]:
    """Notes for candidates in the race on the as-of date whom no poll used offers.

    They are not in the forecast (forecast.model.prepare): the polls say nothing about them yet.
    """
    ballot = set(result.posterior["posterior"]["vote_share_valid"].coords["ballot"].values)
    return [f"{c.name} ({c.key}) is in the race on {result.as_of} but no poll used offers this "
            f"candidate: left out of this forecast until a poll measures them"
            for c in result.election.candidates
            if c.available_on(result.as_of) and c.key not in ballot]


def report(result: Fit, out_dir: str | Path, *, seed: int = 20180701,
           warnings: list[str] | None = None, update_timeline: bool = False,
           party: Fit | None = None, governors: GovernorFit | None = None) -> dict:
    """Simulate from a fit and write the report into ``out_dir``; returns the summary.

    With ``update_timeline``, this fit's as-of point is added to an existing ``timeline.csv``
    before the P(win)-over-time chart is drawn. With ``party`` (the party-poll fit), the
    Congress projection joins the report (``chambers`` block, seat tables, ``congress.nc``);
    with ``governors`` (the state-poll fit), the governor races (``governors`` block), driven by
    the Congress vote of each draw (or the presidential vote without Congress).
    """
    out = Path(out_dir)
    # First, so the terminal's first lines show it: it changes what the forecast covers.
    warnings = unpolled_notes(result) + list(warnings or [])
    draws = simulate(result, seed=seed)
    summary = forecast_summary(result, draws, warnings)
    sections = []
    extra_tables: dict[str, bytes] = {}
    congress = None
    if party is not None:
        cong = load_congress_inputs(result.election)
        if cong is not None:
            congress = congress_forecast(result, party, cong.definition, cong.spec, seed=seed,
                                         winners=draws["winner"].values)
            summary["chambers"] = congress.summary
            sections.append(congress_section(congress))
            extra_tables.update(congress_tables(congress))
            dataset = congress_dataset(congress)
            atomic_write_file(out / "congress.nc",
                              lambda tmp: dataset.to_netcdf(tmp, engine="netcdf4"))
    if governors is not None:
        races = governors.races
        national = national_signal(
            draws, congress.national["bloc_share"] if congress is not None else None,
            list(races.national_baseline.index))
        _, block = governor_forecast(governors, national, races, seed=seed)
        block["national_signal"] = "congress" if congress is not None else "president"
        summary["governors"] = block
        sections.append(governor_section(block, races))
        extra_tables.update(governor_tables(block))
    if update_timeline:
        extend_timeline(out, summary)
    election = result.election
    names = {c.key: c.name for c in election.candidates}
    # One colour per candidate across every chart, in the election's candidate order.
    colors = candidate_colors(election.candidate_keys)
    support = daily_support(result)
    house = result.posterior["posterior"]["house_effect"].to_dataset()["house_effect"]
    house = house.stack(sample=("chain", "draw"))
    figures = {
        "trend": ("Daily latent support with 50% and 90% bands; dots are polls (renormalised "
                  "over the candidates each offered); diamonds: election-day 90% interval.",
                  plot_trend(support, result.polls, names=names,
                             election_day=pd.Timestamp(election.election_day),
                             election_day_shares=draws)),
        "shares": ("Election-day share of the total vote (includes the historical polling "
                   "error).", plot_share_distributions(draws, names=names, colors=colors)),
        "win_probability": ("Probability of winning under plurality rule.",
                            plot_win_probability(summary, names=names, colors=colors)),
        "house_effects": ("House effects by pollster: median and 90% interval.",
                          plot_house_effects(house, names=names)),
    }
    timeline_path = out / "timeline.csv"
    if timeline_path.is_file():
        timeline = pd.read_csv(timeline_path)
        figures["timeline"] = ("P(win) over time from weekly as-of fits.",
                               plot_timeline(timeline, names=names, colors=colors))
    tables = {
        "candidates.csv": _candidates_csv(summary),
        "orders.csv": _csv(pd.DataFrame([{"order": ">".join(o["order"]), "p": o["p"]}
                                         for o in summary["orders"]])),
        "support_daily.csv": _csv(_support_table(support)),
        "house_effects.csv": _csv(_house_table(house)),
        "polls_used.csv": _csv(result.polls),
    }
    tables.update(extra_tables)
    write_report(out, summary, figures, tables, names=names, warnings=warnings,
                 sections=sections)
    return summary


def _csv(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def _candidates_csv(summary: dict) -> bytes:
    rows = []
    for key, c in summary["candidates"].items():
        row = {"candidate": key, "name": c["name"], "p_win": c["p_win"]}
        for basis in ("share_total", "share_valid"):
            for stat, value in c[basis].items():
                row[f"{basis}_{stat}"] = value
        rows.append(row)
    return _csv(pd.DataFrame(rows))


def _support_table(support: xr.DataArray) -> pd.DataFrame:
    q = support.quantile([0.05, 0.5, 0.95], dim="sample")
    frame = q.to_dataframe(name="support").reset_index()
    return frame.pivot_table(index=["date", "candidate"], columns="quantile",
                             values="support").rename(
        columns={0.05: "q05", 0.5: "q50", 0.95: "q95"}).reset_index()


def _house_table(house: xr.DataArray) -> pd.DataFrame:
    q = house.quantile([0.05, 0.5, 0.95], dim="sample")
    frame = q.to_dataframe(name="house_effect").reset_index()
    return frame.pivot_table(index=["pollster", "candidate"], columns="quantile",
                             values="house_effect").rename(
        columns={0.05: "q05", 0.5: "q50", 0.95: "q95"}).reset_index()


def run(election_dir: str | Path, *, as_of: dt.date | None = None, out_dir: str | Path = "reports",
        seed: int = 20180701, model_file: str | Path | None = None,
        spec_changes: dict | None = None, progress: bool | None = None,
        update_timeline: bool = False, congress: bool = True,
        governors: bool = True) -> tuple[Fit, dict]:
    """Fit, simulate and write the report; returns the fit and the summary.

    Inputs are validated before anything is written: a bad poll file raises InputError and
    leaves ``out_dir`` untouched. When the election has a ``congress/`` definition (and
    ``congress`` is true), the party polls are fitted too (same as-of date) and the seat
    projection joins the report; likewise the governor races (``governors/``).
    """
    inputs = load_inputs(election_dir, model_file)
    cong = load_congress_inputs(inputs.election) if congress else None
    gov = load_governor_inputs(inputs.election) if governors else None
    spec = inputs.spec.with_(**spec_changes) if spec_changes else inputs.spec
    if cong is not None and spec_changes:
        cong.party_spec = cong.party_spec.with_(**spec_changes)
    result = fit(inputs.polls, inputs.election, spec, as_of=as_of, seed=seed, progress=progress)
    out = Path(out_dir)
    party = None
    if cong is not None:
        party, reused = party_fit_for(cong, out / PARTY_FIT, as_of=result.as_of, seed=seed,
                                      progress=progress)
        if not reused:
            save_party_fit(cong, party, out / PARTY_FIT, seed=seed)
    governor_fit = None
    if gov is not None:
        governor_fit = fit_governor_polls(gov, as_of=result.as_of, seed=seed, progress=progress)
        save_governor_fit(governor_fit, out / GOVERNOR_FIT)
    save_fit(result, out / "fit.nc")
    warnings = [str(w) for w in inputs.polls.warnings]
    if cong is not None:
        warnings += [str(w) for w in cong.polls.warnings]
    if gov is not None:
        warnings += [str(w) for w in gov.polls.warnings]
    summary = report(result, out, seed=seed, warnings=warnings,
                     update_timeline=update_timeline, party=party, governors=governor_fit)
    return result, summary


def rereport(fit_path: str | Path, out_dir: str | Path, *, seed: int = 20180701,
             election_dir: str | Path | None = None) -> dict:
    """Re-simulate and re-write the report from a saved fit, without refitting."""
    result = load_fit(fit_path, election_dir)
    party_path = Path(fit_path).parent / PARTY_FIT
    party = None
    if party_path.is_file():
        directory = congress_directory(result.election)
        if directory is not None:
            party = load_fit(party_path, directory)
    governor_path = Path(fit_path).parent / GOVERNOR_FIT
    governor_fit = None
    if governor_path.is_file():
        gov = load_governor_inputs(result.election)
        if gov is not None:
            governor_fit = load_governor_fit(governor_path, gov)
    return report(result, out_dir, seed=seed, party=party, governors=governor_fit)


def timeline(election_dir: str | Path, dates: list[dt.date], *, out_dir: str | Path = "reports",
             seed: int = 20180701, model_file: str | Path | None = None,
             spec_changes: dict | None = None, progress: bool | None = None,
             client: object | str | None = None, workers: int | None = None) -> pd.DataFrame:
    """Fit as of each date and store P(win) and shares over time (``timeline.csv``, ``.nc``).

    Runs in parallel on local processes (default ``cores // chains``, like a study;
    ``workers=1``: serially) or on a Dask cluster (``client``), each process reusing its
    compiled model; see forecast/timeline.py.
    """
    from .timeline import run_timeline

    return run_timeline(election_dir, dates, out_dir=out_dir, seed=seed, model_file=model_file,
                        spec_changes=spec_changes, progress=progress, client=client,
                        workers=workers)


def extend_timeline(out_dir: Path, summary: dict) -> bool:
    """Add (or replace) a summary's as-of point in ``timeline.csv``, if one exists."""
    path = out_dir / "timeline.csv"
    if not path.is_file():
        return False
    frame = pd.read_csv(path)
    frame = frame[frame["as_of"] != summary["as_of"]]
    rows = [{"as_of": summary["as_of"], "candidate": key, "p_win": c["p_win"],
             "share_valid_q05": c["share_valid"]["q05"], "share_valid_q50": c["share_valid"]["q50"],
             "share_valid_q95": c["share_valid"]["q95"],
             "converged": summary["diagnostics"]["converged"],
             "polls_used": summary["polls_used"]} for key, c in summary["candidates"].items()]
    frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True).sort_values(
        ["as_of", "candidate"])
    atomic_write_bytes(path, _csv(frame))
    return True


def weekly_dates(polls: PollTable, election: Election, *, every_days: int = 7,
                 start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
    """As-of dates every ``every_days`` back from ``end`` (default: the last poll's end)."""
    ends = polls.table["field_end"]
    end = end or ends.max().date()
    start = start or (ends.sort_values().iloc[min(4, len(ends) - 1)]).date()
    days = (end - start).days
    out = [end - dt.timedelta(days=k) for k in range(0, days + 1, every_days)]
    return sorted(d for d in out if d <= election.election_day)


__all__ = ["Inputs", "forecast_summary", "load_inputs", "report", "rereport", "run", "timeline",
           "weekly_dates"]
