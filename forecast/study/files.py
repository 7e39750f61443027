"""Study files (TOML, format in docs/studies.md): reading and checking them, and saving a
study's result to netCDF."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from ..fit import atomic_write_file
from ..problems import InputError, Problem, decode_utf8
from .factors import _as_date
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
    if not path.is_file():
        raise InputError([Problem(shown, 0, "", "study specification not found")])
    raw = path.read_bytes()
    text = decode_utf8(raw, shown)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 0
        raise InputError([Problem(shown, line, "", f"not valid TOML: {exc}")]) from None
    except (RecursionError, ValueError) as exc:
        raise InputError([Problem(shown, 0, "", f"not valid TOML: {exc.__class__.__name__}")]
                         ) from None


def load_study(path: str | Path, *, spec_changes: dict | None = None) -> Study:
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
        column = f"{section}.{key}" if section and key else (key or section)
        problems.append(Problem(shown, locate(section, key), column, message))

    for key in data:
        if key not in _TOP_KEYS:
            problem("", key, f"unknown key: expected one of {', '.join(_TOP_KEYS)}")
    election = data.get("election")
    if election is None:
        problems.append(Problem(shown, 0, "election", "missing: expected the election folder, "
                                "e.g. election = \"polls/mx2018\""))
    elif not isinstance(election, str) or not election.strip():
        problem("", "election", f"{election!r}: expected the election folder as a string")
    elif not Path(election).is_dir():
        problem("", "election", f"{election!r}: no such folder (relative to the current "
                                f"directory {Path.cwd()})")
    seed = data.get("seed", DEFAULT_SEED)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problem("", "seed", f"{seed!r}: expected a non-negative integer")
    model = data.get("model")
    if model is not None and not (isinstance(model, str) and model.strip()):
        problem("", "model", f"{model!r}: expected the path of a model spec file")
    keep_draws = data.get("keep_draws", False)
    if not isinstance(keep_draws, bool):
        problem("", "keep_draws", f"{keep_draws!r}: expected true or false")
    seats = data.get("seats", True)
    if not isinstance(seats, bool):
        problem("", "seats", f"{seats!r}: expected true or false")
    as_of = data.get("as_of")
    if as_of is not None and _as_date(as_of) is None:
        problem("", "as_of", f"{as_of!r}: expected a date YYYY-MM-DD")
    base = data.get("base", {})
    if not isinstance(base, dict):
        problem("", "base", "expected a [base] table of model settings")
        base = {}
    factors = data.get("factors")
    if factors is None:
        problems.append(Problem(shown, 0, "factors", "missing: expected a [factors] table with "
                                "at least one factor"))
    elif not isinstance(factors, dict):
        problem("", "factors", "expected a [factors] table of factor = [levels]")
    elif not factors:
        problem("factors", None, "no factors: expected at least one factor to vary")
    for name, levels in (factors.items() if isinstance(factors, dict) else ()):
        if not isinstance(levels, list):
            problem("factors", name, f"{levels!r}: expected a list of levels, e.g. "
                    f"{name} = [...]")
        elif not levels:
            problem("factors", name, "empty list: expected at least one level")
    if problems:
        raise InputError(problems)
    factors = {k: v for k, v in factors.items()}
    return Study(election, factors, seed=seed, spec_changes={**base, **(spec_changes or {})},
                 model_file=model, as_of=as_of, keep_draws=keep_draws, seats=seats,
                 source=shown,
                 _locate=locate)



def save_study(ds: xr.Dataset, path: str | Path) -> Path:
    """Write the study result to netCDF through a temporary file and a rename."""
    return atomic_write_file(Path(path), lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))

