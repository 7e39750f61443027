"""Governor races as data: ``races.toml`` (states, candidates, coalitions) and the baselines.

A race definition lives in ``<election>/governors/races.toml`` with the baseline files beside it
(documented in ``docs/governors.md``). Every problem in it is reported as ``FILE:LINE:KEY:
message``, all at once, raising :class:`~forecast.problems.InputError`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..colors import color_problem
from ..election import KEY_PATTERN, plain_column, show_value
from ..files import name_inside, read_csv_rows, read_input, whole_number
from ..problems import (
    InputError,
    Problem,
    decode_utf8,
    name_problem,
    unknown_key,
)
from ..settings import MAX_SETTINGS_BYTES, parse_toml

#: The reserved candidacy key of every name on a ballot that no other key covers (the state-poll
#: file's ``other_candidates`` column goes to it where a race has one). The other candidacy keys
#: and their order are the election's (``candidacy_keys`` in races.toml).
OTHER_CANDIDACY = "other"
#: The bloc of candidates whose parties belong to no national bloc (independents, local parties).
OTHER_BLOC = "other"
#: A baseline share below this is floored: the log-share of a candidate whose parties did not run
#: in the baseline election (an independent, a local party) must be finite. A documented default
#: (docs/governors.md): 0.5% is about the smallest share a registered governor candidate got in
#: Mexico in 2018.
BASELINE_FLOOR = 0.005
RACES_FILE = "races.toml"
#: Top-level settings of races.toml, and those of a [[races]] table.
TOP_KEYS = ("election_day", "campaign_start", "candidacy_keys", "poll_file", "baseline_file",
            "baseline_columns", "previous_file", "calibration_file", "calibration_year",
            "calibration_columns", "results_file", "default_sample_size",
            "default_undecided_share", "total_tolerance", "blocs", "races", "candidacies",
            "map_file")
#: Settings of the [baseline_columns] and [calibration_columns] tables.
COLUMN_KEYS = ("parties", "combinations", "no_party")
RACE_KEYS = ("state", "name", "abbr", "candidates")
#: Presentation of a candidacy key in every race: ``[candidacies.<key>]`` of races.toml.
CANDIDACY_KEYS = ("name", "short_name", "color")
#: A tile of the map file (``[tiles.<state code>]``): grid position and label.
TILE_KEYS = ("row", "column", "label", "name")
MAP_KEYS = ("tiles",)
#: Baseline files are a few hundred lines; refuse larger ones before reading them.
MAX_TABLE_BYTES = 16 * 1024 * 1024


#: Columns of a state-poll file (forecast.governors.polls); a candidacy key may not be one.
POLL_REQUIRED_COLUMNS = ("state", "pollster", "field_start", "field_end", "published",
                         "sample_size", "basis", "reported")
POLL_OPTIONAL_COLUMNS = ("mode", "other_candidates", "undecided", "source", "notes")

@dataclass(frozen=True)
class VoteColumns:
    """The vote columns of a baseline (or calibration) file, as ``races.toml`` declares them.

    Attributes
    ----------
    parties
        Columns of one party's votes (party keys, as in the candidacies' ``parties``).
    combinations
        Combination-only ballots: (column, member parties); such votes count for a candidacy
        holding every member, or are split between the holders in proportion to the members'
        own votes.
    no_party
        The column (one of ``parties``) of votes for candidates of no party: a candidacy with no
        parties (an independent) gets them; None: such candidacies start from the floor.
    """

    parties: tuple[str, ...]
    combinations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    no_party: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every vote column: the parties, then the combination ballots."""
        return [*self.parties, *(c for c, _ in self.combinations)]


@dataclass(frozen=True)
class RaceCandidate:
    """One candidacy in one state's race.

    Attributes
    ----------
    key
        One of the election's candidacy keys (``candidacy_keys`` in races.toml: a coalition's or
        a party's key, ``independent``...) or ``other``; the column of the state-poll file.
    name
        The candidate's name.
    parties
        Member parties (map the baseline vote onto the candidacy).
    bloc
        National bloc whose swing the candidacy follows (a key of ``[blocs]`` or ``other``).
    available_from, available_until
        Dates the candidacy was in the race (polls outside are warned and dropped).
    split_from
        Key of the candidacy whose polls included this one before ``available_from``.
    """

    key: str
    name: str
    parties: tuple[str, ...]
    bloc: str
    available_from: dt.date
    available_until: dt.date
    split_from: str | None = None

    def available_on(self, day: dt.date) -> bool:
        """Whether the candidacy was in the race on ``day``."""
        return self.available_from <= day <= self.available_until


