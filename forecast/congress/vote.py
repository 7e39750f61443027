"""National Congress vote per draw: the party polls' estimate, moved with the presidential draws.

In every draw (models/congress.toml gives each number and where it was measured):

* the party polls' shares on the forecast's as-of date, over the parties (the polls'
  "independent" option is dropped: it tracks the presidential independents), with the
  small-party term: shares move by ``share ** small_party_slope`` (small parties got more
  votes than the party polls gave them in 2009 and 2015);
* each coalition's total moves with its presidential candidate: times the candidate's own
  change from the as-of date to election day in the same presidential draw (campaign drift and
  election-day polling error), times a ticket-splitting change ``exp(e)``,
  ``e ~ N(0, ticket_split_sd)``;
* inside a coalition each party's share carries its own error ``exp(N(0, party_error_sd))``;
* the independents get a share drawn from the record (``independent_share_*``).

Why this form, and what it assumes: docs/congress.md and docs/calibration.md.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..fit import Fit, election_day_shares, support_on
from ..seeds import DEFAULT_SEED
from ..simulate import beta_parameters
from .definition import OTHER, CongressDefinition, CongressSpec


def national_vote(president: Fit, party: Fit, definition: CongressDefinition,
                  spec: CongressSpec, *, seed: int = DEFAULT_SEED,
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
        ``share`` (draw, party): shares of the valid vote for every party and the
        independents (sums to 1); ``bloc_share`` (draw, bloc): coalition totals and ``other``
        on election day, ``bloc_share_now`` the same without the candidates' moves from the
        as-of date to election day (the governor races take that change);
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
    options = [str(o) for o in party_now.coords["option"].values]
    missing = [p for p in definition.parties if p not in options]
    if missing:
        raise ValueError(f"party polls do not cover {missing}: check the party-poll election")
    parties = list(definition.parties)
    # The parties' shares of the party vote on the as-of date: the polls' "independent" option
    # (which tracks the presidential independents) is not the Congress independents' vote.
    now = party_now.sel(option=parties).values[pick]
    now = now / now.sum(axis=1, keepdims=True)
    day_alone = party_day.sel(option=parties).values[pick]
    day_alone = day_alone / day_alone.sum(axis=1, keepdims=True)
    # Small parties get more votes than the party polls give them (2009, 2015: slope of the
    # log result/poll ratio on the log poll share): shares move by share ** slope.
    now = _small_party(now, spec.small_party_slope)
    day_alone = _small_party(day_alone, spec.small_party_slope)
    # Each party's own election-day error inside its coalition (log scale, 2009/2015 residual).
    party_error = np.exp(rng.normal(0.0, spec.party_error_sd, size=now.shape))
    index = {p: i for i, p in enumerate(parties)}
    weights = np.zeros_like(now)
    ratio: dict[str, np.ndarray] = {}
    ballot = [str(b) for b in pres_day.coords["option"].values]
    moves: dict[str, np.ndarray] = {}
    for key, rule in definition.coalitions.items():
        cols = [index[p] for p in rule.parties]
        coalition_now = now[:, cols].sum(axis=1)
        if rule.candidate in ballot:
            move = (pres_day.sel(option=rule.candidate).values
                    / pres_now.sel(option=rule.candidate).values)
        else:
            # No presidential candidate on the ballot: the party polls' own election-day
            # projection carries the drift and polling error.
            move = day_alone[:, cols].sum(axis=1) / coalition_now
        moves[key] = move
        split = np.exp(rng.normal(0.0, spec.ticket_split_sd, size=n))
        total = coalition_now * move * split
        inside = now[:, cols] * party_error[:, cols]
        weights[:, cols] = total[:, None] * inside / inside.sum(axis=1, keepdims=True)
    alone = [index[p] for p in parties if definition.coalition_of(p) is None]
    if alone:
        weights[:, alone] = day_alone[:, alone] * party_error[:, alone]
    share = weights / weights.sum(axis=1, keepdims=True)
    # The independents' share of the Congress vote, from the record (not from the polls).
    independent_share = _beta_draws(rng, spec.independent_share_mean,
                                    spec.independent_share_sd, n)
    share = np.concatenate([share * (1 - independent_share)[:, None],
                            independent_share[:, None]], axis=1)
    order = [*parties, definition.independent]
    share_da = xr.DataArray(share, dims=("draw", "party"),
                            coords={"draw": np.arange(n), "party": order})
    blocs = {key: share_da.sel(party=list(rule.parties)).sum("party").values
             for key, rule in definition.coalitions.items()}
    blocs[OTHER] = 1.0 - sum(blocs.values())
    # The same vote before each candidate's move from the as-of date to election day (drift
    # and election-day error): the governor races move with that change only (their own
    # candidates' ticket splitting is their state error, not the Congress vote's).
    before = {key: blocs[key] / moves[key] for key in definition.coalitions}
    before[OTHER] = blocs[OTHER]
    total_before = sum(before.values())
    blocs_now = {key: value / total_before for key, value in before.items()}
    for key, rule in definition.coalitions.items():
        ratio[key] = (blocs[key] / pres_day.sel(option=rule.candidate).values
                      if rule.candidate in ballot else np.full(n, np.nan))

    def per_bloc(values: dict[str, np.ndarray]) -> xr.DataArray:
        return xr.DataArray(np.stack([values[b] for b in definition.blocs], axis=1),
                            dims=("draw", "bloc"),
                            coords={"draw": np.arange(n), "bloc": definition.blocs})

    ratio_da = xr.DataArray(np.stack([ratio[k] for k in definition.coalitions], axis=1),
                            dims=("draw", "coalition"),
                            coords={"draw": np.arange(n), "coalition": list(definition.coalitions)})
    return xr.Dataset({"share": share_da, "bloc_share": per_bloc(blocs),
                       "bloc_share_now": per_bloc(blocs_now), "ticket_split": ratio_da})


def _small_party(shares: np.ndarray, slope: float) -> np.ndarray:
    """Shares moved by the small-party term: ``share ** (1 + slope)``, renormalised."""
    moved = shares ** (1.0 + slope)
    return moved / moved.sum(axis=1, keepdims=True)


def _beta_draws(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """Draws of a share with the given mean and sd (Beta; the mean itself when sd is 0)."""
    if sd <= 0 or mean <= 0:
        return np.full(n, float(mean))
    return rng.beta(*beta_parameters(mean, sd), size=n)
