"""The governor races' state-level election-day error, measured on the races of 2010-2017.

For each race with published polls (polls/mx-record/governors): the last release of each
pollster dated within 60 days of the election that names the first two finishers; releases
renormalised over the candidacies all of them name, averaged; compared with the official shares
of the valid vote as centred log-ratio errors ``c`` (as docs/polling-error.md does for the
presidency). The error shrinks with the number of pollsters averaged (house effects, which the
governor model estimates, cancel). In races averaged over three or more pollsters what is left
is:

* ``shared``: the part common to the races of one year and one party family (from the mean
  product of errors of the same family in different states of the same year) -- in a forecast
  it comes with each draw's national vote;
* ``state``: the rest, each race's own error (late swing included: state polls are few and
  weeks old).

One figure summarises them: ``final_poll_error_sigma`` (models/governors.toml), the error sd
of a final poll average over one pollster, sigma / sqrt(n) over n.

    .venv/bin/python benchmarks/governor_error_calibration.py [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

RECORD = Path(__file__).resolve().parents[1] / "polls" / "mx-record" / "governors"
#: Election days of the ordinary state elections (Colima's extraordinary race: 17 Jan 2016).
ELECTION_DAYS = {2010: "2010-07-04", 2011: "2011-07-03", 2012: "2012-07-01",
                 2013: "2013-07-07", 2015: "2015-06-07", 2016: "2016-06-05",
                 2017: "2017-06-04"}
SPECIAL_DAYS = {(2016, "col"): "2016-01-17", (2011, "mex"): "2011-07-03"}


def _date(row: pd.Series, election_day: dt.date) -> dt.date | None:
    for col in ("published", "field_end"):
        text = str(row[col]) if pd.notna(row[col]) else ""
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    for col in ("published", "field_end"):
        text = str(row[col]) if pd.notna(row[col]) else ""
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return min(dt.date.fromisoformat(text + "-15"), election_day - dt.timedelta(1))
    return None


def _family(candidacy: str) -> str:
    return candidacy.split("-")[0]


def race_errors(max_days: int = 60) -> list[dict]:
    """One row per compared candidacy of each race with final polls."""
    polls = pd.read_csv(RECORD / "governor_polls_2010_2017.csv", dtype=str,
                        keep_default_na=False)
    results = pd.read_csv(RECORD / "governor_results_2010_2017.csv", keep_default_na=False)
    out = []
    for (year, state), res in results.groupby(["year", "state"]):
        res = res[~res["candidacy"].isin(["null", "unregistered"])]
        res = res[pd.to_numeric(res["votes"], errors="coerce").notna()]
        votes = dict(zip(res["candidacy"], pd.to_numeric(res["votes"]), strict=True))
        if len(votes) < 2:
            continue
        share = {c: v / sum(votes.values()) for c, v in votes.items()}
        top2 = sorted(share, key=share.get, reverse=True)[:2]
        day = dt.date.fromisoformat(SPECIAL_DAYS.get((year, state), ELECTION_DAYS[year]))
        race = polls[(polls["year"] == str(year)) & (polls["state"] == state)]
        last: dict[str, tuple[dt.date, dict]] = {}
        for key, release in race.groupby(["pollster", "field_start", "field_end", "published"]):
            items = {r.candidacy: float(r.share) for r in release.itertuples()
                     if r.candidacy not in ("undecided", "other")}
            when = _date(release.iloc[0], day)
            if not all(c in items for c in top2) or when is None:
                continue
            if (day - when).days > max_days:
                continue
            pollster = key[0]
            if pollster not in last or when >= last[pollster][0]:
                last[pollster] = (when, items)
        if not last:
            continue
        common = set.intersection(*[set(items) for _, items in last.values()]) & set(share)
        common = sorted(common)
        k = len(common)
        if k < 2:
            continue
        avg = {c: np.mean([items[c] / sum(items[x] for x in common)
                           for _, items in last.values()]) for c in common}
        total = sum(share[c] for c in common)
        lr = {c: np.log(avg[c] * total / share[c]) for c in common}
        mean = np.mean(list(lr.values()))
        for c in common:
            out.append({"year": int(year), "state": state, "candidacy": c,
                        "family": _family(c), "share": share[c], "clr_error": lr[c] - mean,
                        "k": k, "pollsters": len(last),
                        "days": float(np.mean([(day - w).days for w, _ in last.values()]))})
    return out


def decompose(rows: list[dict], main_share: float = 0.10, well_polled: int = 3) -> dict:
    """The error of the main candidacies: by number of pollsters, its part shared across a
    year's races, and the state error of well-polled races."""
    main = [r for r in rows if r["share"] >= main_share]

    def sd(group: list[dict]) -> float:
        return float(np.sqrt(np.mean([r["clr_error"] ** 2 * r["k"] / (r["k"] - 1)
                                      for r in group]))) if group else float("nan")

    by_pollsters = {n: (len(g), sd(g)) for n in sorted({r["pollsters"] for r in main})
                    if (g := [r for r in main if r["pollsters"] == n])}
    well = [r for r in main if r["pollsters"] >= well_polled]
    # Shared part: errors of one party family in different states of the same year.
    by_key = defaultdict(list)
    for r in main:
        by_key[(r["year"], r["family"])].append(r)
    products = [a["clr_error"] * b["clr_error"] for group in by_key.values()
                for a, b in itertools.combinations(group, 2) if a["state"] != b["state"]]
    shared = max(float(np.mean(products)), 0.0) if products else 0.0
    well_sd = sd(well)
    # A race averaged over several pollsters: house effects mostly cancel, what is left is the
    # race's own error (late swing included) and the part shared with the year's other races.
    state = float(np.sqrt(max(well_sd**2 - shared, 0.0)))
    # One figure for every number of pollsters: error sd = sigma / sqrt(n) (house effects
    # cancel like independent errors), sigma^2 = mean(n * error^2) (models/governors.toml).
    per_pollster = float(np.sqrt(np.mean([r["clr_error"] ** 2 * r["k"] / (r["k"] - 1)
                                          * r["pollsters"] for r in main]))) if main else 0.0
    return {"total_sd": sd(main), "final_poll_error_sigma": per_pollster, "n": len(main),
            "by_pollsters": by_pollsters,
            "well_polled_sd": well_sd, "well_polled_n": len(well),
            "shared_sd": float(np.sqrt(shared)), "pairs": len(products), "state_sd": state,
            "shared_fraction": shared / max(well_sd**2, 1e-12),
            "races": len({(r["year"], r["state"]) for r in main})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = race_errors()
    d = decompose(rows)
    print(f"{d['races']} races, {d['n']} candidacies with >= 10%: error sd {d['total_sd']:.3f}")
    for n, (count, value) in d["by_pollsters"].items():
        print(f"  averaged over {n} pollster(s): {count} candidacies, sd {value:.3f}")
    print(f"  races with >= 3 pollsters: sd {d['well_polled_sd']:.3f} ({d['well_polled_n']}); "
          f"shared by a party family across a year's races: sd {d['shared_sd']:.3f} "
          f"({d['pairs']} pairs, {100 * d['shared_fraction']:.0f}% of it)")
    print(f"  each race's own error beyond the shared part: sd {d['state_sd']:.3f}")
    print(f"  one figure for n pollsters, sigma / sqrt(n): final_poll_error_sigma = "
          f"{d['final_poll_error_sigma']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"decomposition": d, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
