"""ONNX Runtime inference backend for CPU (``--backend onnx``).

``OrtStylizer(net)(x [B,3,H,W] in [0,1]) -> [B,3,H,W] in [0,1]`` (float32, CPU) is a drop-in for
:class:`~vidstyle.pipeline.stylizer.Stylizer` on CPU: the net exported once to ONNX and cached
(see :mod:`vidstyle.pipeline.exported_stylizer`), run by an ONNX Runtime ``CPUExecutionProvider``
session with all graph optimisations and as many intra-op threads as torch uses. The nets run
faster this way than in PyTorch eager on CPUs (see ``benchmarks/bench_cpu_backends.py``); outputs
agree with PyTorch to ~1e-5.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from ..errors import VidstyleError
from ..models.onnx_export import INSTALL_HINT
from .exported_stylizer import MAX_PIXELS, ExportedStylizer

__all__ = ["MAX_PIXELS", "OrtStylizer", "make_session", "ort_available"]


def ort_available() -> bool:
    """Whether ``onnxruntime`` and ``onnx`` can be imported (without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _require_ort():
    try:
        import onnxruntime
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


class OrtStylizer(ExportedStylizer):
    """Runs a ``TransformerNet`` (or an ``OutputMix`` of them) with ONNX Runtime on the CPU.

    ``threads``: intra-op threads (default ``torch.get_num_threads()``). ``spinning``: let idle
    ONNX Runtime threads busy-wait for the next op (faster for the net alone; the decode, encode
    and consistency stages run beside it and need the cores the spinning threads hold, so the
    pipeline turns it off — ``benchmarks/bench_cpu_backends.py`` compares both).
    """

    engine = "ONNX Runtime"

    def make_session(self, model: Path | bytes, threads: int, spinning: bool):
        return make_session(model, threads, spinning)

    def run_session(self, session, x: np.ndarray) -> np.ndarray:
        return session.run(["y"], {"x": x})[0]
