"""From national Congress vote draws to seats: district and state swing, plurality winners with
the siglado, then the allocation law (``forecast.seats``) for both chambers, draw by draw."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..seats import allocate_chamber, allocate_senate
from ..seats.apportion import count_by_party
from ..seats.swing import national_shares
from ..seeds import DEFAULT_SEED
from .definition import OTHER, CongressDefinition, CongressSpec

UNKNOWN = -2  # a coalition candidacy whose party (siglado) the public record does not give
FLOOR = 1e-4  # smallest bloc share after the swing (uniform swing can push a share below 0)


def candidacies(definition: CongressDefinition) -> list[str]:
    """Competitors in a district or state: each coalition, each party alone, then ``other``."""
    return [*definition.coalitions, *definition.parties, OTHER]


def _noise_sd(mean_share: np.ndarray, k: float) -> np.ndarray:
    # Residual sd grows like a binomial sd with the bloc's size (docs/swing.md: the factor k is
    # stable across blocs from 4% to 40%).
    p = np.clip(mean_share, 1e-6, 1 - 1e-6)
    return k * np.sqrt(p * (1 - p))


def swing_shares(base: np.ndarray, base_national: np.ndarray, national: np.ndarray,
                 kind: str) -> np.ndarray:
    """Baseline unit shares (units, blocs) moved by each draw's national change.

    Returns (draws, units, blocs), not yet noisy or renormalised.
    """
    if kind == "uniform":
        return base[None] + (national - base_national)[:, None, :]
    ratio = national / np.clip(base_national, FLOOR, None)
    return base[None] * ratio[:, None, :]


def _normalise(shares: np.ndarray) -> np.ndarray:
    shares = np.clip(shares, FLOOR, None)
    return shares / shares.sum(axis=-1, keepdims=True)


def _candidacy_shares(shares: np.ndarray, ran: np.ndarray, fraction: np.ndarray,
                      definition: CongressDefinition) -> np.ndarray:
    """(draws, units, candidacies) shares: a coalition that ran takes its bloc's share; where it
    did not, its parties run alone with their baseline fractions of the bloc."""
    keys = list(definition.coalitions)
    n, u, _ = shares.shape
    out = np.zeros((n, u, len(candidacies(definition))))
    for ci in range(len(keys)):
        out[..., ci] = shares[..., ci] * ran[None, :, ci]
    for pi, party in enumerate(definition.parties):
        c = definition.coalition_of(party)
        if c is None:
            continue
        ci = keys.index(c)
        out[..., len(keys) + pi] = shares[..., ci] * (1 - ran[None, :, ci]) * fraction[None, :, pi]
    out[..., -1] = shares[..., -1]
    return out


def _split_weights(definition: CongressDefinition, known: dict[str, list[str]]
                   ) -> dict[str, np.ndarray]:
    """Each coalition's known siglado split (party counts), the assumption for unknown slots."""
    out = {}
    for key, rule in definition.coalitions.items():
        counts = np.array([known.get(key, []).count(p) for p in rule.parties], dtype=float)
        if counts.sum() == 0:
            counts = np.ones(len(rule.parties))
        out[key] = counts / counts.sum()
    return out


