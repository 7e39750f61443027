"""``forecast init DIR``: a commented template election folder to fill in.

:func:`init_election` writes ``election.toml`` (every key explained; the required ones left for
the user, so that ``forecast validate`` says what is missing), an empty poll file with its header
and a ``README.md`` for the folder's sources. docs/new-election.md walks from there to a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .election import KEY_PATTERN, RESERVED_COLUMNS
from .files import atomic_write_bytes
from .problems import InputError, Problem

#: The poll file's columns besides one per candidate (docs/poll-files.md), in the order written.
POLL_HEADER = RESERVED_COLUMNS
FILES = ("election.toml", "president.csv", "README.md")


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_election` wrote."""

    directory: Path
    key: str
    files: tuple[Path, ...]


def election_key(text: str) -> str:
    """A valid election key from a folder name (``"Korea 2022"`` -> ``"korea_2022"``)."""
    key = re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")
    if not key or not key[0].isalpha():
        key = f"e_{key}" if key else "election"
    return key


def init_election(directory: str | Path, *, key: str | None = None,
                  name: str | None = None) -> InitResult:
    """Write a template election folder.

    Parameters
    ----------
    directory
        The folder (created if missing; it may exist but must not hold any of the files
        written).
    key
        The election's key (lowercase letters, digits, ``_``); default: from the folder name.
    name
        Display name; default: left for the user (it defaults to the key).

    Returns
    -------
    InitResult

    Raises
    ------
    InputError
        A bad key or name, or a file that would be overwritten (nothing is written then).
    """
    directory = Path(directory)
    key = key if key is not None else election_key(directory.resolve().name)
    problems: list[Problem] = []
    if not KEY_PATTERN.match(key):
        problems.append(Problem(str(directory), 0, "key", f"{key!r}: expected a lowercase key "
                                "(letters, digits, _; starting with a letter) like 'kr2022'"))
    if name is not None and (not name.isprintable() or '"' in name or "\\" in name):
        problems.append(Problem(str(directory), 0, "name", f"{name!r}: expected plain text "
                                "without quotes or backslashes"))
    if directory.exists() and not directory.is_dir():
        problems.append(Problem(str(directory), 0, "", "exists and is not a folder"))
    for file in FILES:
        if (directory / file).exists():
            problems.append(Problem(str(directory / file), 0, "", "already exists: forecast "
                                    "init writes only new files (move it away or choose another "
                                    "folder)"))
    if problems:
        raise InputError(problems)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file, text in (("election.toml", election_template(key, name)),
                       ("president.csv", ",".join(POLL_HEADER) + "\n"),
                       ("README.md", readme_template(key, name))):
        path = directory / file
        atomic_write_bytes(path, text.encode("utf-8"))
        written.append(path)
    return InitResult(directory, key, tuple(written))


