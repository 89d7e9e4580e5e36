"""Camera / file / stream capture on its own thread, into a latest-frame slot.

:class:`LatestFrameSlot` is a size-1 buffer: ``put`` replaces a frame nobody took yet (counted in
``dropped``), so when inference is slower than the camera the engine always gets the newest frame
and latency stays bounded by about one inference time plus one frame interval, instead of growing
with a queue.

:class:`CaptureThread` reads any object with ``read() -> (ok, bgr)`` and ``release()`` (a
``cv2.VideoCapture``, or a fake in tests). File sources are paced at their frame rate by default,
so a file behaves like a camera (``pace=False`` reads as fast as decoding allows). When the source
stops delivering it closes the slot with a reason: a file's end is normal, a camera that keeps
failing for ``lost_after`` seconds is reported as lost (``error=True``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

__all__ = ["CapturedFrame", "LatestFrameSlot", "CaptureThread", "open_capture", "describe_source",
           "is_url"]


@dataclass
class CapturedFrame:
    """One captured picture: ``image`` is BGR uint8 (OpenCV order); ``t_capture`` is
    ``time.perf_counter()`` when the frame became available."""

    image: np.ndarray
    index: int
    t_capture: float
    meta: dict = field(default_factory=dict)


class LatestFrameSlot:
    """A thread-safe one-item buffer that keeps only the newest item.

    ``put(item)`` never blocks: it overwrites an item that was not taken yet and counts it in
    ``dropped``. ``get(timeout)`` returns the item (emptying the slot) or ``None`` after
    ``timeout`` or once the slot is closed and empty. ``max_size`` is the most items ever held
    (always <= 1: the bound the live engine relies on).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item = None
        self._full = False
        self.closed = False
        self.reason: str | None = None
        self.error = False
        self.put_count = 0
        self.taken = 0
        self.dropped = 0
        self.max_size = 0

    def __len__(self) -> int:
        with self._cond:
            return int(self._full)

    def put(self, item) -> bool:
        """Store ``item``; returns False if it replaced an untaken one (a dropped frame)."""
        with self._cond:
            if self.closed:
                return False
            replaced = self._full
            if replaced:
                self.dropped += 1
            self._item, self._full = item, True
            self.put_count += 1
            self.max_size = max(self.max_size, int(self._full))
            self._cond.notify_all()
            return not replaced

    def get(self, timeout: float | None = None):
        with self._cond:
            end = None if timeout is None else time.monotonic() + timeout
            while not self._full and not self.closed:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            self.taken += 1
            return item

    def close(self, reason: str | None = None, error: bool = False) -> None:
        """No more items will come (a pending one can still be taken)."""
        with self._cond:
            if not self.closed:
                self.closed, self.reason, self.error = True, reason, error
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        with self._cond:
            return self.closed and not self._full


def is_url(source: str) -> bool:
    return "://" in source


def describe_source(camera: int | None, source: str | None) -> str:
    if source is None:
        return f"camera {0 if camera is None else camera}"
    return source if is_url(source) else os.path.basename(source)


def _quiet_opencv() -> None:
    """OpenCV logs a WARN line per failed camera probe; the CLI gives its own message."""
    try:
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except Exception:  # noqa: BLE001 - logging API differs across builds
        pass


def open_capture(camera: int | None = None, source: str | None = None,
                 size: tuple[int, int] | None = None):
    """Open a camera (``camera`` index) or a file/URL (``source``) with OpenCV.

    Returns ``(capture, fps, kind)`` with ``kind`` "camera", "file" or "stream"; ``fps`` is what
    the source reports (None when unknown). Raises :class:`InputError` with one line when nothing
    can be opened or no first frame can be read; the first frame is kept for the reader
    (``capture`` is wrapped so no frame is lost).
    """
    import cv2

    _quiet_opencv()
    if source is not None:
        if not is_url(source) and not os.path.exists(source):
            raise InputError(f"{source}: no such file")
        if not is_url(source) and os.path.isdir(source):
            raise InputError(f"{source}: is a folder; give a video file or URL")
        cap = cv2.VideoCapture(source)
        kind = "stream" if is_url(source) else "file"
        if not cap.isOpened():
            cap.release()
            raise InputError(f"{source}: cannot open as a video {'stream' if kind == 'stream' else 'file'}")
    else:
        camera = 0 if camera is None else int(camera)
        cap = cv2.VideoCapture(camera)
        kind = "camera"
        if not cap.isOpened():
            cap.release()
            raise InputError(f"no camera found at index {camera} (is one connected and allowed? "
                             "use --source FILE_OR_URL for a video instead)")
        try:
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # where the backend supports it: no stale frames
            if size is not None:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        except cv2.error:
            pass
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and math.isfinite(fps) and 0 < fps < 1000 else None
    try:
        ok, first = cap.read()
    except cv2.error:
        ok, first = False, None
    if not ok or first is None:
        cap.release()
        what = describe_source(camera, source)
        raise InputError(f"{what}: opened, but no frame could be read")
    return _Primed(cap, first), fps, kind


