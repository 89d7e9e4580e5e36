"""Any image as a style: ``stylize --style-image``, ``RenderConfig.style_image``, the frame API
and ``vidstyle preview``, on a tiny random encoder (no VGG weights needed)."""

from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from pictures import painting
from vidstyle.api.config import RenderConfig
from vidstyle.api.fingerprint import fingerprint
from vidstyle.api.frames import Stylizer
from vidstyle.api.style_image import load_style_image_net
from vidstyle.api.video import VideoStylizer
from vidstyle.cli import main
from vidstyle.errors import InputError
from vidstyle.io.synthetic import make_test_clip
from vidstyle.models import arbitrary as A


REAL_ENCODER = A.load_encoder


@pytest.fixture(autouse=True)
def random_encoder(monkeypatch):
    """The arbitrary net's encoder without the VGG weights (tiny, random, one thread)."""
    monkeypatch.setattr(A, "load_encoder", lambda: A.Encoder.random(0))
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_stylize_with_a_style_image_keeps_size_and_frames(tmp_path):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=4, audio=False)
    a, b = painting(tmp_path / "a.png", 0), painting(tmp_path / "b.png", 1)
    matte = tmp_path / "matte.png"
    cv2.imwrite(str(matte), np.repeat(np.array([0, 255], np.uint8), 32)[None, :, None].repeat(48, 0).repeat(3, 2))
    out = tmp_path / "out.mp4"
    r = run("stylize", clip.path, "--style-image", f"{a}:0.7,{b}:0.3", "-o", out, "--strength", "0.7",
            "--preserve-colors", "--mask", matte, "--quiet")
    assert r.exit_code == 0, r.output
    frames = list(__import__("av").open(str(out)).decode(video=0))
    assert len(frames) == 4 and (frames[0].width, frames[0].height) == (64, 48)


@pytest.mark.parametrize("case", ["both", "none", "blank", "tiny", "missing", "onnx"])
def test_bad_style_image_use_is_one_error_line_and_no_output(tmp_path, style, case):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=32, height=24, frames=2, audio=False)
    good = painting(tmp_path / "good.png")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 90, np.uint8))
    tiny = painting(tmp_path / "tiny.png", size=(40, 32))
    args = {"both": ["--style-image", good, "-s", style], "none": [], "blank": ["--style-image", blank],
            "tiny": ["--style-image", tiny], "missing": ["--style-image", tmp_path / "none.png"],
            "onnx": ["--style-image", good, "--backend", "onnx"]}[case]
    out = tmp_path / "out.mp4"
    r = run("stylize", clip.path, "-o", out, *args)
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert not out.exists()


def test_the_fingerprint_follows_the_style_images_content(tmp_path):
    img = painting(tmp_path / "s.png", 0)
    config = RenderConfig("in.mp4", "out.mp4", style_image=img)
    net, _ = load_style_image_net(img)
    fp = fingerprint(config, net)
    assert fp["style_image"] == [[img, 1.0, [os.path.abspath(img), os.path.getsize(img), os.stat(img).st_mtime_ns]]]
    painting(img, 1)  # new content under the same name
    os.utime(img, ns=(1, 1))
    net2, _ = load_style_image_net(img)
    fp2 = fingerprint(config, net2)
    assert fp2["style_image"] != fp["style_image"] and fp2["net"] != fp["net"]
    with pytest.raises(InputError):
        RenderConfig("in.mp4", "out.mp4", "starry_night", style_image=img)
    with pytest.raises(InputError):
        RenderConfig("in.mp4", "out.mp4")
    assert dataclasses.replace(config, overwrite=True).style_image == img


