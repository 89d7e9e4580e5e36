"""The live inference thread: newest captured frame → resize → style net → consistency → controls.

:class:`LiveEngine` takes frames from a :class:`~vidstyle.live.capture.LatestFrameSlot` (so it
always works on the newest one), produces :class:`LiveFrame` objects (RGB content and stylized
images at the working size, plus the capture time) into its own latest-frame slot for the display
and hands each one to the outputs (recorder, virtual camera). It follows the shared
:class:`~vidstyle.live.keys.LiveState` (style, strength, consistency) frame by frame; the styling
itself (styles, net scale, consistency, controls) is the API's
:class:`~vidstyle.api.switching.SwitchingStylizer`, so live runs the same core as ``stylize``.

Latency is ``t_ready - t_capture``: from the moment the frame was captured to the moment the
stylized frame is ready for display. :class:`LiveStats` keeps fps (overall and over the last
second) and latency percentiles.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch

from ..api.switching import AUTO_NET_SIDE, StyleBank, SwitchingStylizer, auto_net_side
from ..errors import VidstyleError
from .capture import CapturedFrame, LatestFrameSlot
from .keys import LiveState

log = logging.getLogger("vidstyle.live")

__all__ = ["AUTO_NET_SIDE", "LiveFrame", "LiveStats", "StyleBank", "LiveEngine", "auto_net_side", "fit_size"]


# --------------------------------------------------------------------------- sizes


def fit_size(size: tuple[int, int] | int | None, width: int, height: int) -> tuple[int, int]:
    """The working size for a ``width x height`` capture (even height when derived)."""
    if size is None:
        return width, height
    if isinstance(size, int):
        h = max(2, int(round(size * height / width / 2)) * 2)
        return size, h
    return size


# --------------------------------------------------------------------------- stats


@dataclass
class LiveFrame:
    """A display-ready frame: RGB uint8 ``content`` and ``stylized`` (same size), timing, style."""

    content: np.ndarray
    stylized: np.ndarray
    index: int  # output frame number (0-based)
    source_index: int  # capture frame number
    t_capture: float
    t_ready: float
    style: str
    strength: float
    consistency: bool

    @property
    def latency(self) -> float:
        return self.t_ready - self.t_capture


class LiveStats:
    """Throughput and latency of a live run. The engine thread calls :meth:`add`; the display
    and the summary read concurrently (a lock keeps the deques consistent)."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window  # seconds, for the current fps
        self.frames = 0
        self.latencies: deque = deque(maxlen=100_000)
        self.infer_seconds: deque = deque(maxlen=100_000)
        self._recent: deque = deque(maxlen=1000)
        self.first_ready: float | None = None
        self.last_ready: float | None = None
        self._lock = threading.Lock()

    def add(self, frame: LiveFrame, infer_s: float) -> None:
        with self._lock:
            self.frames += 1
            self.latencies.append(frame.latency)
            self.infer_seconds.append(infer_s)
            self._recent.append(frame.t_ready)
            if self.first_ready is None:
                self.first_ready = frame.t_ready
            self.last_ready = frame.t_ready

    def current_fps(self, now: float | None = None) -> float:
        """Output fps over the last ``window`` seconds (the overall fps before that)."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            recent = [t for t in self._recent if now - t <= self.window]
        if len(recent) >= 2:
            return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)
        return self.fps

    @property
    def fps(self) -> float:
        """Output frames per second from the first to the last ready frame."""
        with self._lock:
            n, a, b = self.frames, self.first_ready, self.last_ready
        if n < 2 or a is None or b is None:
            return 0.0
        return (n - 1) / max(b - a, 1e-6)

    def latency_ms(self, q: float, last: int | None = None) -> float:
        """Latency percentile ``q`` in ms (over the last ``last`` frames); NaN before any frame."""
        with self._lock:
            lat = list(self.latencies)
        if last:
            lat = lat[-last:]
        if not lat:
            return float("nan")
        return float(np.percentile(np.asarray(lat), q) * 1000.0)

    def infer_ms(self, q: float = 50) -> float:
        with self._lock:
            xs = list(self.infer_seconds)
        return float(np.percentile(np.asarray(xs), q) * 1000.0) if xs else float("nan")


# --------------------------------------------------------------------------- engine


class LiveEngine(threading.Thread):
    """Inference thread. ``outputs``: objects with ``submit(LiveFrame)`` (called on this thread;
    they must not block for long). ``size``: working size (None: the capture size; an int: width).
    ``bank``, ``controls``, ``consistency``, ``make_consistency`` and ``net_scale`` make its
    :class:`~vidstyle.api.switching.SwitchingStylizer` (``self.stylizer``; the controls' strength
    follows ``state.strength``, consistency is built the first time it is switched on).
    ``matte`` limits the style to its white area at the working size. ``max_frames``: stop
    after that many outputs.
    """

    def __init__(self, slot: LatestFrameSlot, bank: StyleBank, state: LiveState, *,
                 device: torch.device | str = "cpu", size=None, controls=None,
                 make_consistency: Callable[[], object] | None = None, consistency=None,
                 outputs: Sequence = (), max_frames: int | None = None, warmup: bool = True,
                 net_scale: float | None = 1.0, matte=None) -> None:
        super().__init__(name="vidstyle-live-engine", daemon=True)
        self.in_slot, self.bank, self.state = slot, bank, state
        self.device = torch.device(device)
        self.stylizer = SwitchingStylizer(bank, device=self.device, controls=controls, consistency=consistency,
                                          make_consistency=make_consistency, net_scale=net_scale)
        self.size = size
        self.outputs = list(outputs)
        self.max_frames = max_frames
        self.warmup = warmup
        self.matte = matte  # a StaticMatte (``matte(frame-like with height/width) -> [1,1,H,W]``) or None
        self.out_slot = LatestFrameSlot()
        self.stats = LiveStats()
        self.error: BaseException | None = None
        self.end_reason: str | None = None
        self.messages: list[str] = []
        self._stop_event = threading.Event()
        self._outputs_lock = threading.Lock()
        self.skipped = 0  # frames taken but not processed (the warm-up frame when a newer came)
        self.done = threading.Event()

    # outputs can be added/removed while running (start/stop recording)
    def add_output(self, out) -> None:
        with self._outputs_lock:
            self.outputs.append(out)

    def remove_output(self, out) -> None:
        with self._outputs_lock:
            if out in self.outputs:
                self.outputs.remove(out)

    def stop(self) -> None:
        self._stop_event.set()

    def _note(self, message: str) -> None:
        """A problem the session survives: logged, and shown in the window's overlay."""
        log.warning("%s", message)
        self.messages.append(message)
        with self.state.lock:
            self.state.message = message

    def _get_consistency(self):
        """The consistency stage, or None (when building it fails or gives none, the toggle is
        turned off and disabled)."""
        if not self.stylizer.consistency_pending:
            return self.stylizer.consistency
        try:
            cons = self.stylizer.load_consistency()
        except VidstyleError as e:
            cons = None
            self._note(f"consistency unavailable: {e}")
        except Exception as e:  # noqa: BLE001 - live mode goes on without consistency
            cons = None
            self._note(f"consistency unavailable: {type(e).__name__}: {e}")
        if cons is None:
            with self.state.lock:
                self.state.consistency = False
                self.state.consistency_available = False
        return cons

    def _select(self, index: int) -> str:
        """Select style ``index`` and return its name; on a load failure keep the previous style
        and say why (the first style failing is an error)."""
        try:
            return self.stylizer.select(index)
        except VidstyleError as e:
            previous = self.stylizer.style_index
            if previous is None or previous == index:
                raise
            self._note(str(e))
            with self.state.lock:
                self.state.style_index = previous
            return self.stylizer.select(previous)

    def process(self, cf: CapturedFrame) -> tuple[LiveFrame, float]:
        """Stylize one captured frame following the current state; returns the frame and the
        seconds spent in the net/consistency/controls (also used by the benchmark)."""
        import cv2

        from ..ops.tensors import image_to_tensor, tensor_to_image

        snap = self.state.snapshot()
        name = self._select(snap["style_index"])
        img = cf.image
        h, w = img.shape[:2]
        tw, th = fit_size(self.size, w, h)
        if (tw, th) != (w, h):
            img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 and img.shape[2] == 3 else img
        t0 = time.perf_counter()
        with torch.inference_mode():
            x = image_to_tensor(rgb, self.device)
            cons_on = bool(snap["consistency"]) and self._get_consistency() is not None
            y, cons_on = self.stylizer.step(x, strength=snap["strength"], consistency=cons_on)
            if self.matte is not None:  # style only inside the matte, soft edge
                m = self.matte(SimpleNamespace(height=th, width=tw)).to(y.device, y.dtype)
                y = x + m * (y - x)
            out = tensor_to_image(y, rgb)
        t_ready = time.perf_counter()
        return LiveFrame(rgb, out, self.stats.frames, cf.index, cf.t_capture, t_ready, name,
                         snap["strength"], cons_on), t_ready - t0

    def scale_for(self, th: int, tw: int, net=None) -> float:
        """The net scale used for ``th x tw`` working frames (see
        :meth:`~vidstyle.api.switching.SwitchingStylizer.scale_for`)."""
        return self.stylizer.scale_for(th, tw, net)

    def _net_size(self, th: int, tw: int, net=None) -> tuple[int, int]:
        return self.stylizer.net_size(th, tw, net)

    def _first_frame(self) -> CapturedFrame | None:
        """Take the first frame and run one throw-away pass at the working size (allocations,
        kernel selection), then return the newest frame: a newer one if it came meanwhile."""
        cf = None
        while cf is None and not self._stop_event.is_set():
            cf = self.in_slot.get(timeout=0.1)
            if cf is None and self.in_slot.finished:
                return None
        if cf is None or not self.warmup:
            return cf
        h, w = cf.image.shape[:2]
        tw, th = fit_size(self.size, w, h)
        self.stylizer.warm_up(th, tw, self.state.snapshot()["style_index"])
        newer = self.in_slot.get(timeout=0)
        if newer is not None:
            self.skipped += 1
            return newer
        return cf

    def run(self) -> None:
        try:
            cf = self._first_frame()
            if cf is None:
                self.end_reason = self.in_slot.reason or "stopped"
            while cf is not None:
                lf, infer_s = self.process(cf)
                self.stats.add(lf, infer_s)
                self.out_slot.put(lf)
                with self._outputs_lock:
                    outs = list(self.outputs)
                for o in outs:
                    o.submit(lf)
                if self.max_frames is not None and self.stats.frames >= self.max_frames:
                    self.end_reason = f"{self.stats.frames} frames done"
                    break
                cf = None
                while cf is None:
                    if self._stop_event.is_set():
                        self.end_reason = "stopped"
                        break
                    cf = self.in_slot.get(timeout=0.1)
                    if cf is None and self.in_slot.finished:
                        self.end_reason = self.in_slot.reason
                        break
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            self.error = e
            self.end_reason = "error"
        finally:
            self.out_slot.close(self.end_reason)
            self.done.set()
