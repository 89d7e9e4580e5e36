"""Diagnostics on the command line: vidstyle's modules log to ``logging.getLogger("vidstyle.<layer>")``
(``vidstyle.pipeline``, ``vidstyle.live``, ...); while a command runs, the CLI shows each warning
or error as one ``warning: ...`` / ``error: ...`` line on stderr, and ``--quiet`` hides warnings.

Library users get the records through the standard ``logging`` configuration instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click

ROOT = "vidstyle"


class EchoHandler(logging.Handler):
    """One ``<level>: <message>`` line per record on the current stderr (click's, so test runners
    that swap ``sys.stderr`` see it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = " ".join(self.format(record).split())
            click.echo(f"{record.levelname.lower()}: {text}", err=True)
        except Exception:  # noqa: BLE001 - logging must never end the command
            self.handleError(record)


@contextmanager
def cli_logging() -> Iterator[EchoHandler]:
    """Show the ``vidstyle`` loggers' warnings on stderr for the duration of a command (the logger's
    previous handlers, level and propagation are restored afterwards)."""
    log = logging.getLogger(ROOT)
    handler = EchoHandler()
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False  # once on stderr is enough
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def set_quiet(quiet: bool) -> None:
    """``--quiet``: only errors."""
    logging.getLogger(ROOT).setLevel(logging.ERROR if quiet else logging.WARNING)


@contextmanager
def io_warnings_shown() -> Iterator[None]:
    """Show the io layer's warnings (``vidstyle.io``) even with ``--quiet`` while the block runs:
    they say an output may be incomplete (a damaged input stops early), which quiet must not hide."""
    log = logging.getLogger(f"{ROOT}.io")
    saved = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(saved)