@dataclass(frozen=True)
class Race:
    """One state's governor race with its baselines.

    Attributes
    ----------
    state
        State key (e.g. ``cdmx``).
    name, abbr
        Display name and the state code of the baseline files (e.g. ``df``).
    candidates
        The candidacies, in definition order.
    baseline
        The baseline file's vote (an earlier election's, by state) mapped onto the candidacies
        (fractions summing to 1, floored at ``BASELINE_FLOOR``).
    previous
        The previous governor race(s): rows ``year, race_type, candidacy, votes, share, winner``.
    """

    state: str
    name: str
    abbr: str
    candidates: tuple[RaceCandidate, ...]
    baseline: dict[str, float] = field(default_factory=dict)
    previous: tuple[dict, ...] = ()

    @property
    def keys(self) -> list[str]:
        """Candidate keys in definition order."""
        return [c.key for c in self.candidates]

    def candidate(self, key: str) -> RaceCandidate:
        """The candidacy with this key."""
        for c in self.candidates:
            if c.key == key:
                return c
        raise KeyError(key)

    def ballot(self, as_of: dt.date) -> list[str]:
        """Keys of the candidacies in the race on ``as_of`` (assumed to stay to election day)."""
        return [c.key for c in self.candidates if c.available_from <= as_of
                and c.available_until >= as_of]


@dataclass(frozen=True)
class CandidacyStyle:
    """How charts and tables show a candidacy key (``[candidacies.<key>]`` of races.toml)."""

    key: str
    name: str
    short_name: str = ""
    color: str | None = None  # "#rrggbb" (None: a default, forecast.colors)

    @property
    def label(self) -> str:
        """The short name, else the name."""
        return self.short_name or self.name


@dataclass(frozen=True)
class Tile:
    """One state on the tile map (``[tiles.<state code>]`` of the map file)."""

    code: str
    row: int
    column: int
    label: str
    name: str = ""


@dataclass(frozen=True)
class GovernorRaces:
    """All governor races of one election day (``races.toml`` and its files)."""

    path: Path
    election_day: dt.date
    campaign_start: dt.date
    races: tuple[Race, ...]
    blocs: dict[str, tuple[str, ...]]
    national_baseline: pd.Series
    candidacy_keys: tuple[str, ...] = ()
    baseline_columns: VoteColumns = VoteColumns(())
    poll_file: str = "polls_governor.csv"
    results_file: str | None = None
    calibration_file: str | None = None
    calibration_year: int | None = None
    calibration_columns: VoteColumns | None = None
    default_sample_size: int = 500
    default_undecided_share: float = 0.2
    total_tolerance: float = 2.5
    #: Presentation only: names and colours of candidacy keys, and the tile map (by state code).
    candidacies: dict[str, CandidacyStyle] = field(default_factory=dict)
    tiles: dict[str, Tile] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """Folder of ``races.toml``."""
        return self.path.parent

    @property
    def states(self) -> list[str]:
        """State keys in definition order."""
        return [r.state for r in self.races]

    @property
    def keys(self) -> list[str]:
        """Every candidacy key a race may use, in order: ``candidacy_keys``, then ``other``
        (races built in code without ``candidacy_keys``: their candidacies' keys, in order of
        appearance)."""
        declared = list(self.candidacy_keys) or list(dict.fromkeys(
            k for r in self.races for k in r.keys if k != OTHER_CANDIDACY))
        return [*declared, *([] if OTHER_CANDIDACY in declared else [OTHER_CANDIDACY])]

    @property
    def options(self) -> list[str]:
        """Candidacy keys used by any race, in the order of :attr:`keys`."""
        used = {k for r in self.races for k in r.keys}
        return [k for k in self.keys if k in used]

    @property
    def bloc_keys(self) -> list[str]:
        """National blocs (as in ``[blocs]``) plus ``other``."""
        return [*self.blocs, OTHER_BLOC]

    def race(self, state: str) -> Race:
        """The race of ``state``."""
        for r in self.races:
            if r.state == state:
                return r
        raise KeyError(state)

    @property
    def poll_path(self) -> Path:
        """The state-poll file."""
        return self.directory / self.poll_file

    @property
    def results_path(self) -> Path | None:
        """The official-results file (backtests only), if defined."""
        return self.directory / self.results_file if self.results_file else None


def _header_lines(text: str, pattern: str) -> list[int]:
    # split("\n"): TOML lines end at "\n" only (see forecast.election._line_of).
    return [i + 1 for i, line in enumerate(text.split("\n")) if re.search(pattern, line)]


