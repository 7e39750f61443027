"""The HTML report: one self-contained page (charts inlined) plus PNG, CSV and JSON files."""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:1em 0} td,th{padding:.3em .7em;border-bottom:1px solid #ddd;
text-align:right} th:first-child,td:first-child{text-align:left}
.warn{background:#fff0f0;border:2px solid #c00;padding:.8em;margin:1em 0}
.ok{background:#f0fff4;border:1px solid #2a7;padding:.8em;margin:1em 0}
figure{margin:1.5em 0} img{max-width:100%} figcaption{color:#555;font-size:.9em}
details{margin:1em 0} code{background:#f4f4f4;padding:0 .2em}
"""

# Offline by construction: the page may load nothing but its own inline parts and data: images.
_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")

# Sets data-charts-loaded on <body> once every chart image has decoded (checked by the tests).
_SCRIPT = """
window.addEventListener('load',function(){var imgs=document.querySelectorAll('img.chart');
var ok=0;imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0){ok++;}});
document.body.setAttribute('data-charts-loaded',ok+'/'+imgs.length);});
"""


@dataclass
class Section:
    """A part of the page beyond the presidential race (Congress, governors).

    Parameters
    ----------
    key
        Element id of the section (``section-<key>``).
    title
        Heading.
    html
        Body HTML placed before the figures; the caller escapes everything in it.
    figures
        Charts by file stem: (caption, figure); written as PNG and inlined like the others.
    """

    key: str
    title: str
    html: str
    figures: dict[str, tuple[str, Figure]] = field(default_factory=dict)


def _figure_html(stem: str, caption: str, png: bytes) -> str:
    e = html.escape
    return (f"<figure id='fig-{e(stem)}'><img class='chart' alt='{e(caption)}' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
            f"<figcaption>{e(caption)}</figcaption></figure>")


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (and close it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render_html(summary: dict, charts: dict[str, tuple[str, bytes]], *,
                names: dict[str, str], warnings: list[str],
                sections: list[tuple[Section, dict[str, tuple[str, bytes]]]] | None = None
                ) -> str:
    """The page's HTML. ``charts`` maps a file stem to (caption, PNG bytes); each section
    comes with its own charts."""
    diag = summary["diagnostics"]
    e = html.escape
    rows = []
    for key, c in sorted(summary["candidates"].items(), key=lambda kv: -kv[1]["p_win"]):
        st, sv = c["share_total"], c["share_valid"]
        rows.append(
            f"<tr data-candidate='{e(key)}'><td>{e(names.get(key, key))}</td>"
            f"<td class='p_win'>{_pct(c['p_win'])}</td>"
            f"<td>{_pct(st['q50'])}</td><td>{_pct(st['q25'])} – {_pct(st['q75'])}</td>"
            f"<td>{_pct(st['q05'])} – {_pct(st['q95'])}</td>"
            f"<td>{_pct(sv['q50'])}</td><td>{_pct(sv['q05'])} – {_pct(sv['q95'])}</td></tr>")
    orders = "".join(
        f"<tr><td>{e(' > '.join(o['order']))}</td><td>{_pct(o['p'])}</td></tr>"
        for o in summary["orders"][:8])
    m = summary["margin"]
    if diag["converged"]:
        diag_box = "<div class='ok' id='diagnostics'>Fit converged: "
    else:
        diag_box = ("<div class='warn' id='diagnostics'><strong>WARNING: the model did not "
                    "converge — do not publish these numbers.</strong> "
                    + e("; ".join(diag.get("problems", []))) + "<br>")
    diag_box += (f"max R-hat {diag['max_rhat']:.3f}, divergences {diag['divergences']}, "
                 f"min ESS bulk (election-day shares) {diag['min_ess_bulk']:.0f}, sampler "
                 f"{e(diag['sampler'])}, {diag['chains']}×{diag['draws']} draws.</div>")
    figs = "".join(_figure_html(stem, caption, png) for stem, (caption, png) in charts.items())
    extra = "".join(
        f"<section id='section-{e(sec.key)}'><h2>{e(sec.title)}</h2>{sec.html}"
        + "".join(_figure_html(stem, caption, png) for stem, (caption, png) in pngs.items())
        + "</section>"
        for sec, pngs in (sections or []))
    warn_items = "".join(f"<li>{e(w)}</li>" for w in warnings)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{e(summary['election'])} — forecast as of {e(summary['as_of'])}</title>
<style>{_CSS}</style><script>{_SCRIPT}</script></head>
<body>
<h1>{e(summary['election'])}</h1>
<p class="sub">Forecast as of <strong id="as-of">{e(summary['as_of'])}</strong> from
{summary['polls_used']} polls; election day {e(summary['election_day'])}.</p>
{diag_box}
<h2>Who wins</h2>
<table id="candidates"><tr><th>Candidate</th><th>P(win)</th><th>Share of total vote (median)</th>
<th>50% interval</th><th>90% interval</th><th>Share of valid vote</th><th>90% interval</th></tr>
{''.join(rows)}</table>
<p>Winning margin (first minus second, valid vote): median {_pct(m['q50'])}, 90% interval
{_pct(m['q05'])} – {_pct(m['q95'])}. Probability that the winner has under a third of the total
vote: <strong id="p-under-third">{_pct(summary['p_winner_under_third'])}</strong>.</p>
<h3>Finishing orders</h3><table id="orders"><tr><th>Order</th><th>Probability</th></tr>{orders}
</table>
{figs}
{extra}
<details><summary>Poll-file warnings ({len(warnings)})</summary><ul>{warn_items}</ul></details>
<p class="sub">Shares of the total vote include null votes and votes for non-registered
candidates in the base. Machine-readable results: <code>summary.json</code>, <code>*.csv</code>.
Method: see the project's docs/model.md.</p>
</body></html>
"""


def render_files(summary: dict, figures: dict[str, tuple[str, Figure]],
                 tables: dict[str, bytes], *, names: dict[str, str], warnings: list[str],
                 sections: list[Section] | None = None) -> dict[str, bytes]:
    """Every file of the report by name: charts (PNG), tables (CSV), ``summary.json`` and
    ``index.html`` (charts inlined)."""
    files: dict[str, bytes] = {}
    charts: dict[str, tuple[str, bytes]] = {}
    for stem, (caption, fig) in figures.items():
        png = figure_png(fig)
        files[f"{stem}.png"] = png
        charts[stem] = (caption, png)
    rendered: list[tuple[Section, dict[str, tuple[str, bytes]]]] = []
    for sec in sections or []:
        pngs = {}
        for stem, (caption, fig) in sec.figures.items():
            png = figure_png(fig)
            files[f"{stem}.png"] = png
            pngs[stem] = (caption, png)
        rendered.append((sec, pngs))
    files.update(tables)
    files["summary.json"] = json.dumps(summary, indent=2, ensure_ascii=False).encode()
    page = render_html(summary, charts, names=names, warnings=warnings, sections=rendered)
    files["index.html"] = page.encode("utf-8")
    return files
