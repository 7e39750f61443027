"""Model specification: priors and sampler settings read from ``models/*.toml``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from .settings import Settings, load_settings


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
    polling_error_sigma: float = 0.12
    polling_error_log_sd: float = 0.25
    polling_error_size_exponent: float = 0.15
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
