"""Styles switched frame by frame: the stylizer that live mode runs on.

:class:`StyleBank` loads the styles to cycle through lazily (through :func:`~.frames.load_engine`,
the loader of :class:`~.frames.Stylizer` and ``vidstyle stylize``) and caches them; ``preload()``
loads the rest on a background thread so switching styles does not stall a feed.

:class:`SwitchingStylizer` stylizes one frame at a time with the selected style: the net
optionally on a smaller copy of the frame (``net_scale``, upsampled after), temporal consistency
that can be switched on and off and starts over on a new style, then the artist controls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import torch

from ..consistency.build import build_consistency
from ..errors import InputError, VidstyleError
from ..pipeline.controls import StyleControls
from ..pipeline.tiling import net_archs
from .config import Runtime
from .frames import load_engine

__all__ = ["AUTO_NET_SIDE", "StyleBank", "SwitchingStylizer", "auto_net_side", "consistency_factory",
           "load_style_engine", "style_label"]


def style_label(spec: str) -> str:
    """The display name of a style spec: a mix as ``a+b``, a file as its stem."""
    from ..models.mixing import is_mix, mix_label

    return mix_label(spec) if is_mix(spec) else spec.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".safetensors")


def load_style_engine(spec: str, device: torch.device, runtime: Runtime | None = None):
    """``spec`` (a style, a mix, or style images by their extension) → ``(engine, display name)``.

    The engine runs beside capture, display and consistency, so its idle threads do not spin.
    A style image keeps its output-side strength (the net at full strength, blended by the
    controls), as the other styles of a bank do.
    """
    from ..models.mixing import is_mix
    from .style_image import is_style_image_spec

    image = is_style_image_spec(spec)
    _, engine, _, _, _ = load_engine(None if image else spec, spec if image else None, device,
                                     runtime or Runtime(), spinning=False)
    if image or is_mix(spec):
        return engine, style_label(spec)
    from ..models.styles import find_style

    return engine, find_style(spec).name


class StyleBank:
    """Styles to cycle through, loaded on first use and cached (thread-safe).

    ``loader(spec, device) -> (callable [1,3,H,W] -> [1,3,H,W], name)``; the default is
    :func:`load_style_engine` with ``runtime`` (backend, precision, threads). ``get(i)`` raises
    :class:`VidstyleError` for a style that cannot be loaded (and remembers the failure).
    """

    def __init__(self, specs: Sequence[str], device: torch.device | str = "cpu",
                 loader: Callable | None = None, runtime: Runtime | None = None) -> None:
        if not specs:
            raise InputError("no styles to use")
        self.specs = list(specs)
        self.names = [style_label(s) for s in self.specs]
        self.device = torch.device(device)
        self.loader = loader or (lambda spec, dev: load_style_engine(spec, dev, runtime))
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


# With --net-scale auto a CPU runs the net with its long side at most this: the light arch then
# keeps an interactive frame rate with consistency on a small CPU (benchmarks/bench_live.py). Archs
# that fold pixels (``unshuffle`` 2, the ``fast`` arch) already run at half resolution inside, so
# they get twice this side for a similar cost.
AUTO_NET_SIDE = 320


def auto_net_side(net=None) -> int:
    """The long side an automatic net scale gives ``net`` on a CPU: ``AUTO_NET_SIDE`` times the
    arch's pixel folding (2 for the ``fast`` arch)."""
    archs = net_archs(getattr(net, "net", net))  # a TransformerNet, a mix, or a stylizer of either
    return AUTO_NET_SIDE * max(1, min((a.unshuffle for a in archs), default=1))


def consistency_factory(mode, flow: str, device: torch.device, raft_weights: str | None, notes: list[str],
                        **overrides) -> Callable[[], object]:
    """A function that builds the consistency stage for ``mode`` (``off`` gives ``default``: a
    stage is only built to be switched on) and appends its status line to ``notes``;
    ``overrides``: :class:`~vidstyle.consistency.temporal.ConsistencyParams` fields."""
    from ..consistency.params import parse_consistency

    mode = parse_consistency(mode)
    mode = "default" if mode == "off" else mode

    def make():
        cons, msg = build_consistency(mode, flow, device, raft_weights, **overrides)
        notes.append(msg)
        return cons

    return make


