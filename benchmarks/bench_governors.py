"""Governor races end to end, as of a date: the forecast's stages (president, Congress,
governors: forecast.engine), then the governor figures and their score against the results.

The national signal is the Congress stage's bloc vote of each draw (``--no-congress``: the
presidential vote, each candidate in their coalition's bloc). Writes ``governors_summary.json``,
``governors_backtest.json``, ``governors_table.html`` and the charts into ``--out``
(atomically) and prints the figures::

    .venv/bin/python benchmarks/bench_governors.py --as-of 2018-06-28 --out benchmarks/out/governors

``--drop-polls STATE`` refits without that state's polls, to show a state on baseline + swing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast.engine import compute, load_inputs  # noqa: E402
from forecast.files import atomic_write_bytes  # noqa: E402
from forecast.governors import backtest_governors, load_governor_results  # noqa: E402
from forecast.report.governor_charts import (  # noqa: E402
    governor_table_html,
    plot_governor_counts,
    plot_governor_map,
)
from forecast.report.style import governor_style  # noqa: E402
from forecast.stages import Options  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Run the governor forecast as of a date and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--election", default=str(ROOT / "polls" / "mx2018"))
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2018, 6, 28))
    parser.add_argument("--seed", type=int, default=20180701)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "governors"))
    parser.add_argument("--drop-polls", default=None, help="refit without this state's polls")
    parser.add_argument("--no-congress", dest="congress", action="store_false",
                        help="drive the races with the presidential vote (no party-poll fit)")
    args = parser.parse_args(argv)
    out = Path(args.out)

    parser_note = "" if args.congress else " (no Congress: the presidential vote drives them)"
    inputs = load_inputs(args.election, Options(congress=args.congress))
    races = inputs.stage("governors").races
    if args.drop_polls:
        polls = inputs.stage("governors").polls
        polls.table = polls.table[polls.table["state"] != args.drop_polls].reset_index(drop=True)
    start = time.perf_counter()
    forecast = compute(inputs, as_of=args.as_of, seed=args.seed, progress=False)
    result = forecast.results["governors"]
    gfit, draws, block = result.fit, result.draws, result.summary
    print(f"forecast in {time.perf_counter() - start:.1f} s{parser_note}; governor fit: "
          f"{gfit.diagnostics.describe()}")
    from forecast.governors.simulate import states_of

    block = {**block, "states": states_of(block)}
    results = load_governor_results(races.results_path, races)
    score = backtest_governors(draws, results)

    atomic_write_bytes(out / "governors_summary.json",
                       json.dumps(block, indent=2, ensure_ascii=False).encode())
    atomic_write_bytes(out / "governors_backtest.json",
                       json.dumps(score, indent=2, ensure_ascii=False).encode())
    names = {r.state: {c.key: c.name for c in r.candidates} for r in races.races}
    style = governor_style(races)
    atomic_write_bytes(out / "governors_table.html",
                       governor_table_html(block, names=names, style=style).encode())
    atomic_write_bytes(out / "governors_map.png",
                       _png(plot_governor_map(block, tiles=races.tiles, style=style)))
    atomic_write_bytes(out / "governors_count.png", _png(plot_governor_counts(block, style=style)))

    print(f"\nas of {args.as_of}: {block['draws']} draws; shared error fraction "
          f"{ {k: round(v, 2) for k, v in block['shared_error_fraction'].items()} }")
    for state, v in block["states"].items():
        main_keys = sorted(v["p_win"], key=lambda k: -v["p_win"][k])[:3]
        p = "  ".join(f"{k} {v['p_win'][k]:.3f}" for k in main_keys)
        width = "  ".join(f"{k} {v['interval_90'][k]:.3f}" for k in main_keys)
        actual = score["states"][state]
        print(f"{state:11s} polls {v['polls_used']}  P(win): {p}  | 90% width: {width}  | "
              f"actual {actual['actual_winner']} P={actual['p_actual_winner']:.3f}")
    for k, c in block["count"].items():
        if c["mean"] >= 0.05:
            print(f"count {k:4s} mean {c['mean']:.2f} q05 {c['q05']:.0f} q50 {c['q50']:.0f} "
                  f"q95 {c['q95']:.0f}  P(>=k) {[round(x, 3) for x in c['p_at_least']]}")
    print(f"\nbacktest: winner P>=0.5 in {score['n_winner_p_ge_half']}/{score['n_states']}, "
          f"Brier {score['brier']:.4f}, log score {score['log_score']:.3f}, coverage "
          f"50% {score['coverage_50']:.2f} / 90% {score['coverage_90']:.2f} "
          f"({score['n_shares']} shares); candidacies >= 10%: 50% "
          f"{score['coverage_50_main']:.2f} / 90% {score['coverage_90_main']:.2f} "
          f"({score['n_shares_main']})")
    print(f"outputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
