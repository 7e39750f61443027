"""Every file of a forecast's report, from the forecast alone (fits, draws and summary)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

from .congress import congress_section, congress_tables
from .governors import governor_section, governor_tables
from .page import render_files
from .president import president_figures, president_tables


@dataclass
class ReportFiles:
    """The report: files by name (bytes) and labelled datasets (written as netCDF)."""

    files: dict[str, bytes]
    datasets: dict[str, xr.Dataset] = field(default_factory=dict)


def render(forecast, *, summary: dict | None = None,
           timeline: pd.DataFrame | None = None) -> ReportFiles:
    """The report of a forecast: the page, charts, tables, ``summary.json``, and the seat
    draws (``congress.nc``) when the forecast has Congress.

    ``timeline`` (``timeline.csv`` of the folder) adds the P(win)-over-time chart.
    """
    summary = summary or forecast.summary
    election = forecast.election
    names = {c.key: c.name for c in election.candidates}
    figures = president_figures(forecast, summary, timeline)
    tables = president_tables(forecast, summary)
    sections = []
    datasets = {}
    if "congress" in forecast.results:
        sections.append(congress_section(forecast))
        tables.update(congress_tables(forecast))
        datasets["congress.nc"] = forecast.results["congress"].draws
    if "governors" in forecast.results:
        sections.append(governor_section(forecast))
        tables.update(governor_tables(forecast))
    files = render_files(summary, figures, tables, names=names,
                         warnings=summary["poll_warnings"], sections=sections)
    return ReportFiles(files, datasets)
