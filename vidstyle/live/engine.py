"""The live inference thread: newest captured frame → resize → style net → consistency → controls.

:class:`LiveEngine` takes frames from a :class:`~vidstyle.live.capture.LatestFrameSlot` (so it
always works on the newest one), produces :class:`LiveFrame` objects (RGB content and stylized
images at the working size, plus the capture time) into its own latest-frame slot for the display
and hands each one to the outputs (recorder, virtual camera). It follows the shared
:class:`~vidstyle.live.keys.LiveState` (style, strength, consistency) frame by frame.

:class:`StyleBank` loads the styles to cycle through lazily and caches them; ``preload()`` loads
the rest on a background thread so switching styles does not stall the feed.

Latency is ``t_ready - t_capture``: from the moment the frame was captured to the moment the
stylized frame is ready for display. :class:`LiveStats` keeps fps (overall and over the last
second) and latency percentiles.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch

from ..errors import InputError, VidstyleError
from ..pipeline.tiling import net_archs
from .capture import CapturedFrame, LatestFrameSlot
from .keys import LiveState

log = logging.getLogger("vidstyle.live")

__all__ = ["LiveFrame", "LiveStats", "StyleBank", "LiveEngine", "fit_size"]


# --------------------------------------------------------------------------- styles


def _style_label(spec: str) -> str:
    """The display name of a style spec: a mix as ``a+b``, a file as its stem."""
    from ..models.mixing import is_mix, mix_label

    return mix_label(spec) if is_mix(spec) else spec.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".safetensors")


def _default_loader(spec: str, device: torch.device, backend: str = "auto", threads: int | None = None,
                    precision: str = "fp32"):
    """``spec`` → (callable net, display name); mixes go through ``vidstyle.models.mixing``.

    ``backend`` as ``stylize --backend``: auto runs OpenVINO or ONNX Runtime on CPU when
    installed (faster there), PyTorch otherwise. ``threads``: the engine's CPU threads (default:
    PyTorch's thread count when the style loads). ``precision`` as ``stylize --precision``.
    """
    from ..pipeline.backends import make_stylizer

    from ..api.style_image import check_engine, is_style_image_spec, load_style_image_net
    from ..models.mixing import is_mix, load_styles_mix

    if is_style_image_spec(spec):  # any image as a style: the arbitrary net, on PyTorch
        backend = check_engine(backend, precision)
        net, _ = load_style_image_net(spec, device)
        name = _style_label(spec)
    elif is_mix(spec):
        loaded = load_styles_mix(spec, device)
        net = loaded[0] if isinstance(loaded, tuple) else loaded
        name = _style_label(spec)
    else:
        from ..models.styles import load_style

        net, info = load_style(spec, device)
        name = info.name
    # capture, display and consistency run beside the net: idle engine threads must not spin
    return make_stylizer(net, device, backend, precision=precision, spinning=False,
                         **({"threads": threads} if threads else {}))[0], name


class StyleBank:
    """Styles to cycle through, loaded on first use and cached (thread-safe).

    ``loader(spec, device) -> (callable [1,3,H,W] -> [1,3,H,W], name)``; the default builds a
    :class:`~vidstyle.pipeline.stylizer.Stylizer`. ``get(i)`` raises :class:`VidstyleError` for a
    style that cannot be loaded (and remembers the failure).
    """

    def __init__(self, specs: Sequence[str], device: torch.device | str = "cpu",
                 loader: Callable | None = None, backend: str = "auto", threads: int | None = None,
                 precision: str = "fp32") -> None:
        if not specs:
            raise InputError("no styles to use")
        self.specs = list(specs)
        self.names = [_style_label(s) for s in self.specs]
        self.device = torch.device(device)
        self.loader = loader or functools.partial(_default_loader, backend=backend, threads=threads, precision=precision)
        self._cache: dict[int, tuple] = {}
        self._failed: dict[int, str] = {}
        self._locks = [threading.Lock() for _ in self.specs]
        self.load_seconds: dict[int, float] = {}
        self._closing = threading.Event()
        self._preloader: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self.specs)

    def is_loaded(self, i: int) -> bool:
        return i in self._cache

    def get(self, i: int):
        """``(net, name)`` of style ``i``, loading it now if needed."""
        i %= len(self.specs)
        hit = self._cache.get(i)
        if hit is not None:
            return hit
        with self._locks[i]:
            if i in self._cache:
                return self._cache[i]
            if i in self._failed:
                raise VidstyleError(self._failed[i])
            t0 = time.perf_counter()
            try:
                net, name = self.loader(self.specs[i], self.device)
            except VidstyleError as e:
                self._failed[i] = str(e)
                raise
            except Exception as e:  # noqa: BLE001 - a broken file must not end the session
                self._failed[i] = f"cannot load style {self.specs[i]!r}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
                raise VidstyleError(self._failed[i]) from None
            self.load_seconds[i] = time.perf_counter() - t0
            self.names[i] = name
            self._cache[i] = (net, name)
            return self._cache[i]

    def preload(self, first: int = 0) -> threading.Thread:
        """Load every style (starting after ``first``) on a background thread."""

        def run() -> None:
            n = len(self.specs)
            for k in range(1, n):
                if self._closing.is_set():
                    return
                try:
                    self.get((first + k) % n)
                except VidstyleError:
                    pass

        t = threading.Thread(target=run, name="vidstyle-live-preload", daemon=True)
        self._preloader = t
        t.start()
        return t

    def close(self, timeout: float = 60.0) -> None:
        """Stop preloading and wait for a style load in progress to finish: an export or session
        creation cut off by interpreter exit aborts the process."""
        self._closing.set()
        t = self._preloader
        if t is not None and t.is_alive():
            t.join(timeout)


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


# CPU live mode runs the net with its long side at most this (--net-scale auto): the light arch
# then keeps an interactive frame rate with consistency on a small CPU (benchmarks/bench_live.py). Archs
# that fold pixels (``unshuffle`` 2, the ``fast`` arch) already run at half resolution inside, so
# they get twice this side for a similar cost.
AUTO_NET_SIDE = 320


def auto_net_side(net=None) -> int:
    """The long side ``--net-scale auto`` gives ``net`` on a CPU: ``AUTO_NET_SIDE`` times the arch's
    pixel folding (2 for the ``fast`` arch)."""
    archs = net_archs(getattr(net, "net", net))  # a TransformerNet, a mix, or a stylizer of either
    return AUTO_NET_SIDE * max(1, min((a.unshuffle for a in archs), default=1))


class LiveEngine(threading.Thread):
    """Inference thread. ``outputs``: objects with ``submit(LiveFrame)`` (called on this thread;
    they must not block for long). ``size``: working size (None: the capture size; an int: width).
    ``make_consistency()`` builds the consistency stage the first time it is switched on (None
    when unavailable). ``controls``: a :class:`~vidstyle.pipeline.controls.StyleControls`
    (its ``strength`` follows ``state.strength``). ``max_frames``: stop after that many outputs.
    ``net_scale`` < 1 runs the net on a smaller copy and upsamples its output to the working size
    (much faster on CPU; the style's strokes get coarser); consistency runs on the net's output
    before that upsampling (it holds no finer detail), controls and matte at the working size.
    ``net_scale=None`` is automatic (:meth:`scale_for`).
    """

    def __init__(self, slot: LatestFrameSlot, bank: StyleBank, state: LiveState, *,
                 device: torch.device | str = "cpu", size=None, controls=None,
                 make_consistency: Callable[[], object] | None = None, consistency=None,
                 outputs: Sequence = (), max_frames: int | None = None, warmup: bool = True,
                 net_scale: float | None = 1.0, matte=None) -> None:
        super().__init__(name="vidstyle-live-engine", daemon=True)
        self.in_slot, self.bank, self.state = slot, bank, state
        self.device = torch.device(device)
        self.size = size
        self.controls = controls
        self._make_consistency = make_consistency
        self.consistency = consistency
        self.outputs = list(outputs)
        self.max_frames = max_frames
        self.warmup = warmup
        if net_scale is not None and not 0.05 <= float(net_scale) <= 1.0:
            raise InputError(f"--net-scale must be within 0.05..1, not {net_scale}")
        self.net_scale = None if net_scale is None else float(net_scale)
        self.matte = matte  # a StaticMatte (``matte(frame-like with height/width) -> [1,1,H,W]``) or None
        self.out_slot = LatestFrameSlot()
        self.stats = LiveStats()
        self.error: BaseException | None = None
        self.end_reason: str | None = None
        self.messages: list[str] = []
        self._stop_event = threading.Event()
        self._outputs_lock = threading.Lock()
        self._style_index: int | None = None
        self._consistency_on = False
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
        if self.consistency is None and self._make_consistency is not None:
            try:
                self.consistency = self._make_consistency()
            except VidstyleError as e:
                self.consistency = None
                self._note(f"consistency unavailable: {e}")
            except Exception as e:  # noqa: BLE001 - live mode goes on without consistency
                self.consistency = None
                self._note(f"consistency unavailable: {type(e).__name__}: {e}")
            self._make_consistency = None
            if self.consistency is None:
                with self.state.lock:
                    self.state.consistency = False
                    self.state.consistency_available = False
        return self.consistency

    def _net(self, index: int):
        """``(net, name, index)`` for ``index``; on a load failure keep the previous style and
        say why (the first style failing is an error)."""
        try:
            return (*self.bank.get(index), index)
        except VidstyleError as e:
            if self._style_index is None or self._style_index == index:
                raise
            self._note(str(e))
            with self.state.lock:
                self.state.style_index = self._style_index
            return (*self.bank.get(self._style_index), self._style_index)

    def process(self, cf: CapturedFrame) -> tuple[LiveFrame, float]:
        """Stylize one captured frame following the current state; returns the frame and the
        seconds spent in the net/consistency/controls (also used by the benchmark)."""
        import cv2

        from ..ops.tensors import image_to_tensor, tensor_to_image

        snap = self.state.snapshot()
        net, name, index = self._net(snap["style_index"])
        style_changed = self._style_index is not None and index != self._style_index
        self._style_index = index
        img = cf.image
        h, w = img.shape[:2]
        tw, th = fit_size(self.size, w, h)
        if (tw, th) != (w, h):
            img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 and img.shape[2] == 3 else img
        t0 = time.perf_counter()
        with torch.inference_mode():
            x = image_to_tensor(rgb, self.device)
            xn = self._net_input(x, net)
            y = net(xn)
            cons_wanted = snap["consistency"]
            cons = self._get_consistency() if cons_wanted else None
            if cons is not None:
                if not self._consistency_on or style_changed:
                    cons.reset()  # switched on, or a new style: the old history does not apply
                y = cons.step(xn, y)
            self._consistency_on = cons is not None
            y = self._to_working_size(y, x)
            if self.controls is not None:
                self.controls.strength = snap["strength"]
                y = self.controls(x, y)
            if self.matte is not None:  # style only inside the matte, soft edge
                m = self.matte(SimpleNamespace(height=th, width=tw)).to(y.device, y.dtype)
                y = x + m * (y - x)
            out = tensor_to_image(y, rgb)
        t_ready = time.perf_counter()
        return LiveFrame(rgb, out, self.stats.frames, cf.index, cf.t_capture, t_ready, name,
                         snap["strength"], cons is not None), t_ready - t0

    def scale_for(self, th: int, tw: int, net=None) -> float:
        """The net scale used for ``th x tw`` working frames: ``net_scale``, or when it is None
        (auto) 1 on a GPU and on the CPU whatever brings the long side down to
        :func:`auto_net_side`."""
        if self.net_scale is not None:
            return self.net_scale
        if self.device.type != "cpu":
            return 1.0
        return min(1.0, auto_net_side(net) / max(th, tw, 1))

    def _net_size(self, th: int, tw: int, net=None) -> tuple[int, int]:
        scale = self.scale_for(th, tw, net)
        if scale >= 1.0:
            return th, tw
        return max(8, int(round(th * scale))), max(8, int(round(tw * scale)))

    def _net_input(self, x: torch.Tensor, net=None) -> torch.Tensor:
        """The working-size frame scaled by ``net_scale`` (``x`` itself at scale 1)."""
        from ..ops.resample import resize_area

        return resize_area(x, self._net_size(*x.shape[-2:], net))

    def _to_working_size(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The net's (possibly smaller) output upsampled to ``x``'s size."""
        from ..ops.resample import resize_bilinear

        if y.shape[-2:] == x.shape[-2:]:
            return y
        return resize_bilinear(y, x.shape[-2:]).clamp_(0, 1)

    def _run_net(self, net, x: torch.Tensor) -> torch.Tensor:
        return self._to_working_size(net(self._net_input(x, net)), x)

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
        net, _, _ = self._net(self.state.snapshot()["style_index"])
        with torch.inference_mode():
            self._run_net(net, torch.zeros(1, 3, th, tw, device=self.device))
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
