"""National Congress vote per draw: the party polls' estimate, moved with the presidential draws.

Each coalition's Congress vote follows its presidential candidate: in every draw it is the party
polls' estimate of the coalition on the forecast's as-of date times the candidate's own change from
that date to election day in the same presidential draw (campaign drift and election-day polling
error), times a ticket-splitting change ``exp(e)``, ``e ~ N(0, ticket_split_sd)``. The parties of a
coalition keep the party polls' split. Why this form, and what it assumes: docs/congress.md.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..fit import Fit, election_day_shares, support_on
from .definition import OTHER, CongressDefinition, CongressSpec


def national_vote(president: Fit, party: Fit, definition: CongressDefinition,
                  spec: CongressSpec, *, seed: int = 20180701,
                  polling_error_scale: float = 1.0) -> xr.Dataset:
    """National Congress vote shares per draw, one draw per presidential draw.

    Parameters
    ----------
    president, party
        The presidential fit and the party-preference fit (same as-of date).
    definition, spec
        The Congress facts and settings.
    seed
        Seed for the pairing of party-poll draws with presidential draws and the ticket-split
        changes.
    polling_error_scale
        Multiplies the presidential election-day polling error (as in ``simulate``).

    Returns
    -------
    xarray.Dataset
        ``share`` (draw, party): shares of the valid vote for every party and the independent
        option (sums to 1); ``bloc_share`` (draw, bloc): coalition totals and ``other``;
        ``ticket_split`` (draw, coalition): the ratio of the coalition's Congress vote to its
        candidate's presidential vote.
    """
    rng = np.random.default_rng(seed)
    if president.as_of != party.as_of:
        raise ValueError(f"the presidential fit is as of {president.as_of}, the party-poll fit "
                         f"as of {party.as_of}: one forecast has one as-of date")
    # Both read on the forecast's as-of date (never at a knot of the sampler's choosing).
    pres_day = election_day_shares(president, polling_error_scale)
    pres_now = support_on(president)
    n = pres_day.sizes["sample"]
    party_now = support_on(party)
    party_day = election_day_shares(party)
    m = party_now.sizes["sample"]
    # Independent fits: any pairing is valid; a seeded shuffle (with replacement when the sizes
    # differ) keeps the result reproducible and free of chain order.
    pick = rng.permutation(m) if m == n else rng.integers(0, m, size=n)
    party_now = party_now.isel(sample=pick)
    party_day = party_day.isel(sample=pick)
    options = [str(o) for o in party_now.coords["option"].values]
    missing = [p for p in definition.parties if p not in options]
    if missing:
        raise ValueError(f"party polls do not cover {missing}: check the party-poll election")
    weights: dict[str, np.ndarray] = {}
    ratio: dict[str, np.ndarray] = {}
    ballot = [str(b) for b in pres_day.coords["option"].values]
    for rule in definition.coalitions.values():
        members = list(rule.parties)
        coalition_now = party_now.sel(option=members).sum("option").values
        if rule.candidate in ballot:
            move = (pres_day.sel(option=rule.candidate).values
                    / pres_now.sel(option=rule.candidate).values)
        else:
            # No presidential candidate on the ballot: the party polls' own election-day
            # projection carries the drift and polling error.
            move = (party_day.sel(option=members).sum("option").values / coalition_now)
        split = np.exp(rng.normal(0.0, spec.ticket_split_sd, size=n))
        total = coalition_now * move * split
        for p in members:
            weights[p] = total * party_now.sel(option=p).values / coalition_now
    rest = [p for p in definition.parties if p not in weights]
    for p in rest:
        weights[p] = party_day.sel(option=p).values
    independent = definition.independent
    weights[independent] = (party_day.sel(option=independent).values
                            if independent in options else np.zeros(n))
    order = [*definition.parties, independent]
    stack = np.stack([weights[p] for p in order], axis=1)
    share = stack / stack.sum(axis=1, keepdims=True)
    share_da = xr.DataArray(share, dims=("draw", "party"),
                            coords={"draw": np.arange(n), "party": order})
    blocs = {key: share_da.sel(party=list(rule.parties)).sum("party").values
             for key, rule in definition.coalitions.items()}
    blocs[OTHER] = 1.0 - sum(blocs.values())
    for key, rule in definition.coalitions.items():
        ratio[key] = (blocs[key] / pres_day.sel(option=rule.candidate).values
                      if rule.candidate in ballot else np.full(n, np.nan))
    bloc_da = xr.DataArray(np.stack([blocs[b] for b in definition.blocs], axis=1),
                           dims=("draw", "bloc"),
                           coords={"draw": np.arange(n), "bloc": definition.blocs})
    ratio_da = xr.DataArray(np.stack([ratio[k] for k in definition.coalitions], axis=1),
                            dims=("draw", "coalition"),
                            coords={"draw": np.arange(n), "coalition": list(definition.coalitions)})
    return xr.Dataset({"share": share_da, "bloc_share": bloc_da, "ticket_split": ratio_da})
