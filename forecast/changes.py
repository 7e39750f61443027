"""What changed between two forecasts: the before -> after table ``forecast update`` prints."""

from __future__ import annotations


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _seats(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def change_table(before: dict | None, after: dict) -> list[str]:
    """Lines comparing two ``summary.json`` documents: P(win) and median share of each candidate,
    each coalition's median seats and P(two thirds) per chamber, the president's coalition's
    P(two thirds) of both chambers, and each governor race's favourite."""
    before = before or {}
    lines = [f"{'':<34}{'before':>12}{'after':>12}",
             f"{'as of':<34}{before.get('as_of', '—'):>12}{after['as_of']:>12}"]
    names = {k: c.get("name", k) for k, c in after["candidates"].items()}
    old = before.get("candidates", {})
    for key, c in sorted(after["candidates"].items(), key=lambda kv: -kv[1]["p_win"]):
        b = old.get(key, {})
        lines.append(f"{names[key][:22] + ' P(win)':<34}{_pct(b.get('p_win')):>12}"
                     f"{_pct(c['p_win']):>12}")
        lines.append(f"{names[key][:22] + ' share':<34}"
                     f"{_pct(b.get('share_valid', {}).get('q50')):>12}"
                     f"{_pct(c['share_valid']['q50']):>12}")
    chambers = after.get("chambers")
    if chambers:
        for chamber in ("deputies", "senate"):
            block = chambers.get(chamber, {})
            prev = before.get("chambers", {}).get(chamber, {})
            for key, c in block.get("coalitions", {}).items():
                p = prev.get("coalitions", {}).get(key, {})
                label = f"{c.get('name', key)[:18]} {chamber}"
                lines.append(f"{label + ' seats':<34}{_seats(p.get('seats', {}).get('q50')):>12}"
                             f"{_seats(c['seats']['q50']):>12}")
                lines.append(f"{label + ' P(2/3)':<34}{_pct(p.get('p_two_thirds')):>12}"
                             f"{_pct(c['p_two_thirds']):>12}")
        both = chambers.get("president_both_two_thirds")
        if both is not None:
            prev = before.get("chambers", {}).get("president_both_two_thirds")
            lines.append(f"{'president: 2/3 of both chambers':<34}{_pct(prev):>12}"
                         f"{_pct(both):>12}")
    governors = after.get("governors")
    if governors:
        prev = before.get("governors", {})
        for state, v in governors.items():
            if not (isinstance(v, dict) and "p_win" in v):
                continue
            lead = max(v["p_win"], key=v["p_win"].get)
            old_state = prev.get(state, {})
            old_lead = (max(old_state["p_win"], key=old_state["p_win"].get)
                        if old_state.get("p_win") else None)
            before_text = (f"{old_lead} {_pct(old_state['p_win'][old_lead])}" if old_lead
                           else "—")
            lines.append(f"{v.get('name', state)[:22] + ' governor':<34}{before_text:>12}"
                         f"{lead + ' ' + _pct(v['p_win'][lead]):>12}")
    return lines
