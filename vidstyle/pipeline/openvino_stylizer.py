"""OpenVINO inference backend for CPU (``--backend openvino``; what ``auto`` picks on a CPU).

``OpenVinoStylizer(net)(x [B,3,H,W] in [0,1]) -> [B,3,H,W] in [0,1]`` (float32, CPU) is a drop-in
for :class:`~vidstyle.pipeline.stylizer.Stylizer` on CPU: the same cached ONNX export as the ONNX
Runtime backend (see :mod:`vidstyle.pipeline.exported_stylizer`), read and compiled by OpenVINO's
CPU plugin (oneDNN kernels chosen for the CPU's vector units) with dynamic input shapes, fp32
inference precision (OpenVINO would otherwise run bf16 on CPUs that have it, which changes the
output), one stream and a latency hint. Outputs agree with PyTorch to ~1e-5. Compiled models are
kept in the cache folder (``openvino/``): compiling is a large part of start-up, and a cached blob
loads several times faster.

Why a second engine: OpenVINO runs the style nets faster than ONNX Runtime on x86 CPUs, most on
those with AVX-512 (``benchmarks/bench_cpu_backends.py`` compares them).
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
from pathlib import Path

import numpy as np

from ..errors import VidstyleError, first_line
from .exported_stylizer import ExportedStylizer

INSTALL_HINT = "pip install openvino onnx"
_CORE = None
_CORE_LOCK = threading.Lock()


def openvino_available() -> bool:
    """Whether ``openvino`` and ``onnx`` (for the export) can be imported (without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("openvino", "onnx"))


def _core():
    global _CORE
    with _CORE_LOCK:
        if _CORE is None:
            try:
                import openvino
            except ImportError:
                raise VidstyleError(f"the openvino backend needs openvino: {INSTALL_HINT}") from None
            try:
                _CORE = openvino.Core()
            except Exception as e:  # noqa: BLE001 - e.g. no usable CPU plugin on this CPU
                raise VidstyleError(f"OpenVINO cannot start here: {first_line(e)}") from None
        return _CORE


def _blob_dir() -> Path | None:
    """The folder for OpenVINO's compiled-model cache, or None when it cannot be created (a
    read-only home): caching only saves start-up time, so a run never fails for it."""
    from ..io.cache import cache_dir

    folder = cache_dir("openvino")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


class _Session:
    """A compiled model and its one infer request (calls are serialised: a request runs one at a time)."""

    def __init__(self, compiled) -> None:
        self.compiled = compiled
        self.request = compiled.create_infer_request()
        self.lock = threading.Lock()

    def run(self, x: np.ndarray) -> np.ndarray:
        with self.lock:
            self.request.infer({0: x})
            return np.array(self.request.get_output_tensor(0).data, copy=True)


def compile_model(model: Path | bytes, threads: int, pinning: bool = False) -> _Session:
    """OpenVINO's CPU plugin compiling the exported ``model`` (a path or bytes): fp32, ``threads``
    inference threads, one stream, latency hint; threads not pinned to cores unless ``pinning``
    (decoding, encoding and consistency share the cores with the net)."""
    core = _core()
    config = {
        "INFERENCE_NUM_THREADS": int(threads),
        "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "f32",
        "ENABLE_CPU_PINNING": bool(pinning),
    }
    blobs = _blob_dir()
    if blobs is not None:
        config["CACHE_DIR"] = str(blobs)
    try:
        src = io.BytesIO(model) if isinstance(model, bytes) else str(model)
        return _Session(core.compile_model(core.read_model(src), "CPU", config))
    except Exception as e:  # noqa: BLE001 - OpenVINO raises RuntimeError subclasses of its own
        raise VidstyleError(f"OpenVINO cannot compile the exported net: {first_line(e)}") from None


class OpenVinoStylizer(ExportedStylizer):
    """Runs a ``TransformerNet`` (or an ``OutputMix`` of them) with OpenVINO on the CPU.

    ``threads``: inference threads (default ``torch.get_num_threads()``); ``spinning`` is accepted
    for the same call signature as :class:`~vidstyle.pipeline.ort_stylizer.OrtStylizer` and
    ignored (OpenVINO has no such switch).
    """

    engine = "OpenVINO"

    def make_session(self, model: Path | bytes, threads: int, spinning: bool) -> _Session:
        return compile_model(model, threads)

    def run_session(self, session: _Session, x: np.ndarray) -> np.ndarray:
        return session.run(x)
