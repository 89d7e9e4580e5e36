"""ONNX export and the ONNX Runtime CPU backend (skipped without onnx/onnxruntime)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from click.testing import CliRunner

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from vidstyle.cli import main
from vidstyle.errors import VidstyleError
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_clip
from vidstyle.models import onnx_export
from vidstyle.models.mixing import OutputMix
from vidstyle.models.onnx_export import cached_onnx, export_onnx, read_metadata
from vidstyle.models.styles import save_style
from vidstyle.pipeline import openvino_stylizer, ort_stylizer
from vidstyle.pipeline.backends import make_stylizer
from vidstyle.pipeline.ort_stylizer import OrtStylizer
from vidstyle.pipeline.stylizer import Stylizer

from nets import tiny_net as net

pytestmark = pytest.mark.usefixtures("export_cache")  # a private export cache per test, never ~/.cache


@pytest.fixture(scope="module")
def style(tmp_path_factory) -> str:
    return str(save_style(net(0), tmp_path_factory.mktemp("styles") / "tiny", {"style_image": {"title": "random"}}))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_light_net_round_trips_at_an_odd_size(one_thread):
    light = net(0, "light")
    x = torch.rand(2, 3, 66, 90, generator=torch.Generator().manual_seed(1))
    got, want = OrtStylizer(light, threads=1)(x), Stylizer(light, "cpu")(x)
    assert got.shape == x.shape and got.dtype == torch.float32
    assert float((got - want).abs().max()) < 1e-4
    assert 0.0 <= float(got.min()) and float(got.max()) <= 1.0


def test_export_metadata_and_cache(export_cache, monkeypatch, one_thread):
    n = net(3)
    path = cached_onnx(n)
    assert path.parent == export_cache and path.suffix == ".onnx"
    meta = read_metadata(path)
    assert meta["arch"] == {"channels": [4, 8, 8], "blocks": 1} and meta["digest"] == onnx_export.net_digest(n)
    # a second stylizer for the same weights reuses the cached file
    monkeypatch.setattr(onnx_export, "export_onnx", lambda *a, **k: pytest.fail("exported again"))
    OrtStylizer(n, threads=1)(torch.rand(1, 3, 12, 16))
    # different weights: a different file
    assert onnx_export.net_digest(net(4)) != meta["digest"]


def test_static_export_and_raw_session(tmp_path, one_thread):
    n = net(5)
    out = tmp_path / "static.onnx"
    export_onnx(n, out, dynamic=False, sample_size=(20, 28), meta={"style": "x"})
    s = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert s.get_inputs()[0].shape == [1, 3, 20, 28]
    x = torch.rand(1, 3, 20, 28)
    with torch.inference_mode():
        want = n(x)
    assert np.abs(s.run(None, {"x": x.numpy()})[0] - want.numpy()).max() < 1e-4
    assert read_metadata(out)["style"] == "x"


def test_output_mix_blends_like_torch(one_thread):
    mix = OutputMix([net(0), net(1, {"channels": [4, 8, 16], "blocks": 1})], [0.3, 0.7]).eval()
    x = torch.rand(1, 3, 30, 42)
    assert float((OrtStylizer(mix, threads=1)(x) - Stylizer(mix, "cpu")(x)).abs().max()) < 1e-4


def test_frames_over_the_memory_budget_go_to_the_tiling_torch_path(monkeypatch, one_thread):
    from vidstyle.pipeline import tiling

    n = net(0)
    bpp = tiling.bytes_per_pixel(n)
    monkeypatch.setattr(tiling, "CPU_MEMORY_BUDGET", int(bpp * 40 * 40))  # frames up to 40x40 fit
    st = OrtStylizer(n, threads=1)
    assert st.max_pixels == 40 * 40 and OrtStylizer(n, threads=1, tile=None).max_pixels == 40 * 40
    assert OrtStylizer(n, threads=1, tile="off").max_pixels == ort_stylizer.MAX_PIXELS
    small, big = torch.rand(1, 3, 32, 40), torch.rand(1, 3, 96, 120)
    st(small)
    assert st._torch is None  # ONNX Runtime ran it
    y = st(big)
    assert st._torch is not None and st._torch.plan(1, 96, 120).tile > 0  # the torch Stylizer, in tiles
    assert y.shape == big.shape


def test_make_stylizer_choices(monkeypatch):
    n = net(0)
    monkeypatch.setattr(openvino_stylizer, "openvino_available", lambda: False)  # auto's first choice
    st, note = make_stylizer(n, "cpu", "auto")
    assert isinstance(st, OrtStylizer) and note == "ONNX Runtime"
    st, note = make_stylizer(n, "cpu", "torch")
    assert isinstance(st, Stylizer) and note == ""
    monkeypatch.setattr(ort_stylizer, "ort_available", lambda: False)
    assert isinstance(make_stylizer(n, "cpu", "auto")[0], Stylizer)
    with pytest.raises(VidstyleError, match=r"pip install onnx onnxruntime"):
        make_stylizer(n, "cpu", "onnx")


def test_cli_export_writes_a_model(tmp_path, style, one_thread):
    out = tmp_path / "tiny.onnx"
    r = run("export", style, "--onnx", out)
    assert r.exit_code == 0, r.output
    meta = read_metadata(out)
    assert meta["style"] == "tiny" and meta["arch"]["channels"] == [4, 8, 8]
    s = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    y = s.run(None, {"x": np.random.default_rng(0).random((1, 3, 24, 36), dtype=np.float32)})[0]
    assert y.shape == (1, 3, 24, 36)
    r = run("export", style, "--onnx", out)  # exists: refused without --overwrite
    assert r.exit_code != 0 and "--overwrite" in r.output


def test_cli_export_unknown_style_is_one_line(tmp_path):
    r = run("export", "no_such_style_xyz", "--onnx", tmp_path / "x.onnx")
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown style 'no_such_style_xyz'")
    assert not (tmp_path / "x.onnx").exists()


def test_cli_export_without_onnx_says_how_to_install(tmp_path, style, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    r = run("export", style, "--onnx", tmp_path / "x.onnx")
    assert r.exit_code != 0
    assert r.output.strip().splitlines() == ["error: ONNX export needs the onnx package: pip install onnx onnxruntime"]


@pytest.mark.parametrize("backend,engine", [("onnx", "ONNX Runtime"), ("openvino", "OpenVINO")])
def test_stylize_exported_backends_match_torch(tmp_path, style, one_thread, backend, engine):
    if backend == "openvino":
        pytest.importorskip("openvino")
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=66, height=38, frames=4, audio=False)
    outs = {}
    for b in (backend, "torch"):
        pattern = tmp_path / b / "f_%04d.png"
        r = run("stylize", clip.path, "-s", style, "-o", pattern, "--backend", b, "--device", "cpu")
        assert r.exit_code == 0, r.output
        assert (f"({engine})" in r.output) == (b == backend)
        with open_source(str(pattern)) as src:
            outs[b] = [f.image.astype(int) for f in src]
    assert len(outs[backend]) == 4 and outs[backend][0].shape == (38, 66, 3)
    assert max(np.abs(a - b).max() for a, b in zip(outs[backend], outs["torch"])) <= 1


@pytest.mark.parametrize("arch", ["fast", {"channels": [4, 8, 8], "blocks": 1, "upsample": "bilinear"}])
def test_fast_and_bilinear_archs_round_trip(arch, one_thread):
    fast = net(1, arch)
    x = torch.rand(1, 3, 50, 70, generator=torch.Generator().manual_seed(2))
    got, want = OrtStylizer(fast, threads=1)(x), Stylizer(fast, "cpu")(x)
    assert got.shape == x.shape and float((got - want).abs().max()) < 1e-4
