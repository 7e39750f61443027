"""The HTML report: one self-contained page (charts and their libraries inlined) plus PNG, CSV
and JSON files beside it.

Layout: the headline (:mod:`forecast.report.headline`) first, then the presidential race, one
section per further stage (Congress, governors), the forecast over time when the folder has a
timeline, and the poll-file warnings. Interactive charts are Vega-Lite (:mod:`.vega`); the page
works offline and under a strict Content-Security-Policy (inline scripts and styles, ``data:``
images, nothing else).
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .headline import headline_sentences
from .headline import percent as _pct
from .vega import EMBED_SCRIPT, Chart, chart_files, chart_html, vega_bundle

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:1.2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{margin:0 0 .2em;font-size:1.7em} h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.sub{color:#555;margin-top:0}
#headline{background:#f6f7f9;border-left:5px solid #333;padding:.6em 1em;margin:.8em 0}
#headline ul{margin:.3em 0;padding-left:1.2em} #headline li{margin:.25em 0}
nav.toc{margin:.6em 0;font-size:.95em} nav.toc a{margin-right:1em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:1em 0} td,th{padding:.3em .7em;border-bottom:1px solid #ddd;
text-align:right;white-space:nowrap} th:first-child,td:first-child{text-align:left}
td.name{white-space:normal;min-width:8em;text-align:left} th[colspan]{text-align:center}
caption{text-align:left;font-weight:600;padding:.3em 0}
.warn{background:#fff0f0;border:2px solid #c00;padding:.8em;margin:1em 0}
.ok{background:#f0fff4;border:1px solid #2a7;padding:.8em;margin:1em 0}
figure{margin:1.5em 0} img{max-width:100%;height:auto} figcaption{color:#555;font-size:.9em}
.chart-box{width:100%} .chart-box.wide{overflow-x:auto}
.vega-chart{width:100%} .chart-box.wide .vega-chart{width:auto;display:inline-block}
.vega-embed{width:100%} .vega-embed summary{opacity:.6}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin:0 .3em 0 .8em;
vertical-align:-.1em}
.legend{font-size:.9em;margin:.3em 0}
.data a{margin-right:.6em}
details{margin:1em 0} code{background:#f4f4f4;padding:0 .2em}
@media (max-width:600px){body{padding:0 .6em} h1{font-size:1.35em} td,th{padding:.25em .4em}}
"""

# Offline by construction: the page may load nothing but its own inline parts and data: images.
_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")


@dataclass
class Section:
    """A part of the page beyond the presidential race (Congress, governors, over time).

    Parameters
    ----------
    key
        Element id of the section (``section-<key>``).
    title
        Heading.
    html
        Body HTML placed before the charts; the caller escapes everything in it.
    figures
        Static charts by file stem: (caption, figure); written as PNG and inlined.
    charts
        Interactive charts (:class:`~forecast.report.vega.Chart`), after the figures' HTML body.
    """

    key: str
    title: str
    html: str
    figures: dict[str, tuple[str, Figure]] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)


def _figure_html(stem: str, caption: str, png: bytes, data: str | None = None) -> str:
    """A static chart, its PNG file and (``data``: a CSV file name) its data."""
    e = html.escape
    link = f"<a href='{e(data)}' download>{e(data)}</a> " if data else ""
    return (f"<figure id='fig-{e(stem)}'><img class='chart' alt='{e(caption)}' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
            f"<figcaption>{e(caption)} <span class='data'>Data: {link}image: "
            f"<a href='{e(stem)}.png' download>{e(stem)}.png</a></span></figcaption></figure>")


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (and close it); no timestamp in the file (deterministic)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def render_html(summary: dict, charts: dict[str, tuple[str, bytes]], *,
                names: dict[str, str], warnings: list[str],
                sections: list[tuple[Section, dict[str, tuple[str, bytes]]]] | None = None,
                interactive: list[Chart] | None = None, headline: list[str] | None = None,
                data_files: dict[str, str] | None = None) -> str:
    """The page's HTML. ``charts`` maps a file stem to (caption, PNG bytes) of the static
    presidential figures; ``interactive`` are the presidential Vega charts; each section comes
    with its own PNGs. ``names`` are display names of the candidates (short names);
    ``data_files`` the CSV file of a static chart by stem (linked under it)."""
    diag = summary["diagnostics"]
    e = html.escape
    headline = headline if headline is not None else headline_sentences(summary)
    rows = []
    for key, c in sorted(summary["candidates"].items(), key=lambda kv: -kv[1]["p_win"]):
        st, sv = c["share_total"], c["share_valid"]
        rows.append(
            f"<tr data-candidate='{e(key)}'><td class='name'>"
            f"{e(c.get('name') or names.get(key, key))}</td>"
            f"<td class='p_win'>{_pct(c['p_win'])}</td>"
            f"<td>{_pct(st['q50'])}</td><td>{_pct(st['q25'])} – {_pct(st['q75'])}</td>"
            f"<td>{_pct(st['q05'])} – {_pct(st['q95'])}</td>"
            f"<td>{_pct(sv['q50'])}</td><td>{_pct(sv['q05'])} – {_pct(sv['q95'])}</td></tr>")
    orders = "".join(
        f"<tr><td class='name'>{e(' > '.join(names.get(k, k) for k in o['order']))}</td>"
        f"<td>{_pct(o['p'])}</td></tr>" for o in summary["orders"][:8])
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
    inter = interactive or []
    first = [c for c in inter if c.stem == "win_probability"]
    rest = [c for c in inter if c.stem != "win_probability"]
    figs = ("".join(chart_html(c) for c in rest)
            + "".join(_figure_html(stem, caption, png, (data_files or {}).get(stem))
                      for stem, (caption, png) in charts.items()))
    extra = "".join(
        f"<section id='section-{e(sec.key)}'><h2>{e(sec.title)}</h2>{sec.html}"
        + "".join(chart_html(c) for c in sec.charts)
        + "".join(_figure_html(stem, caption, png) for stem, (caption, png) in pngs.items())
        + "</section>"
        for sec, pngs in (sections or []))
    toc = "".join(f"<a href='#section-{e(sec.key)}'>{e(sec.title.split(':')[0])}</a>"
                  for sec, _ in (sections or []))
    toc = (f"<nav class='toc'>Sections: <a href='#section-president'>President</a>{toc}"
           "<a href='#warnings'>Poll-file warnings</a></nav>")
    warn_items = "".join(f"<li>{e(w)}</li>" for w in warnings)
    head_items = "".join(f"<li>{e(s)}</li>" for s in headline)
    has_vega = bool(inter) or any(sec.charts for sec, _ in (sections or []))
    bundle = f"<script>{vega_bundle()}</script>" if has_vega else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{e(summary['election'])} — forecast as of {e(summary['as_of'])}</title>
