"""Congress seat charts and tables: forecast.report.congress_charts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from forecast.colors import DEFAULT_PALETTE, assign_colors, color_distance
from forecast.report.congress_charts import (
    UNASSIGNED_COLOR,
    diagram_seats,
    district_table_html,
    format_probability,
    hemicycle_layout,
    plot_hemicycle,
    plot_seat_histograms,
    seat_table_html,
)


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


# --- colours ----------------------------------------------------------------------------------


def test_colors_from_data_and_defaults_by_a_fixed_rule():
    # Given colours are kept (lower-cased); the others take the palette in order, skipping any
    # colour too close to one in use; the same keys always get the same colours.
    colors = assign_colors(["a", "b", "c"], {"b": "#4E79A7"})
    assert colors["b"] == "#4e79a7"
    assert colors["a"] == DEFAULT_PALETTE[1] and colors["c"] == DEFAULT_PALETTE[2]
    assert assign_colors(["a", "b", "c"], {"b": "#4E79A7"}) == colors
    many = assign_colors([f"k{i}" for i in range(8)])
    assert len(set(many.values())) == 8
    assert min(color_distance(x, y) for i, x in enumerate(many.values())
               for y in list(many.values())[i + 1:]) >= 20
    assert UNASSIGNED_COLOR not in many.values()


@pytest.mark.parametrize(("p", "text"), [
    (0.0, "0%"), (1.0, "100%"), (0.004, "<1%"), (0.999, ">99%"), (0.996, ">99%"),
    (0.87, "87%"), (0.5, "50%"), (0.006, "1%"), (0.994, "99%"), (float("nan"), "–"),
])
def test_format_probability(p, text):
    assert format_probability(p) == text


# --- seat histograms --------------------------------------------------------------------------


def _ten_draws() -> xr.DataArray:
    jhh = [250, 251, 260, 300, 334, 340, 200, 251, 252, 100]  # >=251: 7, >=334: 2
    paf = [100, 120, 130, 140, 150, 110, 115, 125, 135, 145]  # never
    tpm = [251, 50, 60, 70, 80, 90, 40, 30, 20, 10]           # >=251: 1
    return xr.DataArray(np.array([jhh, paf, tpm]).T, dims=("draw", "coalition"),
                        coords={"coalition": ["jhh", "paf", "tpm"]})


def test_seat_histograms_panels_and_probabilities(close_figures):
    fig = plot_seat_histograms(_ten_draws(), chamber="deputies", total=500, majority=251,
                               two_thirds=334, names={"jhh": "Juntos Haremos Historia"})
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0].startswith("Juntos Haremos Historia")
    assert "P(majority) 70%" in titles[0] and "P(two-thirds) 20%" in titles[0]
    assert "P(majority) 0%" in titles[1] and "P(two-thirds) 0%" in titles[1]
    assert "P(majority) 10%" in titles[2]
    # Sorted jhh: 100 200 250 251 251 | 252 260 300 334 340 -> median 251.5; linear 5%/95%.
    assert "median 251.5, 90% interval 145–337.3" in titles[0]
    assert "Chamber of Deputies" in fig._suptitle.get_text()
    # Bars are probabilities of exact seat counts: 2 of 10 draws at 251 for jhh.
    (step,) = fig.axes[0].patches
    heights, edges = np.asarray(step.get_data().values), np.asarray(step.get_data().edges)
    assert heights.size == 501 and edges[0] == -0.5 and edges[-1] == 500.5
    assert heights.sum() == pytest.approx(1.0)
    assert heights[251] == pytest.approx(0.2)
    # Dashed threshold lines at 251 and 334, labelled.
    xs = sorted(line.get_xdata()[0] for line in fig.axes[0].lines)
    assert xs == [251, 334]
    labels = {t.get_text().strip() for t in fig.axes[0].texts}
    assert {"251", "334"} <= labels
    assert fig.axes[-1].get_xlim() == (-0.5, 500.5)


def test_seat_histograms_extremes_and_senate(close_figures):
    rng = np.random.default_rng(0)
    big = np.r_[np.full(999, 80), [60]]  # P(>=65) = 0.999
    small = np.r_[np.full(997, 10), [70, 70, 70]]  # P(>=65) = 0.003
    other = rng.integers(0, 40, 1000)
    seats = xr.DataArray(np.c_[big, small, other], dims=("draw", "coalition"),
                         coords={"coalition": ["jhh", "paf", "other"]}).transpose()
    fig = plot_seat_histograms(seats, chamber="senate", total=128, majority=65, two_thirds=86)
    assert len(fig.axes) == 3
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "P(majority) >99%" in titles[0]
    assert "P(majority) <1%" in titles[1]
    assert "Senate" in fig._suptitle.get_text()


@pytest.mark.parametrize("bad", [
    np.array([[1.5, 2.0]]), np.array([[600, 2]]), np.array([[-1, 2]]), np.array([[np.nan, 2]]),
])
def test_seat_histograms_rejects_bad_values(bad, close_figures):
    seats = xr.DataArray(bad, dims=("draw", "coalition"), coords={"coalition": ["a", "b"]})
    with pytest.raises(ValueError):
        plot_seat_histograms(seats, chamber="deputies", total=500, majority=251,
                             two_thirds=334)


# --- hemicycle --------------------------------------------------------------------------------


def _dots_by_gid(fig: Figure) -> dict[str, np.ndarray]:
    (ax,) = fig.axes
    return {c.get_gid(): np.asarray(c.get_offsets()) for c in ax.collections}


@pytest.mark.parametrize("total", [500, 128, 1, 7, 33])
def test_hemicycle_layout_counts_and_no_overlap(total):
    x, y, diameter = hemicycle_layout(total)
    assert x.shape == y.shape == (total,)
    assert np.all(y >= -1e-12)
    assert np.all(np.hypot(x, y) <= 1 + 1e-12)
    if total > 1:
        pts = np.c_[x, y]
        d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(d, np.inf)
        assert d.min() >= diameter * 1.01  # dots never touch
        # Left to right: x of the first seats is left of the last ones.
        assert x[: total // 4 or 1].mean() < x[-(total // 4 or 1):].mean()


def test_hemicycle_party_dots(close_figures):
    medians = {"morena": 191, "pan": 81, "pri": 45, "pt": 61, "mc": 27}  # 405 of 500
    fig = plot_hemicycle(medians, total=500, title="Chamber of Deputies (median seats)",
                         names={"morena": "Morena"}, colors={"pan": "#1f4e9c"})
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    dots = _dots_by_gid(fig)
    assert sum(len(v) for v in dots.values()) == 500
    for key, n in medians.items():
        assert len(dots[key]) == n
    assert len(dots["unassigned"]) == 500 - sum(medians.values())
    (ax,) = fig.axes
    colors = {c.get_gid(): c.get_facecolor()[0] for c in ax.collections}
    assert np.allclose(colors["unassigned"][:3], plt.matplotlib.colors.to_rgb(UNASSIGNED_COLOR))
    assert np.allclose(colors["pan"][:3], plt.matplotlib.colors.to_rgb("#1f4e9c"))
    # Mapping order is left to right: morena's dots are on the left of pan's, etc.
    mean_x = [dots[k][:, 0].mean() for k in [*medians, "unassigned"]]
    assert mean_x == sorted(mean_x)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Morena (191)" in legend and "pan (81)" in legend
    assert "left over (medians need not add up) (95)" in legend
    assert any(t.get_text() == "majority 251" for t in ax.texts)


def test_hemicycle_exact_and_zero_and_too_many(close_figures):
    fig = plot_hemicycle({"jhh": 70, "paf": 0, "tpm": 58}, total=128, title="Senate")
    dots = _dots_by_gid(fig)
    assert set(dots) == {"jhh", "tpm"}  # no dots, no unassigned group
    assert len(dots["jhh"]) == 70 and len(dots["tpm"]) == 58
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "paf (0)" in legend
    assert any(t.get_text() == "majority 65" for t in fig.axes[0].texts)
    with pytest.raises(ValueError, match="more than"):
        plot_hemicycle({"a": 100, "b": 29}, total=128, title="x")
    with pytest.raises(ValueError):
        plot_hemicycle({"a": 10.5}, total=128, title="x")


# --- district table ---------------------------------------------------------------------------


class _Rows(HTMLParser):
    """Collect rows: (tr attrs, [(td attrs, text), ...])."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[dict, list[tuple[dict, str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append((dict(attrs), []))
        elif tag in ("td", "th"):
            self.rows[-1][1].append((dict(attrs), ""))
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            attrs, _ = self.rows[-1][1][-1]
            self.rows[-1][1][-1] = (attrs, "".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _districts() -> pd.DataFrame:
    return pd.DataFrame({
        "district_code": [903, 101, 1501, 202],
        "state": ["Ciudad de México", "<b>", "México", "Baja & California"],
        "district": [3, 1, 1, 2],
        "p_jhh": [0.999, 1.0, 0.004, 0.3],
        "p_paf": [0.001, 0.0, 0.5, 0.3],
        "p_tpm": [0.0, 0.0, 0.496, 0.4],
    })


def _parse(text: str) -> list[tuple[dict, list[tuple[dict, str]]]]:
    parser = _Rows()
    parser.feed(text)
    return parser.rows


def test_district_table_rows_format_and_escaping():
    text = district_table_html(_districts(), blocs=["jhh", "paf", "tpm"],
                               names={"jhh": "Juntos Haremos Historia"})
    assert text.startswith("<table id='districts'>")
    assert text.count("<tr data-district=") == 4
    assert "<b>" not in text and "&lt;b&gt;" in text and "Baja &amp; California" in text
    rows = _parse(text)
    header = [t for _, t in rows[0][1]]
    assert header == ["District code", "State", "District", "Juntos Haremos Historia", "paf",
                      "tpm", "Favourite"]
    body = rows[1:]
    assert [r[0]["data-district"] for r in body] == ["101", "202", "903", "1501"]  # sorted
    cells = {r[0]["data-district"]: [t for _, t in r[1]] for r in body}
    assert cells["101"] == ["101", "<b>", "1", "100%", "0%", "0%", "Juntos Haremos Historia"]
    assert cells["903"][3:6] == [">99%", "<1%", "0%"]
    assert cells["1501"][3:] == ["<1%", "50%", "50%", "paf"]  # 0.5 beats 0.496
    assert cells["202"][-1] == "tpm"
    lead = {r[0]["data-district"]: [a.get("class") == "lead" for a, _ in r[1][3:6]]
            for r in body}
    assert lead["101"] == [True, False, False]
    assert lead["1501"] == [False, True, False]  # p == 0.5 leads, 0.496 does not
    assert lead["202"] == [False, False, False]


def test_district_table_truncation_and_ties():
    df = _districts()
    text = district_table_html(df, blocs=["jhh", "paf", "tpm"], max_rows=2)
    assert text.count("<tr data-district=") == 2
    assert re.search(r"2 more districts not shown", text)
    assert "data-district='903'" not in text  # sorted first, then cut
    assert "not shown" not in district_table_html(df, blocs=["jhh", "paf"], max_rows=4)
    tie = pd.DataFrame({"district_code": [1], "state": ["X"], "district": [1],
                        "p_a": [0.5], "p_b": [0.5]})
    assert "a / b" in district_table_html(tie, blocs=["a", "b"])
    with pytest.raises(ValueError, match="p_tpm"):
        district_table_html(df.drop(columns="p_tpm"), blocs=["jhh", "tpm"])
    with pytest.raises(ValueError):
        district_table_html(df.assign(p_jhh=1.2), blocs=["jhh"])


# --- seat table -------------------------------------------------------------------------------


def _chambers() -> dict:
    def entry(q05, q50, q95, mean, pm, pt):
        return {"seats": {"q05": q05, "q50": q50, "q95": q95, "mean": mean},
                "p_majority": pm, "p_two_thirds": pt}

    return {
        "deputies": {"total": 500, "majority": 251, "two_thirds": 334,
                     "parties": {"morena": entry(170, 190, 210, 190.3, 0.01, 0.0),
                                 "p<x>": entry(1, 2, 3, 2.0, 0.0, 0.0)},
                     "coalitions": {"jhh": entry(280, 305, 327, 304.6, 0.93, 0.004)}},
        "senate": {"total": 128, "majority": 65, "two_thirds": 86,
                   "parties": {"morena": entry(50, 55, 61, 55.2, 0.0, 0.0)},
                   "coalitions": {"jhh": entry(61, 68, 74, 67.9, 0.999, 0.0)}},
    }


def test_seat_table_html():
    chambers = _chambers()
    text = seat_table_html(chambers, names={"jhh": "Juntos Haremos Historia"})
    assert text.count("<table id='seats-deputies'>") == 1
    assert text.count("<table id='seats-senate'>") == 1
    deputies, senate = text.split("<table id='seats-senate'>")
    rows = _parse(deputies)
    assert [r[0].get("data-key") for r in rows[1:]] == ["jhh", "morena", "p<x>"]  # coalitions 1st
    assert [t for _, t in rows[1][1]] == ["Juntos Haremos Historia", "305", "280 – 327", "304.6",
                                          "93%", "<1%"]
    assert [t for _, t in rows[2][1]] == ["morena", "190", "170 – 210", "190.3", "1%", "0%"]
    # Interval ends are whole seats (quantiles interpolate between draws).
    odd = {"deputies": {**chambers["deputies"], "coalitions": {}, "parties": {
        "morena": {**chambers["deputies"]["parties"]["morena"],
                   "seats": {"q05": 235.9, "q50": 210.5, "q95": 186.04, "mean": 1.0}}}}}
    assert "236 – 186" in seat_table_html(odd) and "210.5" in seat_table_html(odd)
    assert "p<x>" not in text and "p&lt;x&gt;" in text
    assert "500 seats, majority 251, two-thirds 334" in deputies
    srows = _parse("<table>" + senate)
    assert [t for _, t in srows[1][1]][1:] == ["68", "61 – 74", "67.9", ">99%", "0%"]
    assert "128 seats, majority 65, two-thirds 86" in senate
    # A whole summary with a "chambers" key renders the same.
    assert seat_table_html({"chambers": chambers},
                           names={"jhh": "Juntos Haremos Historia"}) == text


def test_seat_table_diagram_column_matches_the_hemicycle():
    chambers = _chambers()
    diagram = {"deputies": {"jhh": 305, "morena": 190}, "senate": {"jhh": 68, "morena": 55}}
    text = seat_table_html(chambers, diagram=diagram)
    rows = _parse(text.split("<table id='seats-senate'>")[0])
    assert [t for _, t in rows[0][1]][-1] == "Diagram"
    assert [t for _, t in rows[1][1]][-1] == "305"
    assert [t for _, t in rows[2][1]][-1] == "190"


def test_diagram_seats_rounds_medians_and_never_overflows():
    assert diagram_seats({"a": 210.5, "b": 72.0, "c": 46.4}, 500) == {"a": 211, "b": 72, "c": 46}
    # Medians adding up to more than the chamber are cut down in proportion.
    cut = diagram_seats({"a": 70.5, "b": 60.5}, 128)
    assert sum(cut.values()) == 128 and cut["a"] > cut["b"]


def test_seat_distribution_and_hemicycle_charts_are_data():
    from forecast.report.congress_charts import hemicycle_chart, seat_distribution_chart
    from forecast.report.style import Style

    style = Style(("jhh", "paf", "morena", "pan"), {"jhh": "Juntos", "paf": "Frente"},
                  {"morena": "Morena", "pan": "PAN"},
                  {"jhh": "#8c1c13", "paf": "#1f4e9c", "morena": "#8c1c13", "pan": "#1f4e9c"})
    chart = seat_distribution_chart(_ten_draws(), chamber="deputies", total=500, majority=251,
                                    two_thirds=334, style=style)
    frame = chart.data["chart_seats_deputies.csv"]
    for _, g in frame.groupby("coalition"):
        assert abs(g["probability"].sum() - 1) < 1e-9
    assert chart.spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    hemi = hemicycle_chart({"morena": 3, "pan": 2}, {"morena": 3.0, "pan": 2.4},
                           chamber="senate", total=8, style=style)
    rows = hemi.data["chart_hemicycle_senate.csv"]
    assert len(rows) == 8 and list(rows["name"]).count("Morena") == 3
    assert hemi.wide
