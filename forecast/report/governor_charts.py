"""Governor-race charts and table. Each takes the ``governors`` summary block (never a fit).

* :func:`plot_governor_map`: a tile map of Mexico's 32 states (no shapefiles, no network), the
  racing states coloured by the leading candidacy, shaded by its probability;
* :func:`plot_governor_counts`: distribution of the number of governorships per candidacy;
* :func:`governor_table_html`: an escaped HTML table of P(win) and share intervals per state.
"""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

#: Colour of each candidate key (party colours: Morena maroon, PAN blue, PRI green, MC orange).
GOVERNOR_COLORS = {
    "jhh": "#8c1c13", "paf": "#1f4e9c", "tpm": "#2e8b57", "mc": "#e07b00", "pan": "#5b8bd6",
    "prd": "#d4b000", "pvem": "#7cb342", "na": "#17becf", "independent": "#7f7f7f",
    "other": "#6a3d9a",
}
#: Display names of the candidate keys.
GOVERNOR_LABELS = {
    "jhh": "JHH (Morena-led)", "paf": "Frente (PAN-led)", "tpm": "PRI and allies",
    "mc": "MC alone", "pan": "PAN alone", "prd": "PRD alone", "pvem": "PVEM", "na": "Nueva Alianza",
    "independent": "Independent", "other": "Other",
}
#: Tile grid of Mexico (row, column), by the state codes of the baseline files: north-west at
#: the top left, the Yucatán peninsula at the right. Shapes are not to scale by design.
MEXICO_TILES = {
    "bc": (0, 0), "son": (0, 1), "cua": (0, 2), "coa": (0, 3), "nl": (0, 4),
    "bcs": (1, 0), "sin": (1, 1), "dgo": (1, 2), "zac": (1, 3), "san": (1, 4), "tam": (1, 5),
    "nay": (2, 1), "jal": (2, 2), "ags": (2, 3), "gua": (2, 4), "que": (2, 5), "hgo": (2, 6),
    "col": (3, 2), "mic": (3, 3), "mex": (3, 4), "df": (3, 5), "tla": (3, 6), "ver": (3, 7),
    "yuc": (3, 9),
    "gue": (4, 3), "mor": (4, 4), "pue": (4, 5), "oax": (4, 6), "tab": (4, 7), "cam": (4, 8),
    "qui": (4, 9),
    "cps": (5, 7),
}
#: Short tile labels of the state codes.
TILE_LABELS = {
    "bc": "BC", "son": "SON", "cua": "CHIH", "coa": "COAH", "nl": "NL", "bcs": "BCS",
    "sin": "SIN", "dgo": "DGO", "zac": "ZAC", "san": "SLP", "tam": "TAMPS", "nay": "NAY",
    "jal": "JAL", "ags": "AGS", "gua": "GTO", "que": "QRO", "hgo": "HGO", "col": "COL",
    "mic": "MICH", "mex": "MEX", "df": "CDMX", "tla": "TLAX", "ver": "VER", "yuc": "YUC",
    "gue": "GRO", "mor": "MOR", "pue": "PUE", "oax": "OAX", "tab": "TAB", "cam": "CAMP",
    "qui": "QROO", "cps": "CHIS",
}


def _color(key: str) -> str:
    return GOVERNOR_COLORS.get(key, "#444444")


def _shade(color: str, p: float) -> tuple[float, float, float]:
    """``color`` mixed with white: full colour at P = 1, pale at P near 1/2 or below."""
    strength = float(np.clip((p - 0.35) / 0.65, 0.15, 1.0))
    rgb = np.array(to_rgb(color))
    return tuple(1 - strength * (1 - rgb))