class SwitchingStylizer:
    """Frame by frame over a :class:`StyleBank`: ``select(i)``, then ``step(x)``.

    ``controls``: a :class:`~vidstyle.pipeline.controls.StyleControls` (None: none), its strength
    set per frame by ``step``. ``consistency``: a stage to start with, or ``make_consistency()``
    builds one the first time it is wanted. ``net_scale`` < 1 runs the net on a smaller copy of
    the frame and upsamples its output (faster on a CPU, coarser strokes); consistency runs on the
    net's output before the upsampling (it holds no finer detail), controls at the frame's size.
    ``net_scale=None`` is automatic (:meth:`scale_for`).
    """

    def __init__(self, bank: StyleBank, *, device: torch.device | str = "cpu", controls: StyleControls | None = None,
                 consistency=None, make_consistency: Callable[[], object] | None = None,
                 net_scale: float | None = 1.0) -> None:
        if net_scale is not None and not 0.05 <= float(net_scale) <= 1.0:
            raise InputError(f"--net-scale must be within 0.05..1, not {net_scale}")
        self.bank = bank
        self.device = torch.device(device)
        self.controls = controls
        self.consistency = consistency
        self._make_consistency = make_consistency
        self.net_scale = None if net_scale is None else float(net_scale)
        self.style_index: int | None = None
        self._net = None
        self._style_changed = False
        self._consistency_on = False

    def select(self, index: int) -> str:
        """Run style ``index`` from the next :meth:`step` on; returns its name. A style that
        cannot be loaded raises :class:`VidstyleError` and leaves the selection as it was."""
        net, name = self.bank.get(index)
        self._style_changed = self._style_changed or (self.style_index is not None and index != self.style_index)
        self.style_index, self._net = index, net
        return name

    @property
    def consistency_pending(self) -> bool:
        """Is there a consistency stage still to build (:meth:`load_consistency`)?"""
        return self.consistency is None and self._make_consistency is not None

    def load_consistency(self):
        """The consistency stage, built now if it has not been (None when unavailable); a
        failing build raises once, after which consistency stays unavailable."""
        if self.consistency is None and self._make_consistency is not None:
            make, self._make_consistency = self._make_consistency, None
            self.consistency = make()
        return self.consistency

    def step(self, x: torch.Tensor, *, strength: float | None = None, consistency: bool = False) -> tuple[torch.Tensor, bool]:
        """``x`` ``[1,3,H,W]`` float32 0..1 on the device → (the styled frame ``[1,3,H,W]``,
        whether consistency ran). Consistency starts over when switched on or on a new style."""
        xn = self.net_input(x, self._net)
        y = self._net(xn)
        cons = self.consistency if consistency else None
        if cons is not None:
            if not self._consistency_on or self._style_changed:
                cons.reset()  # switched on, or a new style: the old history does not apply
            y = cons.step(xn, y)
        self._consistency_on = cons is not None
        self._style_changed = False
        y = self.to_size(y, x)
        if self.controls is not None:
            if strength is not None:
                self.controls.strength = strength
            y = self.controls(x, y)
        return y, cons is not None

    def warm_up(self, height: int, width: int, index: int) -> None:
        """One throw-away pass of style ``index`` at ``height x width`` (allocations, kernel
        selection) so the first real frame is not slow; the selection is left as it was."""
        net, _ = self.bank.get(index)
        with torch.inference_mode():
            x = torch.zeros(1, 3, height, width, device=self.device)
            self.to_size(net(self.net_input(x, net)), x)

    def scale_for(self, th: int, tw: int, net=None) -> float:
        """The net scale used for ``th x tw`` frames: ``net_scale``, or when it is None (auto) 1
        on a GPU and on the CPU whatever brings the long side down to :func:`auto_net_side`."""
        if self.net_scale is not None:
            return self.net_scale
        if self.device.type != "cpu":
            return 1.0
        return min(1.0, auto_net_side(net) / max(th, tw, 1))

    def net_size(self, th: int, tw: int, net=None) -> tuple[int, int]:
        """The ``(height, width)`` the net runs at for ``th x tw`` frames."""
        scale = self.scale_for(th, tw, net)
        if scale >= 1.0:
            return th, tw
        return max(8, int(round(th * scale))), max(8, int(round(tw * scale)))

    def net_input(self, x: torch.Tensor, net=None) -> torch.Tensor:
        """The frame scaled by the net scale (``x`` itself at scale 1)."""
        from ..ops.resample import resize_area

        return resize_area(x, self.net_size(*x.shape[-2:], net))

    def to_size(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The net's (possibly smaller) output upsampled to ``x``'s size."""
        from ..ops.resample import resize_bilinear

        if y.shape[-2:] == x.shape[-2:]:
            return y
        return resize_bilinear(y, x.shape[-2:]).clamp_(0, 1)
