"""Record the stylized live stream through the same writer as ``vidstyle stylize``.

:class:`Recorder` is an engine output (``submit(LiveFrame)``) that encodes on its own thread, so
the encoder never holds up inference. Frames get their timestamps from the wall-clock capture
time (time base 1/90000, relative to the first recorded frame), so the recording plays at the
speed it was seen, dropped frames included (variable frame rate). The writer puts the file under a
temporary name and renames it on :meth:`close`, so a crash never leaves a broken file; ``close``
after a camera loss or the source's end gives a complete, playable file.

If encoding falls ``max_queue`` frames behind, newer frames are dropped (``dropped``), so memory
stays bounded; the preset for h264/h265 is ``veryfast`` by default to leave the CPU to the net.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from fractions import Fraction

import numpy as np

from ..errors import OutputError, VidstyleError
from ..io.frame import Frame, VideoInfo


__all__ = ["Recorder", "numbered_path", "TIME_BASE"]

TIME_BASE = Fraction(1, 90000)
_X26X_EXTS = (".mp4", ".m4v", ".mkv")


def numbered_path(path: str, n: int) -> str:
    """``out.mp4`` for n=1, ``out_2.mp4`` for n=2, ... (recording number n of a session)."""
    if n <= 1:
        return path
    stem, ext = os.path.splitext(path)
    return f"{stem}_{n}{ext}"


class Recorder:
    """Writes :class:`~vidstyle.live.engine.LiveFrame` s (their ``stylized`` image) to ``path``.

    The output is opened at construction (existing file without ``overwrite``, unwritable folder
    or bad codec → :class:`OutputError` right away); its size is fixed by the first frame (later
    frames of another size are resized). ``close()`` finishes and returns the frame count;
    ``abort()`` deletes the partial output.
    """

    def __init__(self, path: str, *, fps: float | None = None, codec: str | None = None,
                 crf: int | None = None, overwrite: bool = False, max_queue: int = 32,
                 preset: str | None = "veryfast", side_by_side: bool = False) -> None:
        from ..io.writer import open_sink

        self.path = path
        self.fps = Fraction(fps).limit_denominator(1001) if fps else Fraction(30)
        ext = os.path.splitext(path)[1].lower()
        options = None
        if preset and ext in _X26X_EXTS and (codec is None or codec.lower() in ("h264", "h265", "hevc", "libx264", "libx265", "avc", "x264", "x265")):
            options = {"preset": preset}
        # the size is not known before the first frame: the writer sets up its stream lazily
        self.info = VideoInfo(path="live", kind="video", width=0, height=0, fps=self.fps,
                              time_base=TIME_BASE)
        self.sink = open_sink(path, self.info, codec=codec, crf=crf, overwrite=overwrite,
                              encoder_options=options)
        self.sink.diagnostics.label = path  # its warnings name the recording
        self.side_by_side = side_by_side
        self.frames = 0
        self.dropped = 0
        self.error: BaseException | None = None
        self._q: queue.Queue = queue.Queue(maxsize=max_queue)
        self._t0: float | None = None
        self._last_pts = -1
        self._size: tuple[int, int] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="vidstyle-live-recorder", daemon=True)
        self._thread.start()

    # engine side -------------------------------------------------------------------
    def submit(self, lf) -> None:
        if self._closed or self.error is not None:
            return
        image = np.concatenate([lf.content, lf.stylized], axis=1) if self.side_by_side else lf.stylized
        try:
            self._q.put_nowait((image, lf.t_capture, lf.index))
        except queue.Full:
            self.dropped += 1

    # encoder thread ------------------------------------------------------------------
    def _run(self) -> None:
        import cv2

        while True:
            item = self._q.get()
            if item is None:
                return
            if self.error is not None:
                continue
            image, t_capture, index = item
            try:
                if self._t0 is None:
                    self._t0 = t_capture
                    self._size = (image.shape[1], image.shape[0])
                elif (image.shape[1], image.shape[0]) != self._size:
                    image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
                pts = int(round((t_capture - self._t0) / TIME_BASE))
                pts = max(pts, self._last_pts + 1)
                self._last_pts = pts
                self.sink.write(Frame(np.ascontiguousarray(image), index, pts, TIME_BASE,
                                      float(pts * TIME_BASE)))
                self.frames += 1
            except BaseException as e:  # noqa: BLE001 - reported by close()
                self.error = e

    # control side --------------------------------------------------------------------
    def _drain(self, timeout: float) -> None:
        if self._closed:
            return
        self._closed = True
        end = time.monotonic() + timeout
        while True:
            try:
                self._q.put(None, timeout=0.1)
                break
            except queue.Full:
                if time.monotonic() > end:
                    break
        self._thread.join(max(0.0, end - time.monotonic()))

    def close(self, timeout: float = 60.0) -> int:
        """Encode what is queued, finish the file and move it into place; returns the number of
        frames written. Raises :class:`OutputError` if encoding failed or nothing was recorded
        (the partial file is removed)."""
        self._drain(timeout)
        if self._thread.is_alive():
            self.error = self.error or OutputError(f"{self.path}: the encoder did not finish in time")
        if self.error is not None:
            self.sink.abort()
            if isinstance(self.error, VidstyleError):
                raise self.error
            raise OutputError(f"{self.path}: recording failed ({self.error})")
        if self.frames == 0:
            self.sink.abort()
            raise OutputError(f"{self.path}: nothing was recorded (no frames)")
        self.sink.close()
        return self.frames

    def abort(self) -> None:
        self._drain(5.0)
        self.sink.abort()
