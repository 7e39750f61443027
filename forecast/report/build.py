"""Every file of a forecast's report, from the forecast alone (fits, draws and summary)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

from ..simulate import daily_support
from .congress import congress_section, congress_tables
from .governors import governor_section, governor_tables
from .headline import display_names, headline_sentences
from .page import render_files
from .president import president_charts, president_tables
from .style import candidate_style, congress_style
from .timeline_charts import timeline_section


@dataclass
class ReportFiles:
    """The report: files by name (bytes) and labelled datasets (written as netCDF)."""

    files: dict[str, bytes]
    datasets: dict[str, xr.Dataset] = field(default_factory=dict)


def render(forecast, *, summary: dict | None = None, timeline: pd.DataFrame | None = None,
           timeline_dataset: xr.Dataset | None = None) -> ReportFiles:
    """The report of a forecast: the page (headline first), interactive charts and their data,
    tables, ``summary.json``, and the seat draws (``congress.nc``) when the forecast has
    Congress.

    ``timeline`` (``timeline.csv`` of the folder) adds the P(win)-over-time chart and
    ``timeline_dataset`` (``timeline.nc``) the seats-over-time charts; read both with
    :func:`forecast.report.timeline_charts.read_timeline_files`.
    """
    summary = summary or forecast.summary
    election = forecast.election
    candidates = candidate_style(election)
    # The daily support quantiles feed the trend chart and support_daily.csv: computed once.
    support = daily_support(forecast.results["president"].fit)
    charts, figures = president_charts(forecast, summary, support, candidates)
    tables = president_tables(forecast, summary, support)
    sections = []
    datasets = {}
    seats_style = None
    thresholds = None
    if "congress" in forecast.results:
        seats_style = congress_style(forecast)
        definition = forecast.inputs.stage("congress").definition
        thresholds = {ch: definition.thresholds(ch) for ch in ("deputies", "senate")}
        sections.append(congress_section(forecast, seats_style))
        tables.update(congress_tables(forecast))
        datasets["congress.nc"] = forecast.results["congress"].draws
    if "governors" in forecast.results:
        sections.append(governor_section(forecast))
        tables.update(governor_tables(forecast))
    over_time = timeline_section(timeline, timeline_dataset, candidates=candidates,
                                 congress=seats_style, thresholds=thresholds)
    if over_time is not None:
        sections.append(over_time)
    headline = headline_sentences(summary, display_names(forecast))
    files = render_files(summary, figures, tables, names=dict(candidates.labels),
                         warnings=summary["poll_warnings"], sections=sections, charts=charts,
                         headline=headline)
    return ReportFiles(files, datasets)
