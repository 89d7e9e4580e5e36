"""ONNX Runtime inference backend for CPU, and the ``--backend auto|torch|onnx`` choice.

``OrtStylizer(net)(x [B,3,H,W] in [0,1]) -> [B,3,H,W] in [0,1]`` (float32, CPU) is a drop-in for
:class:`~vidstyle.pipeline.stylizer.Stylizer` on CPU. The net is exported once to ONNX and cached
(:func:`vidstyle.models.onnx_export.cached_onnx`, keyed by a digest of its weights), then run by an
ONNX Runtime ``CPUExecutionProvider`` session with all graph optimisations and as many intra-op
threads as torch uses. On the 2-core CPU this was developed on, the light and full nets run
noticeably faster this way than in PyTorch eager (see ``benchmarks/bench_cpu_backends.py``);
outputs agree with PyTorch to ~1e-5.

Style mixes work: a weight-interpolated mix is one ``TransformerNet`` and exports like any style;
an output-blended mix (:class:`~vidstyle.models.mixing.OutputMix`) runs one session per style and
blends the outputs exactly as ``OutputMix`` does. Any other module falls back to the torch
``Stylizer`` (see :func:`make_stylizer`), as do frames larger than ``max_pixels`` (the torch
Stylizer tiles those to bound memory).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch
from torch import nn

from ..errors import VidstyleError
from ..models.onnx_export import INSTALL_HINT, cached_onnx
from ..models.transformer import TransformerNet
from .tensors import pad_to_multiple

BACKENDS = ("auto", "torch", "onnx")
#: Frames above this many pixels (after padding, per frame) always go to the torch Stylizer. With
#: ``tile="auto"`` the limit is lower: whatever the net's activations fit in the CPU memory budget
#: (``tiling.memory_budget``), since the torch Stylizer tiles them in bounded memory and ONNX
#: Runtime holds the whole frame (measured: 3840x2160 with the full net peaked at 7.6 GB in ONNX
#: Runtime, 2.8 GB tiled in torch).
MAX_PIXELS = 4096 * 2304


def ort_available() -> bool:
    """Whether ``onnxruntime`` and ``onnx`` can be imported (without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _require_ort():
    try:
        import onnxruntime  # noqa: PLC0415
    except ImportError:
        raise VidstyleError(f"the onnx backend needs onnxruntime: {INSTALL_HINT}") from None
    return onnxruntime


def make_session(model, threads: int | None = None, spinning: bool = True):
    """An ONNX Runtime CPU session for ``model`` (a path or bytes) with all graph optimisations,
    ``threads`` intra-op threads (default: ``torch.get_num_threads()``) and sequential execution."""
    ort = _require_ort()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = int(threads or torch.get_num_threads())
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # warnings about unused initializers etc. are noise here
    if not spinning:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    src = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise VidstyleError(f"ONNX Runtime cannot load the exported net: {e}") from None


class OrtStylizer:
    """Runs a ``TransformerNet`` (or an ``OutputMix`` of them) with ONNX Runtime on the CPU.

    ``threads``: intra-op threads (default ``torch.get_num_threads()``). ``spinning``: let idle
    ONNX Runtime threads busy-wait for the next op (faster for the net alone; the decode, encode
    and consistency stages run beside it, so the pipeline default turns it off where measured
    slower — see ``benchmarks/bench_cpu_backends.py``).
    """

    device = torch.device("cpu")

    def __init__(self, net: nn.Module, threads: int | None = None, spinning: bool = True,
                 max_pixels: int = MAX_PIXELS, tile: int | str | None = "auto") -> None:
        from ..models.mixing import OutputMix  # noqa: PLC0415 - mixing imports pipeline.controls

        if isinstance(net, OutputMix):
            nets, self.weights = list(net.nets), list(net.weights)
        else:
            nets, self.weights = [net], None
        if not all(isinstance(n, TransformerNet) for n in nets):
            raise VidstyleError(f"the onnx backend runs TransformerNet styles, not {type(net).__name__}")
        self.net = net  # kept for the torch fallback on very large frames
        self.stride = max(n.stride for n in nets)
        self.max_pixels = max_pixels
        from .tiling import bytes_per_pixel, memory_budget, parse_tile  # noqa: PLC0415

        if parse_tile(tile) is None:  # auto
            self.max_pixels = min(max_pixels, int(memory_budget(self.device) / bytes_per_pixel(net)))
        self.tile = tile  # for the torch fallback on very large frames
        self.sessions = [make_session(cached_onnx(n), threads, spinning) for n in nets]
        self._torch = None

    def _run(self, session, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(session.run(["y"], {"x": x})[0])

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to("cpu", torch.float32)
        xp, (h, w) = pad_to_multiple(x, self.stride)
        if xp.shape[-2] * xp.shape[-1] > self.max_pixels:
            return self._torch_stylizer()(x)
        xn = xp.contiguous().numpy()
        ys = [self._run(s, xn) for s in self.sessions]
        if self.weights is None:
            y = ys[0]
        else:
            from ..models.mixing import blend_outputs  # noqa: PLC0415

            y = blend_outputs(ys, self.weights)
        return y[..., :h, :w].clamp_(0, 1).contiguous()

    def _torch_stylizer(self):
        if self._torch is None:
            from .stylizer import Stylizer  # noqa: PLC0415

            self._torch = Stylizer(self.net, "cpu", tile=self.tile)
        return self._torch


def make_stylizer(net: nn.Module, device: torch.device | str, backend: str = "auto", tile: int | str | None = "auto",
                  **ort_options):
    """The stylizer for ``--backend``: returns ``(stylizer, note)``; ``note`` is "" or a short text
    for the status line (which backend runs, or why the onnx one was not used).

    ``auto``: ONNX Runtime on CPU when ``onnxruntime`` and ``onnx`` are installed (faster there for
    both archs, see ``benchmarks/bench_cpu_backends.py``), PyTorch otherwise and on CUDA; if the
    export or the session fails, it falls back to PyTorch with a note. ``onnx``: ONNX Runtime, or
    a ``VidstyleError`` (CUDA device, missing package, export failure). ``torch``: PyTorch.
    ``tile`` (see :class:`~vidstyle.pipeline.stylizer.Stylizer`): a forced tile size runs PyTorch,
    which does the tiling (``onnx`` then is an error); auto/off also apply to the torch fallback.
    """
    from .stylizer import Stylizer  # noqa: PLC0415

    if backend not in BACKENDS:
        raise VidstyleError(f"unknown backend {backend!r}; use {', '.join(BACKENDS)}")
    device = torch.device(device)
    from .tiling import parse_tile  # noqa: PLC0415

    forced_tile = bool(parse_tile(tile))
    if backend == "torch" or (backend == "auto" and (device.type != "cpu" or forced_tile or not ort_available())):
        return Stylizer(net, device, tile=tile), ""
    if device.type != "cpu":
        raise VidstyleError("--backend onnx runs on the CPU only; use --device cpu (or --backend torch on CUDA)")
    if backend == "onnx" and forced_tile:
        raise VidstyleError("--tile N runs on the torch backend; use --backend torch or auto")
    if backend == "onnx" and not ort_available():
        raise VidstyleError(f"--backend onnx needs onnx and onnxruntime: {INSTALL_HINT}")
    try:
        return OrtStylizer(net, tile=tile, **ort_options), "ONNX Runtime"
    except VidstyleError as e:
        if backend == "onnx":
            raise
        return Stylizer(net, device, tile=tile), f"PyTorch (onnx backend unavailable: {e})"
