"""The election-day polling error, fitted to the record of past elections.

The model's election-day error on a candidate's log-share is ``sigma_k * z`` with
``sigma_k = sigma * (share_k / reference_share) ** -exponent`` (small candidates err more, in
relative terms) and ``log sigma ~ Normal(log sigma_hat, log_sd)`` (three or four elections
cannot pin sigma down). This module estimates ``sigma_hat``, ``log_sd`` and ``exponent`` from
the errors the model itself made in past elections (benchmarks/polling_error_calibration.py
measures them): for each election the centred log-ratio errors ``c`` of the result against the
model's latent support on its last as-of date, whose covariance is ``P D P`` with
``D = diag(sigma_k^2 + v_k^2)`` (``v_k``: the model's own posterior sd, which the fitted draws
already carry) and ``P`` the centring matrix. ``sigma_hat`` and ``exponent`` maximise the
likelihood (with a weak N(0, 0.5) prior on the exponent); ``log_sd`` is the standard error of
``log sigma_hat`` from the curvature of the log-likelihood. docs/calibration.md has the figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import optimize


@dataclass(frozen=True)
class ErrorScale:
    """A fitted election-day error scale."""

    sigma: float  # at the reference share
    log_sd: float  # standard error of log(sigma)
    exponent: float  # size exponent
    reference_share: float
    elections: tuple[str, ...]
    values: int  # candidate errors used
    dof: int  # sum over elections of (K - 1)


def _election_loglik(c: np.ndarray, share: np.ndarray, post_sd: np.ndarray, log_sigma: float,
                     exponent: float, reference: float) -> float:
    k = len(c)
    sd = np.exp(log_sigma) * (np.maximum(share, 0.005) / reference) ** (-exponent)
    d = np.diag(sd**2 + post_sd**2)
    p = np.eye(k) - 1.0 / k
    cov = (p @ d @ p)[: k - 1, : k - 1]
    x = c[: k - 1]
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        return -np.inf
    return float(-0.5 * (logdet + x @ np.linalg.solve(cov, x) + (k - 1) * np.log(2 * np.pi)))


def fit_error_scale(rows: Iterable[dict], *, reference_share: float = 0.30,
                    exponent_prior_sd: float = 0.5) -> ErrorScale:
    """Fit the error scale to rows of benchmarks/polling_error_calibration.py.

    Parameters
    ----------
    rows
        One per candidate: ``election``, ``clr_error``, ``model_share``, ``posterior_sd``.
    reference_share
        The share at which ``sigma`` applies.
    exponent_prior_sd
        Sd of the N(0, .) prior on the size exponent (weak: three elections have few small
        candidates).
    """
    by_election: dict[str, list[dict]] = {}
    for row in rows:
        by_election.setdefault(row["election"], []).append(row)
    groups = [(np.array([r["clr_error"] for r in g]), np.array([r["model_share"] for r in g]),
               np.array([r["posterior_sd"] for r in g])) for g in by_election.values()]

    def negative(theta: np.ndarray) -> float:
        log_sigma, exponent = theta
        total = sum(_election_loglik(c, s, v, log_sigma, exponent, reference_share)
                    for c, s, v in groups)
        return -(total - 0.5 * (exponent / exponent_prior_sd) ** 2)

    best = optimize.minimize(negative, x0=np.array([np.log(0.12), 0.1]), method="Nelder-Mead",
                             options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
    log_sigma, exponent = best.x
    h = 1e-3
    curvature = (negative(best.x + [h, 0]) - 2 * negative(best.x)
                 + negative(best.x - [h, 0])) / h**2
    log_sd = float(1 / np.sqrt(curvature)) if curvature > 0 else float("nan")
    return ErrorScale(sigma=float(np.exp(log_sigma)), log_sd=log_sd, exponent=float(exponent),
                      reference_share=reference_share, elections=tuple(by_election),
                      values=sum(len(c) for c, _, _ in groups),
                      dof=sum(len(c) - 1 for c, _, _ in groups))


def leave_one_out(rows: list[dict], **kwargs) -> dict[str, ErrorScale]:
    """The scale fitted without each election in turn (for backtests of that election)."""
    elections = sorted({r["election"] for r in rows})
    return {e: fit_error_scale([r for r in rows if r["election"] != e], **kwargs)
            for e in elections}
