"""The ``forecast`` command: one command tree (click). Thin: parses options and calls the library.

Exit codes: 0 done, 1 internal error (a short message; ``--verbose`` shows the traceback),
2 bad input or a bad option (one line per problem, nothing written), 3 a fit did not converge
(with ``--strict``), 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
import traceback
from pathlib import Path

import click

from . import __version__
from .problems import InputError
from .seeds import DEFAULT_SEED

DEFAULT_ELECTION = "polls/mx2018"
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_NOT_CONVERGED = 3
EXIT_INTERRUPTED = 130


class DateType(click.ParamType):
    """A date YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date YYYY-MM-DD", param, ctx)


DATE = DateType()


def _configure_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("forecast")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def election_argument(f):
    return click.argument("election_dir", required=False, default=DEFAULT_ELECTION,
                          metavar="[ELECTION_DIR]")(f)


def fit_options(f):
    """Options shared by the commands that fit models."""
    options = [
        click.option("--out", default="reports", show_default=True, metavar="DIR",
                     help="forecast folder (written as a unit; its fits are reused when they "
                          "are exactly the ones this run would make)"),
        click.option("--seed", type=int, default=None, metavar="N",
                     help=f"random seed (default {DEFAULT_SEED}; update: the forecast's own)"),
        click.option("--model", default=None, metavar="FILE",
                     help="model file of the presidential polls (default: the election's, "
                          "else models/president.toml)"),
        click.option("--draws", type=click.IntRange(min=1), default=None, metavar="N",
                     help="draws per chain, every poll model (override)"),
        click.option("--tune", type=click.IntRange(min=1), default=None, metavar="N",
                     help="tuning steps per chain, every poll model (override)"),
        click.option("--chains", type=click.IntRange(min=1), default=None, metavar="N",
                     help="chains, every poll model (override)"),
        click.option("--no-congress", is_flag=True,
                     help="leave out the Congress projection (party polls and seats)"),
        click.option("--no-governors", is_flag=True,
                     help="leave out the governor races (state polls)"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def strict_option(f):
    return click.option("--strict", is_flag=True,
                        help="exit 3 when any fit fails its convergence checks")(f)


def _overrides(draws: int | None, tune: int | None, chains: int | None) -> dict:
    return {k: v for k, v in (("draws", draws), ("tune", tune), ("chains", chains))
            if v is not None}


@click.group(context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="forecast")
@click.option("-q", "--quiet", is_flag=True, help="print only warnings and results")
@click.option("-v", "--verbose", is_flag=True,
              help="print progress details, and the traceback of an internal error")
def cli(quiet: bool, verbose: bool) -> None:
    """Bayesian election forecasting: polls -> fit -> simulate -> seats -> report.

    Every command reads an election folder (default polls/mx2018: election.toml, poll files,
    congress/ and governors/ when the election has them) and the model files in models/.
    """
    _configure_logging(quiet, verbose)


# --------------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------------


def _print_warnings(summary: dict) -> None:
    warnings = summary["poll_warnings"]
    if warnings:
        click.echo(f"{len(warnings)} note(s) and poll-file warning(s) (treatments applied; see "
                   "the report):", err=True)
        for w in warnings[:5]:
            click.echo(f"  {w}", err=True)
        if len(warnings) > 5:
            click.echo(f"  ... and {len(warnings) - 5} more", err=True)


def _report_diagnostics(diagnostics) -> None:
    click.echo(diagnostics.describe())
    if not diagnostics.converged:
        click.echo("\n" + "!" * 72 + "\nWARNING: THE MODEL DID NOT CONVERGE — the forecast "
                   "below is not reliable.\n" + "\n".join(diagnostics.problems) + "\n"
                   + "!" * 72, err=True)


_LABELS = {"president": "", "congress": "party polls: ", "governors": "state polls (governors): "}


def _print_fits(forecast, out: str) -> bool:
    """One paragraph per fit (fresh or reused); returns whether every fit converged."""
    ok = True
    for name, result in forecast.results.items():
        d = result.fit.diagnostics
        label = _LABELS.get(name, f"{name}: ")
        if result.reused:
            click.echo(f"{label}fit reused from {out} (same polls, settings and seed): "
                       f"{'converged' if d.converged else 'NOT CONVERGED'}, max R-hat "
                       f"{d.max_rhat:.4f}")
            if not d.converged:
                _report_diagnostics(d)
        else:
            click.echo(label, nl=False)
            _report_diagnostics(d)
        ok = ok and d.converged
    return ok


def _print_summary(summary: dict, names: dict | None = None) -> None:
    from .report.headline import headline_sentences

    click.echo(f"\n{summary['election']} — forecast as of {summary['as_of']} "
               f"({summary['polls_used']} polls)")
    for sentence in headline_sentences(summary, names):
        click.echo(f"  {sentence}")
    click.echo("")
    click.echo(f"{'candidate':<26}{'P(win)':>8}{'total q05':>11}{'q50':>8}{'q95':>8}"
               f"{'valid q50':>11}")
    for key, c in sorted(summary["candidates"].items(), key=lambda kv: -kv[1]["p_win"]):
        st = c["share_total"]
        click.echo(f"{c.get('name', key)[:25]:<26}{c['p_win']:>8.1%}{st['q05']:>11.1%}"
                   f"{st['q50']:>8.1%}{st['q95']:>8.1%}{c['share_valid']['q50']:>11.1%}")
    click.echo(f"P(winner under a third of the total vote): "
               f"{summary['p_winner_under_third']:.1%}")
    chambers = summary.get("chambers")
    if chambers:
        click.echo(f"\n{'seats':<26}{'chamber':<10}{'q05':>6}{'q50':>6}{'q95':>6}"
                   f"{'P(majority)':>13}{'P(2/3)':>9}")
        for chamber in ("deputies", "senate"):
            for key, c in chambers[chamber]["coalitions"].items():
                q = c["seats"]
                click.echo(f"{c.get('name', key)[:25]:<26}{chamber:<10}{q['q05']:>6.0f}"
                           f"{q['q50']:>6.0f}{q['q95']:>6.0f}{c['p_majority']:>13.1%}"
                           f"{c['p_two_thirds']:>9.1%}")
    governors = summary.get("governors")
    if governors:
        click.echo("\ngovernors: P(win) of the favourite per state")
        for state, v in governors.items():
            if isinstance(v, dict) and "p_win" in v:
                lead = max(v["p_win"], key=v["p_win"].get)
                click.echo(f"  {v.get('name', state)[:20]:<22}{lead:<12}"
                           f"{v['p_win'][lead]:>7.1%}  ({v['polls_used']} polls)")
        for key, c in governors["count"].items():
            if c["mean"] >= 0.05:
                at_least = c["p_at_least"]
                half = (len(at_least) - 1) // 2 + 1
                click.echo(f"  count {key:<12} median {c['q50']:.0f} (90%: {c['q05']:.0f}–"
                           f"{c['q95']:.0f}), P(>= {half}) {at_least[half]:.1%}")


def _finish(forecast, out: str, strict: bool) -> int:
    summary = forecast.summary
    _print_warnings(summary)
    ok = _print_fits(forecast, out)
    from .report.headline import display_names

    _print_summary(summary, display_names(forecast))
    click.echo(f"\nreport: {Path(out) / 'index.html'}")
    return EXIT_NOT_CONVERGED if strict and not ok else 0


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


@cli.command()
@election_argument
@click.option("--as-of", type=DATE, default=None,
              help="use only polls public (published, else fieldwork ended) by this date; "
                   "default: the latest poll of any poll file of the election")
@fit_options
@strict_option
def run(election_dir, as_of, out, seed, model, draws, tune, chains, no_congress, no_governors,
        strict) -> int:
    """Fit, simulate and write the forecast folder (report, summary.json, tables, fits)."""
    from .pipeline import run as run_forecast

    forecast = run_forecast(election_dir, as_of=as_of, out_dir=out,
                            seed=DEFAULT_SEED if seed is None else seed, model_file=model,
                            spec_changes=_overrides(draws, tune, chains),
                            congress=not no_congress, governors=not no_governors)
    return _finish(forecast, out, strict)


def _update_once(election_dir, out, seed, model, draws, tune, chains, no_congress,
                 no_governors, strict) -> int:
    from .changes import change_table
    from .pipeline import update

    start = time.perf_counter()
    plan, previous, forecast = update(election_dir, out_dir=out, seed=seed, model_file=model,
                                      spec_changes=_overrides(draws, tune, chains),
                                      congress=not no_congress, governors=not no_governors)
    if forecast is None:
        click.echo(f"no new polls since the forecast as of {plan.previous_as_of}: nothing to do "
                   f"({Path(out) / 'index.html'} is up to date)")
        return 0
    new = ", ".join(f"{n} {name}" for name, n in plan.new_polls.items() if n)
    click.echo(f"new polls since {plan.previous_as_of or 'the last forecast'}: {new or 'none'}; "
               f"refitted: {', '.join(plan.changed) or 'nothing'}")
    code = _finish(forecast, out, strict)
    click.echo("\nwhat changed:")
    for line in change_table(previous, forecast.summary):
        click.echo(f"  {line}")
    click.echo(f"\nupdate done in {time.perf_counter() - start:.1f} s")
    return code


@cli.command()
@election_argument
@fit_options
@strict_option
def update(election_dir, out, seed, model, draws, tune, chains, no_congress, no_governors,
           strict) -> int:
    """Refit after new polls: nothing when no poll is new; otherwise only the models whose
    polls changed, and print what changed (adds the point to timeline.csv when there is one)."""
    return _update_once(election_dir, out, seed, model, draws, tune, chains, no_congress,
                        no_governors, strict)


@cli.command()
@election_argument
@fit_options
@click.option("--interval", type=click.FloatRange(min=0.2), default=2.0, show_default=True,
              metavar="SECONDS", help="how often the poll files are checked")
@click.option("--once", is_flag=True, help="check once and stop (for scripts and tests)")
def watch(election_dir, out, seed, model, draws, tune, chains, no_congress, no_governors,
          interval, once) -> int:
    """Keep the models compiled and update the forecast whenever a poll file changes.

    A long-running process: the first update compiles the models; later ones reuse them
    (a refit after one new presidential poll takes the sampling time only). Ctrl-C stops.
    """
    from .watch import poll_files, snapshot

    files = poll_files(election_dir)
    seen = None
    while True:
        current = snapshot(files)
        if current != seen:
            seen = current
            try:
                _update_once(election_dir, out, seed, model, draws, tune, chains, no_congress,
                             no_governors, False)
            except InputError as exc:  # a half-edited poll file: say so and keep watching
                _print_problems(exc)
                click.echo("forecast watch: not updated; waiting for the files to be fixed",
                           err=True)
            click.echo(f"watching {len(files)} poll file(s) (Ctrl-C to stop)", err=True)
        if once:
            return 0
        time.sleep(interval)


@cli.command()
@click.option("--fit", "fit_path", default="reports/fit.nc", show_default=True,
              metavar="FILE", help="the presidential fit of a forecast folder (its other fits "
                                   "are read from the same folder)")
@click.option("--out", default="reports", show_default=True, metavar="DIR",
              help="folder of the re-rendered report")
@click.option("--seed", type=int, default=None, metavar="N",
              help="seed of the simulation (default: the forecast's own, which gives its "
                   "numbers again)")
@click.option("--election-dir", default=None, metavar="DIR",
              help="the election folder (default: the one recorded in the fit)")
def report(fit_path, out, seed, election_dir) -> int:
    """Simulate again from saved fits and re-write the report, without refitting."""
    from .pipeline import rereport

    forecast = rereport(fit_path, out, seed=seed, election_dir=election_dir)
    click.echo(f"report written to {Path(out) / 'index.html'} (as of {forecast.as_of})")
    return 0


@cli.command()
@election_argument
@fit_options
@click.option("--every", type=click.IntRange(min=1), default=7, show_default=True, metavar="DAYS",
              help="days between as-of dates")
@click.option("--start", type=DATE, default=None, help="first as-of date")
@click.option("--end", type=DATE, default=None, help="last as-of date (default: last poll)")
@click.option("--dates", type=DATE, multiple=True, help="explicit as-of dates (repeatable)")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="local processes (default: cores / cores used by one fit)")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786): run the fits there")
def timeline(election_dir, out, seed, model, draws, tune, chains, no_congress, no_governors,
             every, start, end, dates, workers, scheduler) -> int:
    """Fit as of a series of dates; store P(win) and seats over time (timeline.csv, .nc) and
    add the over-time charts to the report."""
    from .engine import load_inputs
    from .stages import Options
    from .timeline import run_timeline, weekly_dates

    inputs = load_inputs(election_dir, Options(model_file=model, congress=False,
                                               governors=False)).stage("president")
    chosen = list(dates) or weekly_dates(inputs.polls, inputs.election, every_days=every,
                                         start=start, end=end)
    frame = run_timeline(election_dir, chosen, out_dir=out,
                         seed=DEFAULT_SEED if seed is None else seed, model_file=model,
                         spec_changes=_overrides(draws, tune, chains), client=scheduler,
                         workers=workers, seats=not no_congress)
    wide = frame.pivot(index="as_of", columns="candidate", values="p_win")
    click.echo(wide.to_string(float_format=lambda x: f"{x:.3f}"))
    click.echo(f"timeline written to {Path(out) / 'timeline.csv'}")
    return 0


