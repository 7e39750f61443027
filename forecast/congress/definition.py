"""What a Congress projection needs to know about an election: parties, coalitions, where each
coalition ran, the siglado, and the baseline district returns (``congress.toml`` beside the
party-poll file), plus the model settings (``models/congress.toml``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..colors import color_problem
from ..election import plain_column, show_value
from ..files import name_inside, read_csv_rows, whole_number
from ..problems import InputError, Problem, name_problem, unknown_key
from ..seats.swing import district_shares
from ..settings import Settings, load_settings, read_toml

OTHER = "other"
KEY = re.compile(r"^[a-z][a-z0-9_]*\Z")
#: Files congress.toml names, relative to its folder (inside the election folder above it).
FILE_KEYS = ("baseline_file", "district_coalitions_file", "senate_coalitions_file",
             "siglado_file", "senate_formulas_file")
#: Presentation only (charts and tables): party colours and display names by party key.
DISPLAY_KEYS = ("party_colors", "party_names")
#: Official results, for backtests only (never read by the forecast): seats per party and the
#: national vote per party.
RESULTS_KEYS = ("seats_results_file", "vote_results_file")
TOP_KEYS = ("parties", "independent", "coalitions", *FILE_KEYS, *RESULTS_KEYS, *DISPLAY_KEYS)
COALITION_KEYS = ("name", "parties", "candidate", "baseline", "color")


@dataclass(frozen=True)
class CoalitionRule:
    """A coalition of the Congress elections."""

    key: str
    name: str
    parties: tuple[str, ...]
    candidate: str
    baseline: dict[str, float]
    color: str | None = None  # "#rrggbb" for charts (None: a default, forecast.colors)


@dataclass
class CongressDefinition:
    """Facts about one election's Congress, validated.

    Attributes
    ----------
    parties
        Parties with list votes, in seat-table order.
    coalitions
        Coalition rules by key (``jhh``, ``paf``, ``tpm``).
    baseline
        District share table (index ``district_code``; ``edon``, ``valid_votes`` and one column
        per bloc: each coalition key plus ``other``), fractions of the valid vote.
    party_fraction
        Per district, each party's fraction of its coalition's baseline vote (used where the
        coalition did not run and its parties ran alone).
    district_coalitions, senate_coalitions
        1 where the coalition ran as one candidacy, by district / state (index ``edon``).
    siglado
        Rows (``district_code``, ``coalition``, ``party``) known from the public record.
    senate_formulas
        Rows (``edon``, ``coalition``, ``formula``, ``party``) known from the public record.
    """

    directory: Path
    parties: list[str]
    independent: str
    coalitions: dict[str, CoalitionRule]
    baseline: pd.DataFrame
    party_fraction: pd.DataFrame
    district_coalitions: pd.DataFrame
    senate_coalitions: pd.DataFrame
    siglado: pd.DataFrame
    senate_formulas: pd.DataFrame
    state_abbr: dict[int, str] = field(default_factory=dict)
    seats_results: Path | None = None  # official seats, for backtests only
    vote_results: Path | None = None  # official national vote per party, for backtests only
    #: The seat law of each chamber (forecast.seats.law; ``[seat_rules]`` of election.toml);
    #: empty: the built-in defaults (the 2018 law).
    rules: dict = field(default_factory=dict)
    #: Presentation only: ``[party_colors]`` and ``[party_names]`` of congress.toml.
    party_colors: dict[str, str] = field(default_factory=dict)
    party_names: dict[str, str] = field(default_factory=dict)

    def chamber_rules(self, chamber: str):
        """The rules of ``chamber`` (``deputies`` or ``senate``)."""
        from ..seats import ChamberRules, SenateRules

        if chamber in self.rules:
            return self.rules[chamber]
        return ChamberRules() if chamber == "deputies" else SenateRules()

    def thresholds(self, chamber: str) -> tuple[int, int, int]:
        """(seats, simple majority, two thirds) of a chamber under its rules."""
        rules = self.chamber_rules(chamber)
        return rules.size, rules.majority, rules.two_thirds

    @property
    def blocs(self) -> list[str]:
        """Coalition keys then ``other``: the units of the district swing."""
        return [*self.coalitions, OTHER]

    def coalition_of(self, party: str) -> str | None:
        """The coalition a party belongs to, if any."""
        for key, rule in self.coalitions.items():
            if party in rule.parties:
                return key
        return None


@dataclass(frozen=True)
class CongressSpec(Settings):
    """Settings of the Congress vote and seat model (``models/congress.toml``)."""

    ticket_split_sd: float = 0.135
    small_party_slope: float = -0.17
    party_error_sd: float = 0.23
    independent_share_mean: float = 0.006
    independent_share_sd: float = 0.003
    total_valid_votes: int = 55_000_000
    swing_kind: str = "uniform"
    state_noise_k: float = 0.115
    district_noise_k: float = 0.138
    senate_noise_k: float = 0.052
    unknown_siglado: str = "coalition_split"
    source: str = ""


_LAYOUT = {
    ("vote", "ticket_split_sd"): "ticket_split_sd",
    ("vote", "small_party_slope"): "small_party_slope",
    ("vote", "party_error_sd"): "party_error_sd",
    ("vote", "independent_share_mean"): "independent_share_mean",
    ("vote", "independent_share_sd"): "independent_share_sd",
    ("vote", "total_valid_votes"): "total_valid_votes",
    ("swing", "kind"): "swing_kind",
    ("swing", "state_noise_k"): "state_noise_k",
    ("swing", "district_noise_k"): "district_noise_k",
    ("swing", "senate_noise_k"): "senate_noise_k",
    ("siglado", "unknown"): "unknown_siglado",
}
_CHOICES = {"swing_kind": ("uniform", "proportional"), "unknown_siglado": ("coalition_split",)}


def _key_line(text: str, key: str) -> int:
    for i, line in enumerate(text.split("\n")):
        if line.split("=")[0].strip() == key or line.strip() == f"[{key}]":
            return i + 1
    return 0


def _expected(name: str, kind: str, value: object) -> str | None:
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            return f"one of {', '.join(_CHOICES[name])}"
    elif kind == "int":
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1000):
            return "an integer of at least 1000"
    elif name == "small_party_slope":
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and -1 < value < 1):
            return "a number between -1 and 1"
    elif name == "independent_share_mean":
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and 0 <= value < 0.5):
            return "a share between 0 and 0.5"
    elif not (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value) and value >= 0):  # TOML has inf and nan
        return "a number >= 0"
    return None


def load_congress_spec(path: str | Path) -> CongressSpec:
    """Read ``models/congress.toml``, checking every key and value (InputError with lines)."""
    return load_settings(path, CongressSpec, _LAYOUT, _expected)


def _read_csv(path: Path, required: list[str], problems: list[Problem]) -> pd.DataFrame | None:
    """A table of text values (line numbers in ``.attrs["lines"]``), or None after problems."""
    rows = read_csv_rows(path, problems, required=tuple(required))
    if rows is None:
        return None
    frame = pd.DataFrame([{k: v.strip() for k, v in values.items()} for _, values in rows],
                         columns=list(rows[0][1]) if rows else list(required), dtype=object)
    frame.attrs["lines"] = [line for line, _ in rows]
    return frame


def _int_column(frame: pd.DataFrame, col: str, shown: str, problems: list[Problem],
                allowed: set[int] | None = None) -> None:
    lines = frame.attrs.get("lines") or list(range(2, len(frame) + 2))
    for line, raw in zip(lines, frame[col], strict=True):
        value = whole_number(raw)
        if value is None:
            problems.append(Problem(shown, line, col, f"{show_value(raw)}: expected a whole "
                                    "number"))
            continue
        if allowed is not None and value not in allowed:
            problems.append(Problem(shown, line, col,
                                    f"{value}: expected one of {sorted(allowed)}"))


def _number_column(frame: pd.DataFrame, col: str, shown: str, problems: list[Problem]) -> None:
    """Vote counts: a number >= 0 (blank is 0), each bad cell with its line."""
    lines = frame.attrs.get("lines") or list(range(2, len(frame) + 2))
    for line, raw in zip(lines, frame[col], strict=True):
        if raw == "":
            continue
        try:
            value = float(raw) if re.fullmatch(r"[0-9]+(\.[0-9]*)?", raw) else math.nan
        except (ValueError, OverflowError):
            value = math.nan
        if not math.isfinite(value):
            problems.append(Problem(shown, line, col, f"{show_value(raw)}: expected a number of "
                                    "votes >= 0 (blank for 0)"))


def _unique_column(frame: pd.DataFrame, col: str, shown: str, problems: list[Problem]) -> None:
    lines = frame.attrs.get("lines") or list(range(2, len(frame) + 2))
    first: dict[str, int] = {}
    for line, raw in zip(lines, frame[col], strict=True):
        if raw in first:
            problems.append(Problem(shown, line, col, f"{show_value(raw)} appears twice "
                                    f"(first on line {first[raw]})"))
        else:
            first[raw] = line


def load_congress(directory: str | Path) -> CongressDefinition:
    """Read ``congress.toml`` and the files it names; every problem with file and line.

    Raises
    ------
    InputError
    """
    directory = Path(directory)
    path = directory / "congress.toml"
    shown = str(path)
    data, text = read_toml(path)
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_KEYS:
            column = plain_column(key)
            problems.append(Problem(shown, _key_line(text, key) if column else 0, column,
                                    unknown_key(key, TOP_KEYS)))
    parties = data.get("parties")
    if not (isinstance(parties, list) and parties and all(
            isinstance(p, str) and KEY.match(p) for p in parties)):
        problems.append(Problem(shown, _key_line(text, "parties"), "parties",
                                "expected a list of lowercase party keys"))
        parties = []
    elif len(set(parties)) != len(parties):
        problems.append(Problem(shown, _key_line(text, "parties"), "parties",
                                "a party is listed twice"))
    independent = data.get("independent", "independent")
    if not (isinstance(independent, str) and KEY.match(independent)):
        problems.append(Problem(shown, _key_line(text, "independent"), "independent",
                                f"{show_value(independent)}: expected a lowercase key"))
        independent = "independent"
    coalitions: dict[str, CoalitionRule] = {}
    seen: dict[str, str] = {}
    raw_coalitions = data.get("coalitions", {})
    if not isinstance(raw_coalitions, dict):
        raw_coalitions = {}
        problems.append(Problem(shown, _key_line(text, "coalitions"), "coalitions",
                                "expected [coalitions.KEY] tables"))
    for key, table in raw_coalitions.items():
        where = plain_column(f"coalitions.{key}")
        line = _key_line(text, f"coalitions.{key}") if where else 0
        if not KEY.match(str(key)) or key == OTHER:
            problems.append(Problem(shown, line, where, f"{show_value(key)}: expected a "
                                    f"lowercase key other than {OTHER!r}"))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(shown, line, where, "expected a table"))
            continue
        for extra in table:
            if extra not in COALITION_KEYS:
                column = plain_column(f"{where}.{extra}")
                problems.append(Problem(shown, line, column, f"{'' if column else where + ': '}"
                                        f"{unknown_key(extra, COALITION_KEYS)}"))
        name = table.get("name", key)
        if not isinstance(name, str) or name_problem(name):
            problems.append(Problem(shown, line, f"{where}.name", f"{show_value(name)}: "
                                    f"expected the coalition's name on one line"))
        members = table.get("parties")
        if not (isinstance(members, list) and members
                and all(isinstance(p, str) for p in members)):
            problems.append(Problem(shown, line, f"{where}.parties",
                                    "expected a non-empty list of parties"))
            continue
        for p in members:
            if p not in parties:
                problems.append(Problem(shown, line, f"{where}.parties",
                                        f"{p!r} is not in parties = [...]"))
            elif p in seen:
                problems.append(Problem(shown, line, f"{where}.parties",
                                        f"{p!r} is already in coalition {seen[p]!r}"))
            else:
                seen[p] = key
        candidate = table.get("candidate")
        if not (isinstance(candidate, str) and KEY.match(candidate)):
            problems.append(Problem(shown, line, f"{where}.candidate",
                                    "expected the key of the coalition's presidential candidate"))
            continue
        baseline = table.get("baseline")
        if not (isinstance(baseline, dict) and baseline and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1
                for v in baseline.values())):
            problems.append(Problem(shown, line, f"{where}.baseline",
                                    "expected {column = weight, ...} with weights in (0, 1]"))
            continue
        color = table.get("color")
        if color is not None and (bad := color_problem(color)):
            problems.append(Problem(shown, line, f"{where}.color", bad))
            color = None
        coalitions[key] = CoalitionRule(key, name if isinstance(name, str) else key,
                                        tuple(members), candidate,
                                        {k: float(v) for k, v in baseline.items()}, color)
    display: dict[str, dict[str, str]] = {}
    for dkey in DISPLAY_KEYS:
        table = data.get(dkey, {})
        display[dkey] = {}
        if not isinstance(table, dict):
            problems.append(Problem(shown, _key_line(text, dkey), dkey,
                                    f"expected a [{dkey}] table: party = \"...\""))
            continue
        for party, value in table.items():
            where = plain_column(f"{dkey}.{party}")
            if party not in parties and party != independent:
                problems.append(Problem(shown, _key_line(text, dkey), where, unknown_key(
                    party, [*parties, independent], "party")))
                continue
            bad = (color_problem(value) if dkey == "party_colors" else
                   None if isinstance(value, str) and value and not name_problem(value)
                   else f"{show_value(value)}: expected the party's name on one line")
            if bad:
                problems.append(Problem(shown, _key_line(text, dkey), where, bad))
            else:
                display[dkey][party] = value
    files = {}
    # Names relative to this file's folder, and inside the election folder above it.
    election_folder = directory.parent
    for key in FILE_KEYS:
        value = data.get(key)
        if not isinstance(value, str):
            problems.append(Problem(shown, _key_line(text, key) or 0, key,
                                    "expected a file name (relative to this file)"))
        elif bad := name_inside(election_folder, value, directory):
            problems.append(Problem(shown, _key_line(text, key), key,
                                    f"{show_value(value)}: {bad}"))
        else:
            files[key] = directory / value
    results_files: dict[str, str | None] = {}
    for key in RESULTS_KEYS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(shown, _key_line(text, key), key, "expected a file name"))
            value = None
        elif value is not None and (bad := name_inside(election_folder, value, directory)):
            problems.append(Problem(shown, _key_line(text, key), key,
                                    f"{show_value(value)}: {bad}"))
        results_files[key] = value
    seats_results = results_files["seats_results_file"]
    vote_results = results_files["vote_results_file"]
    if problems:
        raise InputError(problems)

    keys = list(coalitions)
    base_raw = _read_csv(files["baseline_file"], ["district_code", "edon", "valid_votes"],
                         problems)
    dcov = _read_csv(files["district_coalitions_file"], ["district_code", "edon", *keys],
                     problems)
    scov = _read_csv(files["senate_coalitions_file"], ["edon", "state_abbr", *keys], problems)
    sig = _read_csv(files["siglado_file"], ["district_code", "coalition", "party"], problems)
    sform = _read_csv(files["senate_formulas_file"], ["edon", "coalition", "formula", "party"],
                      problems)
    if problems:
        raise InputError(problems)
    assert base_raw is not None and dcov is not None and scov is not None
    assert sig is not None and sform is not None
    for frame, path, cols in ((dcov, files["district_coalitions_file"], keys),
                              (scov, files["senate_coalitions_file"], keys)):
        for col in cols:
            _int_column(frame, col, str(path), problems, {0, 1})
    _int_column(dcov, "district_code", str(files["district_coalitions_file"]), problems)
    _int_column(dcov, "edon", str(files["district_coalitions_file"]), problems)
    _unique_column(dcov, "district_code", str(files["district_coalitions_file"]), problems)
    _int_column(scov, "edon", str(files["senate_coalitions_file"]), problems)
    _unique_column(scov, "edon", str(files["senate_coalitions_file"]), problems)
    _int_column(sig, "district_code", str(files["siglado_file"]), problems)
    _int_column(sform, "edon", str(files["senate_formulas_file"]), problems)
    for frame, path in ((sig, files["siglado_file"]), (sform, files["senate_formulas_file"])):
        for line, (_, row) in zip(frame.attrs["lines"], frame.iterrows(), strict=True):
            if row["coalition"] not in coalitions:
                problems.append(Problem(str(path), line, "coalition",
                                        f"{show_value(row['coalition'])}: expected one of "
                                        f"{keys}"))
            elif row["party"] not in coalitions[row["coalition"]].parties:
                problems.append(Problem(str(path), line, "party",
                                        f"{show_value(row['party'])} is not a party of "
                                        f"coalition {row['coalition']!r}"))
    _int_column(sform, "formula", str(files["senate_formulas_file"]), problems, {1, 2})
    base_cols = {c for rule in coalitions.values() for c in rule.baseline} | set(parties)
    missing = sorted(base_cols - set(base_raw.columns))
    base_shown = str(files["baseline_file"])
    if missing:
        problems.append(Problem(base_shown, 1, "",
                                f"missing column(s): {', '.join(missing)}"))
    else:
        # Every cell the projection reads, with its line: a bad number was a raw ValueError.
        for col in sorted(base_cols | {"valid_votes"}):
            _number_column(base_raw, col, base_shown, problems)
        _int_column(base_raw, "district_code", base_shown, problems)
        _int_column(base_raw, "edon", base_shown, problems)
        _unique_column(base_raw, "district_code", base_shown, problems)
    if problems:
        raise InputError(problems)
    absent = sorted(set(base_raw["district_code"].astype(int))
                    - set(dcov["district_code"].astype(int)))
    if absent:
        problems.append(Problem(str(files["district_coalitions_file"]), 0, "district_code",
                                f"no row for district(s) {', '.join(map(str, absent[:10]))}"
                                f"{' ...' if len(absent) > 10 else ''} of {base_shown}: "
                                "expected one row per baseline district"))
        raise InputError(problems)

    numeric = base_raw.copy()
    for col in [*base_cols, "valid_votes", "edon", "district_code"]:
        numeric[col] = pd.to_numeric(numeric[col].replace("", "0"))
    try:
        baseline = district_shares(numeric, {k: r.baseline for k, r in coalitions.items()},
                                   other=OTHER)
    except (ValueError, KeyError) as exc:
        # Valid votes of 0, or coalition columns adding up to more than the valid vote.
        raise InputError([Problem(base_shown, 0, "", f"cannot use the baseline returns: "
                                  f"{' '.join(str(exc).split())[:200]}")]) from None
    fraction = pd.DataFrame(index=baseline.index)
    for rule in coalitions.values():
        votes = numeric.set_index("district_code")[list(rule.parties)].astype(float)
        total = votes.sum(axis=1).replace(0, np.nan)
        share = votes.div(total, axis=0).fillna(1.0 / len(rule.parties))
        for p in rule.parties:
            fraction[p] = share[p]
    dcov = dcov.assign(**{c: dcov[c].astype(int) for c in [*keys, "district_code", "edon"]})
    dcov = dcov.set_index("district_code").loc[baseline.index]
    scov = scov.assign(**{c: scov[c].astype(int) for c in [*keys, "edon"]}).set_index("edon")
    sig = sig.assign(district_code=sig["district_code"].astype(int))
    sform = sform.assign(edon=sform["edon"].astype(int), formula=sform["formula"].astype(int))
    return CongressDefinition(
        directory=directory, parties=list(parties), independent=str(independent),
        coalitions=coalitions, baseline=baseline, party_fraction=fraction,
        district_coalitions=dcov, senate_coalitions=scov, siglado=sig, senate_formulas=sform,
        state_abbr={int(k): str(v) for k, v in scov["state_abbr"].items()},
        seats_results=directory / seats_results if seats_results else None,
        vote_results=directory / vote_results if vote_results else None,
        party_colors=display["party_colors"], party_names=display["party_names"])
