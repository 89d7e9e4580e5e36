"""8-bit post-training quantization of an exported style net (``--precision int8`` on CPU).

:func:`quantize_onnx` turns the fp32 ONNX export (:mod:`vidstyle.models.onnx_export`) into a QDQ
model (``QuantizeLinear``/``DequantizeLinear`` pairs around every convolution and reflection pad):
weights int8, symmetric, one scale per output channel; activations uint8 with a zero point, one
range per tensor, measured (min/max) by running the fp32 net on :func:`calibration_frames`. It is
ONNX Runtime's own static quantizer (``onnxruntime.quantization.quantize_static``), a core
dependency already. OpenVINO's CPU plugin reads the QDQ pairs and runs the convolutions as int8
kernels (AVX-512 VNNI / AVX-VNNI / AMX where the CPU has them), everything between them in fp32.

Why ranges per tensor from fixed frames work for any clip: the net's input is an image in [0, 1]
(the calibration set has pure black and white), and every other quantized tensor comes out of an
instance norm, so its range hardly depends on the content.

:func:`cached_int8` keeps the quantized model beside the fp32 export in the cache, keyed by the
same weights digest plus :data:`INT8_VERSION` (calibration or quantizer changes bump it). The
first use of a style costs a few seconds of calibration.

What it buys and costs: the convolutions run roughly twice as fast on CPUs with VNNI (the full
net gains most), with no difference visible side by side on an ordinary still (PSNR about 30-35 dB
against fp32); ONNX Runtime runs the same model no faster than fp32. Dark pictures fare worse
(``benchmarks/bench_int8.py``; the full net's output then shows grain in flat areas). The cost is
temporal: quantization rounding flips with small input changes, so frame-to-frame shimmer grows
(mostly from the residual blocks and the two upsampling convolutions; equalizing per-channel
activation ranges does not help), and temporal consistency absorbs most of it
(``benchmarks/bench_consistency.py --int8``).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from ..errors import VidstyleError, first_line
from ..io.atomic import write_bytes_atomic
from ..io.cache import cache_dir
from .onnx_export import cached_onnx, net_digest
from .transformer import TransformerNet

#: Bumped whenever the calibration set or the quantizer settings change.
INT8_VERSION = "1"
#: How many frames of the bundled sample clip calibrate the activation ranges.
CALIBRATION_FRAMES = 6


def calibration_frames(n: int = CALIBRATION_FRAMES) -> list[np.ndarray]:
    """``[1,3,H,W]`` float32 RGB images in [0, 1] that calibrate the activation ranges: ``n``
    frames spread over the bundled sample clip (640x360 city pan), its mirror images, and one
    synthetic 640x360 image with pure black, pure white and saturated colours (so the input range
    is the whole [0, 1])."""
    import av

    from ..samples import sample_clip_path

    with av.open(str(sample_clip_path())) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    picks = [frames[round(i * (len(frames) - 1) / max(1, n - 1))] for i in range(n)]
    out = [p.astype(np.float32) / 255.0 for p in picks[::2]] + [p[:, ::-1].astype(np.float32) / 255.0 for p in picks[1::2]]
    h, w = picks[0].shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    synth = np.stack([xx / (w - 1), yy / (h - 1), ((xx // 40 + yy // 40) % 2)], -1)
    synth[: h // 4, : w // 4] = 0.0
    synth[: h // 4, w // 4 : w // 2] = 1.0
    out.append(synth)
    return [np.ascontiguousarray(o.transpose(2, 0, 1)[None]) for o in out]


def quantize_onnx(model: Path | bytes, frames: list[np.ndarray] | None = None) -> bytes:
    """The int8 QDQ version of the fp32 ONNX ``model`` (a file or its bytes), activation ranges
    measured on ``frames`` (default :func:`calibration_frames`). Raises ``VidstyleError`` when
    ONNX Runtime's quantizer is missing or fails."""
    try:
        from onnxruntime.quantization import (
            CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static)
    except ImportError:
        raise VidstyleError("--precision int8 needs ONNX Runtime's quantizer: pip install onnxruntime") from None
    frames = frames if frames is not None else calibration_frames()

    class _Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(frames)

        def get_next(self):
            x = next(self._it, None)
            return None if x is None else {"x": x}

    with tempfile.TemporaryDirectory(prefix="vidstyle-int8-") as tmp:
        src = Path(tmp) / "fp32.onnx"
        if isinstance(model, bytes):
            src.write_bytes(model)
        else:
            src = Path(model)
        dst = Path(tmp) / "int8.onnx"
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantizer logs advice ("consider pre-processing") on the root logger
        try:
            quantize_static(
                str(src), str(dst), _Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                op_types_to_quantize=["Conv", "Pad"], calibrate_method=CalibrationMethod.MinMax,
                extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
            )
        except Exception as e:  # noqa: BLE001 - the quantizer raises whatever ONNX Runtime raised
            raise VidstyleError(f"int8 quantization failed: {first_line(e)}") from None
        finally:
            root.setLevel(level)
        return dst.read_bytes()


def cached_int8(net: TransformerNet) -> Path | bytes:
    """The int8 model of ``net``: a file in the export cache (quantized on first use), or the bytes
    when the cache folder cannot be written."""
    path = cache_dir("onnx") / f"{net_digest(net)[:32]}.int8v{INT8_VERSION}.onnx"
    if path.is_file():
        return path
    data = quantize_onnx(cached_onnx(net))
    try:
        write_bytes_atomic(path, data, mkdir=True)
    except OSError:
        return data
    return path