def _key_line(lines: list[str], start: int, key: str) -> int:
    """Line of ``key = ...`` inside the table that starts at line ``start`` (else ``start``)."""
    for i in range(start, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if re.match(rf"^{re.escape(key)}\s*=", stripped):
            return i + 1
    return start


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def load_governor_races(election_dir: str | Path) -> GovernorRaces:
    """Read ``governors/races.toml`` of an election folder and its baseline files.

    Parameters
    ----------
    election_dir
        The election folder (e.g. ``polls/mx2018``) holding ``governors/races.toml``; a path to
        the ``governors`` folder or to ``races.toml`` itself is accepted too.

    Returns
    -------
    GovernorRaces

    Raises
    ------
    InputError
        Every problem found, each as ``FILE:LINE:KEY: message``.
    """
    path = Path(election_dir)
    if path.is_dir() and (path / "governors" / RACES_FILE).is_file():
        path = path / "governors" / RACES_FILE
    elif path.is_dir():
        path = path / RACES_FILE
    shown = str(path)
    raw = read_input(path, missing="no governor race definition: expected "
                     f"governors/{RACES_FILE}", max_bytes=MAX_SETTINGS_BYTES)
    text = decode_utf8(raw, shown)
    data = parse_toml(text, shown)
    lines = text.split("\n")
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_KEYS:
            column = plain_column(key)
            hits = _header_lines(text, rf"^\s*(\[+\s*)?{re.escape(key)}\s*[=\].]") if column else []
            problems.append(Problem(shown, hits[0] if hits else 0, column,
                                    unknown_key(key, TOP_KEYS)))

    def top_line(key: str) -> int:
        hits = _header_lines(text, rf"^\s*{re.escape(key)}\s*=")
        return hits[0] if hits else 0

    def need_date(key: str) -> dt.date | None:
        value = _as_date(data.get(key))
        if value is None:
            problems.append(Problem(shown, top_line(key), key,
                                    f"{show_value(data.get(key))}: expected a date YYYY-MM-DD"))
        return value

    election_day = need_date("election_day")
    campaign_start = need_date("campaign_start")
    files: dict[str, str | None] = {}
    for key, default in (("poll_file", "polls_governor.csv"), ("baseline_file", None),
                         ("previous_file", None), ("calibration_file", None),
                         ("results_file", None)):
        value = data.get(key, default)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(shown, top_line(key), key,
                                    f"{show_value(value)}: expected a file name"))
            value = default
        elif value is not None and (bad := name_inside(path.parent.parent, value, path.parent)):
            # Relative to this file's folder, and inside the election folder above it.
            problems.append(Problem(shown, top_line(key), key, f"{show_value(value)}: {bad}"))
            value = None
        files[key] = value
    if files["baseline_file"] is None:
        problems.append(Problem(shown, 0, "baseline_file", "missing: expected the baseline "
                                "vote by state, an earlier election's (a CSV file name)"))
    candidacy_keys = _candidacy_keys(data, shown, top_line("candidacy_keys"), problems)
    baseline_columns = _vote_columns(data, "baseline_columns", text, lines, shown, problems)
    calibration_columns = None
    calibration_year = data.get("calibration_year")
    if files["calibration_file"] is not None or "calibration_year" in data \
            or "calibration_columns" in data:
        calibration_columns = _vote_columns(data, "calibration_columns", text, lines, shown,
                                            problems)
        if not (isinstance(calibration_year, int) and not isinstance(calibration_year, bool)
                and 1800 <= calibration_year <= 2200):
            problems.append(Problem(shown, top_line("calibration_year"), "calibration_year",
                                    f"{show_value(calibration_year)}: expected the year of the "
                                    "calibration file's election (previous governor races of "
                                    "that year are compared with it), e.g. 2012"))
            calibration_year = None
    numbers = {"default_sample_size": (int, 1, 10**6), "default_undecided_share": (float, 0, 0.95),
               "total_tolerance": (float, 0, 50)}
    settings: dict[str, float] = {}
    for key, (kind, low, high) in numbers.items():
        if key not in data:
            continue
        value = data[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and kind is int and not isinstance(value, int):
            ok = False
        if not ok or not low <= value <= high:
            problems.append(Problem(shown, top_line(key), key,
                                    f"{show_value(value)}: expected a {kind.__name__} in "
                                    f"[{low}, {high}]"))
        else:
            settings[key] = kind(value)

    blocs: dict[str, tuple[str, ...]] = {}
    raw_blocs = data.get("blocs")
    blocs_line = (_header_lines(text, r"^\s*\[\s*blocs\s*\]") or [0])[0]
    if not isinstance(raw_blocs, dict) or not raw_blocs:
        problems.append(Problem(shown, blocs_line, "blocs", "expected a [blocs] table: "
                                "bloc = [\"party\", ...]"))
        raw_blocs = {}
    for bkey, parties in raw_blocs.items():
        line = _key_line(lines, blocs_line, bkey) if blocs_line else 0
        column = plain_column(f"blocs.{bkey}")
        if not KEY_PATTERN.match(bkey) or bkey == OTHER_BLOC:
            problems.append(Problem(shown, line, column, f"bloc {show_value(bkey)}: expected a "
                                    f"lowercase key other than {OTHER_BLOC!r}"))
            continue
        if not isinstance(parties, list) or not all(
                isinstance(p, str) and KEY_PATTERN.match(p) for p in parties):
            problems.append(Problem(shown, line, column, f"{show_value(parties)}: expected a "
                                    "list of lowercase party keys"))
            continue
        blocs[bkey] = tuple(parties)
    party_bloc = {p: b for b, ps in blocs.items() for p in ps}

    race_lines = _header_lines(text, r"^\s*\[\[\s*races\s*\]\]")
    cand_lines = _header_lines(text, r"^\s*\[\[\s*races\s*\.\s*candidates\s*\]\]")
    raw_races = data.get("races")
    if not isinstance(raw_races, list) or not raw_races:
        problems.append(Problem(shown, 0, "races", "expected at least one [[races]] table"))
        raw_races = []
    cand_counter = 0
    parsed: list[tuple[dict, list[RaceCandidate], int]] = []
    seen_states: set[str] = set()
    for i, table in enumerate(raw_races):
        line = race_lines[i] if i < len(race_lines) else 0
        if not isinstance(table, dict):
            problems.append(Problem(shown, line, "races", "expected a [[races]] table"))
            continue
        state = table.get("state")
        if not isinstance(state, str) or not KEY_PATTERN.match(state):
            problems.append(Problem(shown, _key_line(lines, line, "state"), "state",
                                    f"{show_value(state)}: expected a lowercase state key like "
                                    "'cdmx'"))
            state = f"race {i + 1}"
        elif state in seen_states:
            problems.append(Problem(shown, _key_line(lines, line, "state"), "state",
                                    f"state {state!r} appears twice"))
        seen_states.add(state)
        for skey in ("name", "abbr"):
            if not isinstance(table.get(skey), str) or not table.get(skey):
                problems.append(Problem(shown, _key_line(lines, line, skey), skey,
                                        f"race {state}: {show_value(table.get(skey))}: expected "
                                        "a non-empty string"))
            elif bad := name_problem(table[skey]):
                problems.append(Problem(shown, _key_line(lines, line, skey), skey,
                                        f"race {state}: {show_value(table[skey])} {bad}"))
        for extra in table:
            if extra not in RACE_KEYS:
                column = plain_column(extra)
                problems.append(Problem(shown, _key_line(lines, line, extra) if column else line,
                                        column, f"race {state}: {unknown_key(extra, RACE_KEYS)}"))
        raw_cands = table.get("candidates", [])
        if not isinstance(raw_cands, list):
            problems.append(Problem(shown, line, "candidates", f"race {state}: expected "
                                    "[[races.candidates]] tables"))
            raw_cands = []
        cands: list[RaceCandidate] = []
        cand_at: list[int] = []
        keys_seen: set[str] = set()
        for ctable in raw_cands:
            cline = cand_lines[cand_counter] if cand_counter < len(cand_lines) else line
            cand_counter += 1
            cand = _parse_candidate(ctable, state, cline, lines, shown, problems, keys_seen,
                                    party_bloc, set(blocs), election_day, campaign_start,
                                    candidacy_keys)
            if cand is not None:
                cands.append(cand)
                cand_at.append(cline)
        if len(raw_cands) < 2:
            problems.append(Problem(shown, line, "candidates", f"race {state}: expected at "
                                    "least two [[races.candidates]]"))
        for c, cline in zip(cands, cand_at, strict=True):
            if c.split_from is not None:
                if c.split_from not in keys_seen or c.split_from == c.key:
                    problems.append(Problem(
                        shown, _key_line(lines, cline, "split_from"), "split_from",
                        f"race {state}, candidate {c.key!r}: split_from "
                        f"{show_value(c.split_from)} is not another candidate of the race"))
        parsed.append((table, cands, line))

    candidacies = _parse_candidacies(data.get("candidacies", {}), text, shown, problems,
                                     [*candidacy_keys, OTHER_CANDIDACY])
    tiles: dict[str, Tile] = {}
    map_file = data.get("map_file")
    if map_file is not None:
        if not isinstance(map_file, str):
            problems.append(Problem(shown, top_line("map_file"), "map_file",
                                    f"{show_value(map_file)}: expected a file name"))
        elif bad := name_inside(path.parent.parent, map_file, path.parent):
            problems.append(Problem(shown, top_line("map_file"), "map_file",
                                    f"{show_value(map_file)}: {bad}"))
        else:
            tiles = _read_map(path.parent / map_file, problems)
            for table, _, line in parsed:
                abbr = table.get("abbr")
                if tiles and isinstance(abbr, str) and abbr not in tiles:
                    problems.append(Problem(shown, _key_line(lines, line, "abbr"), "abbr",
                                            f"race {table.get('state')}: abbr {abbr!r} has no "
                                            f"tile in {map_file}"))

    baseline = None
    if files["baseline_file"] and baseline_columns is not None:
        baseline = _read_table(path.parent / files["baseline_file"], problems,
                               ("state_abbr", "valid_votes", *baseline_columns.columns),
                               baseline_columns.columns)
    previous = None
    if files["previous_file"]:
        previous = _read_table(path.parent / files["previous_file"], problems,
                               ("state_abbr", "year", "race_type", "candidacy", "votes",
                                "winner"))
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    assert baseline is not None and election_day is not None and campaign_start is not None
    assert baseline_columns is not None

    races: list[Race] = []
    for table, cands, line in parsed:
        abbr = table["abbr"]
        rows = baseline[baseline["state_abbr"] == abbr]
        if len(rows) != 1:
            problems.append(Problem(shown, _key_line(lines, line, "abbr"), "abbr",
                                    f"race {table['state']}: abbr {abbr!r} has {len(rows)} rows "
                                    f"in {files['baseline_file']}: expected one"))
            continue
        prev: tuple[dict, ...] = ()
        if previous is not None:
            p = previous[previous["state_abbr"] == abbr].copy()
            p["share"] = p["votes"] / p.groupby(["year", "race_type"])["votes"].transform("sum")
            prev = tuple(p[["year", "race_type", "candidacy", "votes", "share", "winner"]]
                         .to_dict("records"))
        races.append(Race(state=table["state"], name=table["name"], abbr=abbr,
                          candidates=tuple(cands),
                          baseline=baseline_shares(rows.iloc[0], cands, baseline_columns),
                          previous=prev))
    if problems:
        raise InputError(problems)
    return GovernorRaces(
        path=path, election_day=election_day, campaign_start=campaign_start,
        races=tuple(races), blocs=blocs,
        national_baseline=national_baseline(baseline, blocs, baseline_columns),
        candidacy_keys=tuple(candidacy_keys), baseline_columns=baseline_columns,
        poll_file=files["poll_file"] or "polls_governor.csv", results_file=files["results_file"],
        calibration_file=files["calibration_file"], calibration_year=calibration_year,
        calibration_columns=calibration_columns, candidacies=candidacies, tiles=tiles,
        **settings)


def _parse_candidacies(raw: object, text: str, shown: str, problems: list[Problem],
                       keys: list[str]) -> dict[str, CandidacyStyle]:
    """``[candidacies.<key>]``: name, short name and colour of each candidacy key."""
    lines = text.split("\n")
    if not isinstance(raw, dict):
        problems.append(Problem(shown, 0, "candidacies", "expected [candidacies.<key>] tables"))
        return {}
    out: dict[str, CandidacyStyle] = {}
    for key, table in raw.items():
        where = plain_column(f"candidacies.{key}")
        hits = _header_lines(text, rf"^\s*\[\s*candidacies\s*\.\s*{re.escape(key)}\s*\]")
        line = hits[0] if hits and where else 0
        if key not in keys:
            problems.append(Problem(shown, line, where,
                                    unknown_key(key, keys, "candidacy key")))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(shown, line, where, "expected a table with name = \"...\""))
            continue
        for extra in table:
            if extra not in CANDIDACY_KEYS:
                column = plain_column(f"{where}.{extra}")
                problems.append(Problem(shown, _key_line(lines, line, extra) if column else line,
                                        column, unknown_key(extra, CANDIDACY_KEYS)))
        texts = {}
        for skey in ("name", "short_name"):
            value = table.get(skey, key if skey == "name" else "")
            if not isinstance(value, str) or (skey == "name" and not value) \
                    or name_problem(value):
                problems.append(Problem(shown, _key_line(lines, line, skey), f"{where}.{skey}",
                                        f"{show_value(value)}: expected a name on one line"))
                value = key if skey == "name" else ""
            texts[skey] = value
        color = table.get("color")
        if color is not None and (bad := color_problem(color)):
            problems.append(Problem(shown, _key_line(lines, line, "color"), f"{where}.color",
                                    bad))
            color = None
        out[key] = CandidacyStyle(key, texts["name"], texts["short_name"], color)
    return out


