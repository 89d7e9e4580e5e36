"""The OpenVINO CPU backend and the ``auto`` engine order (skipped without openvino/onnx)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

pytest.importorskip("onnx")
pytest.importorskip("openvino")

from vidstyle.cli import main
from vidstyle.errors import VidstyleError
from vidstyle.io.synthetic import make_test_clip
from vidstyle.models.mixing import OutputMix
from vidstyle.models.styles import save_style
from vidstyle.pipeline import backends, openvino_stylizer, ort_stylizer
from vidstyle.pipeline.backends import make_stylizer
from vidstyle.pipeline.openvino_stylizer import OpenVinoStylizer
from vidstyle.pipeline.ort_stylizer import OrtStylizer
from vidstyle.pipeline.stylizer import Stylizer

from nets import tiny_net as net

pytestmark = pytest.mark.usefixtures("export_cache")  # a private export cache per test, never ~/.cache


@pytest.mark.parametrize("arch", ["light", "fast", {"channels": [4, 8, 8], "blocks": 1, "upsample": "bilinear"}])
def test_matches_torch_at_odd_sizes_and_batches(arch, one_thread):
    n = net(0, arch)
    st = OpenVinoStylizer(n, threads=1)
    for shape in [(2, 3, 66, 90), (1, 3, 50, 70)]:  # dynamic shapes: one compiled model, two sizes
        x = torch.rand(*shape, generator=torch.Generator().manual_seed(1))
        got, want = st(x), Stylizer(n, "cpu")(x)
        assert got.shape == x.shape and got.dtype == torch.float32
        assert float((got - want).abs().max()) < 1e-4
        assert 0.0 <= float(got.min()) and float(got.max()) <= 1.0


def test_compiles_for_fp32_with_the_asked_threads(monkeypatch, one_thread):
    """OpenVINO would run bf16 on CPUs that have it (a different output): the config says f32."""
    real, seen = openvino_stylizer._core(), {}

    class Recording:
        def read_model(self, src):
            return real.read_model(src)

        def compile_model(self, model, device, config):
            seen.update(config, device=device)
            return real.compile_model(model, device, config)

    monkeypatch.setattr(openvino_stylizer, "_core", lambda: Recording())
    st = OpenVinoStylizer(net(0), threads=1)
    assert seen["device"] == "CPU" and seen["INFERENCE_PRECISION_HINT"] == "f32" and seen["INFERENCE_NUM_THREADS"] == 1
    assert "float32" in str(st.sessions[0].compiled.get_property("INFERENCE_PRECISION_HINT")).replace("f32", "float32")


def test_output_mix_blends_like_torch(one_thread):
    mix = OutputMix([net(0), net(1, {"channels": [4, 8, 16], "blocks": 1})], [0.3, 0.7]).eval()
    x = torch.rand(1, 3, 30, 42)
    assert float((OpenVinoStylizer(mix, threads=1)(x) - Stylizer(mix, "cpu")(x)).abs().max()) < 1e-4


def test_model_bytes_compile_when_the_cache_cannot_be_written(one_thread):
    from vidstyle.models import onnx_export

    data = onnx_export.export_onnx(net(2))
    session = openvino_stylizer.compile_model(data, threads=1)
    x = np.random.default_rng(0).random((1, 3, 24, 32), dtype=np.float32)
    with torch.inference_mode():
        want = net(2)(torch.from_numpy(x)).numpy()
    assert np.abs(session.run(x) - want).max() < 1e-4


def test_a_broken_model_is_one_clear_error(one_thread):
    with pytest.raises(VidstyleError, match=r"^OpenVINO cannot compile the exported net"):
        openvino_stylizer.compile_model(b"not an onnx model", threads=1)


def test_auto_picks_openvino_then_onnx_then_torch(monkeypatch, one_thread):
    n = net(0)
    st, note = make_stylizer(n, "cpu", "auto")
    assert isinstance(st, OpenVinoStylizer) and note == "OpenVINO"
    # OpenVINO failing on this net: auto says why and runs ONNX Runtime
    def broken(*a, **k):
        raise VidstyleError("OpenVINO cannot compile the exported net: boom")

    monkeypatch.setattr(openvino_stylizer, "compile_model", broken)
    st, note = make_stylizer(n, "cpu", "auto")
    assert isinstance(st, OrtStylizer)
    assert note == "ONNX Runtime (openvino backend unavailable: OpenVINO cannot compile the exported net: boom)"
    with pytest.raises(VidstyleError, match="boom"):  # asked for by name: no silent fallback
        make_stylizer(n, "cpu", "openvino")
    # neither engine installed: PyTorch, no note
    monkeypatch.setattr(openvino_stylizer, "openvino_available", lambda: False)
    monkeypatch.setattr(ort_stylizer, "ort_available", lambda: False)
    st, note = make_stylizer(n, "cpu", "auto")
    assert isinstance(st, Stylizer) and note == ""
    with pytest.raises(VidstyleError, match=r"^--backend openvino needs openvino and onnx: pip install openvino onnx$"):
        make_stylizer(n, "cpu", "openvino")


def test_forced_tiles_and_cuda_are_refused_by_name():
    n = net(0)
    with pytest.raises(VidstyleError, match="--tile N runs on the torch backend"):
        make_stylizer(n, "cpu", "openvino", tile=64)
    with pytest.raises(VidstyleError, match="--backend openvino runs on the CPU only"):
        make_stylizer(n, "cuda", "openvino")
    assert isinstance(make_stylizer(n, "cpu", "auto", tile=64)[0], Stylizer)
    assert backends.BACKENDS == ("auto", "torch", "onnx", "openvino")


def test_torch_threads_are_restored_and_the_large_frame_fallback_gets_the_engines_cores(monkeypatch):
    from vidstyle.pipeline import exported_stylizer as es
    from vidstyle.pipeline import tiling

    before = torch.get_num_threads()
    with es.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert es.side_threads(2) == 1 and es.side_threads(16) == 4
    n = net(0)
    monkeypatch.setattr(tiling, "CPU_MEMORY_BUDGET", int(tiling.bytes_per_pixel(n) * 40 * 40))
    st = OpenVinoStylizer(n, threads=2)
    seen = []

    class Spy:
        def __call__(self, x):
            seen.append(torch.get_num_threads())
            return x

    st._torch = Spy()
    with es.torch_threads(1):  # as stylize runs beside an engine
        st(torch.rand(1, 3, 96, 120))  # over the budget: the tiling torch path
        assert torch.get_num_threads() == 1
    assert seen == [2]


def test_stylize_keeps_one_torch_and_opencv_thread_beside_the_engine_and_restores_them(tmp_path, monkeypatch):
    import cv2

    from vidstyle.pipeline import runner

    style = str(save_style(net(0), tmp_path / "styles" / "tiny", {"style_image": {"title": "random"}}))
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=32, height=24, frames=2, audio=False)
    real, seen = runner.stylize_stream, []

    def spy(*a, **k):
        seen.append((torch.get_num_threads(), cv2.getNumThreads()))
        return real(*a, **k)

    monkeypatch.setattr(runner, "stylize_stream", spy)
    before, cv_before = torch.get_num_threads(), cv2.getNumThreads()
    try:
        torch.set_num_threads(4)
        cv2.setNumThreads(3)
        for backend in ("openvino", "torch"):
            r = CliRunner().invoke(main, ["stylize", clip.path, "-s", style, "-o", str(tmp_path / f"{backend}.mp4"),
                                          "--backend", backend, "--device", "cpu", "--quiet"], catch_exceptions=False)
            assert r.exit_code == 0, r.output
            assert torch.get_num_threads() == 4 and cv2.getNumThreads() == 3
    finally:
        torch.set_num_threads(before)
        cv2.setNumThreads(cv_before)
    # engine: PyTorch and OpenCV keep one of 4 threads; PyTorch backend: all of them
    assert seen == [(1, 1), (4, 4)]


def test_live_gives_the_engine_its_threads_and_keeps_one_for_torch(tmp_path, monkeypatch):
    from vidstyle.live.session import LiveConfig, run_live

    style = str(save_style(net(0), tmp_path / "styles" / "tiny", {"style_image": {"title": "random"}}))
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=32, height=24, frames=3, audio=False)
    engines, torch_threads_seen = [], []
    real_call = OpenVinoStylizer.__call__

    def spy(self, x):
        engines.append(self.threads)
        torch_threads_seen.append(torch.get_num_threads())
        return real_call(self, x)

    monkeypatch.setattr(OpenVinoStylizer, "__call__", spy)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        cfg = LiveConfig(styles=[style], source=clip.path, display=False, output=str(tmp_path / "rec.mp4"),
                         frames=2, threads=4, device="cpu", backend="openvino", overwrite=True)
        run_live(cfg, echo=lambda *_: None)
        assert torch.get_num_threads() == 3  # restored when the session ends
    finally:
        torch.set_num_threads(before)
    assert engines and set(engines) == {4}  # --threads goes to the engine
    assert set(torch_threads_seen) == {1}  # PyTorch keeps one of four beside it


def test_openvino_that_cannot_start_falls_back_in_auto(monkeypatch):
    import openvino

    def broken_core():
        raise RuntimeError("no CPU plugin\nmore detail")

    monkeypatch.setattr(openvino_stylizer, "_CORE", None)
    monkeypatch.setattr(openvino, "Core", broken_core)
    st, note = make_stylizer(net(0), "cpu", "auto")
    assert isinstance(st, OrtStylizer)
    assert note == "ONNX Runtime (openvino backend unavailable: OpenVINO cannot start here: no CPU plugin)"


def test_stylize_threads_caps_the_engine_pytorch_and_opencv(tmp_path, monkeypatch):
    import cv2

    from vidstyle.pipeline import runner

    style = str(save_style(net(0), tmp_path / "styles" / "tiny", {"style_image": {"title": "random"}}))
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=32, height=24, frames=2, audio=False)
    real, seen = runner.stylize_stream, []

    def spy(frames, sink, stylizer, **k):
        seen.append((getattr(stylizer, "threads", None), torch.get_num_threads(), cv2.getNumThreads()))
        return real(frames, sink, stylizer, **k)

    monkeypatch.setattr(runner, "stylize_stream", spy)
    before = (torch.get_num_threads(), cv2.getNumThreads())
    for backend, threads in (("openvino", "3"), ("torch", "3")):
        r = CliRunner().invoke(main, ["stylize", clip.path, "-s", style, "-o", str(tmp_path / f"{backend}.mp4"),
                                      "--backend", backend, "--device", "cpu", "--threads", threads, "--quiet"],
                               catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert (torch.get_num_threads(), cv2.getNumThreads()) == before  # restored
    assert seen[0] == (3, 1, 1)  # engine 3 threads, PyTorch and OpenCV one beside it
    assert seen[1][1:] == (3, 3)  # PyTorch runs the net itself with all 3
