"""Command-line interface: ``vidstyle stylize|styles|eval|train|live|...``.

Every subcommand lives in its own module; this one only builds the group and turns
user-facing errors (``VidstyleError``), click's usage errors and Ctrl-C into one line on stderr
and a non-zero exit, and shows the ``vidstyle`` loggers' warnings while a command runs
(:mod:`vidstyle.cli.logs`). Command modules import only what their options need (nothing heavy),
so ``vidstyle --help`` and ``vidstyle CMD --help`` start without PyTorch.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import click

from ..errors import VidstyleError
from .logs import cli_logging, set_quiet


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a job scheduler): unwinds like Ctrl-C, so outputs are cleaned
    up (and a resumable run keeps its saved parts)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


class VidstyleGroup(click.Group):
    """A click group that reports ``VidstyleError``, click's usage errors, Ctrl-C and SIGTERM as
    one ``error: ...`` line without a traceback, the same for every subcommand."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        """Click's ``main`` with its usage-error report (usage, hint, ``Error:``: four lines)
        replaced by one ``error: <message>`` line and exit status 2, like every other error."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:  # bare `vidstyle`: the help text
            e.show()
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"error: {usage_error_text(e)}", err=True)
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        """The subcommand, as click resolves it; its ``--quiet`` also quiets the log (every command
        that has the flag means 'only errors' by it)."""
        name, cmd, rest = super().resolve_command(ctx, args)
        own = rest[: rest.index("--")] if "--" in rest else rest
        set_quiet("--quiet" in own and cmd is not None and any("--quiet" in p.opts for p in cmd.params))
        return name, cmd, rest

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            with cli_logging():
                return super().invoke(ctx)
        except VidstyleError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except Terminated:
            click.echo("error: terminated", err=True)
            sys.exit(143)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def usage_error_text(e: click.ClickException) -> str:
    """One line for a click error: its message, and for a usage error where to find help."""
    text = " ".join(e.format_message().split()).rstrip(".")
    ctx = getattr(e, "ctx", None)
    if isinstance(e, click.UsageError) and ctx is not None:
        text += f" (see '{ctx.command_path} --help')"
    return text


@click.group(cls=VidstyleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vidstyle")
def main() -> None:
    """vidstyle: video style transfer with temporal consistency."""


def _register() -> None:
    from . import styles_cmd

    main.add_command(styles_cmd.styles)
    for modname, attr in (
        ("stylize_cmd", "stylize"),
        ("eval_cmd", "eval_cmd"),
        ("train_cmd", "train"),
        ("train_arbitrary_cmd", "train_arbitrary_cmd"),
        ("distill_cmd", "distill"),
        ("live_cmd", "live"),
        ("sample_cmd", "sample"),
        ("export_cmd", "export"),
        ("preview_cmd", "preview"),
    ):
        try:
            mod = __import__(f"{__name__}.{modname}", fromlist=[attr])
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{modname}":
                raise
            continue
        main.add_command(getattr(mod, attr))


_register()


def run() -> None:
    """The ``vidstyle`` console command: :func:`main`, then an immediate process exit.

    Every output is closed and renamed into place before a command returns, so nothing is left to
    clean up; skipping the interpreter's teardown (PyTorch's and OpenVINO's module finalizers take
    up to a second or more) makes every command return sooner. Exceptions other than
    ``SystemExit`` are not caught (a traceback and the normal exit path).
    """
    code: object = 0
    try:
        main()
    except SystemExit as e:
        code = e.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