def _read_map(path: Path, problems: list[Problem]) -> dict[str, Tile]:
    """The tile map (``[tiles.<state code>] row, column, label, name``), every problem with its
    line; a grid position used twice is refused."""
    shown = str(path)
    try:
        text = decode_utf8(read_input(path, missing="map file not found",
                                      max_bytes=MAX_SETTINGS_BYTES), shown)
        data = parse_toml(text, shown)
    except InputError as exc:
        problems.extend(exc.problems)
        return {}
    lines = text.split("\n")
    for key in data:
        if key not in MAP_KEYS:
            column = plain_column(key)
            problems.append(Problem(shown, 0, column, unknown_key(key, MAP_KEYS)))
    raw = data.get("tiles")
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(shown, 0, "tiles", "expected [tiles.<state code>] tables"))
        return {}
    tiles: dict[str, Tile] = {}
    at: dict[tuple[int, int], str] = {}
    for code, table in raw.items():
        where = plain_column(f"tiles.{code}")
        hits = _header_lines(text, rf"^\s*\[\s*tiles\s*\.\s*{re.escape(code)}\s*\]")
        line = hits[0] if hits and where else 0
        if not KEY_PATTERN.match(code) or not isinstance(table, dict):
            problems.append(Problem(shown, line, where, f"tile {show_value(code)}: expected "
                                    "[tiles.<lowercase state code>] with row, column, label"))
            continue
        for extra in table:
            if extra not in TILE_KEYS:
                column = plain_column(f"{where}.{extra}")
                problems.append(Problem(shown, _key_line(lines, line, extra) if column else line,
                                        column, unknown_key(extra, TILE_KEYS)))
        pos = []
        for nkey in ("row", "column"):
            value = table.get(nkey)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 50:
                problems.append(Problem(shown, _key_line(lines, line, nkey), f"{where}.{nkey}",
                                        f"{show_value(value)}: expected a whole number in "
                                        "[0, 50]"))
            pos.append(value)
        texts = {}
        for skey in ("label", "name"):
            value = table.get(skey, code.upper() if skey == "label" else "")
            if not isinstance(value, str) or name_problem(value) or len(value) > 60:
                problems.append(Problem(shown, _key_line(lines, line, skey), f"{where}.{skey}",
                                        f"{show_value(value)}: expected a short text on one "
                                        "line"))
                value = ""
            texts[skey] = value
        if all(isinstance(v, int) and not isinstance(v, bool) for v in pos):
            cell = (pos[0], pos[1])
            if cell in at:
                problems.append(Problem(shown, line, where, f"row {pos[0]}, column {pos[1]} is "
                                        f"already the tile of {at[cell]!r}"))
            at[cell] = code
            tiles[code] = Tile(code, pos[0], pos[1], texts["label"] or code.upper(),
                               texts["name"])
    return tiles


