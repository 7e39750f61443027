"""Study files (TOML, format in docs/studies.md): reading and checking them, and saving a
study's result to netCDF."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from ..election import plain_column, show_value
from ..files import atomic_write_file, read_input
from ..problems import InputError, Problem, decode_utf8, did_you_mean
from ..settings import MAX_SETTINGS_BYTES, parse_toml
from .factors import _SPEC_FIELDS, FACTORS, _as_date
from .runner import DEFAULT_SEED, Study

_TOP_KEYS = ("election", "seed", "model", "as_of", "keep_draws", "seats", "base", "factors")
_HEADER = re.compile(r"^\[\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*\]\s*(#.*)?$")


def _locator(text: str) -> Callable[[str, str | None], int]:
    """``locate(section, key)``: 1-based line of a key in a [section] (0 when not found)."""
    lines = text.split("\n")

    def locate(section: str, key: str | None) -> int:
        current = ""
        fallback = 0
        for i, raw in enumerate(lines):
            s = raw.strip()
            header = _HEADER.match(s)
            if header:
                current = header.group(1).strip('"')
                if key is None and current == section:
                    return i + 1
                continue
            if key is None:
                continue
            pattern = rf"^(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*="
            dotted = rf"^{re.escape(section)}\s*\.\s*{re.escape(key)}\s*=" if section else None
            if current == section and re.match(pattern, s):
                return i + 1
            if dotted and current == "" and re.match(dotted, s):
                return i + 1
            if not fallback and re.match(rf"^(.*\.)?\s*{re.escape(key)}\s*=", s):
                fallback = i + 1
        return fallback

    return locate


def _read_toml(path: Path, shown: str) -> tuple[dict, str]:
    raw = read_input(path, missing="study specification not found",
                     max_bytes=MAX_SETTINGS_BYTES)
    text = decode_utf8(raw, shown)
    return parse_toml(text, shown), text


def load_study(path: str | Path, *, spec_changes: dict | None = None,
               max_fits: int | None = None) -> Study:
    """Read and check a study file (TOML; format in docs/studies.md).

    ``election`` and ``model`` paths are relative to the current directory. ``spec_changes``
    (e.g. from the command line) are applied on top of the file's ``[base]``.

    Raises
    ------
    InputError
        Every problem found, as ``FILE:LINE:KEY: message``.
    """
    path = Path(path)
    shown = str(path)
    data, text = _read_toml(path, shown)
    locate = _locator(text)
    problems: list[Problem] = []

    def problem(section: str, key: str | None, message: str) -> None:
        column = plain_column(f"{section}.{key}" if section and key else (key or section))
        if not column:  # a hostile key (line break, colon) is quoted in the message instead
            message = f"{show_value(key if key is not None else section)}: {message}"
        problems.append(Problem(shown, locate(section, key) if column else 0, column, message))

    for key in data:
        if key not in _TOP_KEYS:
            hint = did_you_mean(key, _TOP_KEYS)
            problem("", key, f"unknown key{hint}" if hint else
                    f"unknown key: expected one of {', '.join(_TOP_KEYS)}")
    election = data.get("election")
    if election is None:
        problems.append(Problem(shown, 0, "election", "missing: expected the election folder, "
                                "e.g. election = \"polls/mx2018\""))
    elif not isinstance(election, str) or not election.strip() or "\x00" in election:
        problem("", "election", f"{show_value(election)}: expected the election folder as a "
                                "string")
    elif not Path(election).is_dir():
        problem("", "election", f"{show_value(election)}: no such folder (relative to the "
                                f"current directory {Path.cwd()})")
    seed = data.get("seed", DEFAULT_SEED)
    # Seeds are hashed as 32-bit-friendly JSON numbers downstream: a huge one is refused here.
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problem("", "seed", f"{show_value(seed)}: expected a non-negative integer")
    elif seed >= 2**63:
        problem("", "seed", f"{show_value(seed)}: expected an integer below 2**63")
    model = data.get("model")
    if model is not None and not (isinstance(model, str) and model.strip()
                                  and "\x00" not in model):
        problem("", "model", f"{show_value(model)}: expected the path of a model spec file")
    keep_draws = data.get("keep_draws", False)
    if not isinstance(keep_draws, bool):
        problem("", "keep_draws", f"{show_value(keep_draws)}: expected true or false")
    seats = data.get("seats", True)
    if not isinstance(seats, bool):
        problem("", "seats", f"{show_value(seats)}: expected true or false")
    as_of = data.get("as_of")
    if as_of is not None and _as_date(as_of) is None:
        problem("", "as_of", f"{show_value(as_of)}: expected a date YYYY-MM-DD")
    base = data.get("base", {})
    if not isinstance(base, dict):
        problem("", "base", "expected a [base] table of model settings")
        base = {}
    # Unknown [base] settings and factors are reported here, with a "did you mean" hint, and
    # left out of the Study, which checks everything else (so every problem still comes at once).
    named: list[Problem] = []
    for key in [k for k in base if k not in _SPEC_FIELDS]:
        hint = did_you_mean(key, _SPEC_FIELDS)
        problem("base", key, f"unknown model setting{hint}" if hint else
                "unknown model setting: expected one of " + ", ".join(_SPEC_FIELDS))
        named.append(problems.pop())
        base = {k: v for k, v in base.items() if k != key}
    factors = data.get("factors")
    if factors is None:
        problems.append(Problem(shown, 0, "factors", "missing: expected a [factors] table with "
                                "at least one factor"))
    elif not isinstance(factors, dict):
        problem("", "factors", "expected a [factors] table of factor = [levels]")
    elif not factors:
        problem("factors", None, "no factors: expected at least one factor to vary")
    for name in [n for n in (factors if isinstance(factors, dict) else ()) if n not in FACTORS]:
        hint = did_you_mean(name, FACTORS)
        problem("factors", name, f"unknown factor{hint}" if hint else
                "unknown factor: expected one of " + ", ".join(sorted(FACTORS)))
        named.append(problems.pop())
        factors = {k: v for k, v in factors.items() if k != name}
    for name, levels in (factors.items() if isinstance(factors, dict) else ()):
        if not isinstance(levels, list):
            problem("factors", name, f"{show_value(levels)}: expected a list of levels, e.g. "
                    f"{name} = [...]")
        elif not levels:
            problem("factors", name, "empty list: expected at least one level")
    if problems or (named and not factors):
        raise InputError(problems + named)
    factors = {k: v for k, v in factors.items()}
    try:
        study = Study(election, factors, seed=seed,
                      spec_changes={**base, **(spec_changes or {})}, model_file=model,
                      as_of=as_of, keep_draws=keep_draws, seats=seats, source=shown,
                      _locate=locate, **({} if max_fits is None else {"max_fits": max_fits}))
    except InputError as exc:
        raise InputError(exc.problems + named) from None
    if named:
        raise InputError(named)
    return study



def save_study(ds: xr.Dataset, path: str | Path) -> Path:
    """Write the study result to netCDF through a temporary file and a rename."""
    return atomic_write_file(Path(path), lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))

