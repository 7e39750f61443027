"""District swing (forecast.seats.swing): exact results on hand-made tables, and the shipped
district returns (docs/swing.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.seats.swing import (
    bloc_columns,
    decompose_swing,
    district_shares,
    district_swings,
    national_shares,
    national_swing,
    predict_shares,
    read_district_shares,
    score_swing,
    variance_components,
)

RESULTS = Path(__file__).parents[1] / "polls" / "mx2018" / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mx-results"


def table(edon, shares, votes=None, codes=None, blocs=("a", "b", "c")) -> pd.DataFrame:
    """District share table from a list of share rows."""
    shares = np.asarray(shares, dtype=float)
    n = len(shares)
    codes = codes if codes is not None else [e * 100 + i + 1 for i, e in enumerate(edon)]
    df = pd.DataFrame(shares, columns=list(blocs), index=pd.Index(codes, name="district_code"))
    df.insert(0, "valid_votes", votes if votes is not None else [1000] * n)
    df.insert(0, "edon", list(edon))
    return df


# ---------------------------------------------------------------- reading returns into shares


def test_district_shares_blocs_weights_and_remainder() -> None:
    returns = pd.DataFrame({
        "district_code": [102, 101], "edon": [1, 1],
        "pan": [40, 10], "prd": [10, 20], "pt": [5, 30], "coal_prd_pt": [10, 0],
        "ph": [35, 40], "valid_votes": [100, 100],
    })
    blocs = {"right": {"pan": 1, "prd": 1, "coal_prd_pt": 0.5},
             "left": {"pt": 1, "coal_prd_pt": 0.5}}
    out = district_shares(returns, blocs)
    assert list(out.index) == [101, 102]
    assert list(out.columns) == ["edon", "valid_votes", "right", "left", "other"]
    assert bloc_columns(out) == ["right", "left", "other"]
    np.testing.assert_allclose(out.loc[102, ["right", "left", "other"]], [0.55, 0.10, 0.35])
    np.testing.assert_allclose(out.loc[101, ["right", "left", "other"]], [0.30, 0.30, 0.40])
    no_other = district_shares(returns, {"x": ["pan"]}, other=None)
    assert bloc_columns(no_other) == ["x"]


def test_district_shares_rejects_bad_input() -> None:
    returns = pd.DataFrame({"district_code": [101], "edon": [1], "pan": [60], "pri": [50],
                            "valid_votes": [100]})
    with pytest.raises(ValueError, match="counted"):
        district_shares(returns, {"a": ["pan"], "b": ["pri"]})
    with pytest.raises(KeyError, match="morena"):
        district_shares(returns, {"a": ["morena"]})
    with pytest.raises(TypeError):
        district_shares(returns, {"a": "pan"})


# ---------------------------------------------------------------- swings


def test_uniform_and_proportional_swings_are_exact() -> None:
    base = table([1, 1], [[0.2, 0.3, 0.5], [0.4, 0.4, 0.2]], votes=[1000, 3000])
    target = table([1, 1], [[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]], votes=[2000, 2000])
    uni = district_swings(base, target, "uniform")
    np.testing.assert_allclose(uni[["a", "b", "c"]], [[-0.1, 0.3, -0.2], [0.1, -0.2, 0.1]],
                               atol=1e-15)
    assert list(uni["edon"]) == [1, 1]
    prop = district_swings(base, target, "proportional")
    np.testing.assert_allclose(prop[["a", "b", "c"]],
                               np.log([[0.5, 2.0, 0.6], [1.25, 0.5, 1.5]]))
    # National shares are valid-vote weighted: base (0.35, 0.375, 0.275), target (0.3, 0.4, 0.3).
    np.testing.assert_allclose(national_shares(base), [0.35, 0.375, 0.275])
    np.testing.assert_allclose(national_swing(base, target, "uniform"), [-0.05, 0.025, 0.025],
                               atol=1e-15)
    np.testing.assert_allclose(national_swing(base, target, "proportional"),
                               np.log([0.3 / 0.35, 0.4 / 0.375, 0.3 / 0.275]))


def test_swings_need_same_map_and_positive_shares_for_proportional() -> None:
    base = table([1, 1], [[0.2, 0.3, 0.5], [0.4, 0.6, 0.0]])
    other_map = table([1, 1], [[0.2, 0.3, 0.5], [0.4, 0.6, 0.0]], codes=[101, 103])
    with pytest.raises(ValueError, match="same districts"):
        district_swings(base, other_map)
    with pytest.raises(ValueError, match="positive"):
        district_swings(base, base, "proportional")
    with pytest.raises(ValueError, match="kind"):
        district_swings(base, base, "cube")


# ---------------------------------------------------------------- variance decomposition


def test_variance_components_exact_on_balanced_example() -> None:
    # 3 states x 2 districts: y = 5 + u_state + e_district, effects summing to 0 in each level.
    u = np.array([1.0, -3.0, 2.0])
    e = np.array([0.5, -0.5, 1.0, -1.0, 2.0, -2.0])
    groups = np.repeat([7, 8, 9], 2)
    y = 5.0 + u[np.repeat([0, 1, 2], 2)] + e
    between, within = variance_components(y, groups)
    msw = (e**2).sum() / (6 - 3)  # = 10.5 / 3 = 3.5
    msb = 2 * (u**2).sum() / (3 - 1)  # = 14
    assert within == pytest.approx(3.5) and msw == pytest.approx(3.5)
    assert between == pytest.approx((msb - msw) / 2)  # n0 = 2 when balanced: 5.25
    # Two columns at once, and truncation at zero when states differ less than chance.
    flat = np.column_stack([y, np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])])
    b2, w2 = variance_components(flat, groups)
    np.testing.assert_allclose(b2, [5.25, 0.0])
    np.testing.assert_allclose(w2, [3.5, 2.0])


def test_variance_components_unbalanced_uses_n0() -> None:
    y = np.array([1.0, 3.0, 10.0, 12.0, 14.0])
    groups = np.array([1, 1, 2, 2, 2])
    between, within = variance_components(y, groups)
    # means 2 and 12, grand 8; SSW = 2 + 8 = 10 -> MSW = 10/3; SSB = 2*36 + 3*16 = 120 -> MSB = 120
    # n0 = (5 - 13/5) / 1 = 2.4
    assert within == pytest.approx(10 / 3)
    assert between == pytest.approx((120 - 10 / 3) / 2.4)


def test_decompose_swing_components_add_up() -> None:
    # Uniform swing = national swing + state effect + district effect, constructed exactly.
    rng = np.random.default_rng(3)
    edon = np.repeat([1, 2, 3, 4], 3)
    base_a = rng.uniform(0.3, 0.5, 12)
    state = np.array([0.02, -0.01, 0.03, -0.04])[np.repeat(np.arange(4), 3)]
    district = np.tile([0.01, -0.02, 0.01], 4)
    target_a = base_a + 0.05 + state + district
    base = table(edon, np.column_stack([base_a, 1 - base_a]), blocs=("a", "b"))
    target = table(edon, np.column_stack([target_a, 1 - target_a]), blocs=("a", "b"))
    dec = decompose_swing(base, target, "uniform")
    np.testing.assert_allclose(dec.residuals["a"], 0.05 + state + district - 0.05, atol=1e-12)
    recon = (dec.offset["a"] + dec.state_effects.loc[edon, "a"].to_numpy()
             + dec.district_effects["a"].to_numpy())
    np.testing.assert_allclose(recon, dec.residuals["a"], atol=1e-14)
    np.testing.assert_allclose(dec.state_effects["a"], [0.02, -0.01, 0.03, -0.04], atol=1e-12)
    np.testing.assert_allclose(dec.district_effects["a"], district, atol=1e-12)
    # MSW = sum(e^2) / (12 - 4); MSB = 3 * sum(u^2) / 3; n0 = 3.
    msw = (district**2).sum() / 8
    msb = 3 * (0.02**2 + 0.01**2 + 0.03**2 + 0.04**2) / 3
    assert dec.sds.loc["a", "district_sd"] == pytest.approx(np.sqrt(msw))
    assert dec.sds.loc["a", "state_sd"] == pytest.approx(np.sqrt((msb - msw) / 3))
    # b mirrors a, so the pooled sds equal a's.
    assert dec.sds.loc["pooled", "state_sd"] == pytest.approx(dec.sds.loc["a", "state_sd"])
    assert list(dec.sds.index) == ["a", "b", "pooled"]


# ---------------------------------------------------------------- uniform vs proportional


def test_score_uniform_exactly_right() -> None:
    base = table([1, 1, 2], [[0.2, 0.3, 0.5], [0.4, 0.4, 0.2], [0.3, 0.5, 0.2]])
    delta = np.array([0.1, -0.15, 0.05])
    target = table([1, 1, 2], base[["a", "b", "c"]].to_numpy() + delta)
    np.testing.assert_allclose(national_swing(base, target, "uniform"), delta, atol=1e-15)
    score = score_swing(base, target)
    assert score.loc["uniform", "rmse"] == pytest.approx(0.0, abs=1e-15)
    assert score.loc["proportional", "rmse"] > 0.01
    assert score.loc["uniform", "winners_correct"] == 3
    assert set(score.index) == {"none", "uniform", "proportional"}


def test_score_proportional_exactly_right() -> None:
    # Ratios (2, 0.5, 1): rows with b_b = 2 b_a keep summing to 1, so t = b * ratio exactly.
    base = table([1, 2], [[0.1, 0.2, 0.7], [0.15, 0.3, 0.55]])
    target = table([1, 2], [[0.2, 0.1, 0.7], [0.3, 0.15, 0.55]])
    np.testing.assert_allclose(np.exp(national_swing(base, target, "proportional")),
                               [2.0, 0.5, 1.0])
    score = score_swing(base, target)
    assert score.loc["proportional", "rmse"] == pytest.approx(0.0, abs=1e-15)
    # Uniform (+0.125, -0.125, 0) misses a and b by 0.025 in both districts, c not at all.
    assert score.loc["uniform", "rmse"] == pytest.approx(0.025 * np.sqrt(4 / 6))
    assert score.loc["proportional", "winners_correct"] == 2


def test_predict_shares_clips_and_normalizes() -> None:
    base = table([1], [[0.05, 0.45, 0.5]])
    pred = predict_shares(base, pd.Series([-0.1, 0.05, 0.05], index=["a", "b", "c"]), "uniform")
    # a: 0.05 - 0.1 -> 0; b, c = 0.5, 0.55 rescaled to sum 1.
    np.testing.assert_allclose(pred.iloc[0], [0.0, 0.5 / 1.05, 0.55 / 1.05])
    with pytest.raises(ValueError, match="cover"):
        predict_shares(base[["edon", "valid_votes", "a"]], pd.Series([0.0], index=["a"]),
                       "uniform")


# ---------------------------------------------------------------- shipped files

BLOCS_2012 = {"pan": ["pan"], "pri_pvem": ["pri", "pvem", "coal_pri_pvem"],
              "left": ["prd", "pt", "mc", "coal_prd_pt_mc", "coal_prd_pt", "coal_prd_mc",
                       "coal_pt_mc"],
              "na": ["na"]}
BLOCS_2015 = {"pan": ["pan"], "pri_pvem": ["pri", "pvem", "coal_pri_pvem"],
              "left": ["prd", "pt", "mc", "morena", "coal_prd_pt"], "na": ["na"]}


@pytest.fixture(scope="module")
def shipped() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (read_district_shares(RESULTS / "deputies_district_2012.csv", BLOCS_2012),
            read_district_shares(RESULTS / "deputies_district_2015.csv", BLOCS_2015))


def test_shipped_2012_2015_tables(shipped: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    d12, d15 = shipped
    for d in (d12, d15):
        assert len(d) == 300 and d.index.is_unique
        assert d["edon"].nunique() == 32
        np.testing.assert_allclose(d[bloc_columns(d)].sum(axis=1), 1.0, atol=1e-12)
        assert (d[bloc_columns(d)] >= 0).all().all()
    assert d12.index.equals(d15.index)
    # 2012: the four blocs hold every valid vote; 2015: PES, PH and independents are 'other'.
    assert d12["other"].max() == pytest.approx(0.0, abs=1e-12)
    assert national_shares(d15)["other"] == pytest.approx(0.0635, abs=5e-4)
    dec = decompose_swing(d12, d15, "uniform", ["pan", "pri_pvem", "left", "na"])
    sds = dec.sds[["state_sd", "district_sd"]].to_numpy()
    assert np.isfinite(sds).all() and (sds > 0).all()
    assert (sds < 0.2).all()  # residual sds are a few points, not tens
    dec_p = decompose_swing(d12, d15, "proportional", ["pan", "pri_pvem", "left", "na"])
    assert np.isfinite(dec_p.sds.to_numpy()).all() and (dec_p.sds.to_numpy() > 0).all()


def test_shipped_2015_on_2017_map_matches_2018_districts() -> None:
    blocs = {"x": ["pan"]}
    b15 = read_district_shares(RESULTS / "deputies_district_2015_on_2017map.csv", blocs)
    t18 = read_district_shares(RESULTS / "deputies_district_2018.csv", blocs)
    assert len(b15) == 300 and b15.index.equals(t18.index)
    assert (b15["edon"] == t18["edon"]).all()


@pytest.mark.parametrize("name", ["deputies_district_2012.csv", "deputies_district_2015.csv",
                                  "deputies_district_2015_on_2017map.csv"])
def test_copies_equal_shared_data(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip("shared data directory not present")
    assert (RESULTS / name).read_bytes() == (SHARED / name).read_bytes()