def _candidacy_keys(data: dict, shown: str, line: int, problems: list[Problem]) -> list[str]:
    """``candidacy_keys``: the state-poll file's candidate columns, in order (checked)."""
    value = data.get("candidacy_keys")
    if not (isinstance(value, list) and value and all(
            isinstance(k, str) and KEY_PATTERN.match(k) for k in value)):
        got = "missing" if value is None else show_value(value)
        problems.append(Problem(shown, line, "candidacy_keys",
                                f"{got}: expected the candidacy keys, the state-poll file's "
                                "candidate columns in the order of every table, e.g. "
                                "[\"jhh\", \"paf\", \"independent\"] (\"other\" is reserved "
                                "for every other name on a ballot)"))
        return []
    if len(set(value)) != len(value):
        problems.append(Problem(shown, line, "candidacy_keys",
                                f"{show_value(value)}: a key is listed twice"))

    clash = [k for k in value if k in (*POLL_REQUIRED_COLUMNS, *POLL_OPTIONAL_COLUMNS)]
    if clash:
        problems.append(Problem(shown, line, "candidacy_keys",
                                f"{', '.join(map(repr, clash))}: a column of the state-poll file "
                                "that is not a candidate: choose another key"))
    return list(value)


def _vote_columns(data: dict, name: str, text: str, lines: list[str], shown: str,
                  problems: list[Problem]) -> VoteColumns | None:
    """A ``[baseline_columns]`` / ``[calibration_columns]`` table (None after a problem)."""
    table = data.get(name)
    header = (_header_lines(text, rf"^\s*\[\s*{name}\s*\]") or [0])[0]
    example = ('expected a table [' + name + '] with parties = ["a", "b", ...] (the file\'s '
               'party columns), combinations = { coal_a_b = ["a", "b"] } (its combination-ballot '
               'columns and their parties, if any) and no_party = "independents" (optional: the '
               'column of votes for candidates of no party)')
    if not isinstance(table, dict):
        got = "missing" if table is None else show_value(table)
        problems.append(Problem(shown, header, name, f"{got}: {example}"))
        return None
    before = len(problems)
    for extra in table:
        if extra not in COLUMN_KEYS:
            column = plain_column(f"{name}.{extra}")
            problems.append(Problem(shown, _key_line(lines, header, extra) if column else header,
                                    column, unknown_key(extra, COLUMN_KEYS)))
    parties = table.get("parties")
    if not (isinstance(parties, list) and parties and all(
            isinstance(p, str) and KEY_PATTERN.match(p) for p in parties)):
        problems.append(Problem(shown, _key_line(lines, header, "parties"), f"{name}.parties",
                                f"{show_value(parties)}: expected a non-empty list of the file's "
                                "party columns (lowercase keys)"))
        parties = []
    elif len(set(parties)) != len(parties):
        problems.append(Problem(shown, _key_line(lines, header, "parties"), f"{name}.parties",
                                f"{show_value(parties)}: a party is listed twice"))
    combinations: list[tuple[str, tuple[str, ...]]] = []
    raw = table.get("combinations", {})
    if not isinstance(raw, dict):
        problems.append(Problem(shown, _key_line(lines, header, "combinations"),
                                f"{name}.combinations", f"{show_value(raw)}: expected "
                                "{ column = [\"party\", \"party\"], ... }"))
        raw = {}
    for column, members in raw.items():
        line = _key_line(lines, header, "combinations")
        label = plain_column(f"{name}.combinations.{column}")
        if not KEY_PATTERN.match(column) or column in parties:
            problems.append(Problem(shown, line, label, f"combination column "
                                    f"{show_value(column)}: expected a lowercase column name "
                                    "that is not a party column"))
            continue
        if not (isinstance(members, list) and len(members) >= 2 and all(
                isinstance(p, str) and p in parties for p in members)):
            problems.append(Problem(shown, line, label, f"{show_value(members)}: expected two "
                                    f"or more of the party columns ({', '.join(parties)})"))
            continue
        combinations.append((column, tuple(members)))
    no_party = table.get("no_party")
    if no_party is not None and not (isinstance(no_party, str) and no_party in parties):
        problems.append(Problem(shown, _key_line(lines, header, "no_party"),
                                f"{name}.no_party", f"{show_value(no_party)}: expected one of "
                                f"the party columns ({', '.join(parties)})"))
        no_party = None
    if len(problems) > before:
        return None
    return VoteColumns(tuple(parties), tuple(combinations), no_party)


