"""The headline: the forecast in a few plain sentences, from ``summary.json`` alone.

:func:`headline_sentences` is shown at the top of the report and printed on the terminal. Every
sentence names people and coalitions (never keys); numbers are the summary's, rounded so they
never claim a certainty the draws cannot show (">99%", "<1%").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

CHAMBER_LABELS = {"deputies": "Chamber of Deputies", "senate": "Senate"}


def chance(p: float) -> str:
    """A probability as a whole percentage: "<1%" and ">99%" rather than 0% or 100% unless it
    is exactly that; NaN: "–"."""
    p = float(p)
    if math.isnan(p):
        return "–"
    if p <= 0.0:
        return "0%"
    if p >= 1.0:
        return "100%"
    value = round(100 * p)
    if value < 1:
        return "<1%"
    if value > 99:
        return ">99%"
    return f"{value}%"


def percent(x: float) -> str:
    """A share as a percentage with one decimal."""
    return f"{100 * float(x):.1f}%"


def seats_text(x: float) -> str:
    """A seat count: whole numbers without decimals, anything else with one; NaN: "–"."""
    x = float(x)
    if math.isnan(x):
        return "–"
    return f"{x:.0f}" if x.is_integer() else f"{x:.1f}"


def _name(names: Mapping[str, Mapping[str, str]] | None, group: str, key: str,
          fallback: str | None = None) -> str:
    found = (names or {}).get(group, {}).get(key)
    return found or fallback or key


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def headline_sentences(summary: dict, names: Mapping[str, Mapping[str, str]] | None = None
                       ) -> list[str]:
    """The forecast's headline, one plain-text sentence per fact.

    Parameters
    ----------
    summary
        ``summary.json`` (:attr:`forecast.engine.Forecast.summary`).
    names
        Optional display names by group: ``{"candidates": {key: name}, "coalitions": {...},
        "governors": {candidacy key: name}}`` (:func:`display_names` builds it from a forecast).
        Without it, candidates and coalitions take the names in the summary; governor
        candidacies take the coalition name of the same key, else the key.

    Returns
    -------
    list of str
        Who leads and P(win); per chamber, each coalition's median seats, P(majority) and
        P(two-thirds); P(the president's coalition holds two thirds of both chambers);
        the governorships; as-of date and polls used; convergence.
    """
    out: list[str] = []
    cands = summary.get("candidates") or {}
    ranked = sorted(cands.items(), key=lambda kv: -kv[1]["p_win"])
    if ranked:
        key, c = ranked[0]
        name = _name(names, "candidates", key, c.get("name"))
        sv = c["share_valid"]
        text = (f"{name} leads the presidential race with a {chance(c['p_win'])} chance of "
                f"winning and a median {percent(sv['q50'])} of the valid vote (90% interval "
                f"{percent(sv['q05'])}–{percent(sv['q95'])})")
        if len(ranked) > 1:
            key2, c2 = ranked[1]
            text += (f"; {_name(names, 'candidates', key2, c2.get('name'))} follows with "
                     f"{chance(c2['p_win'])}")
        out.append(text + ".")
    chambers = summary.get("chambers") or {}
    for chamber, label in CHAMBER_LABELS.items():
        block = chambers.get(chamber)
        if not block:
            continue
        parts = []
        items = sorted(block["coalitions"].items(), key=lambda kv: -kv[1]["seats"]["q50"])
        for key, e in items:
            s = e["seats"]
            cname = _name(names, "coalitions", key, e.get("name"))
            parts.append(f"{cname} {seats_text(s['q50'])} ({round(s['q05'])}–{round(s['q95'])}), "
                         f"P(majority) {chance(e['p_majority'])}, P(two thirds) "
                         f"{chance(e['p_two_thirds'])}")
        out.append(f"{label} ({block['total']} seats; majority {block['majority']}, two thirds "
                   f"{block['two_thirds']}), median seats and 90% interval: "
                   + "; ".join(parts) + ".")
    if "president_both_two_thirds" in chambers:
        text = (f"The president's coalition wins two thirds of both chambers (the majority "
                f"that amends the constitution) in {chance(chambers['president_both_two_thirds'])}"
                " of the simulations")
        if "president_both_majority" in chambers:
            text += (f", and a simple majority of both in "
                     f"{chance(chambers['president_both_majority'])}")
        out.append(text + ".")
    governors = summary.get("governors") or {}
    counts = governors.get("count") or {}
    if counts:
        n_races = len([k for k, v in governors.items() if isinstance(v, dict) and "p_win" in v])
        coalition_names = {k: e.get("name") for ch in CHAMBER_LABELS
                           for k, e in (chambers.get(ch) or {}).get("coalitions", {}).items()}
        shown = sorted(((k, v) for k, v in counts.items() if v["mean"] >= 0.05),
                       key=lambda kv: -kv[1]["mean"])
        parts = [f"{_name(names, 'governors', k, coalition_names.get(k))} "
                 f"{seats_text(v['q50'])} ({round(v['q05'])}–{round(v['q95'])})"
                 for k, v in shown]
        out.append(f"Governorships won of the {n_races} races (median and 90% interval): "
                   f"{_join(parts)}.")
    polls = summary.get("polls") or {}
    extra = [f"{p['used']} {label}" for stage, label in (("congress", "party polls"),
                                                        ("governors", "state polls"))
             if (p := polls.get(stage))]
    out.append(f"Forecast as of {summary['as_of']} (election day {summary['election_day']}) "
               f"from {summary['polls_used']} presidential polls"
               + (f", {_join(extra)}" if extra else "") + ".")
    fits = [("presidential", summary.get("diagnostics") or {}),
            ("party-poll", chambers.get("party_poll_fit") or {}),
            ("state-poll", governors.get("diagnostics") or {})]
    fits = [(label, d) for label, d in fits if d]
    bad = [label for label, d in fits if not d.get("converged", True)]
    rhat = max((float(d.get("max_rhat", float("nan"))) for _, d in fits), default=float("nan"))
    if bad:
        out.append(f"WARNING: the {_join(bad)} fit{'s' if len(bad) > 1 else ''} did not "
                   f"converge (max R-hat {rhat:.3f}): do not publish these numbers.")
    else:
        out.append(f"All {len(fits)} model fits converged (max R-hat {rhat:.3f}).")
    return out


def display_names(forecast) -> dict[str, dict[str, str]]:
    """Names for :func:`headline_sentences` from a forecast's election files: candidates (short
    name, else name), coalitions, governor candidacies."""
    election = forecast.election
    out: dict[str, dict[str, str]] = {
        "candidates": {c.key: c.name for c in election.candidates},
        "coalitions": {k: c.name for k, c in election.coalitions.items()},
    }
    if "congress" in forecast.results:
        definition = forecast.inputs.stage("congress").definition
        out["coalitions"].update({k: r.name for k, r in definition.coalitions.items()})
    if "governors" in forecast.results:
        races = forecast.inputs.stage("governors").races
        out["governors"] = {k: s.name for k, s in getattr(races, "candidacies", {}).items()}
    return out