@cli.command()
@election_argument
def validate(election_dir) -> int:
    """Check an election's definition and every poll file (presidential, party, state)."""
    from .engine import load_inputs, stage_by_name

    inputs = load_inputs(election_dir)
    for name, stage_inputs in inputs.stages.items():
        stage = stage_by_name(name)
        for w in stage.warnings(stage_inputs):
            click.echo(str(w), err=True)
        polls = stage_inputs.polls
        click.echo(f"{polls.path}: {len(polls)} polls OK ({len(polls.warnings)} warning(s))")
    return 0


@cli.command()
@click.argument("election_dir", metavar="DIR")
@click.option("--key", default=None, help="election key (default: from the folder name)")
@click.option("--name", default=None, help="display name of the election")
def init(election_dir, key, name) -> int:
    """Write a commented template election folder to fill in (docs/new-election.md)."""
    from .init import init_election

    made = init_election(election_dir, key=key, name=name)
    click.echo(f"wrote {', '.join(p.name for p in made.files)} in {made.directory} (election "
               f"{made.key}); next: fill in election.toml, then run `forecast validate "
               f"{made.directory}` and follow what it asks for (docs/new-election.md)")
    return 0


@cli.group()
def polls() -> None:
    """Manage poll files."""


@polls.command("add")
@click.argument("election_dir")
@click.argument("rows", metavar="ROWS.csv")
def polls_add(election_dir, rows) -> int:
    """Validate new rows and append them to the election's poll file (locked, atomic, in the
    file's own encoding and separator)."""
    from .poll_file import add_polls

    added = add_polls(election_dir, rows)
    for warning in added.warnings:
        click.echo(str(warning), err=True)
    click.echo(f"added {added.rows} poll(s) to {added.poll_file}: {added.polls_before} -> "
               f"{added.polls_after} polls")
    return 0