def _parse_candidate(table: object, state: str, line: int, lines: list[str], shown: str,
                     problems: list[Problem], keys_seen: set[str],
                     party_bloc: dict[str, str], blocs: set[str], election_day: dt.date | None,
                     campaign_start: dt.date | None, candidacy_keys: list[str]
                     ) -> RaceCandidate | None:
    where = f"race {state}"
    if not isinstance(table, dict):
        problems.append(Problem(shown, line, "candidates",
                                f"{where}: expected a [[races.candidates]] table"))
        return None
    key = table.get("key")
    allowed = [*candidacy_keys, *([] if OTHER_CANDIDACY in candidacy_keys
                                  else [OTHER_CANDIDACY])]
    if not isinstance(key, str) or key not in allowed:
        problems.append(Problem(
            shown, _key_line(lines, line, "key"), "key",
            f"{where}: candidate key {show_value(key)} is not one of the candidacy_keys: "
            f"expected one of {', '.join(allowed)}"))
        return None
    where = f"race {state}, candidate {key!r}"
    if key in keys_seen:
        problems.append(Problem(shown, _key_line(lines, line, "key"), "key",
                                f"{where} appears twice in the race"))
    keys_seen.add(key)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(shown, _key_line(lines, line, "name"), "name",
                                f"{where}: name {show_value(name)}: expected a non-empty string"))
        name = key
    elif bad := name_problem(name):
        problems.append(Problem(shown, _key_line(lines, line, "name"), "name",
                                f"{where}: name {show_value(name)} {bad}"))
        name = key
    parties = table.get("parties")
    if not isinstance(parties, list) or not all(
            isinstance(p, str) and KEY_PATTERN.match(p) for p in parties):
        problems.append(Problem(shown, _key_line(lines, line, "parties"), "parties",
                                f"{where}: parties {show_value(parties)}: expected a list of "
                                "lowercase party keys, e.g. [\"morena\", \"pt\", \"pes\"]"))
        parties = []
    elif len(set(parties)) != len(parties):
        problems.append(Problem(shown, _key_line(lines, line, "parties"), "parties",
                                f"{where}: a party is listed twice in {show_value(parties)}"))
    bloc = table.get("bloc")
    if bloc is None:
        # The first member party with a national bloc decides (PRI-NA -> tpm, PVEM-PMCh-CU ->
        # tpm); a candidacy of no national party (an independent, PH) follows "other".
        bloc = next((party_bloc[p] for p in parties if p in party_bloc), OTHER_BLOC)
    elif bloc not in blocs and bloc != OTHER_BLOC:
        problems.append(Problem(shown, _key_line(lines, line, "bloc"), "bloc",
                                f"{where}: bloc {show_value(bloc)}: expected one of "
                                f"{', '.join([*sorted(blocs), OTHER_BLOC])}"))
    dates = {}
    for dkey, default in (("available_from", campaign_start),
                          ("available_until", election_day)):
        value = table.get(dkey, default)
        day = _as_date(value)
        if day is None and value is not None:
            problems.append(Problem(shown, _key_line(lines, line, dkey), dkey,
                                    f"{where}: {show_value(value)}: expected a date YYYY-MM-DD"))
        dates[dkey] = day
    split = table.get("split_from")
    if split is not None and not isinstance(split, str):
        problems.append(Problem(shown, _key_line(lines, line, "split_from"), "split_from",
                                f"{where}: split_from {show_value(split)}: expected a "
                                "candidate key"))
        split = None
    known = ("key", "name", "parties", "bloc", "available_from", "available_until", "split_from")
    for extra in table:
        if extra not in known:
            column = plain_column(extra)
            problems.append(Problem(shown, _key_line(lines, line, extra) if column else line,
                                    column, f"{where}: {unknown_key(extra, known)}"))
    if dates["available_from"] is None or dates["available_until"] is None:
        return None
    if dates["available_from"] > dates["available_until"]:
        problems.append(Problem(shown, _key_line(lines, line, "available_until"),
                                "available_until",
                                f"{where}: available_until is before available_from"))
    return RaceCandidate(key=key, name=name, parties=tuple(parties), bloc=str(bloc),
                         available_from=dates["available_from"],
                         available_until=dates["available_until"], split_from=split)


