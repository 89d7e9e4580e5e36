"""What the CPU inference engines that run an exported (ONNX) net have in common.

``ExportedStylizer(net)(x [B,3,H,W] in [0,1]) -> [B,3,H,W] in [0,1]`` (float32, CPU) is a drop-in
for :class:`~vidstyle.pipeline.stylizer.Stylizer`. The net is exported once to ONNX and cached
(:func:`vidstyle.models.onnx_export.cached_onnx`, keyed by a digest of its weights); a subclass
turns that model into a runnable session (:meth:`ExportedStylizer.make_session`) and runs it
(:meth:`ExportedStylizer.run_session`). This class pads to the net's stride, crops back, clamps,
blends output mixes and hands frames too large for the memory budget to the tiling torch
``Stylizer``.

Style mixes work: a weight-interpolated mix is one ``TransformerNet`` and exports like any style;
an output-blended mix (:class:`~vidstyle.models.mixing.OutputMix`) runs one session per style and
blends the outputs exactly as ``OutputMix`` does. Any other module is refused with a
:class:`~vidstyle.errors.VidstyleError` (:func:`vidstyle.pipeline.backends.make_stylizer` falls
back to the torch ``Stylizer`` then).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import VidstyleError
from ..models.mixing import OutputMix, blend_outputs
from ..models.onnx_export import cached_onnx
from ..models.transformer import TransformerNet
from ..ops.tensors import min_side, pad_to_multiple
from .choices import PRECISIONS

#: Frames above this many pixels (after padding, per frame) always go to the torch Stylizer. With
#: ``tile="auto"`` the limit is lower: whatever the net's activations fit in the CPU memory budget
#: (``tiling.memory_budget``), since the torch Stylizer tiles them in bounded memory and the
#: exported-net engines hold the whole frame (a 4K frame through the full net needs about three
#: times the memory there).
MAX_PIXELS = 4096 * 2304


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a one-line ``VidstyleError``."""
    if precision not in PRECISIONS:
        raise VidstyleError(f"unknown precision {precision!r}; use {' or '.join(PRECISIONS)}")
    return precision


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """PyTorch intra-op threads set to ``n`` inside the block, restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def opencv_threads(n: int | None) -> Iterator[None]:
    """OpenCV's worker threads set to ``n`` inside the block (unchanged for None), restored after it."""
    if not n:
        yield
        return
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(int(n))
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def side_threads(engine_threads: int) -> int:
    """PyTorch and OpenCV threads to keep beside an exported-net engine that has ``engine_threads``
    cores: one per four (at least one). They then only convert frames and run temporal
    consistency, whose many small operations gain little from more threads, and idle worker
    threads busy-wait on cores the engine, decoder and encoder need, which costs more CPU time than
    the extra threads save."""
    return max(1, int(engine_threads) // 4)


def threads_beside(stylizer, default: int) -> int:
    """PyTorch threads while ``stylizer`` runs a stream: :func:`side_threads` of an exported-net
    engine's threads, else ``default`` (PyTorch runs the net itself and wants its cores)."""
    return side_threads(stylizer.threads) if isinstance(stylizer, ExportedStylizer) else default


class ExportedStylizer:
    """Runs a ``TransformerNet`` (or an ``OutputMix`` of them) exported to ONNX, on the CPU.

    ``threads``: intra-op threads (default ``torch.get_num_threads()``). ``spinning``: whether
    idle engine threads may busy-wait for the next op (engines without such a switch ignore it).
    ``max_pixels`` / ``tile``: see :data:`MAX_PIXELS`. ``precision``: ``"fp32"`` (the export as
    is) or ``"int8"`` (the export quantized, :mod:`vidstyle.models.int8`).
    """

    device = torch.device("cpu")
    #: the engine's name, for status lines
    engine = "exported net"

    def __init__(self, net: nn.Module, threads: int | None = None, spinning: bool = True,
                 max_pixels: int = MAX_PIXELS, tile: int | str | None = "auto", precision: str = "fp32") -> None:
        if isinstance(net, OutputMix):
            nets, self.weights = list(net.nets), list(net.weights)
        else:
            nets, self.weights = [net], None
        if not all(isinstance(n, TransformerNet) for n in nets):
            raise VidstyleError(f"the {self.engine} backend runs TransformerNet styles, not {type(net).__name__}")
        self.net = net  # kept for the torch fallback on very large frames
        self.stride = max(n.stride for n in nets)
        self.max_pixels = max_pixels
        from .tiling import bytes_per_pixel, memory_budget, parse_tile

        if parse_tile(tile) is None:  # auto
            self.max_pixels = min(max_pixels, int(memory_budget(self.device) / bytes_per_pixel(net)))
        self.tile = tile  # for the torch fallback on very large frames
        self.threads = int(threads or torch.get_num_threads())
        self.precision = check_precision(precision)
        if precision == "int8":
            from ..models.int8 import cached_int8

            models = [cached_int8(n) for n in nets]
            self.engine = f"{self.engine} int8"
        else:
            models = [cached_onnx(n) for n in nets]
        self.sessions = [self.make_session(m, self.threads, spinning) for m in models]
        self._torch = None

    def make_session(self, model: Path | bytes, threads: int, spinning: bool):
        """A runnable session for the exported ``model`` (a file or its bytes)."""
        raise NotImplementedError

    def run_session(self, session, x: np.ndarray) -> np.ndarray:
        """``session`` on ``x`` ``[B,3,H,W]`` float32 (H, W multiples of the stride) -> ``y`` (unclamped)."""
        raise NotImplementedError

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to("cpu", torch.float32)
        xp, (h, w) = pad_to_multiple(x, self.stride, min_side(self.stride))
        if xp.shape[-2] * xp.shape[-1] > self.max_pixels:
            with torch_threads(max(self.threads, torch.get_num_threads())):  # the tiling net pass wants every core
                return self._torch_stylizer()(x)
        xn = xp.contiguous().numpy()
        ys = [torch.from_numpy(self.run_session(s, xn)) for s in self.sessions]
        if self.weights is None:
            y = ys[0]
        else:
            y = blend_outputs(ys, self.weights)
        return y[..., :h, :w].clamp_(0, 1).contiguous()

    def _torch_stylizer(self):
        if self._torch is None:
            from .stylizer import Stylizer

            self._torch = Stylizer(self.net, "cpu", tile=self.tile)
        return self._torch
