"""Synthetic elections drawn from the model's own generative process (tests, calibration).

A synthetic election is a folder with ``election.toml`` and ``president.csv``, plus the true
values it was drawn from, so a fit can be checked against the truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class SyntheticTruth:
    """True values a synthetic poll file was drawn from."""

    candidates: list[str]
    ballot: list[str]
    support_at_last_poll: dict[str, float]
    election_day_share: dict[str, float]
    house_effect: pd.DataFrame  # pollster x candidate (log-share scale, zero-sum)
    random_walk_sd: float
    as_of: dt.date


def _zero_sum(rng: np.random.Generator, shape: tuple[int, ...], axes: tuple[int, ...]
              ) -> np.ndarray:
    x = rng.normal(size=shape)
    for ax in axes:
        x = x - x.mean(axis=ax, keepdims=True)
    return x


def write_synthetic_election(directory: str | Path, *, seed: int = 1, n_polls: int = 60,
                             days: int = 120, n_pollsters: int = 6,
                             random_walk_sd: float = 0.015, house_sd: float = 0.12,
                             concentration: float = 400.0, polling_error_sigma: float = 0.0,
                             horizon_days: int = 5) -> SyntheticTruth:
    """Draw a small election (3 candidates on the ballot + one who withdraws) and its polls.

    The candidates are ``ana``, ``bruno`` and ``carla`` (coalitions ``red``, ``blue``,
    ``green``) and ``dario``, who withdraws at two thirds of the campaign. Pollsters have
    zero-sum house effects; counts are Dirichlet-multinomial; a third of the polls are published
    on the effective basis; some lack a sample size.
    """
    rng = np.random.default_rng(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    candidates = ["ana", "bruno", "carla", "dario"]
    start = dt.date(2030, 1, 1)
    election_day = start + dt.timedelta(days=days + horizon_days)
    withdraw = start + dt.timedelta(days=2 * days // 3)
    K = len(candidates)
    base = np.log(np.array([0.38, 0.30, 0.22, 0.10]))
    base = base - base.mean()
    # The model's own process: a walk on weekly knots back from election day, linearly
    # interpolated to days (day index 0 = start; the last index is election day).
    step_days = 7
    total_days = days + horizon_days
    n_knots = total_days // step_days + 2
    steps = rng.normal(size=(n_knots - 1, K)) * random_walk_sd * np.sqrt(step_days)
    knots = base - np.concatenate([np.cumsum(steps[::-1], axis=0)[::-1], np.zeros((1, K))])
    knot_day = total_days - step_days * np.arange(n_knots - 1, -1, -1)
    latent = np.stack([np.interp(np.arange(total_days + 1), knot_day, knots[:, k])
                       for k in range(K)], axis=1)
    pollsters = [f"Pollster {chr(65 + j)}" for j in range(n_pollsters)]
    house = _zero_sum(rng, (n_pollsters, K), (0, 1)) * house_sd
    modes = ["face_to_face", "online", "ivr"]
    rows = []
    used: set[tuple[int, int, int]] = set()
    for i in range(n_polls):
        j = i % n_pollsters
        end_day = int(rng.integers(3, days))
        length = int(rng.integers(1, 4))
        while (j, end_day, length) in used:  # one poll per pollster and fieldwork
            end_day = int(rng.integers(3, days))
        used.add((j, end_day, length))
        mid = max(0, end_day - length // 2)
        offered = np.ones(K, bool)
        field_end = start + dt.timedelta(days=end_day)
        if field_end - dt.timedelta(days=length) > withdraw:
            offered[3] = False
        eta = latent[mid] + house[j]
        p = np.exp(eta - eta.max()) * offered
        p = p / p.sum()
        n = int(rng.choice([600, 800, 1000, 1200, 2000]))
        undecided = float(rng.uniform(0.08, 0.25))
        n_dec = int(round(n * (1 - undecided)))
        alpha = rng.dirichlet(np.where(offered, p * concentration, 1e-9) + 1e-12)
        counts = rng.multinomial(n_dec, alpha / alpha.sum())
        effective = i % 3 == 2
        row = {
            "pollster": pollsters[j],
            "field_start": (field_end - dt.timedelta(days=length - 1)).isoformat(),
            "field_end": field_end.isoformat(), "published": "",
            "sample_size": "" if i % 11 == 5 else n, "mode": modes[j % len(modes)],
            "basis": "effective" if effective else "raw", "partial": "",
        }
        if effective:
            shares = 100 * counts / counts.sum()
            und = ""
        else:
            shares = 100 * counts / n
            und = round(100 - sum(round(s, 1) for s in shares[offered]), 1)
        for k, c in enumerate(candidates):
            row[c] = round(float(shares[k]), 1) if offered[k] else ""
        row["other"] = ""
        row["undecided"] = und
        rows.append(row)
    frame = pd.DataFrame(rows).sort_values("field_end")
    frame.to_csv(directory / "president.csv", index=False)
    as_of = pd.to_datetime(frame["field_end"]).max().date()
    last = (as_of - start).days
    error = _zero_sum(rng, (K,), (0,)) * polling_error_sigma
    eta_e = latent[total_days] + error
    ballot = candidates[:3]
    share_e = np.exp(eta_e[:3] - eta_e[:3].max())
    share_e = share_e / share_e.sum()
    now = np.exp(latent[last][:3])
    now = now / now.sum()
    toml = f'''key = "synthetic"
name = "Synthetic election (seed {seed})"
election_day = {election_day.isoformat()}
campaign_start = {start.isoformat()}
poll_file = "president.csv"
default_sample_size = 800
default_undecided_share = 0.15

[coalitions.red]
name = "Red"
parties = ["r"]

[coalitions.blue]
name = "Blue"
parties = ["b"]

[coalitions.green]
name = "Green"
parties = ["g"]

[coalitions.independent]
name = "Independent"

[[candidates]]
key = "ana"
name = "Ana Alvarado"
coalition = "red"

[[candidates]]
key = "bruno"
name = "Bruno Beltrán"
coalition = "blue"

[[candidates]]
key = "carla"
name = "Carla Castro"
coalition = "green"

[[candidates]]
key = "dario"
name = "Darío Durán"
coalition = "independent"
available_until = {withdraw.isoformat()}
'''
    (directory / "election.toml").write_text(toml, encoding="utf-8")
    return SyntheticTruth(
        candidates=candidates, ballot=ballot,
        support_at_last_poll=dict(zip(ballot, now.tolist(), strict=True)),
        election_day_share=dict(zip(ballot, share_e.tolist(), strict=True)),
        house_effect=pd.DataFrame(house, index=pollsters, columns=candidates),
        random_walk_sd=random_walk_sd, as_of=as_of,
    )
