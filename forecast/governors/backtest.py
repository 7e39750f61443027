"""Score governor-race draws against the official results (backtests and tests only).

Results file (CSV, UTF-8): ``state, candidate, candidacy, votes``: one row per candidacy on the
ballot, ``candidate`` being the race's candidate key; the valid vote of a state is the sum of its
rows. The forecast never reads it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import xarray as xr

from ..election import show_value
from ..files import read_csv_rows, whole_number
from ..problems import InputError, Problem
from ..scoring import interval_block
from .races import GovernorRaces

REQUIRED_COLUMNS = ("state", "candidate", "votes")
#: Candidacies with at least this actual share are scored apart (``coverage_*_main``): the
#: log-share scale gives minor candidacies (1-5%) intervals that are narrow in points.
MAIN_SHARE = 0.10


def load_governor_results(path: str | Path, races: GovernorRaces) -> dict[str, dict[str, int]]:
    """Read the official governor results: ``{state: {candidate: votes}}``.

    Raises
    ------
    InputError
        Unknown states or candidates, bad vote counts, a race missing or listed twice, each as
        ``FILE:LINE:COLUMN: message``.
    """
    path = Path(path)
    shown = str(path)
    problems: list[Problem] = []
    # The project's CSV reader: unreadable, binary or malformed files give FILE:LINE messages.
    rows = read_csv_rows(path, problems, required=REQUIRED_COLUMNS, lower=True,
                         missing="results file not found")
    if rows is None:
        raise InputError(problems)
    out: dict[str, dict[str, int]] = {}
    for line, values in rows:
        rec = {k: v.strip() for k, v in values.items()}
        state, cand = rec["state"], rec["candidate"]
        if state not in races.states:
            problems.append(Problem(shown, line, "state", f"{show_value(state)} is not a race "
                                    f"(states: {', '.join(races.states)})"))
            continue
        race = races.race(state)
        if cand not in race.keys:
            problems.append(Problem(shown, line, "candidate", f"{show_value(cand)} is not a "
                                    f"candidate in {state} ({', '.join(race.keys)})"))
            continue
        if whole_number(rec["votes"]) is None:
            problems.append(Problem(shown, line, "votes", f"{show_value(rec['votes'])}: "
                                    "expected a whole number of votes"))
            continue
        if cand in out.setdefault(state, {}):
            problems.append(Problem(shown, line, "candidate", f"{show_value(cand)} listed twice "
                                    f"for {state}"))
            continue
        out[state][cand] = int(rec["votes"])
    for state in races.states:
        if not out.get(state) or sum(out[state].values()) == 0:
            problems.append(Problem(shown, 0, "state", f"no votes for {state}"))
    if problems:
        raise InputError(problems)
    return out


def backtest_governors(draws: xr.Dataset, results: dict[str, dict[str, int]]) -> dict:
    """Score simulated governor outcomes against official results.

    Parameters
    ----------
    draws
        Output of :func:`~forecast.governors.simulate.simulate_governors`.
    results
        ``{state: {candidate: votes}}`` (:func:`load_governor_results`); states of ``draws``
        missing from it are skipped.

    Returns
    -------
    dict
        ``states.<state>``: ``actual_winner``, ``p_actual_winner``, ``forecast_leader``,
        ``brier`` (``sum_k (p_k - o_k)^2`` over the ballot, o = 1 for the winner),
        ``shares.<candidate>`` (:func:`forecast.scoring.interval_block`: ``actual``, ``mean``,
        ``q05 … q95``, ``error``, ``in_50``, ``in_80``, ``in_90``: actual share of the valid vote
        inside the central 50% / 80% / 90% interval, bounds included, and the interval scores
        ``is_50``, ``is_80``, ``is_90``). Overall: ``n_states``, ``n_winner_p_ge_half`` (races whose
        actual winner had P(win) >= 0.5), ``n_leader_correct``, ``brier`` (mean over races),
        ``log_score`` (mean natural log of P(actual winner), floored at 1/(2 n_draws)),
        ``coverage_50``, ``coverage_90`` (fractions of (state, candidate) pairs), ``n_shares``,
        ``coverage_50_main``, ``coverage_90_main``, ``n_shares_main`` (the same over candidacies
        with an actual share of at least ``MAIN_SHARE``),
        and ``count_actual.<candidate>`` with ``p_actual`` (P(count = actual)).
    """
    states = [str(s) for s in draws["state"].values]
    cands = [str(c) for c in draws["candidate"].values]
    n = int(draws.sizes["draw"])
    win = draws["win"].values
    share = draws["share"].values
    ballot = draws["ballot"].values
    floor = 1.0 / (2 * n)
    out: dict = {"states": {}}
    briers, logs, in50, in90, main50, main90 = [], [], [], [], [], []
    actual_count = {c: 0 for c in cands}
    for s, state in enumerate(states):
        if state not in results:
            continue
        votes = results[state]
        on = [k for k in range(len(cands)) if ballot[s, k]]
        unknown = [c for c in votes if c not in cands or not ballot[s, cands.index(c)]]
        if unknown:
            raise ValueError(f"{state}: result lists {unknown}, not on the forecast ballot")
        total = sum(votes.values())
        top = max(votes.values())
        winners = [c for c, v in votes.items() if v == top]
        p = {cands[k]: float(win[:, s, k].mean()) for k in on}
        outcome = {c: (1.0 / len(winners) if c in winners else 0.0) for c in p}
        brier = float(sum((p[c] - outcome[c]) ** 2 for c in p))
        p_actual = float(sum(p[w] for w in winners))
        block: dict = {"actual_winner": "=".join(winners), "p_actual_winner": p_actual,
                       "forecast_leader": max(p, key=p.get), "brier": brier, "shares": {}}
        for k in on:
            c = cands[k]
            actual = votes.get(c, 0) / total
            block["shares"][c] = interval_block(share[:, s, k], actual)
            b50, b90 = block["shares"][c]["in_50"], block["shares"][c]["in_90"]
            in50.append(b50)
            in90.append(b90)
            if actual >= MAIN_SHARE:
                main50.append(b50)
                main90.append(b90)
        for w in winners:
            actual_count[w] += 1 / len(winners)
        briers.append(brier)
        logs.append(math.log(max(p_actual, floor)))
        out["states"][state] = block
    if not briers:
        raise ValueError("no state of the draws has a result")
    blocks = out["states"].values()
    count = draws["count"].values
    out.update({
        "n_states": len(briers),
        "n_winner_p_ge_half": sum(b["p_actual_winner"] >= 0.5 for b in blocks),
        "n_leader_correct": sum(b["forecast_leader"] in b["actual_winner"].split("=")
                                for b in blocks),
        "brier": float(np.mean(briers)),
        "log_score": float(np.mean(logs)),
        "coverage_50": float(np.mean(in50)),
        "coverage_90": float(np.mean(in90)),
        "n_shares": len(in90),
        "coverage_50_main": float(np.mean(main50)) if main50 else float("nan"),
        "coverage_90_main": float(np.mean(main90)) if main90 else float("nan"),
        "n_shares_main": len(main90),
        "n_draws": n,
        "count_actual": {c: {"actual": v, "p_actual": float(np.mean(
            np.isclose(count[:, cands.index(c)], v)))} for c, v in actual_count.items()
            if v or ballot[:, cands.index(c)].any()},
    })
    return out
