"""Interactive charts: Vega-Lite specifications (built with Altair) embedded in the page.

The Vega, Vega-Lite and vega-embed libraries are inlined in the page (a bundle made by
``vl-convert-python``, no network), and charts are drawn with Vega's expression *interpreter*
(``ast: true``), so the page's Content-Security-Policy needs no ``unsafe-eval``.

Every chart comes with its data: :attr:`Chart.data` is written beside ``index.html`` as CSV and
linked under the chart. Specifications are deterministic: Altair's counters (``param_N``,
``view_N``) are renumbered per chart, so the same forecast gives the same bytes.
"""

from __future__ import annotations

import functools
import html
import json
import re
from dataclasses import dataclass, field

import altair as alt
import pandas as pd

#: Page font and sizes (readable on a phone: nothing under 11 px).
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


@dataclass
class Chart:
    """One interactive chart of the page.

    Attributes
    ----------
    stem
        Identifier (``fig-<stem>`` on the page) and CSV name stem (``chart_<stem>.csv``).
    caption
        What the chart shows, in plain words.
    spec
        The Vega-Lite specification (a dict; :func:`to_spec`).
    data
        The chart's data by CSV file name (written beside index.html, linked below the chart).
    wide
        The chart has a fixed width (a map, a hemicycle): on a narrow screen it scrolls inside
        its box instead of shrinking.
    after
        Escaped HTML placed after the chart (a legend, a note).
    """

    stem: str
    caption: str
    spec: dict
    data: dict[str, pd.DataFrame] = field(default_factory=dict)
    wide: bool = False
    after: str = ""


def configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The report's look: fonts, sizes, no chart border."""
    return chart.configure(font=FONT).configure_view(stroke=None).configure_axis(
        labelFontSize=12, titleFontSize=12, titleFontWeight="normal", gridColor="#e6e6e6",
    ).configure_legend(labelFontSize=12, titleFontSize=12, titleFontWeight="normal",
                       titleLimit=360, labelLimit=300, orient="bottom", symbolOpacity=1, columns=3,
                       symbolStrokeWidth=0).configure_title(fontSize=14, anchor="start")


def to_spec(chart: alt.TopLevelMixin) -> dict:
    """A validated Vega-Lite dict with Altair's counters renumbered from 1 (deterministic)."""
    text = json.dumps(configure(chart).to_dict(), sort_keys=True, ensure_ascii=False)
    seen: dict[str, str] = {}

    def renumber(match: re.Match) -> str:
        old = match.group(0)
        if old not in seen:
            prefix = match.group(1)
            seen[old] = f"{prefix}_{sum(v.startswith(prefix) for v in seen.values()) + 1}"
        return seen[old]

    text = re.sub(r"\b(param|view|selector)_\d+\b", renumber, text)
    return json.loads(text)


def csv_name(stem: str, part: str = "") -> str:
    """File name of a chart's data: ``chart_<stem>[_<part>].csv``."""
    return f"chart_{stem}{'_' + part if part else ''}.csv"


def _json_for_script(spec: dict) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</`` or ``<!--``)."""
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_html(chart: Chart, *, inline_data: bool = False) -> str:
    """The chart's figure: the drawing area, its spec, caption and data links (to the CSV
    files beside the page, or with ``inline_data`` as ``data:`` URLs for a one-file page)."""
    e = html.escape
    if inline_data:
        import base64

        from ..fit import csv_bytes

        links = " ".join(
            f"<a href='data:text/csv;base64,{base64.b64encode(csv_bytes(frame)).decode()}' "
            f"download='{e(name)}'>{e(name)}</a>" for name, frame in chart.data.items())
    else:
        links = " ".join(f"<a href='{e(name)}' download>{e(name)}</a>" for name in chart.data)
    data = f" <span class='data'>Data: {links}</span>" if links else ""
    return (f"<figure id='fig-{e(chart.stem)}' class='vega-figure'>"
            f"<div class='{'chart-box wide' if chart.wide else 'chart-box'}'>"
            f"<div class='vega-chart' id='vis-{e(chart.stem)}'></div></div>"
            f"<script type='application/json' class='vega-spec' data-target='vis-"
            f"{e(chart.stem)}'>{_json_for_script(chart.spec)}</script>{chart.after}"
            f"<figcaption>{e(chart.caption)}{data}</figcaption></figure>")


def chart_files(charts: list[Chart]) -> dict[str, bytes]:
    """The CSV files of the charts' data."""
    from ..fit import csv_bytes

    return {name: csv_bytes(frame) for c in charts for name, frame in c.data.items()}


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (globals ``vega``, ``vegaLite``,
    ``vegaEmbed``), safe to inline in ``<script>``."""
    import vl_convert

    text = vl_convert.javascript_bundle()
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")


#: Draws every chart once the page has loaded; sets ``data-charts-loaded="ok/total"`` on <body>
#: (images and Vega charts; read by the tests). Errors go to the console.
EMBED_SCRIPT = """
window.addEventListener('load',function(){
var imgs=document.querySelectorAll('img.chart'),ok=0,total=imgs.length;
imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0){ok++;}});
var specs=document.querySelectorAll('script.vega-spec'),jobs=[];total+=specs.length;
specs.forEach(function(s){
 var el=document.getElementById(s.getAttribute('data-target'));
 if(typeof vegaEmbed!=='function'||!el){return;}
 jobs.push(vegaEmbed(el,JSON.parse(s.textContent),{renderer:'svg',ast:true,
  actions:{export:true,source:false,compiled:false,editor:false}}).then(function(){ok++;},
  function(err){console.error('chart '+el.id+': '+err);}));
});
Promise.all(jobs).then(function(){
 document.body.setAttribute('data-charts-loaded',ok+'/'+total);});
});
"""