def test_stylizer_with_a_style_image_keeps_kind_dtype_and_shape(tmp_path):
    st = Stylizer(style_image=painting(tmp_path / "s.png"), device="cpu", strength=0.5)
    assert st.strength == 0.5 and st.net.strength == 0.5 and st.controls.strength == 1.0
    rng = np.random.default_rng(0)
    for img in (rng.integers(0, 256, (30, 41, 3), dtype=np.uint8), rng.integers(0, 65536, (24, 20, 4), dtype=np.uint16),
                rng.random((16, 16, 3), dtype=np.float32)):
        out = st(img)
        assert out.dtype == img.dtype and out.shape == img.shape
    t = torch.rand(3, 20, 28, dtype=torch.float64)
    y = st(t)
    assert y.dtype == t.dtype and y.shape == t.shape
    st.strength = 1.0
    assert st.net.strength == 1.0 and not torch.allclose(st(t), y)
    with pytest.raises(InputError):
        Stylizer(style_image=painting(tmp_path / "s.png"), device="cpu", backend="openvino")
    video = VideoStylizer(style_image={painting(tmp_path / "s.png"): 1.0}, device="cpu", consistency="default")
    frames = [np.roll(img, 2 * t, axis=1) for t in range(3) for img in [np.full((24, 32, 3), 40, np.uint8)]]
    assert all(video(f).shape == (24, 32, 3) for f in frames)


def test_preview_writes_a_labelled_sheet(tmp_path, style, monkeypatch):
    from vidstyle.api import preview
    from vidstyle.models.styles import StyleInfo

    monkeypatch.setattr(preview, "list_styles", lambda: [StyleInfo(style, None)])
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=80, height=48, frames=5, audio=False)
    out = tmp_path / "sheet.jpg"
    r = run("preview", "--style-image", painting(tmp_path / "s.png"), clip.path, "-o", out, "--size", "64",
            "--frame", "3")
    assert r.exit_code == 0, r.output
    sheet = cv2.imread(str(out))
    tiles = 1 + len(preview.PREVIEW_STRENGTHS) + 1
    rows = -(-tiles // preview.COLUMNS)
    assert sheet.shape == (rows * 38, preview.COLUMNS * 64, 3)  # 80x48 scaled to 64x38
    assert "5 tiles" in r.output
    r = run("preview", "--style-image", painting(tmp_path / "s.png"), clip.path, "-o", out, "--size", "64")
    assert r.exit_code != 0 and r.output.startswith("error: ") and "exists" in r.output


def test_live_runs_a_style_image_and_refuses_exported_engines(tmp_path):
    import av

    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=6, fps=50, audio=False)
    img = painting(tmp_path / "s.png")
    out = tmp_path / "live.mp4"
    r = run("live", "--source", clip.path, "--style-image", img, "--no-display", "-o", out, "--frames", 3,
            "--size", "48x32", "--threads", 1)
    assert r.exit_code == 0, r.output
    assert "styles: s.png" in r.output
    with av.open(str(out)) as c:
        assert len(list(c.decode(video=0))) == 3
    r = run("live", "--source", clip.path, "--style-image", img, "--backend", "onnx", "--no-display",
            "-o", tmp_path / "live2.mp4", "--frames", 3)
    assert r.exit_code != 0 and "torch backend" in r.output and not (tmp_path / "live2.mp4").exists()


def test_large_frames_tile_like_whole_frames(tmp_path):
    img = painting(tmp_path / "s.png")
    x = torch.rand(1, 3, 120, 150)
    whole = Stylizer(style_image=img, device="cpu", tile="off", strength=0.8).stylize_tensor(x)
    tiled = Stylizer(style_image=img, device="cpu", tile=64, strength=0.8).stylize_tensor(x)
    assert tiled.shape == whole.shape and float((tiled - whole).abs().max()) < 1e-4


def test_missing_vgg_weights_say_what_to_install(tmp_path, monkeypatch):
    from vidstyle.models import vgg

    monkeypatch.setattr(A, "load_encoder", REAL_ENCODER)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(vgg, "_find_offline_onnx", lambda: None)
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=32, height=24, frames=2, audio=False)
    out = tmp_path / "out.mp4"
    r = run("stylize", clip.path, "--style-image", painting(tmp_path / "s.png"), "-o", out)
    lines = r.output.strip().splitlines()
    assert r.exit_code != 0 and len(lines) == 1 and "pip install 'vidstyle[train]'" in lines[0], r.output
    assert not out.exists()
