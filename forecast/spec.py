"""Model specification: priors and sampler settings read from ``models/*.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from .problems import InputError, Problem


@dataclass(frozen=True)
class ModelSpec:
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
    draws: int = 1000
    tune: int = 1000
    target_accept: float = 0.95
    source: str = field(default="defaults", compare=False)

    def with_(self, **changes: object) -> ModelSpec:
        """A copy with some settings changed (for studies and tests)."""
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """Plain dict of the settings (stored with every fit)."""
        out = asdict(self)
        out.pop("source")
        return out


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


def load_spec(path: str | Path) -> ModelSpec:
    """Read a model specification file, checking every key and value.

    Raises
    ------
    InputError
        Unknown sections or keys, wrong types, or out-of-range values, with file and line.
    """
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise InputError([Problem(shown, 0, "", "model specification not found")])
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(shown, 0, "", f"not valid TOML: {exc}")]) from None
    lines = text.splitlines()

    def line_of(key: str) -> int:
        for i, line in enumerate(lines):
            if line.split("=")[0].strip() == key:
                return i + 1
        return 0

    problems: list[Problem] = []
    values: dict[str, object] = {}
    types = {f.name: f.type for f in fields(ModelSpec)}
    for section, table in data.items():
        if not isinstance(table, dict):
            problems.append(Problem(shown, line_of(section), section, "expected a [section]"))
            continue
        for key, value in table.items():
            name = _LAYOUT.get((section, key))
            if name is None:
                problems.append(Problem(shown, line_of(key), f"{section}.{key}", "unknown setting"))
                continue
            kind = types[name]
            if kind == "int":
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            elif kind == "float":
                ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and value > 0)
            else:
                ok = isinstance(value, str)
            if name == "sampler" and value not in SAMPLERS:
                ok = False
            if name in ("target_accept", "invalid_share_mean") and ok and not value < 1:
                ok = False
            if not ok:
                expected = {"int": "a positive integer", "float": "a positive number"}.get(
                    kind, f"one of {', '.join(SAMPLERS)}")
                if name in ("target_accept", "invalid_share_mean"):
                    expected = "a number between 0 and 1"
                problems.append(Problem(shown, line_of(key), f"{section}.{key}",
                                        f"{value!r}: expected {expected}"))
                continue
            values[name] = float(value) if kind == "float" else value
    if problems:
        raise InputError(problems)
    return ModelSpec(**values, source=shown)
