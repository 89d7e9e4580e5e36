"""The ``--backend auto|torch|onnx|openvino`` choice: which engine runs the style net.

* ``torch``: :class:`~vidstyle.pipeline.stylizer.Stylizer` (PyTorch; the only one on CUDA).
* ``onnx``: :class:`~vidstyle.pipeline.ort_stylizer.OrtStylizer` (ONNX Runtime, CPU).
* ``openvino``: :class:`~vidstyle.pipeline.openvino_stylizer.OpenVinoStylizer` (OpenVINO, CPU).
* ``auto``: on a CPU the fastest one installed — OpenVINO, else ONNX Runtime, else PyTorch
  (their order on x86 CPUs; ``benchmarks/bench_cpu_backends.py`` compares them); PyTorch on CUDA. If an engine cannot take the net
  (export or compile failure), ``auto`` tries the next one and says why in its note.

``--precision int8`` (:mod:`vidstyle.models.int8`) runs a quantized copy of the export in
OpenVINO or ONNX Runtime; it is a CPU option (PyTorch and CUDA refuse it with a one-line error).
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import VidstyleError
from ..models.onnx_export import INSTALL_HINT as ONNX_HINT
from . import openvino_stylizer, ort_stylizer
from .choices import BACKENDS
from .exported_stylizer import check_precision
from .stylizer import Stylizer
from .tiling import parse_tile


def _engines() -> dict:
    """CPU engines that run an exported net, in the order ``auto`` tries them:
    name -> (installed?, stylizer class, install hint). Looked up per call (tests patch them)."""
    return {
        "openvino": (openvino_stylizer.openvino_available(), openvino_stylizer.OpenVinoStylizer,
                     openvino_stylizer.INSTALL_HINT),
        "onnx": (ort_stylizer.ort_available(), ort_stylizer.OrtStylizer, ONNX_HINT),
    }


def make_stylizer(net: nn.Module, device: torch.device | str, backend: str = "auto", tile: int | str | None = "auto",
                  precision: str = "fp32", **engine_options):
    """The stylizer for ``--backend``: returns ``(stylizer, note)``; ``note`` is "" (PyTorch) or a
    short text for the status line (which engine runs, or why a faster one was not used).

    ``engine_options`` (``threads``, ``spinning``) go to the exported-net engines. ``tile`` (see
    :class:`~vidstyle.pipeline.stylizer.Stylizer`): a forced tile size runs PyTorch, which does
    the tiling (``onnx``/``openvino`` then are an error); auto/off also apply to the torch
    fallback the engines use for frames over the memory budget.
    """
    if backend not in BACKENDS:
        raise VidstyleError(f"unknown backend {backend!r}; use {', '.join(BACKENDS)}")
    check_precision(precision)
    device = torch.device(device)
    forced_tile = bool(parse_tile(tile))
    if precision != "fp32":
        if device.type != "cpu" or backend == "torch":
            raise VidstyleError(f"--precision {precision} runs on the CPU engines (--backend auto, openvino or onnx with --device cpu)")
        if forced_tile:
            raise VidstyleError(f"--precision {precision} cannot tile; use --tile auto")
        engine_options["precision"] = precision
    if backend == "torch" or (backend == "auto" and (device.type != "cpu" or forced_tile)):
        return Stylizer(net, device, tile=tile), ""
    flag = f"--backend {backend}"
    if device.type != "cpu":
        raise VidstyleError(f"{flag} runs on the CPU only; use --device cpu (or --backend torch on CUDA)")
    if forced_tile:
        raise VidstyleError("--tile N runs on the torch backend; use --backend torch or auto")
    if backend != "auto":
        available, cls, hint = _engines()[backend]
        if not available:
            raise VidstyleError(f"{flag} needs {hint.removeprefix('pip install ').replace(' ', ' and ')}: {hint}")
        st = cls(net, tile=tile, **engine_options)
        return st, st.engine
    reasons = []
    for name, (available, cls, _) in _engines().items():
        if not available:
            continue
        try:
            st = cls(net, tile=tile, **engine_options)
        except VidstyleError as e:
            reasons.append(f"{name} backend unavailable: {e}")
            continue
        return st, st.engine + (f" ({'; '.join(reasons)})" if reasons else "")
    note = f"PyTorch ({'; '.join(reasons)})" if reasons else ""
    return Stylizer(net, device, tile=tile), note
