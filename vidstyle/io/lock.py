"""One run per output: an OS file lock beside the output.

``lock_output(output) -> OutputLock`` takes an exclusive, non-blocking lock on the hidden file
``.NAME.vidstyle-lock`` beside ``output`` (a video file, an image pattern or a folder) or raises
:class:`~vidstyle.errors.OutputError` at once when another run holds it. Two runs writing the same
output would otherwise share its temporary files and its resume folder and mix their frames.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows): it
belongs to the open file, so it is released on any exit, a SIGKILL or a crash included, and a
lock file left by a killed run is simply locked again. ``release()`` (or leaving the ``with``
block) removes the file while still holding the lock; a run that opened the old file in that
instant notices that the name now points elsewhere and tries again. On Windows an open file cannot
be removed, so the lock file may stay beside the output; it is harmless. Missing folders on the
way to the lock file are created, and removed again on release while still empty.
"""

from __future__ import annotations

import os

from vidstyle.errors import OutputError
from vidstyle.io.outpath import hidden_name, physical_folder, prepare_folder, remove_dirs

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

__all__ = ["OutputLock", "lock_output", "lock_path"]


def lock_path(output: str) -> str:
    """The lock file of ``output`` (``%``/``#`` of a pattern replaced, a folder's trailing ``/``
    dropped)."""
    target = os.fspath(output).rstrip("/" + os.sep) or os.fspath(output)
    name = os.path.basename(target).replace("%", "_").replace("#", "_")
    folder = physical_folder(target)
    return os.path.join(folder, hidden_name(name, ".vidstyle-lock", folder=folder))


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` without waiting; False when another process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except (BlockingIOError, PermissionError):
        return False
    except OSError:
        if fcntl is None:  # msvcrt reports a held lock as a plain OSError (EDEADLOCK / EACCES)
            return False
        raise
    return True


class OutputLock:
    """The lock of one output (see the module docstring); a context manager."""

    def __init__(self, output: str) -> None:
        self.output = os.fspath(output)
        self.path = lock_path(self.output)
        self._fd: int | None = None
        self._created: list[str] = []  # folders made for the lock file, removed again when empty

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> OutputLock:
        if self._fd is not None:
            return self
        self._make_folders(os.path.dirname(self.path))
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                self._remove_folders()
                raise OutputError(f"{self.output}: cannot create the lock file {self.path} "
                                  f"({exc.strerror or exc})") from None
            try:
                try:
                    free = _try_lock(fd)
                except OSError as exc:  # e.g. ENOLCK: a network file system without locks
                    raise OutputError(f"{self.output}: cannot lock {self.path} ({exc.strerror or exc})") from None
                if not free:
                    raise OutputError(f"{self.output}: another vidstyle run is writing this output; "
                                      "wait for it to finish or choose another output")
                try:  # the holder may have removed the file between our open and lock
                    same = os.path.samestat(os.fstat(fd), os.stat(self.path))
                except FileNotFoundError:
                    same = False
            except BaseException:
                os.close(fd)
                self._remove_folders()
                raise
            if same:
                self._fd = fd
                return self
            os.close(fd)
        raise OutputError(f"{self.output}: cannot take the lock {self.path} (it keeps changing)")

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.remove(self.path)
        except OSError:  # Windows: an open file cannot be removed
            pass
        if fcntl is None:
            try:  # msvcrt wants a region unlocked before its file is closed
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            except OSError:
                pass
        os.close(fd)
        self._remove_folders()

    def _make_folders(self, folder: str) -> None:
        try:
            self._created = prepare_folder(folder)
        except OutputError as exc:
            raise OutputError(f"{self.output}: {exc}") from None

    def _remove_folders(self) -> None:
        remove_dirs(self._created)  # only while empty: a finished output keeps its folder
        self._created = []

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # noqa: BLE001 - a finalizer must not raise
            pass


def lock_output(output: str) -> OutputLock:
    """Lock ``output`` for this run (raises :class:`OutputError` at once when it is busy)."""
    return OutputLock(output).acquire()
