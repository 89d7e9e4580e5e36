"""``--precision int8``: the quantized export, its cache and where it is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")

from vidstyle.cli import main
from vidstyle.errors import VidstyleError
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_clip
from vidstyle.models import int8
from vidstyle.models.styles import save_style
from vidstyle.pipeline.backends import make_stylizer
from vidstyle.pipeline.openvino_stylizer import OpenVinoStylizer
from vidstyle.pipeline.ort_stylizer import OrtStylizer

from nets import tiny_net as net

pytestmark = pytest.mark.usefixtures("export_cache")  # a private export cache per test, never ~/.cache


def smooth_image(h: int = 48, w: int = 64, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, h // 8, w // 8, generator=g)
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)


def test_calibration_frames_span_the_input_range():
    frames = int8.calibration_frames()
    assert len(frames) == int8.CALIBRATION_FRAMES + 1
    for f in frames:
        assert f.dtype == np.float32 and f.shape == (1, 3, 360, 640)
    lo, hi = min(float(f.min()) for f in frames), max(float(f.max()) for f in frames)
    assert lo == 0.0 and hi == 1.0
    assert not np.array_equal(frames[0], frames[1])  # spread over the clip, not one frame repeated


@pytest.mark.parametrize("engine", [OpenVinoStylizer, OrtStylizer])
def test_int8_runs_a_quantized_model_close_to_fp32(engine, one_thread):
    n = net()
    q = engine(n, threads=1, precision="int8")
    f = engine(n, threads=1)
    assert q.engine.endswith("int8") and q.precision == "int8"
    model = onnx.load(str(int8.cached_int8(n)))
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("QuantizeLinear") >= 4 and "DequantizeLinear" in ops
    int8_weights = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4]
    assert len(int8_weights) >= 4  # every conv's weights stored as int8
    x = smooth_image()
    a, b = q(x), f(x)
    assert a.shape == x.shape
    diff = (a - b).abs()
    # close to fp32 (a random 4-channel net; trained ones ~0.01): mean 0.044 in OpenVINO, 0.054 in
    # ONNX Runtime on an AVX2-only CPU (its u8s8 kernels saturate without VNNI), lower with VNNI ...
    assert float(diff.mean()) < 0.07
    assert float(diff.max()) > 0.0  # ... but not the fp32 model


def test_the_quantized_model_is_cached(monkeypatch):
    n = net()
    first = int8.cached_int8(n)
    assert str(first).endswith(f".int8v{int8.INT8_VERSION}.onnx")

    def fail(*a, **k):
        raise AssertionError("quantized again")

    monkeypatch.setattr(int8, "quantize_onnx", fail)
    assert int8.cached_int8(n) == first
    with pytest.raises(AssertionError):
        int8.cached_int8(net(seed=1))  # another net's weights: not the cached file


def test_int8_is_refused_where_it_cannot_run():
    n = net()
    with pytest.raises(VidstyleError, match="CPU engines"):
        make_stylizer(n, "cpu", "torch", precision="int8")
    with pytest.raises(VidstyleError, match="CPU engines"):
        make_stylizer(n, "cuda", "auto", precision="int8")
    with pytest.raises(VidstyleError, match="tile"):
        make_stylizer(n, "cpu", "auto", tile=32, precision="int8")
    with pytest.raises(VidstyleError, match="unknown precision"):
        make_stylizer(n, "cpu", "auto", precision="fp8")


def test_stylize_precision_int8_from_the_cli(tmp_path):
    style = str(save_style(net(), tmp_path / "styles" / "tiny", {"style_image": {"title": "random"}}))
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=3, audio=False)
    out = tmp_path / "out.mp4"
    r = CliRunner().invoke(main, ["stylize", clip.path, "-s", style, "-o", str(out), "--device", "cpu",
                                  "--precision", "int8", "--consistency", "off"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "OpenVINO int8" in r.output
    with open_source(str(out)) as src:
        assert sum(1 for _ in src) == 3
    bad = CliRunner().invoke(main, ["stylize", clip.path, "-s", style, "-o", str(tmp_path / "b.mp4"), "--device", "cpu",
                                    "--backend", "torch", "--precision", "int8"])
    assert bad.exit_code != 0
    assert "CPU engines" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "b.mp4").exists()


def test_live_loader_passes_the_precision_on(tmp_path):
    from vidstyle.api.config import Runtime
    from vidstyle.live.engine import StyleBank

    style = str(save_style(net(), tmp_path / "styles" / "tiny", {"style_image": {"title": "random"}}))
    bank = StyleBank([style], "cpu", runtime=Runtime(precision="int8", threads=1))
    stylizer = bank.get(0)[0]
    assert getattr(stylizer, "precision", None) == "int8"
    assert StyleBank([style], "cpu", runtime=Runtime(threads=1)).get(0)[0].precision == "fp32"
