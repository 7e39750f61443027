"""The calibration table of docs/backtest.md: every shipped election with an official result,
backtested 4 days before its election day with the shipped model settings.

    .venv/bin/python benchmarks/backtest_table.py                 # terminal table
    .venv/bin/python benchmarks/backtest_table.py --markdown      # the table of docs/backtest.md
    .venv/bin/python benchmarks/backtest_table.py --json out.json # records and table

The same as ``forecast backtest polls/mx2018 polls/mx2012 polls/mx2006 polls/mx2000
polls/kr2022`` (one command); ``--draws/--tune/--chains`` override the sampler for a quick look
(the docs' table uses none). The figures move whenever the model or its settings change: re-run
and paste the ``--markdown`` output.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast.backtest import (  # noqa: E402
    DAYS_BEFORE,
    backtest_many,
    calibration_table,
    format_calibration,
    format_table,
    to_json,
)

ELECTIONS = ("mx2018", "mx2012", "mx2006", "mx2000", "kr2022")


def markdown(rows: list[dict]) -> str:
    """The calibration rows as a Markdown table (shares in points, seats in seats)."""
    lines = ["| election | as of | level | n | in 50% | in 80% | in 90% | IS 50% | IS 80% | "
             "IS 90% | Brier | log score | MAE model | MAE naive |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: |"]

    def num(value, fmt: str, scale: float = 1.0) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return format(value * scale, fmt)

    for r in rows:
        scale = 100.0 if r["unit"] == "share" else 1.0
        cells = [r["election"], r["as_of"] or "", r["level"], str(r["n"]),
                 *(num(r["coverage"][k], ".2f") for k in ("50", "80", "90")),
                 *(num(r["interval_score"][k], ".2f", scale) for k in ("50", "80", "90")),
                 num(r["brier"], ".3f"), num(r["log_score"], ".3f"),
                 num(r["mae"], ".2f", scale), num(r["naive_mae"], ".2f", scale)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("elections", nargs="*",
                   default=[os.path.relpath(ROOT / "polls" / e) for e in ELECTIONS],
                   help="election folders (default: the shipped ones)")
    p.add_argument("--days-before", type=int, default=DAYS_BEFORE)
    p.add_argument("--seed", type=int, default=20180701)
    p.add_argument("--draws", type=int, default=None)
    p.add_argument("--tune", type=int, default=None)
    p.add_argument("--chains", type=int, default=None)
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--details", action="store_true", help="also print each election's table")
    p.add_argument("--json", default=None, metavar="FILE", help="write records and table")
    args = p.parse_args(argv)
    changes = {k: v for k, v in (("draws", args.draws), ("tune", args.tune),
                                 ("chains", args.chains)) if v is not None}
    start = time.perf_counter()
    records = backtest_many(args.elections, seed=args.seed, spec_changes=changes,
                            days_before=args.days_before, progress=False)
    seconds = time.perf_counter() - start
    rows = calibration_table(records)
    if args.details:
        for record in records:
            print(format_table(record), end="\n\n")
    print(markdown(rows) if args.markdown else format_calibration(rows))
    converged = {r["election_key"]: r["converged"] for r in records}
    print(f"\n{len(records)} elections in {seconds:.0f} s; presidential fits converged: "
          + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in converged.items()))
    if args.json:
        Path(args.json).write_text(to_json({"schema": "forecast.backtest-table/1",
                                            "records": records, "table": rows}) + "\n",
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
