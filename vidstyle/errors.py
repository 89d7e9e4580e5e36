"""Errors that the CLI reports as one clear line (no traceback)."""


def first_line(e: BaseException) -> str:
    """The first line of ``e``'s message (surrounding whitespace dropped), or its type's name
    when the message is empty: a third-party exception condensed for a one-line error."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class VidstyleError(Exception):
    """A user-facing error: bad input, missing file, unknown style, ...

    The CLI prints ``error: <message>`` and exits with ``exit_code``.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(VidstyleError):
    """The input is missing, unreadable, or not something we can decode."""

    exit_code = 2


class OutputError(VidstyleError):
    """The output cannot be written (exists, unwritable folder, bad codec)."""

    exit_code = 3


class Cancelled(VidstyleError):
    """A run stopped by ``cancel()`` from another thread: its temporary output is removed and a
    resumable run keeps its saved parts (``saved_frames`` of them)."""

    exit_code = 130

    def __init__(self, message: str = "cancelled", saved_frames: int = 0) -> None:
        super().__init__(message)
        self.saved_frames = saved_frames

    def __reduce__(self):  # keep saved_frames across processes (a render farm's workers)
        return type(self), (str(self), self.saved_frames)
