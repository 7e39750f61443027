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
    concentration_median: float = 300.0
    concentration_log_sd: float = 1.0
    polling_error_sigma: float = 0.15
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
    ("poll_noise", "concentration_median"): "concentration_median",
    ("poll_noise", "concentration_log_sd"): "concentration_log_sd",
    ("election_day", "polling_error_sigma"): "polling_error_sigma",
    ("election_day", "invalid_share_mean"): "invalid_share_mean",
    ("election_day", "invalid_share_sd"): "invalid_share_sd",
    ("sampler", "name"): "sampler",
    ("sampler", "chains"): "chains",
    ("sampler", "draws"): "draws",
    ("sampler", "tune"): "tune",
    ("sampler", "target_accept"): "target_accept",
}
SAMPLERS = ("nutpie", "pymc")


def find_model_file(election_directory: Path, relative: Path) -> Path | None:
    """``relative`` (e.g. ``models/president.toml``) in the project holding the election's
    ``polls/`` tree, else in the current directory; None when neither has it."""
    for base in (election_directory.resolve().parent.parent, Path.cwd()):
        if (base / relative).is_file():
            return base / relative
    return None


def _expected(name: str, kind: str, value: object) -> str | None:
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    elif kind == "float":
        # TOML has inf and nan: neither is a prior scale or a probability.
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value) and value > 0)
    else:
        ok = isinstance(value, str)
    if name == "sampler" and value not in SAMPLERS:
        ok = False
    if name in ("target_accept", "invalid_share_mean") and ok and not value < 1:
        ok = False
    if ok:
        return None
    if name in ("target_accept", "invalid_share_mean"):
        return "a number between 0 and 1"
    return {"int": "a positive integer", "float": "a positive number"}.get(
        kind, f"one of {', '.join(SAMPLERS)}")


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