def _read_table(path: Path, problems: list[Problem], required: tuple[str, ...],
                vote_columns: list[str] | tuple[str, ...] = ()) -> pd.DataFrame | None:
    """A baseline CSV, checked for its columns and non-negative whole vote counts (in
    ``vote_columns``, ``valid_votes``, ``votes``, ``year`` and ``winner``); every problem as
    ``FILE:LINE:COLUMN`` in ``problems`` (None when the file cannot be used)."""
    shown = str(path)
    rows = read_csv_rows(path, problems, required=required, missing="baseline file not found")
    if rows is None:
        return None
    header = list(rows[0][1]) if rows else list(required)
    numeric = [c for c in header if c in (*vote_columns, "valid_votes", "votes", "year",
                                          "winner")]
    records = []
    for n, rec in rows:
        for c in numeric:
            value = whole_number(rec[c])
            if value is None:
                problems.append(Problem(shown, n, c, f"{show_value(rec[c])}: expected a "
                                        "whole number"))
                value = 0
            rec[c] = value
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=header)


def baseline_shares(row: pd.Series, candidates: list[RaceCandidate] | tuple[RaceCandidate, ...],
                    columns: VoteColumns) -> dict[str, float]:
    """Map one state's baseline vote onto a race's candidacies.

    A candidacy gets its member parties' votes (the party columns of ``columns``), and a
    candidacy of no party the ``no_party`` column (split equally if a race has several); a
    combination-only ballot goes to the candidacy holding all its parties, or is split between
    the holders in proportion to their parties' own votes (equally by party when those are 0).
    Votes of parties in no candidacy leave the base: the shares are renormalised over the
    candidacies, then floored at ``BASELINE_FLOOR`` and renormalised again.
    """
    votes = {c.key: 0.0 for c in candidates}
    holder = {p: c.key for c in candidates for p in c.parties}
    partyless = [c.key for c in candidates if not c.parties]
    for c in candidates:
        for p in c.parties:
            if p in columns.parties:
                votes[c.key] += float(row[p])
    if partyless and columns.no_party is not None and columns.no_party in row:
        for key in partyless:
            votes[key] += float(row[columns.no_party]) / len(partyless)
    for column, members in columns.combinations:
        amount = float(row.get(column, 0) or 0)
        held = [p for p in members if p in holder]
        if not amount or not held:
            continue
        weights = {p: float(row[p]) for p in held}
        total = sum(weights.values())
        for p in held:
            votes[holder[p]] += amount * (weights[p] / total if total else 1.0 / len(held))
    total = sum(votes.values())
    shares = {k: max(v / total if total else 0.0, BASELINE_FLOOR) for k, v in votes.items()}
    norm = sum(shares.values())
    return {k: v / norm for k, v in shares.items()}


