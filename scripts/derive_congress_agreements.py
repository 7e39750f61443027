"""Derive the 2018 coalition-agreement files in polls/mx2018/congress/ from the results folder.

Run once: .venv/bin/python scripts/derive_congress_agreements.py

The coalition agreements (which districts and states each coalition contested, and the party named
for each candidacy, the "siglado") were registered with INE before the election, so a 2018 forecast
may use them. The public record of the siglado only survives for the candidacies that won (district
winners, Senate seat holders); the other slots are unknown and the model fills them by assumption
(docs/congress.md). Only these agreement facts are taken from the 2018 files, never vote counts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "polls" / "mx2018" / "results"
OUT = ROOT / "polls" / "mx2018" / "congress"
LABEL = {"pt-morena-pes": "jhh", "pan-prd-mc": "paf", "pri-pvem-na": "tpm"}
RAN = {"jhh": "pt_morena_pes_ran", "paf": "pan_prd_mc_ran", "tpm": "pri_pvem_na_ran"}


def main() -> None:
    read = {"keep_default_na": False}
    dep = pd.read_csv(RESULTS / "deputies_district_2018.csv", **read)
    cov = dep[["district_code", "edon", "state_abbr", "district"]].copy()
    for key, col in RAN.items():
        cov[key] = dep[col].astype(int)
    cov.to_csv(OUT / "district_coalitions.csv", index=False, lineterminator="\n")

    sig = pd.read_csv(RESULTS / "siglado_2018.csv", **read)
    sig = sig[sig["winner_label_final"].isin(LABEL) & (sig["siglado_party"] != "")]
    out = pd.DataFrame({"district_code": sig["district_code"],
                        "coalition": sig["winner_label_final"].map(LABEL),
                        "party": sig["siglado_party"]})
    out.to_csv(OUT / "siglado.csv", index=False, lineterminator="\n")

    sen = pd.read_csv(RESULTS / "senate_state_2018.csv", **read)
    scov = sen[["edon", "state_abbr"]].copy()
    for key, col in RAN.items():
        scov[key] = sen[col].astype(int)
    scov.to_csv(OUT / "senate_coalitions.csv", index=False, lineterminator="\n")
    rows = []
    for _, r in sen.iterrows():
        if r["winner"] in LABEL:
            rows.append((r["edon"], LABEL[r["winner"]], 1, r["mr1_party"]))
            rows.append((r["edon"], LABEL[r["winner"]], 2, r["mr2_party"]))
        if r["first_minority_candidacy"] in LABEL:
            rows.append((r["edon"], LABEL[r["first_minority_candidacy"]], 1,
                         r["first_minority_party"]))
    pd.DataFrame(rows, columns=["edon", "coalition", "formula", "party"]).to_csv(
        OUT / "senate_formulas.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
