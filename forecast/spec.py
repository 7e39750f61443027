"""Model specification: priors and sampler settings read from ``models/*.toml``.

An election names its model file in ``election.toml`` (``model_file``): a name in the project's
models library (``"kr/president"`` -> ``<project>/models/kr/president.toml``) or a ``.toml`` file
inside the election folder (:func:`election_model_file`). An election that names none uses
``models/president.toml`` of its project, and without that file the documented defaults
(:class:`ModelSpec`, docs/model.md).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from .problems import InputError, Problem, decode_utf8
from .settings import Settings, key_line, load_settings

if TYPE_CHECKING:
    from .election import Election

#: The models library, relative to a project folder (the one holding ``polls/``).
MODELS_FOLDER = Path("models")


@dataclass(frozen=True)
class ModelSpec(Settings):
    """Priors and settings of the poll-aggregation model (see ``docs/model.md``)."""

    step_days: int = 7
    level_sigma: float = 1.5
    random_walk_sigma: float = 0.02
    house_effect_sigma: float = 0.15
    mode_effect_sigma: float = 0.10
    mode_effects: str = "none"
    concentration_median: float = 300.0
    concentration_log_sd: float = 1.0
    concentration_by: str = "pollster"
    concentration_pollster_sd: float = 0.5
    polling_error_sigma: float = 0.104
    polling_error_log_sd: float = 0.306
    polling_error_size_exponent: float = 0.095
    polling_error_reference_share: float = 0.30
    polling_error_horizon_days: int = 6
    invalid_share_mean: float = 0.027
    invalid_share_sd: float = 0.005
    sampler: str = "nutpie"
    chains: int = 4
    draws: int = 2000
    tune: int = 300
    target_accept: float = 0.95
    source: str = field(default="defaults", compare=False)


# TOML section.key -> ModelSpec field
_LAYOUT = {
    ("latent", "step_days"): "step_days",
    ("latent", "level_sigma"): "level_sigma",
    ("latent", "random_walk_sigma"): "random_walk_sigma",
    ("house_effect", "sigma"): "house_effect_sigma",
    ("house_effect", "mode_sigma"): "mode_effect_sigma",
    ("house_effect", "modes"): "mode_effects",
    ("poll_noise", "concentration_median"): "concentration_median",
    ("poll_noise", "concentration_log_sd"): "concentration_log_sd",
    ("poll_noise", "by"): "concentration_by",
    ("poll_noise", "pollster_sd"): "concentration_pollster_sd",
    ("election_day", "polling_error_sigma"): "polling_error_sigma",
    ("election_day", "polling_error_log_sd"): "polling_error_log_sd",
    ("election_day", "size_exponent"): "polling_error_size_exponent",
    ("election_day", "reference_share"): "polling_error_reference_share",
    ("election_day", "horizon_days"): "polling_error_horizon_days",
    ("election_day", "invalid_share_mean"): "invalid_share_mean",
    ("election_day", "invalid_share_sd"): "invalid_share_sd",
    ("sampler", "name"): "sampler",
    ("sampler", "chains"): "chains",
    ("sampler", "draws"): "draws",
    ("sampler", "tune"): "tune",
    ("sampler", "target_accept"): "target_accept",
}
SAMPLERS = ("nutpie", "pymc")
#: Settings of how to sample, not of the model: they change no compiled model and no key but the
#: fit's own, and the command line's --draws/--tune/--chains give them to every stage.
SAMPLER_KEYS = ("sampler", "chains", "draws", "tune", "target_accept")
#: Settings that take one of a few words.
CHOICES = {"sampler": SAMPLERS, "mode_effects": ("nested", "separate", "none"),
           "concentration_by": ("pollster", "mode", "all")}
#: Float settings that may be 0 (the others must be > 0).
_MAY_BE_ZERO = ("polling_error_size_exponent", "polling_error_log_sd",
                "concentration_pollster_sd")


def find_model_file(election_directory: Path, relative: Path) -> Path | None:
    """``relative`` (e.g. ``models/president.toml``) in the project holding the election's
    ``polls/`` tree, else in the current directory; None when neither has it."""
    for base in (election_directory.resolve().parent.parent, Path.cwd()):
        if (base / relative).is_file():
            return base / relative
    return None


def _is_number(value: object) -> bool:
    # TOML has inf and nan; a float() of a 5,000-digit integer overflows (settings.py says so).
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def model_folders(election_directory: Path) -> list[Path]:
    """Folders searched for a model name, in order (as :func:`forecast.seats.law.rules_folders`
    finds rules files): the models library of the election's project (two folders above the
    election folder), of the current directory's project, and of the project this package lives
    in; each once."""
    candidates = [election_directory.resolve().parent.parent / MODELS_FOLDER,
                  Path.cwd() / MODELS_FOLDER,
                  Path(__file__).resolve().parents[1] / MODELS_FOLDER]
    out: list[Path] = []
    for folder in candidates:
        if all(folder.resolve() != f.resolve() for f in out):
            out.append(folder)
    return out


def available_models(folders: list[Path]) -> list[str]:
    """Names of the model files in the library folders (``"president"``, ``"kr/president"``)."""
    names: set[str] = set()
    for folder in folders:
        if folder.is_dir():
            names.update(p.relative_to(folder).with_suffix("").as_posix()
                         for p in folder.rglob("*.toml"))
    return sorted(names)


def election_model_file(election: Election) -> Path | None:
    """The model file an election names (``model_file`` in ``election.toml``), else None.

    A value ending in ``.toml`` is a file inside the election folder; any other value is a name
    in the models library (:func:`model_folders`): ``"kr/president"`` is
    ``models/kr/president.toml``.

    Raises
    ------
    InputError
        The named file does not exist: ``election.toml:LINE:model_file`` with the names the
        library has (and the closest one).
    """
    name = election.model_file
    if not name:
        return None
    toml = election.directory / "election.toml"
    if name.endswith(".toml"):
        path = election.directory / name
        if path.is_file():
            return path
        where = f"no such file in the election folder ({path})"
    else:
        folders = model_folders(election.directory)
        for folder in folders:
            path = folder / f"{name}.toml"
            if path.is_file():
                return path
        known = available_models(folders)
        close = difflib.get_close_matches(name, known, n=1)
        where = (f"no model named {name!r} in " + " or ".join(str(f) for f in folders)
                 + (f" (available: {', '.join(known)})" if known else "")
                 + (f"; did you mean {close[0]!r}?" if close else ""))
    line = 0
    if toml.is_file():
        line = key_line(decode_utf8(toml.read_bytes(), str(toml)), "", "model_file")
    raise InputError([Problem(str(toml), line, "model_file", f"{name!r}: {where}")])


def _expected(name: str, kind: str, value: object) -> str | None:
    if name in CHOICES:
        return None if value in CHOICES[name] else "one of " + ", ".join(CHOICES[name])
    if name in ("target_accept", "invalid_share_mean", "polling_error_reference_share"):
        return None if _is_number(value) and 0 < value < 1 else "a number between 0 and 1"
    if kind == "int":
        if name == "polling_error_horizon_days":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            return None if ok else "a whole number of days >= 0"
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        return None if ok else "a positive integer"
    if kind == "float":
        if name in _MAY_BE_ZERO:
            return None if _is_number(value) and value >= 0 else "a number >= 0"
        return None if _is_number(value) and value > 0 else "a positive number"
    return None if isinstance(value, str) else "a string"


def setting_problem(name: str, value: object) -> str | None:
    """What the ModelSpec setting ``name`` should be when ``value`` does not do, else None.

    The rules of :func:`load_spec`, for settings given elsewhere (study files and factors).
    """
    kinds = {f.name: str(f.type) for f in fields(ModelSpec)}
    return _expected(name, kinds[name], value)


def load_spec(path: str | Path) -> ModelSpec:
    """Read a model specification file, checking every key and value.

    Raises
    ------
    InputError
        Unknown sections or keys, wrong types, or out-of-range values, with file and line.
    """
    return load_settings(path, ModelSpec, _LAYOUT, _expected,
                         missing="model specification not found")