def plot_governor_map(block: dict, *, tiles: dict[str, tuple[int, int]] | None = None) -> Figure:
    """Tile map: racing states coloured by the leader, shaded by its P(win); others grey.

    States without polls are hatched and labelled "no polls".

    Parameters
    ----------
    block
        The ``governors`` summary block (:func:`forecast.governors.governors_summary`).
    tiles
        Tile positions by state code (default :data:`MEXICO_TILES`).
    """
    tiles = tiles or MEXICO_TILES
    racing = {v["abbr"]: v for v in block["states"].values()}
    rows = max(r for r, _ in tiles.values()) + 1
    cols = max(c for _, c in tiles.values()) + 1
    fig, ax = plt.subplots(figsize=(1.05 * cols + 1.5, 1.0 * rows + 1.6), layout="constrained")
    leaders = []
    for abbr, (r, c) in tiles.items():
        y = rows - 1 - r
        state = racing.get(abbr)
        if state is None:
            ax.add_patch(Rectangle((c, y), 0.94, 0.94, facecolor="#eeeeee", edgecolor="white"))
            ax.text(c + 0.47, y + 0.47, TILE_LABELS.get(abbr, abbr.upper()), ha="center",
                    va="center", fontsize=7, color="#999999")
            continue
        leader = state["leader"]
        leaders.append(leader)
        p = state["p_win"][leader]
        face = _shade(_color(leader), p)
        unpolled = not state.get("polls_used", 0)
        # A state without polls rests on baseline + swing: hatched, so it is not read as polled.
        ax.add_patch(Rectangle((c, y), 0.94, 0.94, facecolor=face, edgecolor="black", lw=1.4,
                               hatch="///" if unpolled else None))
        if unpolled:
            ax.text(c + 0.47, y + 0.1, "no polls", ha="center", va="center", fontsize=6)
        dark = sum(face) < 1.6
        ax.text(c + 0.47, y + 0.62, TILE_LABELS.get(abbr, abbr.upper()), ha="center",
                va="center", fontsize=8, fontweight="bold", color="white" if dark else "black")
        # "100%" would claim certainty that 4,000 draws cannot show.
        shown = ">99%" if p > 0.99 else f"{p:.0%}"
        ax.text(c + 0.47, y + 0.3, f"{leader} {shown}", ha="center", va="center", fontsize=7,
                color="white" if dark else "black")
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [Patch(color=_color(k), label=GOVERNOR_LABELS.get(k, k))
               for k in dict.fromkeys(leaders)]
    if any(not v.get("polls_used", 0) for v in block["states"].values()):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///",
                             label="no polls: baseline + swing"))
    handles.append(Patch(color="#eeeeee", label="no governor race"))
    ax.legend(handles=handles, loc="lower left", frameon=False, fontsize=8)
    as_of = f" (as of {block['as_of']})" if block.get("as_of") else ""
    ax.set_title(f"Governor races: leader and its probability of winning{as_of}\n"
                 "paler = less certain")
    return fig


def plot_governor_counts(block: dict, *, keys: list[str] | None = None) -> Figure:
    """Distribution of the number of governorships won, one panel per candidacy key.

    ``keys`` default: every key with a mean count of at least 0.05.
    """
    counts = block["count"]
    keys = keys or [k for k, v in counts.items() if v["mean"] >= 0.05]
    n_states = len(block["states"])
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys) + 0.8, 3.4), sharey=True,
                             layout="constrained", squeeze=False)
    x = np.arange(n_states + 1)
    for ax, k in zip(axes[0], keys, strict=True):
        at_least = np.array(counts[k]["p_at_least"] + [0.0])
        exact = at_least[:-1] - at_least[1:]
        ax.bar(x, exact, color=_color(k), width=0.8)
        for xi, pi in zip(x, exact, strict=True):
            if pi >= 0.005:
                ax.text(xi, pi + 0.01, f"{pi:.0%}", ha="center", fontsize=7)
        ax.set_xticks(x)
        ax.set_title(f"{GOVERNOR_LABELS.get(k, k)}: mean {counts[k]['mean']:.1f}", fontsize=9)
        ax.set_xlabel("governorships won")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("probability")
    axes[0][0].yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    fig.suptitle(f"Number of the {n_states} governorships won")
    return fig


def governor_table_html(block: dict, *, names: dict[str, dict[str, str]] | None = None) -> str:
    """HTML snippet: per state, each candidacy's P(win) and 90% share interval.

    Parameters
    ----------
    block
        The ``governors`` summary block.
    names
        Optional candidate names: ``{state: {key: name}}``. Every text is HTML-escaped.

    Returns
    -------
    str
        A ``<table class="governors">`` element (no page wrapper). Rows are sorted by P(win)
        within each state; ``polls`` is the number of polls used and states without polls are
        marked, since their intervals come from baseline + swing alone.
    """
    names = names or {}
    esc = html.escape
    out = ['<table class="governors">',
           "<thead><tr><th>state</th><th>polls</th><th>candidacy</th><th>P(win)</th>"
           "<th>share of valid vote (median, 90% interval)</th></tr></thead>", "<tbody>"]
    for state, v in block["states"].items():
        items = sorted(v["p_win"].items(), key=lambda kv: -kv[1])
        polls = int(v.get("polls_used", 0))
        poll_text = str(polls) if polls else "0 (baseline + swing only)"
        for i, (k, p) in enumerate(items):
            q = v["share"][k]
            label = GOVERNOR_LABELS.get(k, k)
            person = names.get(state, {}).get(k)
            if person:
                label = f"{person} ({label})"
            head = (f'<td rowspan="{len(items)}">{esc(str(v.get("name", state)))}</td>'
                    f'<td rowspan="{len(items)}">{esc(poll_text)}</td>') if i == 0 else ""
            style = ' style="font-weight:bold"' if k == v["leader"] else ""
            out.append(f"<tr{style}>{head}<td>{esc(label)}</td><td>{p:.1%}</td>"
                       f"<td>{q['q50']:.1%} ({q['q05']:.1%}–{q['q95']:.1%})</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
