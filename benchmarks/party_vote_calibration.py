"""The Congress vote model's error terms, measured on Mexican elections before 2018.

Prints (and with ``--json`` writes) the figures models/congress.toml cites:

* **small-party term and party error** (2009, 2015 midterms): the last two weeks' average of the
  national party-preference polls against the federal-deputies result. ``log(result / poll)``
  of each party, centred within the election, regressed on its centred log poll share: the
  slope (small parties are under-stated by the polls) and the residual sd (each party's own
  election-day error);
* **ticket splitting** (2000, 2006, 2012): log of a coalition's deputies vote over its
  presidential candidate's vote, the major coalitions: its spread;
* **independents** (2015): the independents' share of the valid deputies vote;
* **Senate races** (2006, 2012): a state's Senate bloc shares against its deputies bloc shares,
  residual sd over sqrt(p (1 - p)): the ``senate_noise_k`` of the seat model.

    .venv/bin/python benchmarks/party_vote_calibration.py [--json out.json]

Data: polls/mx-record/party (sources in its README.md). 2018 is not used: it is the election
the shipped settings forecast (docs/calibration.md shows it as an out-of-sample check).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

RECORD = Path(__file__).resolve().parents[1] / "polls" / "mx-record" / "party"
MIDTERMS = {2009: dt.date(2009, 7, 5), 2015: dt.date(2015, 6, 7)}
NOT_PARTIES = {"independent", "other", "undecided"}
META = {"pollster", "field_start", "field_end", "published", "sample_size", "mode", "basis",
        "partial", "source"}


def _date(row: pd.Series) -> dt.date | None:
    for col in ("published", "field_end"):
        text = str(row.get(col, "") or "")
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    return None


def final_poll_average(year: int, days: int = 14) -> pd.Series:
    """Each party's mean share (renormalised over the parties each poll gives) in the complete
    polls of the last ``days`` days before the election."""
    polls = pd.read_csv(RECORD / f"party_polls_{year}.csv", dtype=str, keep_default_na=False)
    day = MIDTERMS[year]
    parties = [c for c in polls.columns if c not in META | NOT_PARTIES]
    rows = []
    for _, row in polls.iterrows():
        when = _date(row)
        if when is None or not (day - dt.timedelta(days) <= when < day):
            continue
        if row.get("partial", "") in ("1", "true"):
            continue
        shares = pd.to_numeric(row[parties].replace("", np.nan))
        rows.append(shares / shares.sum())
    return pd.DataFrame(rows).mean()


def deputies_result(year: int, parties: list[str]) -> pd.Series:
    """Valid-vote shares of ``parties``; a combination ballot (``coal_a_b``) is split equally
    between its parties (the legal rule, LGIPE art. 311)."""
    table = pd.read_csv(RECORD / f"deputies_national_{year}.csv", keep_default_na=False)
    votes = dict(zip(table["party"], table["votes"], strict=True))
    # A poll column for a coalition (coal_pt_convergencia, 2009) holds its parties' votes.
    holder = {m: p for p in parties if p.startswith("coal_") for m in p[5:].split("_")}
    out = {p: float(votes.get(p, 0)) for p in parties}
    for key, value in votes.items():
        if key in holder:
            out[holder[key]] += value
        elif key.startswith("coal_") and key not in parties:
            members = [holder.get(m, m) for m in key[5:].split("_")]
            members = [m for m in dict.fromkeys(members) if m in parties]
            for m in members:
                out[m] += value / len(members)
    series = pd.Series(out)
    return series / series.sum()


def small_party_term() -> dict:
    """Slope of the centred log(result / poll) on the centred log poll share, and the residual
    sd, pooled over the midterms."""
    xs, ys, rows = [], [], []
    for year in MIDTERMS:
        poll = final_poll_average(year).dropna()
        result = deputies_result(year, list(poll.index))
        r = np.log(result / poll)
        x = np.log(poll)
        xs.append(x - x.mean())
        ys.append(r - r.mean())
        rows += [{"year": year, "party": p, "poll": float(poll[p]), "result": float(result[p]),
                  "log_ratio": float(r[p])} for p in poll.index]
    x, y = np.concatenate(xs), np.concatenate(ys)
    slope = float(np.sum(x * y) / np.sum(x * x))
    resid = y - slope * x
    dof = len(y) - len(MIDTERMS) - 1
    return {"slope": slope, "residual_sd": float(np.sqrt(np.sum(resid**2) / dof)),
            "n": len(y), "rows": rows}


def ticket_splitting() -> dict:
    """Log of each major coalition's deputies vote over its presidential candidate's vote."""
    rows = []
    for year in (2000, 2006, 2012):
        pres = pd.read_csv(RECORD / f"president_national_{year}.csv", keep_default_na=False)
        dep = pd.read_csv(RECORD / f"deputies_national_{year}.csv", keep_default_na=False)
        dep_votes = dict(zip(dep["party"], dep["votes"], strict=True))
        valid_dep = sum(v for k, v in dep_votes.items() if k not in ("unregistered", "null"))
        valid_pres = pres[~pres["candidate"].isin(["unregistered", "null"])]["votes"].sum()
        for _, cand in pres.iterrows():
            party = str(cand["party"]).split(" ")[0]
            if cand["candidate"] in ("unregistered", "null") or not isinstance(party, str):
                continue
            members = party[5:].split("_") if party.startswith("coal_") else [party]
            votes = dep_votes.get(party, 0) + sum(
                v for k, v in dep_votes.items()
                if k != party and (k in members or (k.startswith("coal_")
                                                    and set(k[5:].split("_")) <= set(members))))
            share_dep, share_pres = votes / valid_dep, cand["votes"] / valid_pres
            if share_pres < 0.15:
                continue  # the major coalitions only (minor parties' ratios run to 4.7)
            rows.append({"year": year, "candidate": cand["candidate"], "party": party,
                         "log_ratio": float(np.log(share_dep / share_pres))})
    values = np.array([r["log_ratio"] for r in rows])
    return {"sd": float(np.sqrt(np.mean((values - values.mean()) ** 2) * len(values)
                                / (len(values) - 1))),
            "mean": float(values.mean()), "n": len(values), "rows": rows}


def independents() -> dict:
    table = pd.read_csv(RECORD / "deputies_national_2015.csv", keep_default_na=False)
    votes = dict(zip(table["party"], table["votes"], strict=True))
    valid = sum(v for k, v in votes.items() if k not in ("unregistered", "null"))
    return {"share_2015": votes["independent"] / valid}


def senate_noise() -> dict:
    """Residual sd of a state's Senate bloc share around its deputies bloc share (after the
    national difference), over sqrt(p (1 - p)), pooled over blocs and states."""
    blocs = {2012: {"pan": ["pan"], "pri_pvem": ["pri", "pvem", "coal_pri_pvem"],
                    "left": ["prd", "pt", "mc", "coal_prd_pt_mc", "coal_prd_pt", "coal_prd_mc",
                             "coal_pt_mc"], "na": ["na"]},
             2006: None}
    ratios = []
    for year in (2006, 2012):
        sen = pd.read_csv(RECORD / f"senate_state_{year}.csv", keep_default_na=False)
        dep = pd.read_csv(RECORD / f"deputies_state_{year}.csv", keep_default_na=False)
        mapping = blocs[year] or {c: [c] for c in sen.columns
                                  if c not in ("edon", "state_abbr", "state", "valid_votes",
                                               "nonregistered_votes", "null_votes",
                                               "total_votes", "source")
                                  and not c.endswith("_ran") and c in dep.columns}
        shares = {}
        for name, frame in (("senate", sen), ("deputies", dep)):
            cols = {b: [c for c in members if c in frame.columns]
                    for b, members in mapping.items()}
            table = pd.DataFrame({b: frame[c].sum(axis=1) for b, c in cols.items()})
            shares[name] = table.div(table.sum(axis=1), axis=0)
        diff = shares["senate"] - shares["deputies"]
        diff = diff - diff.mean()
        p = shares["deputies"].mean()
        ratios.append((diff / np.sqrt(p * (1 - p))).to_numpy().ravel())
    values = np.concatenate(ratios)
    return {"k": float(np.sqrt(np.mean(values**2))), "n": len(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    out = {"small_party": small_party_term(), "ticket_split": ticket_splitting(),
           "independents": independents(), "senate": senate_noise()}
    sp = out["small_party"]
    print(f"small-party slope {sp['slope']:+.3f}, party residual sd {sp['residual_sd']:.3f} "
          f"({sp['n']} parties, 2009 and 2015)")
    for r in sp["rows"]:
        print(f"  {r['year']} {r['party']:<22}poll {100 * r['poll']:5.1f}  result "
              f"{100 * r['result']:5.1f}  log ratio {r['log_ratio']:+.3f}")
    ts = out["ticket_split"]
    print(f"ticket splitting: sd {ts['sd']:.3f} of log(deputies / presidential), mean "
          f"{ts['mean']:+.3f} ({ts['n']} coalitions, 2000-2012)")
    for r in ts["rows"]:
        print(f"  {r['year']} {r['party']:<40}{r['log_ratio']:+.3f}")
    print(f"independents' share of the valid deputies vote, 2015: "
          f"{100 * out['independents']['share_2015']:.2f}%")
    print(f"Senate race noise k: {out['senate']['k']:.3f} ({out['senate']['n']} state-blocs, "
          "2006 and 2012)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
