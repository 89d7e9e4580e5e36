"""The io layer's warnings, through ``logging`` (``vidstyle.io.<module>`` loggers).

A reader or writer reports a problem it survives (a truncated file, a transcoded audio track)
where it finds it, once per object, so every surface shows it the same way: the CLI as one
``warning: ...`` line, a library user through the standard logging configuration.
:func:`collect_warnings` gathers them for results that list them (a render's stats, eval's
JSON).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Diagnostics", "collect_warnings"]

IO_LOGGER = "vidstyle.io"


class Diagnostics:
    """The warnings of one io object, each logged once to ``vidstyle.io.<name>``.

    ``label`` (e.g. ``"matte m.mp4"``) prefixes the messages as ``label: message``.
    """

    def __init__(self, name: str, label: str | None = None) -> None:
        self.logger = logging.getLogger(f"{IO_LOGGER}.{name}")
        self.label = label
        self._found: list[str] = []
        self._held: list[str] | None = None

    @property
    def found(self) -> tuple[str, ...]:
        """The messages so far, for the object's own decisions (not a channel to the user)."""
        return tuple(self._found)

    def warn(self, message: str) -> None:
        """Log ``message`` unless this object already did."""
        if message in self._found:
            return
        self._found.append(message)
        if self._held is not None:
            self._held.append(message)
        else:
            self._log(message)

    def _log(self, message: str) -> None:
        if self.label:
            self.logger.warning("%s: %s", self.label, message)
        else:
            self.logger.warning("%s", message)

    def hold(self) -> None:
        """Keep messages back until :meth:`release` (an object still being opened: if opening
        fails, its error says what went wrong and the messages are never logged)."""
        if self._held is None:
            self._held = []

    def release(self, label: str | None = None) -> None:
        """Log the messages kept back (prefixed by ``label`` when given, as later ones are)."""
        if label is not None:
            self.label = label
        held, self._held = self._held or [], None
        for message in held:
            self._log(message)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """The io warnings logged while the block runs, in order (the list fills as they come).

    They are collected even when the ``vidstyle`` loggers are quieted (``--quiet``); then they
    are not passed on to those loggers' handlers either.
    """
    io_log = logging.getLogger(IO_LOGGER)
    handler = _Collector()
    saved = (io_log.level, io_log.propagate)
    quiet = not io_log.isEnabledFor(logging.WARNING)
    io_log.addHandler(handler)
    if quiet:
        io_log.setLevel(logging.WARNING)
        io_log.propagate = False
    try:
        yield handler.messages
    finally:
        io_log.removeHandler(handler)
        io_log.setLevel(saved[0])
        io_log.propagate = saved[1]
