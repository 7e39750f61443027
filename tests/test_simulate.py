"""Plurality rule on hand-made draws, summaries, and determinism of simulation."""

import numpy as np
import pytest

from forecast.simulate import beta_parameters, outcomes, summarize


def test_plurality_winner_order_margin():
    draws = outcomes(np.array([[0.5, 0.3, 0.2], [0.3, 0.45, 0.25], [0.3, 0.32, 0.38]]),
                     ["a", "b", "c"], invalid=0.1)
    assert draws["winner"].values.tolist() == ["a", "b", "c"]
    assert draws["order"].values.tolist() == ["a>b>c", "b>a>c", "c>b>a"]
    np.testing.assert_allclose(draws["margin"].values, [0.2, 0.15, 0.06])
    np.testing.assert_allclose(draws["share_total"].values[0], [0.45, 0.27, 0.18])
    s = summarize(draws)
    assert {k: v["p_win"] for k, v in s["candidates"].items()} == pytest.approx(
        {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


def test_ties_split_the_win():
    draws = outcomes(np.array([[0.4, 0.4, 0.2], [0.5, 0.3, 0.2]]), ["a", "b", "c"])
    assert draws["winner"].values.tolist() == ["a=b", "a"]
    s = summarize(draws)
    assert s["candidates"]["a"]["p_win"] == pytest.approx(0.75)
    assert s["candidates"]["b"]["p_win"] == pytest.approx(0.25)
    assert s["candidates"]["c"]["p_win"] == 0.0
    assert draws["margin"].values[0] == 0.0


def test_three_way_tie_and_winner_under_a_third():
    draws = outcomes(np.array([[1 / 3, 1 / 3, 1 / 3], [0.32, 0.31, 0.37]]), ["a", "b", "c"],
                     invalid=np.array([0.0, 0.03]))
    s = summarize(draws)
    assert s["candidates"]["a"]["p_win"] == pytest.approx(1 / 6)
    assert s["candidates"]["c"]["p_win"] == pytest.approx(1 / 6 + 1 / 2)
    # second draw: the winner has 0.37 * 0.97 = 0.359 > 1/3; first: exactly 1/3 is not under
    assert s["p_winner_under_third"] == 0.0
    draws = outcomes(np.array([[0.33, 0.33, 0.34]]), ["a", "b", "c"], invalid=0.03)
    assert summarize(draws)["p_winner_under_third"] == 1.0


def test_orders_and_win_probabilities_count_the_draws():
    rng = np.random.default_rng(0)
    valid = rng.dirichlet([5, 4, 3, 1], size=2000)
    s = summarize(outcomes(valid, ["a", "b", "c", "d"]))
    names = np.array(["a", "b", "c", "d"])
    orders = [">".join(names[np.argsort(-row, kind="stable")]) for row in valid]
    for o in s["orders"]:
        assert o["p"] == orders.count(">".join(o["order"])) / 2000
    assert [o["p"] for o in s["orders"]] == sorted((o["p"] for o in s["orders"]), reverse=True)
    for i, key in enumerate(names):
        assert s["candidates"][key]["p_win"] == np.mean(valid.argmax(axis=1) == i)
    q = s["candidates"]["a"]["share_valid"]
    assert q["q05"] < q["q25"] < q["q50"] < q["q75"] < q["q95"]


def test_beta_parameters():
    a, b = beta_parameters(0.027, 0.005)
    assert a / (a + b) == pytest.approx(0.027)
    assert np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))) == pytest.approx(0.005)
    with pytest.raises(ValueError, match="no Beta distribution"):
        beta_parameters(0.5, 0.6)


def test_public_api_is_importable_from_the_package():
    import forecast
    from forecast.fit import fit
    from forecast.simulate import simulate

    assert forecast.fit_polls is fit
    assert forecast.simulate_election is simulate
    for name in forecast.__all__:
        assert getattr(forecast, name) is not None, name
