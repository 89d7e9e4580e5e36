"""Command-line interface: ``vidstyle stylize|styles|eval|train|live|...``.

Every subcommand lives in its own module; this one only builds the group and turns
user-facing errors (``VidstyleError``) and Ctrl-C into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys

import click

from ..errors import VidstyleError


class VidstyleGroup(click.Group):
    """A click group that reports ``VidstyleError`` and Ctrl-C without a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except VidstyleError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)


@click.group(cls=VidstyleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vidstyle")
def main() -> None:
    """vidstyle: video style transfer with temporal consistency."""


def _register() -> None:
    from . import styles_cmd  # noqa: PLC0415

    main.add_command(styles_cmd.styles)
    for modname, attr in (
        ("stylize_cmd", "stylize"),
        ("eval_cmd", "eval_cmd"),
        ("train_cmd", "train"),
        ("distill_cmd", "distill"),
        ("live_cmd", "live"),
        ("sample_cmd", "sample"),
        ("export_cmd", "export"),
    ):
        try:
            mod = __import__(f"{__name__}.{modname}", fromlist=[attr])
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{modname}":
                raise
            continue
        main.add_command(getattr(mod, attr))


_register()
