"""The HTML report opens offline in headless Chromium with every chart and number present."""

import json
import re
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_is_self_contained(synthetic_run):
    _, _, out, _ = synthetic_run
    page = (out / "index.html").read_text(encoding="utf-8")
    # Nothing to fetch: no external URLs in src/href, no <link>, CSP forbids all but data: images.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page
    assert "default-src 'none'" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/browser.sh)")
def test_report_renders_in_headless_chromium(synthetic_run, tmp_path):
    _, _, out, _ = synthetic_run
    summary = json.loads((out / "summary.json").read_text())
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           # Any attempt to reach the network goes to a dead proxy and fails.
           "--proxy-server=127.0.0.1:9", "--virtual-time-budget=5000",
           "--dump-dom", (out / "index.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    n_charts = dom.count("class=\"chart\"")
    assert n_charts >= 4
    assert f'data-charts-loaded="{n_charts}/{n_charts}"' in dom
    for key, c in summary["candidates"].items():
        assert f"data-candidate=\"{key}\"" in dom
        assert f"{100 * c['p_win']:.1f}%" in dom
        assert f"{100 * c['share_total']['q50']:.1f}%" in dom
    assert summary["as_of"] in dom
    assert f"max R-hat {summary['diagnostics']['max_rhat']:.3f}" in dom
    # The page was built offline: its HTML says where every number came from.
    assert "summary.json" in dom
