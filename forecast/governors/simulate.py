"""Election-day draws of the governor races, consistent draw by draw with the national vote.

In each draw *d* (one national draw, paired with one posterior draw of the state model)::

    eta[s,k] = eta_fit[s,k] + w[s,k] * (swing_d - swing_fit)[bloc(k)]
                            + (1 - w[s,k]) * (swing_d - centre)[bloc(k)]
                            + state_error[s] * e[s,k]

* ``eta_fit`` is the state model's log-support (baseline + the swing seen in the state polls +
  the local effect);
* ``swing_d = log(national_d / baseline)`` is the national swing of the draw by bloc on election
  day, and ``centre`` the same draw's swing on the as-of date, so ``swing_d - centre`` is the
  draw's national change from the as-of date to election day (drift and election-day error).
  The state polls measure a state's current support themselves: the uncertainty of the
  national estimate on the as-of date is not added to a polled state a second time. (Without
  the as-of shares, ``centre`` is the mean swing over draws: that double counts it.) Both
  swings are taken zero-sum over the blocs, one gauge for both;
* ``w[s,k]`` in [0, 1] is how much of the local effect is still prior: posterior variance of the
  local effect over its pooled variance (1 for a state without polls, near 0 for a well-polled
  one). A state without polls follows baseline + the national swing of the draw; a polled state
  follows its polls and moves with the national error;
* ``e`` is the state's own election-day error, independent across states; its sd
  ``state_error[s]`` tops the forecast's spread up to the error of final state polls averaged
  over as many pollsters in 2010-2017 (``final_poll_error_sigma / sqrt(pollsters)``), and is 0
  where the model's own spread already reaches it (see :func:`state_error`).

Shares are the softmax over each state's ballot; plurality decides the winner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..seeds import DEFAULT_SEED
from ..simulate import quantile_summary
from .model import GovernorFit


def national_from_shares(shares: xr.DataArray, mapping: dict[str, str], blocs: list[str]
                         ) -> xr.DataArray:
    """National bloc shares per draw from candidate shares (a stand-in for the Congress model).

    Parameters
    ----------
    shares
        Shares of the valid vote, dims ``(draw, candidate)`` (e.g. ``simulate(fit).share_valid``).
    mapping
        Candidate -> bloc; candidates not in it go to ``other``.
    blocs
        Bloc order of the result (must include ``other``).

    Returns
    -------
    xarray.DataArray
        ``national`` with dims ``(draw, bloc)``, rows summing to 1.
    """
    values = shares.transpose("draw", "candidate").values
    cands = [str(c) for c in shares["candidate"].values]
    out = np.zeros((values.shape[0], len(blocs)))
    for i, c in enumerate(cands):
        out[:, blocs.index(mapping.get(c, "other"))] += values[:, i]
    out /= out.sum(axis=1, keepdims=True)
    return xr.DataArray(out, dims=("draw", "bloc"),
                        coords={"draw": np.arange(len(out)), "bloc": blocs}, name="national")


def prior_weight(fit: GovernorFit) -> np.ndarray:
    """(state, option) share of each local effect that is still prior (see module docstring)."""
    post = fit.posterior["posterior"]
    data = fit.data
    local = post["local"].stack(sample=("chain", "draw")).transpose("sample", "state", "option")
    swing = post["swing"].stack(sample=("chain", "draw")).transpose("sample", "bloc").values
    eta = (data.log_baseline[None] + np.einsum("sob,nb->nso", data.bloc_matrix, swing)
           + local.values)
    # Centred within the state over its ballot: polls identify relative support only; the
    # state-wide level of the log-shares is pinned by the prior alone and says nothing.
    on = data.ballot[None]
    k = data.ballot.sum(axis=1)
    mean = np.where(on, eta, 0.0).sum(axis=-1, keepdims=True) / k[None, :, None]
    centred = np.where(on, eta - mean, 0.0)
    # Prior variance of a centred local effect: local_sd^2 (1 - 1/K) with K ballot options.
    pooled = float((post["local_sd"] ** 2).mean()) * (1 - 1 / k)[:, None]
    w = centred.var(axis=0) / pooled
    return np.where(data.ballot, np.clip(w, 0.0, 1.0), 0.0)


def _check_national(national: xr.DataArray, baseline: pd.Series, blocs: list[str]) -> None:
    if set(national.dims) != {"draw", "bloc"}:
        raise ValueError(f"national must have dims ('draw', 'bloc'), not {national.dims}")
    have = [str(b) for b in national["bloc"].values]
    missing = [b for b in blocs if b not in have or b not in baseline.index]
    if missing:
        raise ValueError(f"national and baseline must have blocs {blocs}; missing {missing}")
    values = national.transpose("draw", "bloc").values
    if values.shape[0] < 1 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("national shares must be positive and finite, with at least one draw")
    if not np.allclose(values.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("each draw of national must sum to 1 over the blocs")


def state_error(fit: GovernorFit, eta: np.ndarray) -> np.ndarray:
    """Sd of each state's own election-day error (before ``state_error_scale``).

    The final state polls of 2010-2017 missed the main candidacies (>= ``main_share`` of the
    vote) by a centred log-ratio error of sd ``final_poll_error_sigma / sqrt(n)`` when averaged
    over *n* pollsters (models/governors.toml). The forecast already spreads each state by the
    governor model's posterior and the national change of each draw (``eta``, dims
    ``(draw, state, option)``, without the state error); the state error adds what is missing,
    ``sqrt(max(0, target^2 - spread^2))``, so the total spread of a state's main candidacies
    matches the record for its number of pollsters, and never counts a part twice.
    """
    data = fit.data
    spec = fit.spec
    on = data.ballot[None]
    k = data.ballot.sum(axis=1)
    x = np.where(on, eta, 0.0)
    centred = np.where(on, eta - x.sum(axis=-1, keepdims=True) / k[None, :, None], 0.0)
    # The record's errors are centred over the compared candidacies and scaled by K / (K - 1)
    # to a per-candidacy variance; the same here.
    var = centred.var(axis=0) * (k / np.maximum(k - 1, 1))[:, None]
    expo = np.exp(np.where(on, eta - eta.max(axis=-1, keepdims=True), -np.inf))
    share = (expo / expo.sum(axis=-1, keepdims=True)).mean(axis=0)
    main = data.ballot & (share >= spec.main_share)
    main = np.where(main.any(axis=1, keepdims=True), main, data.ballot)
    spread = (var * main).sum(axis=1) / main.sum(axis=1)
    pollsters = np.array([max(1, data.pollsters_by_state.get(s, 0)) for s in data.states])
    target = spec.final_poll_error_sigma ** 2 / pollsters
    return np.sqrt(np.maximum(target - spread, 0.0))


def simulate_governors(fit: GovernorFit, national: xr.DataArray, baseline: pd.Series, *,
                       seed: int = DEFAULT_SEED, state_error_scale: float = 1.0,
                       national_now: xr.DataArray | None = None) -> xr.Dataset:
    """Election-day outcomes of every race, one per national draw.

    Parameters
    ----------
    fit
        A fitted governor model.
    national
        National shares of the valid vote by bloc, dims ``(draw, bloc)``, rows summing to 1;
        must include every bloc of the races (``jhh``, ``paf``, ``tpm``, ``other``).
    baseline
        National 2015 deputies shares for the same blocs (``GovernorRaces.national_baseline``
        is the stand-in).
    seed
        Seed of the pairing with posterior draws and of the state errors.
    state_error_scale
        Multiplies each state's own error (sensitivity studies).
    national_now
        The same national shares on the as-of date, draw by draw (before the drift and the
        election-day error): a polled state moves with the national *change* from then to
        election day. The state polls already measure the state's current support, so the
        uncertainty of the national estimate on the as-of date is not added again. Without
        it, the draw's deviation from the mean national swing is used (which double counts
        that uncertainty).

    Returns
    -------
    xarray.Dataset
        Dims ``draw`` (as ``national``), ``state``, ``candidate``, ``bloc``: ``share``
        (valid-vote share; NaN off the ballot), ``win`` (1 for the winner), ``winner``
        (candidate key per draw and state), ``count`` (states won per candidate), ``swing``
        (the draw's national swing), ``prior_weight`` (state, candidate) and ``polls_used``
        (state), ``state_error`` (state: sd of its own error). Attributes: ``as_of``, ``seed``,
        ``final_poll_error_sigma``, ``state_error_scale``,
        ``shared_error_fraction`` (JSON-able dict by bloc).
    """
    data = fit.data
    blocs = data.blocs
    _check_national(national, baseline, blocs)
    nat = national.transpose("draw", "bloc").sel(bloc=blocs).values
    D = nat.shape[0]
    swing = np.log(nat) - np.log(baseline[blocs].to_numpy(dtype=float))[None, :]
    # Softmax is invariant to a common shift: both swings are compared zero-sum over blocs.
    swing -= swing.mean(axis=1, keepdims=True)
    if national_now is not None:
        now = national_now.transpose("draw", "bloc").sel(bloc=blocs).values
        swing_now = np.log(now) - np.log(baseline[blocs].to_numpy(dtype=float))[None, :]
        centre = swing_now - swing_now.mean(axis=1, keepdims=True)
    else:
        centre = swing.mean(axis=0, keepdims=True)
    post = fit.posterior["posterior"]
    local = post["local"].stack(sample=("chain", "draw")).transpose("sample", "state", "option")
    swing_fit = post["swing"].stack(sample=("chain", "draw")).transpose("sample", "bloc")
    swing_fit = swing_fit.sel(bloc=blocs).values
    P = local.sizes["sample"]
    rng = np.random.default_rng(seed)
    # Deterministic pairing of national draws with posterior draws (with replacement only when
    # there are more national draws than posterior draws).
    pick = rng.permutation(P)[:D] if D <= P else rng.choice(P, size=D, replace=True)
    bmat = data.bloc_matrix  # (state, option, bloc)
    eta_fit = (data.log_baseline[None] + np.einsum("sob,db->dso", bmat, swing_fit[pick])
               + local.values[pick])
    w = prior_weight(fit)
    # Both swings in the same gauge (zero-sum over the blocs; the fit's has jhh = 0): their
    # difference is weighted by w, which varies within a state, so a gauge offset would not
    # cancel.
    fit_centred = swing_fit[pick] - swing_fit[pick].mean(axis=1, keepdims=True)
    to_national = np.einsum("sob,db->dso", bmat, swing - fit_centred)
    national_error = np.einsum("sob,db->dso", bmat, swing - centre)
    eta = eta_fit + w[None] * to_national + (1 - w[None]) * national_error
    state_sigma = state_error(fit, eta) * state_error_scale
    err = rng.standard_normal(eta_fit.shape) * state_sigma[None, :, None]
    eta = eta + err
    ballot = data.ballot[None]
    eta = np.where(ballot, eta, -np.inf)
    expo = np.exp(eta - eta.max(axis=-1, keepdims=True))
    share = expo / expo.sum(axis=-1, keepdims=True)
    top = share.argmax(axis=-1)
    win = np.zeros_like(share)
    np.put_along_axis(win, top[..., None], 1.0, axis=-1)
    options = np.array(data.options)
    shared = {}
    change = swing - centre
    for b, bloc in enumerate(blocs):
        # The centring over blocs is a common shift that cancels in every state's softmax: the
        # national error a candidacy carries is that of its bloc's log-share.
        national_var = float(np.var(change[:, b]))
        mean_state = float(np.mean(state_sigma**2))
        shared[bloc] = national_var / (national_var + mean_state) if mean_state > 0 else 1.0
    races = fit.races
    coords = {"draw": np.arange(D), "state": data.states, "candidate": data.options,
              "bloc": blocs,
              "state_name": ("state", [r.name for r in races.races]),
              "abbr": ("state", [r.abbr for r in races.races])}
    return xr.Dataset(
        {
            "share": (("draw", "state", "candidate"), np.where(ballot, share, np.nan)),
            "win": (("draw", "state", "candidate"), win),
            "winner": (("draw", "state"), options[top]),
            "count": (("draw", "candidate"), win.sum(axis=1)),
            "swing": (("draw", "bloc"), swing),
            "prior_weight": (("state", "candidate"), w),
            "ballot": (("state", "candidate"), data.ballot),
            "polls_used": ("state", [data.polls_by_state[s] for s in data.states]),
            "state_error": ("state", state_sigma),
        },
        coords=coords,
        attrs={"as_of": data.as_of.isoformat(), "seed": seed,
               "final_poll_error_sigma": fit.spec.final_poll_error_sigma,
               "state_error_scale": state_error_scale,
               "shared_error_fraction": shared},
    )


def governors_summary(draws: xr.Dataset) -> dict:
    """The ``governors`` block of ``summary.json``.

    Returns
    -------
    dict
        ``as_of``, ``draws``, ``shared_error_fraction``; ``states.<state>``: ``name``, ``abbr``,
        ``polls_used``, ``leader`` (highest P(win)), ``p_win.<candidate>`` (summing to 1 over
        the ballot), ``share.<candidate>`` (valid-vote share: mean, q05, q25, q50, q75, q95),
        ``interval_90.<candidate>`` (q95 - q05), ``prior_weight.<candidate>`` and
        ``state_error`` (sd of the state's own election-day error);
        ``count.<candidate>``: ``mean``, ``q05``, ``q50``, ``q95`` and ``p_at_least``
        (``p_at_least[k] = P(count >= k)``, k = 0 .. number of races). Fractions throughout.
    """
    states = [str(s) for s in draws["state"].values]
    cands = [str(c) for c in draws["candidate"].values]
    ballot = draws["ballot"].values
    n = int(draws.sizes["draw"])
    out: dict = {"as_of": draws.attrs.get("as_of"), "draws": n,
                 "shared_error_fraction": dict(draws.attrs.get("shared_error_fraction", {})),
                 "states": {}, "count": {}}
    win = draws["win"].values
    share = draws["share"].values
    for s, state in enumerate(states):
        on = [k for k in range(len(cands)) if ballot[s, k]]
        p_win = {cands[k]: float(win[:, s, k].mean()) for k in on}
        block = {
            "name": str(draws["state_name"].values[s]), "abbr": str(draws["abbr"].values[s]),
            "polls_used": int(draws["polls_used"].values[s]),
            "leader": max(p_win, key=p_win.get),
            "p_win": p_win,
            "share": {cands[k]: quantile_summary(share[:, s, k]) for k in on},
        }
        block["interval_90"] = {c: q["q95"] - q["q05"] for c, q in block["share"].items()}
        block["prior_weight"] = {cands[k]: float(draws["prior_weight"].values[s, k])
                                 for k in on}
        if "state_error" in draws:
            block["state_error"] = float(draws["state_error"].values[s])
        out["states"][state] = block
    count = draws["count"].values
    for k, c in enumerate(cands):
        if not ballot[:, k].any():
            continue
        v = count[:, k]
        q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
        out["count"][c] = {
            "mean": float(v.mean()), "q05": float(q05), "q50": float(q50), "q95": float(q95),
            "p_at_least": [float(np.mean(v >= m)) for m in range(len(states) + 1)],
        }
    return out


def states_of(block: dict) -> dict:
    """The per-state entries of a ``governors`` summary block."""
    return {k: v for k, v in block.items() if isinstance(v, dict) and "p_win" in v}