_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True,
                 "help_option_names": []}


@cli.group()
def seats() -> None:
    """Seat allocation under the electoral law (rules by year: polls/rules/)."""


@seats.command("allocate", context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def seats_allocate(args) -> int:
    """Apply the seat law to one vote table (forecast seats allocate --help for the options)."""
    from .seats.allocate_cli import main as allocate_main

    return allocate_main(list(args))


@cli.command(context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def backtest(args) -> int:
    """Score forecasts as of past dates against official results (forecast backtest --help)."""
    from .backtest import main as backtest_main

    return backtest_main(list(args))


@cli.command(context_settings=_PASS_THROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def study(args) -> int:
    """Sensitivity study: scenarios x factors -> netCDF and a comparison page (forecast study
    --help)."""
    from .study import main as study_main

    return study_main(list(args))


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _print_problems(exc: InputError) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``forecast`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    try:
        result = cli.main(args=argv, prog_name="forecast", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.UsageError as exc:
        exc.show()
        return EXIT_INPUT
    except click.exceptions.Abort:
        return EXIT_INTERRUPTED
    except InputError as exc:
        from .problems import OutputError

        _print_problems(exc)
        errors = sum(p.severity == "error" for p in exc.problems)
        what = "could not write the output: nothing was written" if isinstance(
            exc, OutputError) else \
            f"{errors} error(s) in the input; nothing was written"
        click.echo(f"forecast: {what}", err=True)
        return EXIT_INPUT
    except KeyboardInterrupt:
        click.echo("forecast: interrupted", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, not a traceback
        if verbose:
            traceback.print_exc()
        click.echo(f"forecast: internal error: {type(exc).__name__}: {exc}"
                   + ("" if verbose else " (run with --verbose for the traceback)"), err=True)
        return EXIT_INTERNAL
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
