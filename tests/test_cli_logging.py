"""Diagnostics go through ``logging`` (``vidstyle.<layer>`` loggers); the CLI prints each warning as
one ``warning: ...`` line on stderr while a command runs, and ``--quiet`` hides them."""

from __future__ import annotations

import logging

import click
from click.testing import CliRunner

from vidstyle.cli import VidstyleGroup
from vidstyle.cli.logs import EchoHandler


@click.group(cls=VidstyleGroup)
def group() -> None:
    """A test group with the CLI's error and log handling."""


@group.command()
@click.option("--quiet", is_flag=True)
def noisy(quiet: bool) -> None:
    logging.getLogger("vidstyle.pipeline").warning("matte is %dx%d:\n  resized", 20, 10)
    logging.getLogger("vidstyle.live").info("progress details are not shown")
    click.echo("done", err=True)


@group.command()
@click.argument("text")
@click.option("--quiet", is_flag=True)
def plain(text: str, quiet: bool) -> None:
    logging.getLogger("vidstyle.live").warning("%s here is an argument, not the flag", text)


def test_warnings_print_as_one_line_and_quiet_hides_them():
    r = CliRunner().invoke(group, ["noisy"])
    assert r.exit_code == 0 and r.output.splitlines() == ["warning: matte is 20x10: resized", "done"]
    r = CliRunner().invoke(group, ["noisy", "--quiet"])
    assert r.exit_code == 0 and r.output.splitlines() == ["done"]


def test_the_handler_is_removed_after_the_command():
    log = logging.getLogger("vidstyle")
    before = (list(log.handlers), log.level, log.propagate)
    CliRunner().invoke(group, ["noisy"])
    assert (list(log.handlers), log.level, log.propagate) == before
    assert not any(isinstance(h, EchoHandler) for h in log.handlers)


def test_quiet_is_the_subcommand_flag_only():
    r = CliRunner().invoke(group, ["plain", "--", "--quiet"])
    assert r.exit_code == 0 and r.output.startswith("warning: --quiet here")


def test_live_uses_the_logger_for_warnings(monkeypatch):
    from vidstyle.live import session

    records = []
    monkeypatch.setattr(session.log, "warning", lambda *a: records.append(a[0] % a[1:]))
    s = session._Session(session.LiveConfig(snapshot_dir="/nonexistent/folder/x"), echo=lambda m: None)

    class Frame:
        content = stylized = __import__("numpy").zeros((4, 4, 3), "uint8")

    monkeypatch.setattr("os.makedirs", lambda *a, **k: None)
    assert s.snapshot(Frame(), False) is None
    assert records and records[0].startswith("cannot write snapshot /nonexistent/folder/x/")
