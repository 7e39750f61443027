"""Swing calibration: state and district noise of district swings, and uniform vs proportional.

Run: .venv/bin/python benchmarks/swing_calibration.py

1. 2012 -> 2015 (deputies, both on the 2005 map, same districts): residuals of the district
   swing around the national swing, split into a state and a district component, per bloc, for
   uniform (points) and proportional (log-ratio) swing.
2. 2015 (re-aggregated onto the 2017 map) -> 2018: which swing kind, given the true 2018 national
   swing, predicts the 2018 district shares better (RMSE, winners called correctly).
   2018 is used here only to choose a method; it is never forecast input.

Bloc definitions are data, listed below and in docs/swing.md. Figures are printed; nothing is
written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.seats.swing import (
    decompose_swing,
    national_shares,
    national_swing,
    predict_shares,
    read_district_shares,
    score_swing,
)

RESULTS = Path(__file__).resolve().parents[1] / "polls" / "mx2018" / "results"

# 2012 -> 2015, 2005 map. The 2012 left coalition (PRD-PT-MC, López Obrador's) is followed into
# 2015 as PRD + PT + MC + Morena. PES, PH and independents (new in 2015) fall in "other", which is
# zero in 2012 and so is left out of the swing decomposition.
BLOCS_2012 = {
    "pan": ["pan"],
    "pri_pvem": ["pri", "pvem", "coal_pri_pvem"],
    "left": ["prd", "pt", "mc", "coal_prd_pt_mc", "coal_prd_pt", "coal_prd_mc", "coal_pt_mc"],
    "na": ["na"],
}
BLOCS_2015 = {
    "pan": ["pan"],
    "pri_pvem": ["pri", "pvem", "coal_pri_pvem"],
    "left": ["prd", "pt", "mc", "morena", "coal_prd_pt"],
    "na": ["na"],
}
DECOMPOSED_2012_2015 = ["pan", "pri_pvem", "left", "na"]

# 2015 (2017 map) -> 2018: the three 2018 coalitions. 2015's PRD-PT combination ballots are split
# half and half, PRD having gone to the Frente and PT to Juntos Haremos Historia.
BLOCS_2015_ON_2017 = {
    "pan_prd_mc": {"pan": 1, "prd": 1, "mc": 1, "coal_prd_pt": 0.5},
    "pri_pvem_na": ["pri", "pvem", "na", "coal_pri_pvem"],
    "pt_morena_pes": {"pt": 1, "morena": 1, "pes": 1, "coal_prd_pt": 0.5},
}
BLOCS_2018 = {
    "pan_prd_mc": ["pan", "prd", "mc", "coal_pan_prd_mc"],
    "pri_pvem_na": ["pri", "pvem", "na", "coal_pri_pvem_na"],
    "pt_morena_pes": ["pt", "morena", "pes", "coal_pt_morena_pes"],
}


def noise_factors() -> tuple[float, float]:
    """(k_state, k_district): residual sds of uniform swing 2012 -> 2015 as multiples of the
    binomial-like scale sqrt(p (1 - p)), p the bloc's mean national share of the two elections;
    pooled over blocs as the root mean square. models/congress.toml uses these."""
    base = read_district_shares(RESULTS / "deputies_district_2012.csv", BLOCS_2012)
    target = read_district_shares(RESULTS / "deputies_district_2015.csv", BLOCS_2015)
    dec = decompose_swing(base, target, "uniform", DECOMPOSED_2012_2015)
    p = (national_shares(base, DECOMPOSED_2012_2015)
         + national_shares(target, DECOMPOSED_2012_2015)) / 2
    v = (p * (1 - p)).to_numpy()
    out = []
    for col in ("state_sd", "district_sd"):
        s = dec.sds.loc[DECOMPOSED_2012_2015, col].to_numpy()
        out.append(float(np.sqrt(np.mean(s**2 / v))))
    return out[0], out[1]


def _fmt(df: pd.DataFrame, scale: float) -> str:
    return (df * scale).round(2).to_string()


def main() -> None:
    pd.set_option("display.width", 120)
    d12 = read_district_shares(RESULTS / "deputies_district_2012.csv", BLOCS_2012)
    d15 = read_district_shares(RESULTS / "deputies_district_2015.csv", BLOCS_2015)
    print("== 2012 -> 2015, 2005 map,", len(d12), "districts, 32 states")
    nat = pd.DataFrame({"2012": national_shares(d12), "2015": national_shares(d15)})
    print("national shares (%):\n" + _fmt(nat, 100))
    for kind, scale, unit in (("uniform", 100, "points"), ("proportional", 100, "log-ratio x100")):
        dec = decompose_swing(d12, d15, kind, DECOMPOSED_2012_2015)
        print(f"\n-- {kind} swing residual sds ({unit})")
        print(_fmt(dec.sds, scale))
        print("mean district residual (offset):", (dec.offset * scale).round(2).to_dict())

    b15 = read_district_shares(RESULTS / "deputies_district_2015_on_2017map.csv",
                               BLOCS_2015_ON_2017)
    t18 = read_district_shares(RESULTS / "deputies_district_2018.csv", BLOCS_2018)
    print("\n== 2015 (on 2017 map) -> 2018, given the true 2018 national swing,", len(b15),
          "districts")
    nat = pd.DataFrame({"2015": national_shares(b15), "2018": national_shares(t18)})
    print("national shares (%):\n" + _fmt(nat, 100))
    score = score_swing(b15, t18)
    share_cols = [c for c in score.columns if c.startswith(("rmse", "mae"))]
    shown = score[share_cols] * 100
    shown["winners_correct"] = score["winners_correct"]
    shown["winners_share"] = score["winners_share"]
    print("errors in points; 'none' = 2015 shares unchanged (reference)")
    print(shown.round(3).to_string())
    uni = predict_shares(b15, national_swing(b15, t18, "uniform"), "uniform", normalize=False)
    print("uniform: district x bloc predictions clipped at 0:", int((uni == 0).sum().sum()),
          "of", uni.size, "(by bloc:", (uni == 0).sum().to_dict(), ")")
    k_state, k_district = noise_factors()
    print(f"\nnoise factors (sd = k * sqrt(p (1 - p)), 2012 -> 2015, uniform): "
          f"k_state {k_state:.4f}, k_district {k_district:.4f}")
    print("true 2018 bloc winners:", t18.iloc[:, 2:].idxmax(axis=1).value_counts().to_dict())

    # The same question inside the calibration window (2012 -> 2015), for consistency.
    score_old = score_swing(d12, d15, blocs=DECOMPOSED_2012_2015, normalize=False)
    shown = score_old[["rmse", "mae"]] * 100
    shown["winners_correct"] = score_old["winners_correct"]
    print("\n== 2012 -> 2015 (same check, 2005 map)")
    print("four blocs, not renormalised: 'other' (PES, PH, independents) is 0 in 2012")
    print(shown.round(3).to_string())


if __name__ == "__main__":
    main()
