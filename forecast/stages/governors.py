"""The governor races as a stage: state polls -> governor fit -> outcomes driven by the national
vote of each draw (the Congress vote when the forecast has Congress, else the presidential)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import xarray as xr

from ..election import Election
from ..fit import support_on
from ..governors.model import (
    GovernorFit,
    GovernorSpec,
    fit_governors_data,
    governor_fit_key,
    load_governor_fit,
    load_governor_spec,
    prepare_governors,
    save_governor_fit,
)
from ..governors.polls import GovernorPolls, read_governor_polls
from ..governors.races import RACES_FILE, GovernorRaces, load_governor_races
from ..governors.simulate import (
    governors_summary,
    national_from_shares,
    simulate_governors,
)
from ..problems import Problem
from ..seeds import derive_seed
from ..spec import SAMPLER_KEYS, find_model_file
from ..storage import canonical_table, digest
from .base import Options, Prepared, StageResult, used_warnings

SUBDIRECTORY = "governors"
GOVERNOR_MODEL = Path("models") / "governors.toml"


@dataclass
class GovernorInputs:
    """Race definitions, state polls and settings, validated."""

    races: GovernorRaces
    polls: GovernorPolls
    spec: GovernorSpec
    president: Election | None = None  # the presidential election (candidates' coalitions)


def load_governor_inputs(election: Election, *, model_file: str | Path | None = None,
                         spec_changes: dict | None = None) -> GovernorInputs | None:
    """The election's governor races (None when it has no ``governors/races.toml``).

    Raises
    ------
    InputError
        Any problem in the race definitions, state polls or model file, with file and line.
    """
    if not (election.directory / SUBDIRECTORY / RACES_FILE).is_file():
        return None
    races = load_governor_races(election.directory)
    polls = read_governor_polls(races.poll_path, races)
    path = model_file or find_model_file(election.directory, GOVERNOR_MODEL)
    spec = load_governor_spec(path) if path is not None else GovernorSpec()
    # Sampler settings given for the forecast (--draws, --tune, --chains) apply here too.
    sampler = {k: v for k, v in (spec_changes or {}).items()
               if k in SAMPLER_KEYS}
    if sampler:
        spec = spec.with_(**sampler)
    return GovernorInputs(races, polls, spec, election)


def national_signal(upstream: dict[str, StageResult], blocs: list[str],
                    election: Election | None
                    ) -> tuple[xr.DataArray, xr.DataArray, str]:
    """National bloc shares per draw that drive the state races, on election day and on the
    as-of date, and where they come from.

    The Congress stage's bloc shares when the forecast has Congress (party vote, the unit of the
    races' baseline file, a legislative vote); otherwise the presidential shares, each candidate
    counted in the bloc of their coalition (``coalition`` in election.toml; candidates of other
    coalitions count as ``other``).
    """
    if "congress" in upstream:
        draws = upstream["congress"].draws
        day = draws["national_bloc_share"].sel(bloc=blocs).transpose("draw", "bloc")
        now = draws["national_bloc_share_now"].sel(bloc=blocs).transpose("draw", "bloc")
        return day, now, "congress"
    president = upstream["president"]
    mapping = ({c.key: c.coalition for c in election.candidates if c.coalition in blocs}
               if election is not None else {})
    day = national_from_shares(president.draws["share_valid"], mapping, blocs)
    support = support_on(president.fit).rename(sample="draw", option="candidate")
    now = national_from_shares(support, mapping, blocs)
    return day, now, "president"


def governors_block(draws: xr.Dataset, result: GovernorFit, source: str) -> dict:
    """The ``governors`` block of ``summary.json``: one entry per state at the top level
    (``p_win`` per coalition key, shares, polls used), plus ``count``, ``shared_error_fraction``,
    ``diagnostics``, ``national_signal``."""
    inner = governors_summary(draws)
    block: dict = dict(inner["states"])
    block["count"] = inner["count"]
    block["shared_error_fraction"] = inner["shared_error_fraction"]
    block["draws"] = inner["draws"]
    block["as_of"] = result.as_of.isoformat()
    block["polls_used"] = int(len(result.polls))
    block["diagnostics"] = result.diagnostics.as_dict(timings=False)
    block["national_signal"] = source
    return block


class GovernorStage:
    """The governor races (elections with a ``governors/races.toml``)."""

    name = "governors"
    fit_file = "governors_fit.nc"
    poll_label = "state polls"

    def load(self, election: Election, options: Options) -> GovernorInputs | None:
        if not options.governors:
            return None
        return load_governor_inputs(election, spec_changes=options.spec_changes)

    def known(self, inputs: GovernorInputs) -> pd.Series:
        return pd.to_datetime(inputs.polls.table["known"])

    def warnings(self, inputs: GovernorInputs) -> list[Problem]:
        return list(inputs.polls.warnings)

    def prepare(self, inputs: GovernorInputs, as_of: dt.date, seed: int) -> Prepared:
        data = prepare_governors(inputs.races, inputs.polls, inputs.spec, as_of)
        fit_seed = derive_seed(seed, f"{self.name}/fit")
        return Prepared(data, governor_fit_key(data, inputs.spec, fit_seed), fit_seed)

    def fit(self, inputs: GovernorInputs, prepared: Prepared,
            progress: bool | None) -> GovernorFit:
        result = fit_governors_data(prepared.data, inputs.races, inputs.spec,
                                    seed=prepared.seed, progress=progress)
        return replace(result, meta=self._meta(inputs, result))

    def reuse(self, stored: GovernorFit, prepared: Prepared,
              inputs: GovernorInputs) -> GovernorFit:
        data = replace(prepared.data, polls=canonical_table(prepared.data.polls))
        result = replace(stored, data=data, races=inputs.races)
        return replace(result, meta=self._meta(inputs, result))

    def _meta(self, inputs: GovernorInputs, result: GovernorFit) -> dict:
        used = {int(v) for v in result.polls["line"]} if "line" in result.polls else set()
        return {"poll_warnings": used_warnings(inputs.polls.warnings, used,
                                               inputs.races.directory.parent),
                "notes": [],
                "poll_file": f"{SUBDIRECTORY}/{Path(inputs.polls.path).name}",
                "polls_in_file": len(inputs.polls)}

    def save_fit(self, result: GovernorFit, path: Path, attrs: dict[str, str]) -> Path:
        return save_governor_fit(result, path, attrs=attrs)

    def load_fit(self, path: Path, inputs: GovernorInputs) -> GovernorFit:
        return load_governor_fit(path, inputs.races)

    def definition_key(self, inputs: GovernorInputs) -> str:
        races = inputs.races
        return digest("governors", [(r.state, r.abbr, r.baseline,
                                     [(c.key, c.bloc, c.available_from.isoformat(),
                                       c.available_until.isoformat()) for c in r.candidates])
                                    for r in races.races],
                      races.national_baseline.to_dict())

    def simulate(self, result: GovernorFit, inputs: GovernorInputs,
                 upstream: dict[str, StageResult], seed: int, settings: dict) -> xr.Dataset:
        blocs = list(inputs.races.national_baseline.index)
        national, now, source = national_signal(upstream, blocs, inputs.president)
        draws = simulate_governors(result, national, inputs.races.national_baseline,
                                   seed=derive_seed(seed, f"{self.name}/simulate"),
                                   state_error_scale=float(settings.get("state_error_scale",
                                                                        1.0)),
                                   national_now=now)
        draws.attrs["national_signal"] = source
        return draws

    def summarise(self, draws: xr.Dataset, result: GovernorFit, inputs: GovernorInputs) -> dict:
        return governors_block(draws, result, str(draws.attrs.get("national_signal", "")))