def _resolve(party: np.ndarray, winner: np.ndarray, definition: CongressDefinition,
             weights: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Replace UNKNOWN party indices by a draw from the winning coalition's split."""
    party = party.copy()
    index = {p: i for i, p in enumerate(definition.parties)}
    u = rng.random(party.shape)
    for ci, (key, rule) in enumerate(definition.coalitions.items()):
        mask = (party == UNKNOWN) & (winner == ci)
        if not mask.any():
            continue
        cum = np.cumsum(weights[key])
        pick = np.minimum(np.searchsorted(cum, u[mask], side="right"), len(cum) - 1)
        party[mask] = np.array([index[p] for p in rule.parties])[pick]
    return party


def district_siglado(definition: CongressDefinition) -> np.ndarray:
    """(districts, candidacies) party index credited with each candidacy's win."""
    keys = list(definition.coalitions)
    index = {p: i for i, p in enumerate(definition.parties)}
    codes = definition.baseline.index.to_numpy()
    table = np.full((len(codes), len(candidacies(definition))), UNKNOWN, dtype=np.int64)
    row = {int(c): i for i, c in enumerate(codes)}
    for _, r in definition.siglado.iterrows():
        if int(r["district_code"]) in row:
            table[row[int(r["district_code"])], keys.index(r["coalition"])] = index[r["party"]]
    for pi in range(len(definition.parties)):
        table[:, len(keys) + pi] = pi
    table[:, -1] = -1
    return table


def senate_formulas(definition: CongressDefinition, states: list[int]) -> np.ndarray:
    """(states, candidacies, 2) party of formula 1 and 2 of each candidacy."""
    keys = list(definition.coalitions)
    index = {p: i for i, p in enumerate(definition.parties)}
    table = np.full((len(states), len(candidacies(definition)), 2), UNKNOWN, dtype=np.int64)
    row = {s: i for i, s in enumerate(states)}
    for _, r in definition.senate_formulas.iterrows():
        if int(r["edon"]) in row:
            table[row[int(r["edon"])], keys.index(r["coalition"]), int(r["formula"]) - 1] = \
                index[r["party"]]
    for pi in range(len(definition.parties)):
        table[:, len(keys) + pi, :] = pi
    table[:, -1, :] = -1
    return table


def _bloc_of_candidacy(definition: CongressDefinition) -> np.ndarray:
    keys = list(definition.coalitions)
    blocs = definition.blocs
    out = [blocs.index(k) for k in keys]
    out += [blocs.index(definition.coalition_of(p) or OTHER) for p in definition.parties]
    out.append(blocs.index(OTHER))
    return np.array(out)


def project_congress(national: xr.Dataset, definition: CongressDefinition, spec: CongressSpec,
                     *, seed: int = DEFAULT_SEED) -> xr.Dataset:
    """Seats in both chambers for every draw of the national Congress vote.

    Parameters
    ----------
    national
        From :func:`forecast.congress.vote.national_vote`: ``share`` (draw, party) with the
        independent option, ``bloc_share`` (draw, bloc).
    definition, spec
        Congress facts and settings.
    seed
        Seed for the state, district and Senate-race noise and the unknown-siglado draws.

    Returns
    -------
    xarray.Dataset
        Per draw and party: ``deputies_seats`` (with ``deputies_district_seats``,
        ``deputies_list_seats``) and ``senate_seats`` (with ``senate_plurality_seats``,
        ``senate_first_minority_seats``, ``senate_list_seats``); ``vote_share``;
        ``district_win`` (district, bloc) and ``senate_state_win`` (state, bloc): the
        probability that each bloc's candidacy wins; ``district_share`` (district, bloc): the
        median share.
    """
    rng = np.random.default_rng(seed)
    blocs = definition.blocs
    nat = national["bloc_share"].sel(bloc=blocs).values
    n = nat.shape[0]
    base = definition.baseline
    base_shares = base[blocs].to_numpy()
    base_national = national_shares(base, blocs).loc[blocs].to_numpy()
    edon = base["edon"].to_numpy()
    states = sorted(set(int(e) for e in edon))
    state_index = np.searchsorted(states, edon)
    mean_share = nat.mean(axis=0)

    state_effect = rng.normal(size=(n, len(states), len(blocs))) * _noise_sd(
        mean_share, spec.state_noise_k)
    district_effect = rng.normal(size=(n, len(base), len(blocs))) * _noise_sd(
        mean_share, spec.district_noise_k)
    districts = swing_shares(base_shares, base_national, nat, spec.swing_kind)
    districts = _normalise(districts + state_effect[:, state_index] + district_effect)

    # States (Senate): the baseline aggregated from districts, the same state effect, plus the
    # race's own noise.
    weights = base["valid_votes"].to_numpy(dtype=float)
    state_base = np.stack([
        (base_shares[state_index == i] * weights[state_index == i, None]).sum(0)
        / weights[state_index == i].sum() for i in range(len(states))])
    race_effect = rng.normal(size=(n, len(states), len(blocs))) * _noise_sd(
        mean_share, spec.senate_noise_k)
    state_shares = _normalise(swing_shares(state_base, base_national, nat, spec.swing_kind)
                              + state_effect + race_effect)

    keys = list(definition.coalitions)
    d_ran = definition.district_coalitions[keys].to_numpy(dtype=float)
    frac = definition.party_fraction[definition.parties].to_numpy() if set(
        definition.parties) <= set(definition.party_fraction.columns) else None
    frac_d = np.zeros((len(base), len(definition.parties)))
    frac_s = np.zeros((len(states), len(definition.parties)))
    if frac is not None:
        frac_d = frac
        for pi, party in enumerate(definition.parties):
            c = definition.coalition_of(party)
            if c is None:
                continue
            w = base_shares[:, blocs.index(c)] * weights
            for si in range(len(states)):
                m = state_index == si
                frac_s[si, pi] = (frac[m, pi] * w[m]).sum() / max(w[m].sum(), 1e-12)
    s_ran = definition.senate_coalitions.loc[states, keys].to_numpy(dtype=float)
    d_cand = _candidacy_shares(districts, d_ran, frac_d, definition)
    s_cand = _candidacy_shares(state_shares, s_ran, frac_s, definition)
    bloc_of = _bloc_of_candidacy(definition)
    n_parties = len(definition.parties)

    # Deputies: the district winner's seat goes to the party its siglado names.
    d_sig = district_siglado(definition)
    known_d = {k: list(definition.siglado.loc[definition.siglado["coalition"] == k, "party"])
               for k in keys}
    d_winner = d_cand.argmax(axis=-1)
    d_party = np.take_along_axis(np.broadcast_to(d_sig, d_cand.shape), d_winner[..., None],
                                 axis=-1)[..., 0]
    d_party = _resolve(d_party, d_winner, definition, _split_weights(definition, known_d), rng)
    district_seats = count_by_party(d_party, n_parties)

    # Senate: two seats to the winning list's formulas, one to the runner-up's first formula.
    s_form = senate_formulas(definition, states)
    # A Senate formula whose party the registered agreements do not give goes to one of the
    # coalition's parties in proportion to the coalition's registered district split (the
    # Senate record is incomplete: in 2018 none for Juntos Haremos Historia; docs/congress.md).
    s_weights = _split_weights(definition, known_d)
    order = np.argsort(-s_cand, axis=-1, kind="stable")
    first, second = order[..., 0], order[..., 1]
    form_b = np.broadcast_to(s_form, (*s_cand.shape, 2))
    win = np.take_along_axis(form_b, first[..., None, None], axis=-2)[..., 0, :]
    run = np.take_along_axis(form_b, second[..., None, None], axis=-2)[..., 0, 0]
    win1 = _resolve(win[..., 0], first, definition, s_weights, rng)
    win2 = _resolve(win[..., 1], first, definition, s_weights, rng)
    run1 = _resolve(run, second, definition, s_weights, rng)
    plurality = count_by_party(np.concatenate([win1, win2], axis=1), n_parties)
    minority = count_by_party(run1, n_parties)

    share = national["share"].sel(party=[*definition.parties, definition.independent]).values
    votes = np.rint(share * spec.total_valid_votes).astype(np.int64)
    chamber = allocate_chamber(votes[:, :n_parties], district_seats,
                               independent_votes=votes[:, n_parties],
                               rules=definition.chamber_rules("deputies"))
    senate = allocate_senate(votes[:, :n_parties], plurality, minority,
                             independent_votes=votes[:, n_parties],
                             rules=definition.chamber_rules("senate"))

    draw = np.arange(n)
    parties = definition.parties
    codes = base.index.to_numpy()

    def per_party(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, dims=("draw", "party"),
                            coords={"draw": draw, "party": parties})

    d_bloc = bloc_of[d_winner]
    s_bloc = bloc_of[first]
    district_win = np.stack([(d_bloc == b).mean(axis=0) for b in range(len(blocs))], axis=1)
    state_win = np.stack([(s_bloc == b).mean(axis=0) for b in range(len(blocs))], axis=1)
    abbr = [definition.state_abbr.get(s, str(s)) for s in states]
    return xr.Dataset(
        {
            "deputies_seats": per_party(chamber.total_seats),
            "deputies_district_seats": per_party(chamber.district_seats),
            "deputies_list_seats": per_party(chamber.list_seats),
            "senate_seats": per_party(senate.total_seats),
            "senate_plurality_seats": per_party(plurality),
            "senate_first_minority_seats": per_party(minority),
            "senate_list_seats": per_party(senate.list_seats),
            "vote_share": per_party(share[:, :n_parties]),
            "district_win": xr.DataArray(district_win, dims=("district", "bloc")),
            "district_share": xr.DataArray(np.median(districts, axis=0),
                                           dims=("district", "bloc")),
            "senate_state_win": xr.DataArray(state_win, dims=("state", "bloc")),
        },
        coords={"draw": draw, "party": parties, "bloc": blocs, "district": codes,
                "district_state": ("district", [definition.state_abbr.get(int(e), str(e))
                                                for e in edon]),
                "state": abbr},
    )
