"""The HTML report opens offline in headless Chromium with every chart and number present, no
console message at all (errors, CSP violations, Vega warnings), at desktop (1280 px) and phone
(412 px) widths: no horizontal overflow of the page, the headline within the first 1,000 px."""

import json
import re
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Appended to a copy of the page: once the charts are drawn, measures the layout into the DOM.
PROBE = """<script>
(function(){function probe(){
 if(!document.body.hasAttribute('data-charts-loaded')){setTimeout(probe,100);return;}
 var doc=document.documentElement,h=document.getElementById('headline');
 var wide=[];document.querySelectorAll('body *').forEach(function(el){
   var r=el.getBoundingClientRect();
   if(r.right>window.innerWidth+1&&!el.closest('.scroll,.chart-box')){wide.push(el.tagName+'#'+el.id);}});
 var out={inner:window.innerWidth,scroll:doc.scrollWidth,
  headline_top:h?h.getBoundingClientRect().top+window.scrollY:-1,
  headline_bottom:h?h.getBoundingClientRect().bottom+window.scrollY:-1,
  svgs:document.querySelectorAll('.vega-chart svg.marks').length,wide:wide.slice(0,5)};
 var pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify(out);
 document.body.appendChild(pre);}
window.addEventListener('load',function(){setTimeout(probe,0);});})();
</script>"""


def _open(page_dir, tmp_path, width: int):
    """DOM after load at ``width`` px, the layout probe, and every console line."""
    page = (page_dir / "index.html").read_text(encoding="utf-8")
    probe_page = page_dir / f"probe-{width}.html"
    head, tail = page.rsplit("</body>", 1)  # the last one: the inlined libraries hold others
    probe_page.write_text(head + PROBE + "</body>" + tail, encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / f'profile-{width}'}",
           "--hide-scrollbars", f"--window-size={width},1000",
           # Console messages (errors, CSP violations, warnings) go to stderr as CONSOLE lines.
           "--enable-logging=stderr", "--v=0",
           # Any attempt to reach the network goes to a dead proxy and fails.
           "--proxy-server=127.0.0.1:9", "--virtual-time-budget=15000",
           "--dump-dom", probe_page.as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True)
    probe_page.unlink()
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    match = re.search(r"<pre id=\"probe\">(.*?)</pre>", run.stdout)
    assert match, "the page never finished drawing its charts"
    return run.stdout, json.loads(match.group(1).replace("&quot;", '"')), console


def test_report_is_self_contained(synthetic_run):
    _, _, out, _ = synthetic_run
    page = (out / "index.html").read_text(encoding="utf-8")
    # Nothing to fetch: no external URLs in src/href, no <link>, CSP forbids all but data: images.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page
    assert "default-src 'none'" in page and "unsafe-eval" not in page
    # Every chart links its data, and the file is there.
    for name in re.findall(r"href='(chart_[^']+\.csv)'", page):
        assert (out / name).is_file(), name


def _check(page_dir, tmp_path, summary):
    for width in (1280, 412):
        dom, probe, console = _open(page_dir, tmp_path, width)
        assert console == [], f"console messages at {width} px: {console[:5]}"
        loaded = re.search(r'data-charts-loaded="(\d+)/(\d+)"', dom)
        assert loaded and loaded.group(1) == loaded.group(2), loaded and loaded.group(0)
        n_vega = dom.count("class='vega-spec'") + dom.count('class="vega-spec"')
        assert n_vega >= 3 and probe["svgs"] == n_vega
        assert probe["scroll"] <= probe["inner"], (width, probe)
        assert 0 <= probe["headline_top"] < 1000, probe
        assert probe["wide"] == [], probe
        for key, c in summary["candidates"].items():
            assert f"data-candidate=\"{key}\"" in dom
            assert f"{100 * c['p_win']:.1f}%" in dom
            assert f"{100 * c['share_total']['q50']:.1f}%" in dom
        assert summary["as_of"] in dom
        assert f"max R-hat {summary['diagnostics']['max_rhat']:.3f}" in dom
        # The page was built offline: its HTML says where every number came from.
        assert "summary.json" in dom
    return dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/browser.sh)")
def test_report_renders_in_headless_chromium(synthetic_run, tmp_path):
    _, _, out, _ = synthetic_run
    summary = json.loads((out / "summary.json").read_text())
    _check(out, tmp_path, summary)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/browser.sh)")
def test_full_report_renders_with_congress_and_governors(mx2018_forecast, tmp_path):
    """The 2018 report (president, Congress, governors): headline, names and not keys, every
    chart drawn, at both widths."""
    out = mx2018_forecast
    summary = json.loads((out / "summary.json").read_text())
    dom = _check(out, tmp_path, summary)
    headline = re.search(r'<section id="headline".*?</section>', dom, re.S).group(0)
    assert "two thirds of both chambers" in headline
    assert "Juntos Haremos Historia" in headline and "López Obrador" in headline
    # No keys where names belong: finishing orders and the governors' table use names.
    assert "amlo &gt; anaya" not in dom and "amlo > anaya" not in dom
    assert "López Obrador &gt; Anaya" in dom
    assert "))" not in re.search(r'<table class="governors">.*?</table>', dom, re.S).group(0)
    for stem in ("trend", "seats_deputies", "hemicycle_senate", "governors_map"):
        assert f"id='fig-{stem}'" in dom or f'id="fig-{stem}"' in dom