<style>{_CSS}</style>{bundle}<script>{EMBED_SCRIPT}</script></head>
<body>
<h1>{e(summary['election'])}</h1>
<p class="sub">Forecast as of <strong id="as-of">{e(summary['as_of'])}</strong> from
{summary['polls_used']} polls; election day {e(summary['election_day'])}.</p>
<section id="headline" aria-label="Headline"><ul>{head_items}</ul></section>
{toc}
{diag_box}
<section id="section-president">
<h2>President: who wins</h2>
{''.join(chart_html(c) for c in first)}
<div class="scroll"><table id="candidates"><tr><th rowspan="2">Candidate</th>
<th rowspan="2">P(win)</th><th colspan="3">Share of the total vote</th>
<th colspan="2">Share of the valid vote</th></tr>
<tr><th>median</th><th>50% interval</th><th>90% interval</th><th>median</th>
<th>90% interval</th></tr>
{''.join(rows)}</table></div>
<p>Winning margin (first minus second, valid vote): median {_pct(m['q50'])}, 90% interval
{_pct(m['q05'])} – {_pct(m['q95'])}. Probability that the winner has under a third of the total
vote: <strong id="p-under-third">{_pct(summary['p_winner_under_third'])}</strong>.</p>
<h3>Finishing orders</h3><div class="scroll"><table id="orders"><tr><th>Order</th>
<th>Probability</th></tr>{orders}</table></div>
{figs}
</section>
{extra}
<details id="warnings"><summary>Poll-file warnings ({len(warnings)})</summary>
<ul>{warn_items}</ul></details>
<p class="sub">Shares of the total vote include null votes and votes for non-registered
candidates in the base. Machine-readable results: <code>summary.json</code>, <code>*.csv</code>
(every chart links its own data). Charts are interactive (hover for numbers, click a legend
name to show it alone) and work offline. Method: see the project's docs/model.md and
docs/report.md.</p>
</body></html>
"""


def render_files(summary: dict, figures: dict[str, tuple[str, Figure]],
                 tables: dict[str, bytes], *, names: dict[str, str], warnings: list[str],
                 sections: list[Section] | None = None, charts: list[Chart] | None = None,
                 headline: list[str] | None = None) -> dict[str, bytes]:
    """Every file of the report by name: static charts (PNG), tables and chart data (CSV),
    ``summary.json`` and ``index.html``.

    ``charts`` are the presidential interactive charts; ``headline`` the headline sentences
    (default: :func:`~forecast.report.headline.headline_sentences` of ``summary``).
    """
    files: dict[str, bytes] = {}
    pngs: dict[str, tuple[str, bytes]] = {}
    for stem, (caption, fig) in figures.items():
        png = figure_png(fig)
        files[f"{stem}.png"] = png
        pngs[stem] = (caption, png)
    rendered: list[tuple[Section, dict[str, tuple[str, bytes]]]] = []
    all_charts = list(charts or [])
    for sec in sections or []:
        sec_pngs = {}
        for stem, (caption, fig) in sec.figures.items():
            png = figure_png(fig)
            files[f"{stem}.png"] = png
            sec_pngs[stem] = (caption, png)
        rendered.append((sec, sec_pngs))
        all_charts += sec.charts
    files.update(tables)
    files.update(chart_files(all_charts))
    files["summary.json"] = json.dumps(summary, indent=2, ensure_ascii=False).encode()
    data_files = {stem: f"{stem}.csv" for stem in figures if f"{stem}.csv" in tables}
    page = render_html(summary, pngs, names=names, warnings=warnings, sections=rendered,
                       interactive=charts, headline=headline, data_files=data_files)
    files["index.html"] = page.encode("utf-8")
    return files