class _Primed:
    """A capture whose first frame was already read (to check the source): hands it out first."""

    def __init__(self, cap, first: np.ndarray) -> None:
        self.cap, self._first = cap, first

    def read(self):
        if self._first is not None:
            f, self._first = self._first, None
            return True, f
        return self.cap.read()

    def release(self) -> None:
        self.cap.release()


class CaptureThread(threading.Thread):
    """Reads frames from ``capture`` into ``slot`` until the source ends, fails, or ``stop()``.

    ``kind``: "camera" (a failing read is retried for ``lost_after`` seconds, then the camera is
    reported lost), "file" (a failing read is the end; paced at ``fps`` when ``pace``) or "stream"
    (a failing read is the end of the stream). ``max_frames`` stops after that many frames.
    Counters: ``frames`` (delivered into the slot); ``slot.dropped`` counts the ones replaced
    before the engine took them.
    """

    def __init__(self, capture, slot: LatestFrameSlot, *, kind: str = "camera", fps: float | None = None,
                 pace: bool = True, lost_after: float = 2.0, max_frames: int | None = None,
                 name: str = "source", release: bool = True) -> None:
        super().__init__(name="vidstyle-live-capture", daemon=True)
        self.capture, self.slot, self.kind = capture, slot, kind
        self.fps = fps if fps and fps > 0 else (30.0 if kind == "file" else None)
        self.pace = pace and kind == "file" and self.fps is not None
        self.lost_after, self.max_frames, self.source_name = lost_after, max_frames, name
        self.release_on_exit = release
        self.frames = 0
        self.error: BaseException | None = None
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        reason, error = "stopped", False
        try:
            reason, error = self._loop()
        except BaseException as e:  # noqa: BLE001 - reported through the slot
            self.error = e
            reason, error = f"{self.source_name}: capture failed ({str(e).splitlines()[0] if str(e) else type(e).__name__})", True
        finally:
            self.slot.close(reason, error)
            if self.release_on_exit:
                try:
                    self.capture.release()
                except Exception:  # noqa: BLE001 - releasing the camera on exit is best effort
                    pass

    def _read(self):
        try:
            ok, img = self.capture.read()
        except Exception:  # noqa: BLE001 - cv2.error from a vanished device
            return None
        return img if ok and img is not None else None

    def _loop(self) -> tuple[str, bool]:
        t0 = time.perf_counter()
        interval = 1.0 / self.fps if self.pace else 0.0
        failing_since = None
        while not self._stop_event.is_set():
            if self.max_frames is not None and self.frames >= self.max_frames:
                return f"{self.source_name}: {self.frames} frames read", False
            img = self._read()
            if img is None:
                if self.kind != "camera":
                    what = "end of file" if self.kind == "file" else "stream ended"
                    return f"{self.source_name}: {what} after {self.frames} frames", False
                now = time.perf_counter()
                failing_since = failing_since or now
                if now - failing_since >= self.lost_after:
                    return (f"{self.source_name} stopped delivering frames after {self.frames} "
                            "(disconnected?)"), True
                self._stop_event.wait(0.01)
                continue
            failing_since = None
            if self.pace:
                due = t0 + self.frames * interval
                now = time.perf_counter()
                if due > now:
                    if self._stop_event.wait(due - now):
                        break
                elif now - due > 2 * interval:  # decoding fell behind: re-anchor, no burst
                    t0 = now - self.frames * interval
            self.slot.put(CapturedFrame(img, self.frames, time.perf_counter()))
            self.frames += 1
        return "stopped", False