def national_baseline(baseline: pd.DataFrame, blocs: dict[str, tuple[str, ...]],
                      columns: VoteColumns) -> pd.Series:
    """National baseline shares of the valid vote by bloc (and ``other``), summing to 1.

    A stand-in for the Congress model's ``baseline``: a party's votes go to its bloc (parties in
    no bloc, and the ``no_party`` column, to ``other``); combination ballots are split between
    their parties in proportion to the parties' own national votes, each part going to its
    party's bloc.
    """
    sums = baseline[[c for c in baseline.columns if c in columns.columns
                     or c == "valid_votes"]].sum()
    party_bloc = {p: b for b, ps in blocs.items() for p in ps}
    out = {b: 0.0 for b in [*blocs, OTHER_BLOC]}
    for p in columns.parties:
        out[party_bloc.get(p, OTHER_BLOC)] += float(sums.get(p, 0))
    for column, members in columns.combinations:
        amount = float(sums.get(column, 0))
        weights = {p: float(sums.get(p, 0)) for p in members}
        total = sum(weights.values())
        if amount and total:
            for p in members:
                out[party_bloc.get(p, OTHER_BLOC)] += amount * weights[p] / total
    total = float(sums["valid_votes"])
    series = pd.Series({k: v / total for k, v in out.items()}, name="baseline")
    # Rounding guard: the blocs partition the valid vote exactly (checked in tests).
    return series / series.sum()


def local_effect_calibration(races: GovernorRaces) -> dict[str, float]:
    """How far governor candidacies stray from a same-day legislative vote.

    races.toml names the calibration file (``calibration_file``: a legislative vote by state,
    its columns declared in ``[calibration_columns]``) and its election's year
    (``calibration_year``). For each previous governor race of that year (``previous_file``;
    held the same day), each candidacy's governor share is compared with its parties' share of
    the legislative vote in the state, as a centred log-ratio (the scale of the model's local
    effect). Returns the pooled sd (``sd_all``) and the sd over candidacies with at least 10%
    (``sd_main``), with counts.

    Raises
    ------
    InputError
        races.toml names no calibration file, or the file is unreadable.
    """
    if not races.calibration_file or races.calibration_columns is None \
            or races.calibration_year is None:
        raise InputError([Problem(str(races.path), 0, "calibration_file", "not set: expected "
                                  "calibration_file, calibration_year and [calibration_columns] "
                                  "(docs/governors.md)")])
    columns = races.calibration_columns
    cal_path = races.directory / races.calibration_file
    problems: list[Problem] = []
    cal = _read_table(cal_path, problems, ("state_abbr", "valid_votes", *columns.columns),
                      columns.columns)
    if problems or cal is None:
        raise InputError(problems)
    rows = []
    for race in races.races:
        prev = [p for p in race.previous if int(p["year"]) == races.calibration_year]
        fed = cal[cal["state_abbr"] == race.abbr]
        if not prev or len(fed) != 1:
            continue
        f = fed.iloc[0]
        items = []
        for p in prev:
            parts = set(str(p["candidacy"]).split("-"))
            votes = sum(float(f[q]) for q in parts if q in columns.parties)
            for column, members in columns.combinations:
                if set(members) <= parts:
                    votes += float(f[column])
            share = votes / float(f["valid_votes"])
            if share > 0.01:
                items.append((float(p["share"]), share))
        if len(items) < 2:
            continue
        lr = np.log([g / s for g, s in items])
        clr = lr - lr.mean()
        rows.extend((c, g, len(items)) for c, (g, _) in zip(clr, items, strict=True))
    clr = np.array([r[0] for r in rows])
    dof = sum(1 - 1 / r[2] for r in rows)  # sum over races of (K - 1), spread over the rows
    main = np.array([r[0] for r in rows if r[1] >= 0.10])
    return {"sd_all": float(math.sqrt(np.sum(clr**2) / dof)) if rows else math.nan,
            "n_all": len(clr),
            "sd_main": float(np.sqrt(np.mean(main**2))) if len(main) else math.nan,
            "n_main": len(main)}