def election_template(key: str, name: str | None = None) -> str:
    """The commented ``election.toml`` of a new election."""
    name_line = f'name = "{name}"' if name else '# name = "Country 2030 presidential election"'
    return f'''# The election definition (docs/poll-files.md; docs/new-election.md: a walk-through).
# Every fact about the election lives here and in the files beside it, nothing in the code.
# `forecast validate DIR` checks this file and the poll file and says what is still missing.
# Lines starting with "#" are comments; remove the "#" of a setting to use it.

# Short id of the election: lowercase letters, digits and _ (default: the folder name).
key = "{key}"
# Display name, in reports and tables (default: the key).
{name_line}

# REQUIRED. Election day, a TOML date YYYY-MM-DD (unquoted). The forecast is of this day.
# election_day = 2030-06-02
# REQUIRED. First day a poll may be fielded (e.g. the official start of the campaign, or the day
# the last main candidate was nominated): polls before it are refused. Cite its source.
# campaign_start = 2030-01-15

# The poll file, in this folder (one row per poll; columns: docs/poll-files.md). Add one column
# per candidate key to its header (the keys of [[candidates]] below).
poll_file = "president.csv"
# The official result, for `forecast backtest` only (never read by a forecast): a CSV with
# columns candidate,votes[,note]: a row per candidate on the ballot, `unregistered` and `null`
# (write 0 if none), and optionally `other` (valid votes of candidates not modelled);
# docs/backtest.md, "Results file".
# results_file = "results/president_2030.csv"

# Model settings (priors, polling error, sampler): a name in the project's models library
# ("xx/president" -> models/xx/president.toml) or a .toml file in this folder. Without one the
# project's models/president.toml is used, and without that the documented defaults (the
# forecast then says so: their polling-error scale is Mexico's). A country's own polling error
# belongs in its own model file, with its source (docs/polling-error.md shows how).
# model_file = "xx/president"

# Interviews assumed for a poll that reports no sample size (flagged); choose it below the usual
# sample so an unknown poll never outweighs a known one. Default 800.
# default_sample_size = 800
# Undecided share assumed for an effective-basis poll (undecided removed) that does not report
# it: fewer decided interviews, less weight. Default 0.20.
# default_undecided_share = 0.20
# How far (points) a row's published shares may be from 100 unless it is marked partial (a row
# may set its own `tolerance`). Default 2.5.
# total_tolerance = 2.5
# For a poll that gives only its publication date: days from the end of fieldwork to publication
# and days of fieldwork (defaults 3 and 4, the medians of the Mexican 2018 polls).
# assumed_publication_lag_days = 3
# assumed_fieldwork_days = 4
# Poll columns that are options but not modelled candidates (a hopeful who never made the
# ballot): counted as "other", outside the decided base.
# other_options = ["someone"]

# Coalitions (or parties) that back the candidates: one table each, key = a lowercase id.
# [coalitions.red]
# name = "Red Alliance"
# parties = ["red", "pink"]
# color = "#c0392b"             # optional: its colour in every chart (#rrggbb)
#
# [coalitions.blue]
# name = "Blue Party (no coalition)"
# parties = ["blue"]

# REQUIRED: at least two candidates, one [[candidates]] table each.
# [[candidates]]
# key = "ana"                   # the candidate's column in the poll file (lowercase)
# name = "Ana Example"          # display name
# party = "red"                 # the candidate's own party
# coalition = "red"             # a key of [coalitions.*]
# available_from = 2030-01-15   # in the race from (default campaign_start)
# available_until = 2030-06-02  # until (default election day; earlier = withdrew: off the
#                               # ballot, polls after it that offer the candidate are dropped)
# note = "free text"
# short_name = "Ana"            # optional: for legends and tight labels
# color = "#c0392b"             # optional: the candidate's colour (else a fixed palette)
#
# [[candidates]]
# key = "ben"
# name = "Ben Example"
# party = "blue"
# coalition = "blue"

# Congress and governor races are optional parts with their own folders (congress/,
# governors/: docs/congress.md, docs/governors.md); [seat_rules] names the seat law of each
# chamber for them (docs/seats.md).
'''


def readme_template(key: str, name: str | None = None) -> str:
    """The ``README.md`` of a new election folder: where the data come from."""
    title = name or key
    return f'''# {key} — {title}

Election folder for the forecast toolkit: `election.toml` (the election), `president.csv` (its
published national polls) and, for backtests, `results/` (the official count). Fill in every
section: a folder is only as good as its sources.

## Sources

* Polls: where each row comes from (a poll register, an aggregator, news reports), with links,
  revisions or commits, and what was checked against what.
* Election facts (dates, candidates, withdrawals, coalitions): one source per fact.
* Results: the official count, and how it was split into candidate, `other` (valid votes of
  candidates not modelled), `unregistered` and `null` rows.

## How this folder was built

Started with `forecast init`. Say which rows were kept or dropped and why, how shares, dates,
sample sizes, modes and bases were read, and which script rebuilds `president.csv`.

## Caveats

What is uncertain, and what the forecast cannot know (late withdrawals, a polling blackout).
'''
