"""Simulation-based calibration at small size (the full run is benchmarks/calibration.py)."""

import pytest

from forecast.calibration import plot_rank_histograms, run_calibration, summarize_calibration
from forecast.election import load_election
from forecast.model import prepare
from forecast.polls import read_polls
from forecast.spec import ModelSpec

pytestmark = pytest.mark.slow


def test_sbc_small(synthetic, tmp_path):
    directory, _ = synthetic
    election = load_election(directory)
    polls = read_polls(election.poll_path, election)
    spec = ModelSpec(chains=2, draws=300, tune=400)
    data = prepare(polls, election, spec)
    result = run_calibration(data, election, spec, replications=3, seed=3, keep_draws=49)
    assert result["rank"].dims == ("replication", "quantity")
    assert int(result["rank"].min()) >= 0 and int(result["rank"].max()) <= 49
    # 3 ballot shares + 5 pollsters x 4 candidates... (pollsters in the design) + 1 scale
    n_house = len(data.pollsters) * len(data.candidates)
    assert result.sizes["quantity"] == 3 + n_house + 1
    summary = summarize_calibration(result)
    # Pooled over the replications, the 90% intervals cannot miss wholesale.
    assert summary["vote_share_valid"]["coverage_90"] >= 5 / 9
    assert summary["house_effect"]["coverage_90"] >= 0.7
    assert summary["house_effect"]["chi2_pvalue"] > 1e-3  # ranks not grossly non-uniform
    assert plot_rank_histograms(result, tmp_path / "ranks.png").is_file()
