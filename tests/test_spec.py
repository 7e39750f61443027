"""Model specification files (models/*.toml): every problem with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.problems import InputError
from forecast.spec import ModelSpec, load_spec, setting_problem

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["president.toml", "party.toml"])
def test_shipped_specs_load(name):
    spec = load_spec(ROOT / "models" / name)
    assert spec.sampler == "nutpie" and spec.chains == 4
    assert (spec.tune, spec.draws, spec.target_accept) == (300, 2000, 0.95)


def test_every_bad_setting_is_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[latent]\n"
                    "level_sigma = inf\n"
                    "step_days = 0\n"
                    "colour = 'blue'\n"
                    "[sampler]\n"
                    "name = 'stan'\n"
                    "target_accept = 1.0\n"
                    "draws = 2.5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:2:latent.level_sigma: inf: expected a positive number",
        f"{path}:3:latent.step_days: 0: expected a positive integer",
        f"{path}:4:latent.colour: unknown setting",
        f"{path}:6:sampler.name: 'stan': expected one of nutpie, pymc",
        f"{path}:7:sampler.target_accept: 1.0: expected a number between 0 and 1",
        f"{path}:8:sampler.draws: 2.5: expected a positive integer",
    ]


def test_missing_file_and_the_rules_for_study_settings(tmp_path):
    with pytest.raises(InputError, match="model specification not found"):
        load_spec(tmp_path / "none.toml")
    # Study files and factors use the same rules (forecast.study.factors.check_setting).
    assert setting_problem("polling_error_sigma", float("nan")) == "a positive number"
    assert setting_problem("invalid_share_mean", 0.03) is None
    assert ModelSpec().with_(draws=10).draws == 10


def test_congress_and_governor_settings_reject_infinite_values(tmp_path):
    from forecast.congress.definition import load_congress_spec
    from forecast.governors.model import load_governor_spec

    congress = tmp_path / "congress.toml"
    congress.write_text((ROOT / "models" / "congress.toml").read_text(encoding="utf-8")
                        .replace("ticket_split_sd = ", "ticket_split_sd = inf #"),
                        encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_congress_spec(congress)
    assert [p.message for p in err.value.problems] == ["inf: expected a number >= 0"]
    governors = tmp_path / "governors.toml"
    governors.write_text((ROOT / "models" / "governors.toml").read_text(encoding="utf-8")
                         .replace("swing_sigma = ", "swing_sigma = nan #"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_governor_spec(governors)
    assert [p.message for p in err.value.problems] == ["nan: expected a positive number"]
