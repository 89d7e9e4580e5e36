"""Atomic file output: a file appears complete under its name, or not at all.

Everything vidstyle writes that other runs read back (cached exports, checkpoints, style files,
copied samples) goes to a unique temporary file in the destination's folder (same file system,
so the rename is atomic; a unique name, so two processes never write into one temporary file),
is flushed to disk and then ``os.replace``-d onto the destination. An error or a kill leaves the
destination as it was (a killed process may leave its hidden ``.NAME.*.partial`` file behind).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_text_atomic", "default_mode"]


def default_mode(path: str | os.PathLike) -> None:
    """Give a finished file the permissions a plainly created one would have (``mkstemp`` makes
    0600 files)."""
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(path, 0o666 & ~umask)
    except OSError:
        pass


def _fsync(path: str | os.PathLike, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike, *, mkdir: bool = False) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path`` (same extension, so libraries that pick a
    format by it still work); when the block ends without an error the file is synced and renamed
    onto ``path``, otherwise it is removed. ``mkdir`` creates the folder first."""
    dest = Path(path)
    if mkdir:
        dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".partial{dest.suffix}", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _fsync(tmp)
        default_mode(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync(dest.parent, directory=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, mkdir: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, mkdir=mkdir) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str, *, mkdir: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, mkdir=mkdir) as tmp:
        tmp.write_text(text, encoding="utf-8")
