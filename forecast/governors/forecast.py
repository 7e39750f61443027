"""The governors step of the main job: state polls -> governor fit -> outcomes driven by the
national vote of each draw -> the ``governors`` summary block, tables and report section."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from ..election import Election
from ..fit import Diagnostics, atomic_write_file, csv_bytes
from ..spec import find_model_file
from .model import GovernorFit, GovernorSpec, fit_governors, load_governor_spec, prepare_governors
from .polls import GovernorPolls, read_governor_polls
from .races import RACES_FILE, GovernorRaces, load_governor_races
from .simulate import governors_summary, national_from_presidential, simulate_governors

SUBDIRECTORY = "governors"
GOVERNOR_MODEL = Path("models") / "governors.toml"
GOVERNOR_FIT = "governors_fit.nc"


@dataclass
class GovernorInputs:
    """Race definitions, state polls and settings, validated."""

    races: GovernorRaces
    polls: GovernorPolls
    spec: GovernorSpec


def load_governor_inputs(election: Election, *, model_file: str | Path | None = None
                         ) -> GovernorInputs | None:
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
    return GovernorInputs(races, polls, spec)


def save_governor_fit(result: GovernorFit, path: str | Path) -> Path:
    """The governor posterior and what it was fitted from (netCDF, atomic)."""
    tree = result.posterior.copy()
    tree.attrs.update({"as_of": result.as_of.isoformat(),
                       "spec": json.dumps(result.spec.as_dict()),
                       "diagnostics": json.dumps(result.diagnostics.as_dict())})
    return atomic_write_file(Path(path), lambda tmp: tree.to_netcdf(tmp, engine="netcdf4"))


def load_governor_fit(path: str | Path, inputs: GovernorInputs) -> GovernorFit:
    """A fit saved by :func:`save_governor_fit`; the model arrays are rebuilt from the inputs
    (the same polls as of the stored date)."""
    tree = xr.open_datatree(path, engine="netcdf4").load()
    spec = GovernorSpec(**json.loads(tree.attrs["spec"]), source=str(path))
    as_of = dt.date.fromisoformat(tree.attrs["as_of"])
    data = prepare_governors(inputs.races, inputs.polls, spec, as_of)
    posterior = xr.DataTree.from_dict({f"/{g}": tree[g].to_dataset() for g in tree.children})
    return GovernorFit(posterior=posterior, races=inputs.races, spec=spec, as_of=as_of,
                       data=data, diagnostics=Diagnostics(**json.loads(tree.attrs["diagnostics"])))


def fit_governor_polls(inputs: GovernorInputs, *, as_of: dt.date | None, seed: int = 20180701,
                       progress: bool | None = None) -> GovernorFit:
    """Fit the state polls public by ``as_of``."""
    return fit_governors(inputs.races, inputs.polls, inputs.spec, as_of=as_of, seed=seed,
                         progress=progress)


def national_signal(draws: xr.Dataset, congress_bloc_share: xr.DataArray | None,
                    blocs: list[str]) -> xr.DataArray:
    """National bloc shares per draw that drive the state races.

    The Congress vote model's bloc shares when available (party vote, the same unit as the
    2015 deputies baseline); otherwise the presidential shares mapped to their coalitions.
    """
    if congress_bloc_share is not None:
        return congress_bloc_share.sel(bloc=blocs).transpose("draw", "bloc")
    return national_from_presidential(draws, blocs)


def governors_block(draws: xr.Dataset, result: GovernorFit) -> dict:
    """The ``governors`` block of ``summary.json``: one entry per state at the top level
    (``p_win`` per coalition key, shares, polls used), plus ``count``, ``shared_error_fraction``,
    ``diagnostics``."""
    inner = governors_summary(draws)
    block: dict = dict(inner["states"])
    block["count"] = inner["count"]
    block["shared_error_fraction"] = inner["shared_error_fraction"]
    block["draws"] = inner["draws"]
    block["as_of"] = result.as_of.isoformat()
    block["polls_used"] = int(len(result.polls))
    block["diagnostics"] = result.diagnostics.as_dict()
    return block


def states_of(block: dict) -> dict:
    """The per-state entries of a ``governors`` block."""
    return {k: v for k, v in block.items() if isinstance(v, dict) and "p_win" in v}


def governor_tables(block: dict) -> dict[str, bytes]:
    """``governors.csv``: one row per state and candidacy (P(win), share quantiles)."""
    rows = []
    for state, v in states_of(block).items():
        for key, p in v["p_win"].items():
            q = v["share"][key]
            rows.append({"state": state, "candidacy": key, "p_win": p, "share_mean": q["mean"],
                         "share_q05": q["q05"], "share_q50": q["q50"], "share_q95": q["q95"],
                         "polls_used": v["polls_used"]})
    counts = [{"candidacy": key, **{k: c[k] for k in ("mean", "q05", "q50", "q95")},
               **{f"p_at_least_{i}": p for i, p in enumerate(c["p_at_least"])}}
              for key, c in block["count"].items()]
    return {"governors.csv": csv_bytes(pd.DataFrame(rows)),
            "governors_count.csv": csv_bytes(pd.DataFrame(counts))}


def governor_section(block: dict, races: GovernorRaces):
    """The report's governors section: diagnostics, probability table, tile map, count
    histogram."""
    import html

    from ..report.governor_charts import (
        governor_table_html,
        plot_governor_counts,
        plot_governor_map,
    )
    from ..report.page import Section

    inner = {"states": states_of(block), "count": block["count"],
             "shared_error_fraction": block["shared_error_fraction"], "draws": block["draws"],
             "as_of": block["as_of"]}
    names = {r.state: {c.key: c.name for c in r.candidates} for r in races.races}
    d = block["diagnostics"]
    if d["converged"]:
        diag = (f"<p class='sub'>State-poll fit: {block['polls_used']} polls, converged (max "
                f"R-hat {d['max_rhat']:.3f}).</p>")
    else:
        diag = ("<div class='warn' id='governor-fit-diagnostics'><strong>WARNING: the state-poll "
                "model did not converge — do not publish these numbers.</strong> "
                + html.escape("; ".join(d.get("problems", []))) + "</div>")
    figures = {
        "governors_map": ("Governor races: leader and its P(win) by state (hatched: no state "
                          "polls, baseline + national swing only).", plot_governor_map(inner)),
        "governors_count": ("Number of governorships won per coalition.",
                            plot_governor_counts(inner)),
    }
    body = diag + governor_table_html(inner, names=names)
    return Section("governors", "Governors: the nine races of 2018", body, figures)


def governor_forecast(result: GovernorFit, national: xr.DataArray, races: GovernorRaces, *,
                      seed: int = 20180701) -> tuple[xr.Dataset, dict]:
    """Simulated outcomes (one per national draw) and the summary block."""
    draws = simulate_governors(result, national, races.national_baseline, seed=seed)
    return draws, governors_block(draws, result)

