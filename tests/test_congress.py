"""Congress vote model and seat projection (forecast.congress)."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.congress.definition import (
    CongressSpec,
    load_congress,
    load_congress_spec,
)
from forecast.congress.project import (
    UNKNOWN,
    _resolve,
    district_siglado,
    project_congress,
    senate_formulas,
)
from forecast.congress.summary import chambers_summary, district_table
from forecast.congress.vote import national_vote
from forecast.problems import InputError
from forecast.seats.swing import national_shares

ROOT = Path(__file__).resolve().parents[1]
CONGRESS = ROOT / "polls" / "mx2018" / "congress"
MODELS = ROOT / "models"


@pytest.fixture(scope="module")
def definition():
    return load_congress(CONGRESS)


def test_shipped_definition(definition):
    assert definition.parties == ["morena", "pan", "pri", "prd", "pvem", "pt", "mc", "na", "pes"]
    assert definition.blocs == ["jhh", "paf", "tpm", "other"]
    base = definition.baseline
    assert len(base) == 300 and base.index.is_unique
    assert np.allclose(base[definition.blocs].sum(axis=1), 1.0)
    # Each coalition's parties split its baseline vote in every district.
    for rule in definition.coalitions.values():
        assert np.allclose(definition.party_fraction[list(rule.parties)].sum(axis=1), 1.0)
    # Registered coalition coverage of 2018 (public before the election).
    assert definition.district_coalitions[["jhh", "paf", "tpm"]].sum().tolist() == [292, 283, 133]
    assert definition.senate_coalitions[["jhh", "paf", "tpm"]].sum().tolist() == [31, 30, 17]
    # 2015 national shares of the blocs (votes on the 2017 map).
    nat = national_shares(base, definition.blocs)
    assert nat["tpm"] == pytest.approx(0.3797 + 0.0392, abs=0.01)  # PRI+PVEM, NA


def test_shipped_congress_spec_matches_the_swing_calibration():
    """The noise factors in models/congress.toml are the ones the 2012 -> 2015 data give."""
    spec = load_congress_spec(MODELS / "congress.toml")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import swing_calibration as cal
    finally:
        sys.path.pop(0)
    k_state, k_district = cal.noise_factors()
    assert spec.state_noise_k == pytest.approx(k_state, abs=0.0015)
    assert spec.district_noise_k == pytest.approx(k_district, abs=0.0015)
    assert spec.swing_kind == "uniform"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mx2018"
    shutil.copytree(ROOT / "polls" / "mx2018", target)
    return target / "congress"


def test_coalition_with_unknown_party_is_reported_with_line(tmp_path):
    directory = _copy(tmp_path)
    path = directory / "congress.toml"
    path.write_text(path.read_text().replace('parties = ["morena", "pt", "pes"]',
                                             'parties = ["morena", "pt", "xyz"]'))
    with pytest.raises(InputError) as err:
        load_congress(directory)
    line = path.read_text().split("\n").index("[coalitions.jhh]") + 1
    assert [str(p) for p in err.value.problems] == [
        f"{path}:{line}:coalitions.jhh.parties: 'xyz' is not in parties = [...]"]


def test_party_in_two_coalitions_and_bad_candidate(tmp_path):
    directory = _copy(tmp_path)
    path = directory / "congress.toml"
    text = path.read_text().replace('parties = ["pan", "prd", "mc"]',
                                    'parties = ["pan", "prd", "pt"]')
    text = text.replace('candidate = "meade"', 'candidate = "Meade K."')
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_congress(directory)
    lines = path.read_text().split("\n")
    paf, tpm = lines.index("[coalitions.paf]") + 1, lines.index("[coalitions.tpm]") + 1
    assert [str(p) for p in err.value.problems] == [
        f"{path}:{paf}:coalitions.paf.parties: 'pt' is already in coalition 'jhh'",
        f"{path}:{tpm}:coalitions.tpm.candidate: expected the key of the coalition's "
        "presidential candidate",
    ]


def test_bad_siglado_and_coverage_rows_name_file_line_column(tmp_path):
    directory = _copy(tmp_path)
    sig = directory / "siglado.csv"
    rows = sig.read_text().split("\n")
    cols = rows[3].split(",")
    cols[2] = "pri"  # a JHH candidacy credited to the PRI
    rows[3] = ",".join(cols)
    sig.write_text("\n".join(rows))
    cov = directory / "district_coalitions.csv"
    rows = cov.read_text().split("\n")
    rows[5] = rows[5][:-1] + "7"  # tpm flag 7
    cov.write_text("\n".join(rows))
    with pytest.raises(InputError) as err:
        load_congress(directory)
    got = [str(p) for p in err.value.problems]
    coalition = sig.read_text().split("\n")[3].split(",")[1]
    assert got == [f"{cov}:6:tpm: 7: expected one of [0, 1]",
                   f"{sig}:4:party: 'pri' is not a party of coalition '{coalition}'"]


def test_congress_spec_errors(tmp_path):
    path = tmp_path / "congress.toml"
    path.write_text('[swing]\nkind = "sideways"\nstate_noise_k = -1\n[vote]\nfoo = 1\n')
    with pytest.raises(InputError) as err:
        load_congress_spec(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:2:swing.kind: 'sideways': expected one of uniform, proportional",
        f"{path}:3:swing.state_noise_k: -1: expected a number >= 0",
        f"{path}:5:vote.foo: unknown setting",
    ]


def _national(definition, bloc_shares: np.ndarray, within: dict[str, float] | None = None
              ) -> xr.Dataset:
    """A national-vote dataset from bloc shares (draw, bloc): parties split a coalition evenly
    unless ``within`` gives fractions."""
    n = bloc_shares.shape[0]
    parties = [*definition.parties, definition.independent]
    share = np.zeros((n, len(parties)))
    for ci, rule in enumerate(definition.coalitions.values()):
        for p in rule.parties:
            f = within[p] if within else 1 / len(rule.parties)
            share[:, parties.index(p)] = bloc_shares[:, ci] * f
    share[:, -1] = bloc_shares[:, -1]
    return xr.Dataset({
        "share": (("draw", "party"), share),
        "bloc_share": (("draw", "bloc"), bloc_shares),
    }, coords={"party": parties, "bloc": definition.blocs})


def test_no_swing_no_noise_reproduces_baseline_winners(definition):
    """National shares = the baseline's and zero noise: every district goes to its 2015 bloc
    leader (among the candidacies that ran), and seats add up in both chambers."""
    nat = national_shares(definition.baseline, definition.blocs).to_numpy()
    quiet = CongressSpec(state_noise_k=0, district_noise_k=0, senate_noise_k=0)
    proj = project_congress(_national(definition, np.tile(nat, (3, 1))), definition, quiet,
                            seed=1)
    assert (proj["deputies_seats"].sum("party") == 500).all()
    assert (proj["senate_seats"].sum("party") == 128).all()
    assert (proj["deputies_district_seats"].sum("party") <= 300).all()
    assert (proj["senate_plurality_seats"].sum("party") == 64).all()
    assert (proj["senate_first_minority_seats"].sum("party") == 32).all()
    base = definition.baseline[definition.blocs]
    # Districts where every coalition ran: the winner is the baseline's largest bloc.
    full = definition.district_coalitions[["jhh", "paf", "tpm"]].all(axis=1)
    expected = base[full].idxmax(axis=1)
    win = proj["district_win"].to_pandas().loc[expected.index]
    assert (win.idxmax(axis=1) == expected).all()
    assert win.max(axis=1).eq(1.0).all()


def test_seats_follow_the_vote(definition):
    """More national vote for JHH (taken evenly from the others) never costs it seats in
    expectation, in either chamber (same seed, so the same noise)."""
    base = np.array([0.30, 0.30, 0.30, 0.10])
    means = []
    for jhh in (0.30, 0.40, 0.50):
        rest = (1 - jhh - 0.10) / 2
        shares = np.tile([jhh, rest, rest, 0.10], (400, 1))
        proj = project_congress(_national(definition, shares), definition, CongressSpec(),
                                seed=3)
        s = chambers_summary(proj, definition)
        means.append((s["deputies"]["coalitions"]["jhh"]["seats"]["mean"],
                      s["senate"]["coalitions"]["jhh"]["seats"]["mean"]))
    assert base.sum() == pytest.approx(1.0)
    assert means[0][0] < means[1][0] < means[2][0]
    assert means[0][1] < means[1][1] < means[2][1]


def test_projection_is_reproducible_and_seed_dependent(definition):
    shares = np.tile([0.45, 0.27, 0.22, 0.06], (50, 1))
    a = project_congress(_national(definition, shares), definition, CongressSpec(), seed=5)
    b = project_congress(_national(definition, shares), definition, CongressSpec(), seed=5)
    c = project_congress(_national(definition, shares), definition, CongressSpec(), seed=6)
    xr.testing.assert_identical(a, b)
    assert not a["deputies_seats"].equals(c["deputies_seats"])


def test_known_siglado_credits_the_named_party(definition):
    table = district_siglado(definition)
    codes = list(definition.baseline.index)
    row = definition.siglado.iloc[0]
    d = codes.index(int(row["district_code"]))
    c = list(definition.coalitions).index(row["coalition"])
    assert definition.parties[table[d, c]] == row["party"]
    # Parties alone are credited to themselves; "other" to nobody.
    k = len(definition.coalitions)
    assert list(table[d, k:k + len(definition.parties)]) == list(range(len(definition.parties)))
    assert table[d, -1] == -1
    # 2018: the JHH candidacy in a district JHH did not win has no public siglado.
    lost = set(codes) - set(definition.siglado.loc[definition.siglado["coalition"] == "jhh",
                                                   "district_code"])
    assert all(table[codes.index(x), 0] == UNKNOWN for x in lost)
    states = sorted(definition.senate_coalitions.index)
    form = senate_formulas(definition, states)
    ags = states.index(1)
    assert [definition.parties[i] for i in form[ags, 1]] == ["pan", "pan"]  # PAF won Ags


def test_unknown_siglado_follows_the_coalition_split(definition):
    weights = {"jhh": np.array([0.5, 0.3, 0.2]), "paf": np.array([1.0, 0, 0]),
               "tpm": np.array([1 / 3] * 3)}
    n = 20000
    party = np.full((n, 1), UNKNOWN)
    winner = np.zeros((n, 1), dtype=int)  # JHH wins
    got = _resolve(party, winner, definition, weights, np.random.default_rng(0))[:, 0]
    idx = [definition.parties.index(p) for p in ("morena", "pt", "pes")]
    freq = np.array([(got == i).mean() for i in idx])
    assert np.allclose(freq, [0.5, 0.3, 0.2], atol=0.015)
    assert freq.sum() == pytest.approx(1.0)
    known = np.full((5, 1), definition.parties.index("pt"))
    assert (_resolve(known, np.zeros((5, 1), int), definition, weights,
                     np.random.default_rng(0)) == known).all()


def _fake_fit(options: list[str], now: np.ndarray, day: np.ndarray, coalitions=None):
    """A stand-in for a Fit: latent support on the as-of date (one knot) and the election-day
    shares, read through the Fit accessors (forecast.fit.support_on, election_day_shares)."""
    n = now.shape[0]
    latent = np.log(now)[None, :, None, :]  # chain, draw, knot, candidate
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({
        "latent": (("chain", "draw", "knot", "candidate"), latent),
        "vote_share_valid": (("chain", "draw", "ballot"), day[None]),
    }, coords={"chain": [0], "draw": np.arange(n), "ballot": options, "candidate": options,
               "knot": pd.DatetimeIndex(["2018-06-28"])})})
    cands = [SimpleNamespace(key=o, coalition=(coalitions or {}).get(o, "")) for o in options]
    return SimpleNamespace(posterior=tree, ballot=list(options), as_of=dt.date(2018, 6, 28),
                           election=SimpleNamespace(candidates=cands), spec=None,
                           polls=[None] * 26, key="fake",
                           diagnostics=SimpleNamespace(
                               converged=True,
                               as_dict=lambda timings=True: {"converged": True,
                                                             "max_rhat": 1.0}))


def test_coalition_vote_follows_its_candidate(definition):
    """With the noise and the small-party term off: the Congress vote of a coalition is the
    party polls' share (over the parties) moved by its candidate's change from the as-of date to
    election day; the independents get the record's share, not the polls' option."""
    n = 4
    pres_opts = ["amlo", "anaya", "meade", "rodriguez"]
    pres_now = np.tile([0.45, 0.25, 0.22, 0.08], (n, 1))
    pres_day = pres_now.copy()
    pres_day[:, 0] *= 1.2  # AMLO gains 20% of his share between now and election day
    pres_day /= pres_day.sum(axis=1, keepdims=True)
    party_opts = [*definition.parties, "independent"]
    party_now = np.array([0.36, 0.18, 0.16, 0.04, 0.03, 0.04, 0.04, 0.02, 0.03, 0.10])
    party_now = np.tile(party_now, (n, 1))
    president = _fake_fit(pres_opts, pres_now, pres_day)
    party = _fake_fit(party_opts, party_now, party_now)
    spec = CongressSpec(ticket_split_sd=0.0, party_error_sd=0.0, small_party_slope=0.0,
                        independent_share_mean=0.01, independent_share_sd=0.0)
    nat = national_vote(president, party, definition, spec, seed=1)
    share = nat["share"].to_pandas()
    weights = party_now[0, :-1] / party_now[0, :-1].sum()
    move = pres_day[0] / pres_now[0]
    for p, m in (("morena", move[0]), ("pt", move[0]), ("pes", move[0]), ("pan", move[1]),
                 ("prd", move[1]), ("mc", move[1]), ("pri", move[2]), ("pvem", move[2]),
                 ("na", move[2])):
        weights[party_opts.index(p)] *= m
    expected = np.append(0.99 * weights / weights.sum(), 0.01)
    assert np.allclose(share.to_numpy(), expected[None, :])
    # Within a coalition the party polls' split is kept.
    assert share["pt"].iloc[0] / share["morena"].iloc[0] == pytest.approx(0.04 / 0.36)
    # The ticket-split ratio is the coalition's Congress share over its candidate's share.
    ratio = nat["ticket_split"].sel(coalition="jhh").values
    assert np.allclose(ratio, nat["bloc_share"].sel(bloc="jhh").values / pres_day[:, 0])
    # Without the candidates' moves (what the governor races move with): between two
    # coalitions, the change from then to election day is their candidates' relative move.
    day, now = nat["bloc_share"], nat["bloc_share_now"]
    change = (day.sel(bloc="jhh") / now.sel(bloc="jhh")) / (day.sel(bloc="paf")
                                                           / now.sel(bloc="paf"))
    assert np.allclose(change.values, move[0] / move[1])
    assert np.allclose(now.sum("bloc").values, 1.0)
    # The small-party term: shares move by share ** (1 + slope) before the coalitions move.
    tilted = national_vote(president, party, definition, spec.with_(small_party_slope=-0.2),
                           seed=1)["share"].to_pandas()
    assert tilted["pt"].iloc[0] / tilted["morena"].iloc[0] == pytest.approx(
        (0.04 / 0.36) ** 0.8)


def test_ticket_split_noise_has_the_stated_size(definition):
    n = 4000
    opts = ["amlo", "anaya", "meade"]
    pres = np.tile([0.5, 0.3, 0.2], (n, 1))
    party_opts = [*definition.parties, "independent"]
    party_now = np.tile(np.array([0.3, 0.2, 0.15, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]),
                        (n, 1))
    nat = national_vote(_fake_fit(opts, pres, pres), _fake_fit(party_opts, party_now, party_now),
                        definition, CongressSpec(ticket_split_sd=0.2), seed=2)
    # Log-ratio of two coalitions removes the common normalisation: sd = sqrt(2) * 0.2.
    lr = np.log(nat["bloc_share"].sel(bloc="jhh") / nat["bloc_share"].sel(bloc="paf"))
    assert float(lr.std()) == pytest.approx(np.sqrt(2) * 0.2, rel=0.05)
    again = national_vote(_fake_fit(opts, pres, pres), _fake_fit(party_opts, party_now,
                                                                  party_now),
                          definition, CongressSpec(ticket_split_sd=0.2), seed=2)
    xr.testing.assert_identical(nat, again)


def test_district_table_and_summary_shape(definition):
    shares = np.tile([0.45, 0.27, 0.22, 0.06], (40, 1))
    proj = project_congress(_national(definition, shares), definition, CongressSpec(), seed=8)
    table = district_table(proj)
    assert len(table) == 300
    # With 45% of the vote JHH is the favourite in most districts, but not in all.
    assert 150 < int((table["p_jhh"] > 0.5).sum()) < 300
    pres = np.array(["jhh"] * 30 + ["paf"] * 10)
    s = chambers_summary(proj, definition, pres)
    for chamber, total in (("deputies", 500), ("senate", 128)):
        block = s[chamber]
        assert block["total"] == total
        assert set(block["coalitions"]) == {"jhh", "paf", "tpm"}
        for e in [*block["coalitions"].values(), *block["parties"].values(),
                  block["president"]]:
            q = e["seats"]
            assert q["q05"] <= q["q50"] <= q["q95"]
        # The president's coalition is JHH in 30 draws and PAF in 10.
        jhh = proj["deputies_seats" if chamber == "deputies" else "senate_seats"].sel(
            party=["morena", "pt", "pes"]).sum("party").values
        paf = proj["deputies_seats" if chamber == "deputies" else "senate_seats"].sel(
            party=["pan", "prd", "mc"]).sum("party").values
        mixed = np.concatenate([jhh[:30], paf[30:]])
        assert block["president"]["seats"]["mean"] == pytest.approx(mixed.mean())
        majority, two_thirds = (251, 334) if chamber == "deputies" else (65, 86)
        assert (block["majority"], block["two_thirds"]) == (majority, two_thirds)
        assert block["president"]["p_majority"] == np.mean(mixed >= majority)
        assert block["coalitions"]["jhh"]["p_two_thirds"] == np.mean(jhh >= two_thirds)


@pytest.mark.slow
def test_2018_seat_backtest_as_of_june_28():
    """The issue's check: as of 2018-06-28 the official outcome (Chamber: JHH 308; Senate: JHH
    69) lies inside the 90% intervals; run at 4 x 300 draws in CI."""
    from forecast.backtest import backtest

    record = backtest(ROOT / "polls" / "mx2018", [dt.date(2018, 6, 28)],
                      spec_changes={"draws": 300, "tune": 300}, progress=False)[0]
    seats = record["seats"]
    jhh_dep = seats["deputies"]["coalitions"]["jhh"]
    jhh_sen = seats["senate"]["coalitions"]["jhh"]
    assert (jhh_dep["actual"], jhh_sen["actual"]) == (308, 69)
    assert jhh_dep["in_90"], jhh_dep
    assert jhh_sen["in_90"], jhh_sen
    # Official totals of the other coalitions (PAF 129 / 38, TPM 63 / 21) too.
    assert seats["deputies"]["coalitions"]["paf"]["actual"] == 129
    assert seats["senate"]["coalitions"]["tpm"]["actual"] == 21
    assert seats["deputies"]["n_in_90_coalitions"] == 3
    assert seats["senate"]["n_in_90_coalitions"] == 3
    # JHH did win a simple majority of the Chamber: the forecast must have favoured it.
    assert jhh_dep["p_actual_majority_status"] > 0.5


def test_congress_section_joins_the_report(definition, tmp_path):
    """The report page carries the Congress section: seat tables, four charts, district table,
    and a loud warning when the party-poll fit did not converge."""
    from forecast.report.congress import congress_section, congress_tables
    from forecast.report.page import render_files
    from forecast.stages import StageResult
    from forecast.stages.congress import CongressInputs, chambers_block, congress_draws

    rng = np.random.default_rng(0)
    pres_opts = ["amlo", "anaya", "meade", "rodriguez"]
    pres = rng.dirichlet([45, 25, 22, 5], size=60)
    party_opts = [*definition.parties, "independent"]
    party_now = rng.dirichlet([36, 18, 16, 4, 3, 4, 4, 2, 3, 6], size=60)
    president = _fake_fit(pres_opts, pres, pres, {"amlo": "jhh", "anaya": "paf",
                                                  "meade": "tpm"})
    party = _fake_fit(party_opts, party_now, party_now)
    winners = np.array(pres_opts)[pres.argmax(axis=1)]
    draws = congress_draws(president, party, definition, CongressSpec(), seed=2,
                           winners=winners)
    summary = chambers_block(draws, definition, party)
    summary["party_poll_fit"] = {"converged": False, "problems": ["max R-hat 1.05 > 1.01"],
                                 "max_rhat": 1.05, "polls_used": 26}
    party_election = SimpleNamespace(candidates=[SimpleNamespace(key=p, name=p.upper())
                                                 for p in party_opts])
    inputs = CongressInputs(definition, party_election, None, None, CongressSpec())
    forecast = SimpleNamespace(
        results={"congress": StageResult("congress", party, draws, summary)},
        inputs=SimpleNamespace(stage=lambda name: inputs))
    section = congress_section(forecast)
    assert {c.stem for c in section.charts} == {"seats_deputies", "seats_senate",
                                                "hemicycle_deputies", "hemicycle_senate"}
    page_summary = {"election": "E", "as_of": "2018-06-28", "election_day": "2018-07-01",
                    "polls_used": 1, "candidates": {}, "orders": [],
                    "margin": {"q50": 0.1, "q05": 0, "q95": 0.2}, "p_winner_under_third": 0,
                    "diagnostics": {"converged": True, "max_rhat": 1.0, "divergences": 0,
                                    "min_ess_bulk": 1000, "sampler": "nutpie", "chains": 4,
                                    "draws": 1000}}
    files = render_files(page_summary, {}, congress_tables(forecast), names={}, warnings=[],
                         sections=[section])
    page = files["index.html"].decode()
    assert "id='section-congress'" in page
    assert "id='seats-deputies'" in page and "id='seats-senate'" in page
    assert page.count("<tr data-district=") == 300
    assert "id='party-fit-diagnostics'" in page and "max R-hat 1.05 &gt; 1.01" in page
    for chart in section.charts:
        assert f"id='fig-{chart.stem}'" in page
        assert f"chart_{chart.stem}.csv" in files
    # The hemicycle draws the table's Diagram column: same whole seats per party.
    hemi = pd.read_csv(pd.io.common.BytesIO(files["chart_hemicycle_deputies.csv"]))
    drawn = hemi[hemi["party"].notna()].groupby("party").size()
    assert (drawn == hemi[hemi["party"].notna()].groupby("party")["diagram_seats"].first()).all()
    # P(president's coalition holds two thirds of both chambers), draw by draw.
    both = np.mean([(draws["deputies_coalition_seats"].sel(coalition=c, draw=i).item() >= 334
                     and draws["senate_coalition_seats"].sel(coalition=c, draw=i).item() >= 86)
                    if c else False
                    for i, c in enumerate(draws["president_coalition"].values)])
    assert summary["president_both_two_thirds"] == pytest.approx(both)
    assert 0 <= summary["president_both_majority"] <= 1
    for name in ("seats.csv", "districts.csv"):
        (tmp_path / name).write_bytes(files[name])
    seats = pd.read_csv(tmp_path / "seats.csv")
    assert set(seats["kind"]) == {"party", "coalition"}
    assert len(seats) == 2 * (9 + 3)
    assert len(pd.read_csv(tmp_path / "districts.csv")) == 300
