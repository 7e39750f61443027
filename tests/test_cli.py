"""The command tree: help for every option, --version, exit codes, messages in one line."""

from __future__ import annotations

import pytest

from forecast import __version__
from forecast.cli import cli, main

COMMANDS = ["run", "update", "watch", "report", "timeline", "validate", "init", "polls", "seats",
            "backtest", "study"]


def test_version_and_help_list_every_command(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"forecast, version {__version__}"
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name}" in out, name
    assert main(["seats", "--help"]) == 0
    assert "allocate" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["run", "update", "watch", "report", "timeline", "validate"])
def test_every_option_has_help(name, capsys):
    """No option is left undescribed (update --help and report --help used to be)."""
    command = cli.commands[name]
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help, f"{name} {param.opts}"
    assert main([name, "--help"]) == 0
    assert "Usage: forecast " + name in capsys.readouterr().out


def test_bad_options_exit_2_with_one_message(capsys):
    assert main(["run", "--as-of", "June"]) == 2
    err = capsys.readouterr().err
    assert "'June' is not a date YYYY-MM-DD" in err
    assert main(["no-such-command"]) == 2
    assert "No such command 'no-such-command'" in capsys.readouterr().err


def test_bad_input_exits_2_and_an_internal_error_1(tmp_path, capsys, monkeypatch):
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{tmp_path / 'election.toml'}:0:-: no election definition: expected " \
                     "election.toml"
    assert err[-1] == "forecast: 1 error(s) in the input; nothing was written"

    import forecast.engine as engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "load_inputs", broken)
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("forecast: internal error: RuntimeError: boom (run with --verbose "
                           "for the traceback)")
    assert "Traceback" not in err
    assert main(["--verbose", "validate"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_pass_through_commands_keep_their_own_help(capsys):
    for argv in (["seats", "allocate", "--help"], ["backtest", "--help"], ["study", "--help"]):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own --help exits
            code = exc.code
        assert code == 0, argv
        assert "usage: forecast " in capsys.readouterr().out
