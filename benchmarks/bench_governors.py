"""Governor races end to end, as of a date: fit, simulate with a national signal, score.

Until the Congress vote model exists, the national signal is the stand-in described in
docs/governors.md: the presidential fit as of the same date, amlo -> jhh, anaya -> paf,
meade -> tpm, the rest -> other. Writes ``governors_summary.json``, ``governors_backtest.json``,
``governors_table.html`` and the charts into ``--out`` (atomically) and prints the figures::

    .venv/bin/python benchmarks/bench_governors.py --as-of 2018-06-28 --out reports/governors

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

from forecast.fit import atomic_write_bytes, fit  # noqa: E402
from forecast.governors import (  # noqa: E402
    backtest_governors,
    fit_governors,
    governors_summary,
    load_governor_races,
    load_governor_results,
    load_governor_spec,
    national_from_presidential,
    read_governor_polls,
    simulate_governors,
)
from forecast.pipeline import load_inputs  # noqa: E402
from forecast.report.governor_charts import (  # noqa: E402
    governor_table_html,
    plot_governor_counts,
    plot_governor_map,
)
from forecast.report.style import governor_style  # noqa: E402
from forecast.simulate import simulate  # noqa: E402


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
    parser.add_argument("--out", default=str(ROOT / "reports" / "governors"))
    parser.add_argument("--drop-polls", default=None, help="refit without this state's polls")
    args = parser.parse_args(argv)
    out = Path(args.out)

    start = time.perf_counter()
    inputs = load_inputs(args.election)
    pres = fit(inputs.polls, inputs.election, inputs.spec, as_of=args.as_of, seed=args.seed)
    national = national_from_presidential(simulate(pres, seed=args.seed))
    t_pres = time.perf_counter() - start
    print(f"stand-in national (presidential fit, {t_pres:.0f} s, converged "
          f"{pres.diagnostics.converged}): mean {national.mean('draw').round(3).values}")

    races = load_governor_races(args.election)
    polls = read_governor_polls(races.poll_path, races)
    if args.drop_polls:
        polls.table = polls.table[polls.table["state"] != args.drop_polls].reset_index(drop=True)
    spec = load_governor_spec(ROOT / "models" / "governors.toml")
    start = time.perf_counter()
    gfit = fit_governors(races, polls, spec, as_of=args.as_of, seed=args.seed)
    t_fit = time.perf_counter() - start
    print(f"governor fit in {t_fit:.1f} s: {gfit.diagnostics.describe()}")
    draws = simulate_governors(gfit, national, races.national_baseline, seed=args.seed)
    block = governors_summary(draws)
    block["diagnostics"] = gfit.diagnostics.as_dict()
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
