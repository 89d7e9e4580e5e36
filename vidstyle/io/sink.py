"""The output protocol every sink follows, and the helpers the sinks share.

:class:`FrameSink` turns any failure into one :class:`~vidstyle.errors.OutputError` and removes
its temporary output, so a caller never sees a traceback or a half-written file.
"""

from __future__ import annotations

import errno

from vidstyle.errors import OutputError, VidstyleError
from vidstyle.io import _util
from vidstyle.io._util import one_line
from vidstyle.io.atomic import default_mode
from vidstyle.io.diagnostics import Diagnostics
from vidstyle.io.outpath import prepare_folder, remove_dirs
from vidstyle.io.frame import Frame, VideoInfo

import av
import cv2
import numpy as np

__all__ = ["FrameSink", "prepare_folder", "remove_dirs", "oserror_message", "av_message", "to_uint",
           "default_mode", "MKSTEMP_CHARS"]

assert _util

MKSTEMP_CHARS = 8  # tempfile.mkstemp's random part: 8 of [a-z0-9_]


def oserror_message(exc: OSError) -> str:
    """A file-system error in a few words, for an ``error: ...`` line."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or one_line(exc)


def av_message(exc: Exception) -> str:
    """An FFmpeg error in a few words: the errno's meaning when it has one (a full disk)."""
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "permission denied"
    return one_line(exc)


def _as_frame(frame, count: int) -> Frame:
    if isinstance(frame, Frame):
        return frame
    if isinstance(frame, np.ndarray):
        return Frame(image=frame, index=count)
    raise OutputError(f"write() expects a Frame or a numpy array, got {type(frame).__name__}")


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] not in (3, 4):
        shape = getattr(image, "shape", None)
        raise OutputError(f"frame must be an H x W x 3 (RGB) or x 4 (RGBA) array, got shape {shape}")
    if image.dtype not in (np.uint8, np.uint16, np.float32, np.float16, np.float64):
        raise OutputError(f"unsupported frame dtype {image.dtype} (use uint8, uint16 or float32)")
    return image


def to_uint(image: np.ndarray, bits: int) -> np.ndarray:
    """Convert to uint8 (bits=8) or uint16 (bits=16), scaling / clipping as needed."""
    if bits == 8:
        if image.dtype == np.uint8:
            return image
        if image.dtype == np.uint16:
            return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
        return (np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.dtype == np.uint16:
        return image
    if image.dtype == np.uint8:
        return image.astype(np.uint16) * 257
    return (np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)


class FrameSink:
    """Common protocol: ``write``, ``close``, ``abort``, context manager; ``diagnostics`` logs the
    sink's warnings to ``vidstyle.io.writer`` (the parts of one output share their output's, so
    each is said once)."""

    def __init__(self, path: str, info: VideoInfo, overwrite: bool) -> None:
        self.path = path
        self.info = info
        self.overwrite = overwrite
        self.diagnostics = Diagnostics("writer")
        self.frames_written = 0
        self._done = False  # closed or aborted
        self._created_dirs: list[str] = []

    def _warn(self, message: str) -> None:
        self.diagnostics.warn(message)

    def write(self, frame: Frame | np.ndarray) -> None:
        if self._done:
            raise OutputError(f"{self.path}: output already closed or aborted")
        frame = _as_frame(frame, self.frames_written)
        _check_image(frame.image)
        try:
            self._write(frame)
        except VidstyleError:
            self.abort()
            raise
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.path}: write failed ({oserror_message(exc)})") from None
        except (av.error.FFmpegError, cv2.error, ValueError, TypeError) as exc:
            self.abort()
            raise OutputError(f"{self.path}: encoding failed ({av_message(exc)})") from None
        self.frames_written += 1

    def close(self) -> None:
        """Finish the output and move it into place. Raises OutputError (and cleans up) on failure."""
        if self._done:
            return
        try:
            if self.frames_written == 0:
                raise OutputError(f"{self.path}: no frames were written")
            self._finish()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, VidstyleError) or not isinstance(exc, Exception):
                raise
            if isinstance(exc, OSError):
                raise OutputError(f"{self.path}: finishing failed ({oserror_message(exc)})") from None
            raise OutputError(f"{self.path}: finishing failed ({one_line(exc)})") from None
        self._done = True

    def abort(self) -> None:
        """Drop everything written so far; a pre-existing ``path`` stays as it was."""
        if self._done:
            return
        self._done = True
        try:
            self._discard()
        finally:
            remove_dirs(self._created_dirs)

    # subclass hooks
    def _write(self, frame: Frame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _finish(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _discard(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return self._done

    def __enter__(self) -> "FrameSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # never leave temporary files behind
        try:
            if not self._done:
                self.abort()
        except Exception:  # noqa: BLE001 - a finalizer must not raise
            pass

