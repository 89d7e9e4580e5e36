"""A corpus of hostile inputs for the model, weights, eval, training and size-limit code paths.

Every case is made in ``tmp_path`` and run as a user would run the command: one ``error:`` line on
stderr, a non-zero exit, no traceback, and no output or temporary file left behind (an existing
output untouched). Most cases run in-process through click's runner (what the other CLI tests
do); the ones that need a fresh process (a marker file written by unpickled code, the peak memory
of the child) run ``vidstyle`` as a subprocess.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save_file

from vidstyle.cli import main
from vidstyle.io.synthetic import make_test_clip

ENTRY = "import sys; from vidstyle.cli import run; sys.argv = ['vidstyle', *sys.argv[1:]]; run()"


def run(*args, env: dict | None = None):
    """``vidstyle ARGS`` in-process; tracebacks show up as a non-SystemExit exception."""
    return CliRunner(env=env).invoke(main, [str(a) for a in args], catch_exceptions=True)


def run_process(*args, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``vidstyle ARGS`` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-c", ENTRY, *map(str, args)], capture_output=True, text=True, check=False,
                          timeout=300, env={**os.environ, **(env or {})}, cwd=cwd)


def assert_one_error(r, code: int | None = None, match: str = "") -> str:
    """Non-zero exit, exactly one ``error:`` line (containing ``match``), no traceback; returns it."""
    if isinstance(r, subprocess.CompletedProcess):
        rc, err, exc = r.returncode, r.stderr, None
    else:
        rc, err, exc = r.exit_code, r.stderr, r.exception
    assert exc is None or isinstance(exc, SystemExit), f"uncaught {type(exc).__name__}: {exc}"
    assert "Traceback" not in err, err
    assert rc != 0, err
    if code is not None:
        assert rc == code, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and len([ln for ln in err.splitlines() if "error" in ln.lower()]) == 1, err
    assert match in errors[0], errors[0]
    return errors[0]


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in ``folder`` (recursively) other than ``keep``: outputs or temporaries left behind."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name not in keep)


def big_flat_png(path: Path, width: int, height: int) -> None:
    """A valid grey 8-bit RGB PNG of ``width x height``: a few hundred kilobytes on disk, since the
    deflate stream repeats one fully flushed block of rows (so it is made without encoding the
    whole picture), but ``3 * width * height`` bytes once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = 100
    assert height % rows == 0
    block = (b"\0" + b"\x80" * (3 * width)) * rows
    c = zlib.compressobj(9)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    middle = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # independent of what came before it
    last = c.compress(block) + c.flush()
    adler = 1
    for _ in range(height // rows):
        adler = zlib.adler32(block, adler)
    n = height // rows
    stream = first + middle * (n - 2) + last[:-4] + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stream) + chunk(b"IEND", b""))


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width x height`` (8-bit RGB) over a few bytes of image data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- weights


@pytest.fixture
def tiny_arch_style(tmp_path, style) -> Path:
    """A copy of the tiny random style in its own folder (sidecar included), for breaking."""
    src = Path(style)
    d = tmp_path / "styles"
    d.mkdir()
    for suffix in (".safetensors", ".json"):
        (d / ("tiny" + suffix)).write_bytes(src.with_suffix(suffix).read_bytes())
    return d / "tiny.safetensors"


@pytest.fixture(scope="module")
def small_image(tmp_path_factory) -> Path:
    import cv2

    p = tmp_path_factory.mktemp("img") / "in.png"
    ys, xs = np.mgrid[0:40, 0:48]
    cv2.imwrite(str(p), np.stack([xs * 5, ys * 6, (xs + ys) * 3], -1).astype(np.uint8))
    return p


def _stylize_refused(tmp_path: Path, image: Path, style: Path, match: str) -> None:
    out = tmp_path / "out" / "o.png"
    out.parent.mkdir()
    r = run("stylize", image, "-s", style, "-o", out, "--backend", "torch", "--consistency", "off", "--quiet")
    line = assert_one_error(r, match=match)
    assert str(style) in line or str(style.with_suffix(".json")) in line, line
    assert leftovers(out.parent, set()) == []


def test_unrelated_tensors_name_the_file(tmp_path, small_image):
    bad = tmp_path / "other.safetensors"
    save_file({"foo": torch.zeros(3), "bar.weight": torch.ones(2, 2)}, str(bad))
    _stylize_refused(tmp_path, small_image, bad, "not a vidstyle transform net")
    r = run("export", bad, "--onnx", tmp_path / "o.onnx", "--quiet")
    assert_one_error(r, match=str(bad))
    assert not (tmp_path / "o.onnx").exists()


def test_unrelated_tensors_with_a_sidecar_say_what_is_missing(tmp_path, small_image, tiny_arch_style):
    save_file({"foo": torch.zeros(3)}, str(tiny_arch_style))
    line = run("stylize", small_image, "-s", tiny_arch_style, "-o", tmp_path / "o.png", "--quiet")
    line = assert_one_error(line, match="tensors missing (e.g. encoder.0")
    assert "1 unexpected (e.g. foo)" in line


@pytest.mark.parametrize("arch", ['{"channels": [8], "blocks": 1}', '{"channels": [4, 8, 8], "blocks": -3}',
                                  '{"channels": [4, 100000000, 8], "blocks": 1}', '"huge"', "7", '{"blocks": 1}'])
def test_impossible_sidecar_arch(tmp_path, small_image, tiny_arch_style, arch):
    sidecar = tiny_arch_style.with_suffix(".json")
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "arch": json.loads(arch)}))
    _stylize_refused(tmp_path, small_image, tiny_arch_style, "impossible arch")


def test_state_dict_mismatch_is_described_in_full(tmp_path, small_image, tiny_arch_style):
    sidecar = tiny_arch_style.with_suffix(".json")
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "arch": {"channels": [4, 8, 16], "blocks": 1}}))
    out = tmp_path / "o.png"
    line = assert_one_error(run("stylize", small_image, "-s", tiny_arch_style, "-o", out, "--quiet"),
                            match="of another shape (e.g. ")
    assert "in the file" in line and not line.endswith(":")
    assert not out.exists()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_at_load(tmp_path, small_image, tiny_arch_style, value):
    from safetensors.torch import load_file

    state = load_file(str(tiny_arch_style))
    state["decoder.0.conv.conv.weight" if "decoder.0.conv.conv.weight" in state else next(iter(state))][0] = value
    save_file(state, str(tiny_arch_style), metadata={"arch": json.dumps({"channels": [4, 8, 8], "blocks": 1})})
    out = tmp_path / "o.png"
    out.write_bytes(b"keep")
    r = run("stylize", small_image, "-s", tiny_arch_style, "-o", out, "--overwrite", "--quiet")
    assert_one_error(r, match="NaN or infinite")
    assert out.read_bytes() == b"keep"


def test_cached_vgg_that_would_run_code_is_refused(tmp_path, photo_dir):
    """A file in the torch hub cache whose unpickling runs code: refused, the code never runs."""
    marker = tmp_path / "pwned"
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    maker = (
        "import os, sys, torch\n"
        "class Evil:\n"
        "    def __reduce__(self):\n"
        "        return (os.system, ('touch ' + sys.argv[2],))\n"
        "torch.save({'features.0.weight': Evil()}, sys.argv[1])\n"
    )
    subprocess.run([sys.executable, "-c", maker, str(hub / "vgg16-397923af.pth"), str(marker)], check=True, timeout=120)
    assert not marker.exists()
    import cv2

    style = tmp_path / "painting.png"
    cv2.imwrite(str(style), np.full((40, 40, 3), 128, np.uint8))
    out = tmp_path / "w" / "mine"
    env = {"TORCH_HOME": str(tmp_path / "torch"), "VIDSTYLE_CACHE": str(tmp_path / "cache"),
           "XDG_CACHE_HOME": str(tmp_path / "xdg"), "VIDSTYLE_VGG_ONNX": str(tmp_path / "none.onnx")}
    r = run_process("train", "--style-image", style, "--content-dir", photo_dir, "--out", out, "--arch", "light",
                    "--size", "32", "--steps", "1", "--batch-size", "1", "--quiet", env=env)
    assert_one_error(r, match="refusing to read")
    assert not marker.exists()
    assert not out.parent.exists() or leftovers(out.parent, set()) == []


# --------------------------------------------------------------------------- train / distill options


@pytest.fixture
def train_setup(tmp_path, photo_dir, monkeypatch):
    """(style image, content folder, output folder); loading VGG or running a step fails the test:
    every bad option must be refused before that work."""
    import cv2

    from vidstyle.training import distill as distill_mod
    from vidstyle.training import trainer

    def heavy(*a, **k):
        raise AssertionError("heavy work started before the options were checked")

    monkeypatch.setattr(trainer, "load_vgg16_features", heavy)
    monkeypatch.setattr(trainer, "run_steps", heavy)
    monkeypatch.setattr(distill_mod, "run_steps", heavy)
    style = tmp_path / "painting.png"
    cv2.imwrite(str(style), np.full((40, 40, 3), 100, np.uint8))
    out = tmp_path / "w"
    out.mkdir()
    return style, photo_dir, out


BAD_RUN_OPTIONS = [
    (["--lr", "nan"], "--lr"), (["--lr", "-1"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--batch-size", "0"], "--batch-size"), (["--steps", "0"], "--steps"), (["--steps", "-5"], "--steps"),
    (["--checkpoint-every", "0"], "--checkpoint-every"), (["--time-limit", "0"], "--time-limit"),
    (["--time-limit", "nan"], "--time-limit"), (["--size", "100000"], "--size"),
]


@pytest.mark.parametrize("extra,match", BAD_RUN_OPTIONS + [
    (["--style-weight", "nan"], "--style-weight"), (["--temporal-weight", "-1"], "--temporal-weight"),
    (["--style-size", "0"], "--style-size"),
])
def test_train_options_are_refused_before_vgg_loads(train_setup, extra, match):
    style, content, out = train_setup
    r = run("train", "--style-image", style, "--content-dir", content, "--out", out / "mine", "--arch", "light",
            "--size", "32", "--quiet", *extra)
    assert_one_error(r, match=match)
    assert leftovers(out, set()) == []


@pytest.mark.parametrize("extra,match", BAD_RUN_OPTIONS)
def test_distill_options_are_refused_before_a_step(train_setup, style, extra, match):
    _, content, out = train_setup
    r = run("distill", style, "--content-dir", content, "--out", out / "mine", "--size", "32", "--quiet", *extra)
    assert_one_error(r, match=match)
    assert leftovers(out, set()) == []


def test_train_refuses_huge_images_and_bad_outputs_up_front(train_setup, tmp_path):
    style, content, out = train_setup
    args = ["--content-dir", content, "--arch", "light", "--size", "32", "--quiet"]
    huge = tmp_path / "huge.png"
    png_header_only(huge, 100000, 100000)
    assert_one_error(run("train", "--style-image", huge, "--out", out / "a", *args), match="megapixels")
    assert_one_error(run("train", "--style-image", style, "--out", out / "a", "--preview-image", tmp_path / "no.png", *args),
                     match="no.png")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_error(run("train", "--style-image", style, "--out", blocker / "sub" / "mine", *args), code=3,
                     match="not a folder")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:  # root writes through permissions: a read-only file system stands in then
        target = locked / "mine" if os.geteuid() != 0 else Path("/proc/vidstyle-test/mine")
        assert_one_error(run("train", "--style-image", style, "--out", target, *args), code=3, match="not writable")
    finally:
        locked.chmod(0o700)
    assert leftovers(out, set()) == []
    # a photo in the content folder whose header is too large is refused before training starts
    png_header_only(content / "zz_huge.png", 30000, 30000)
    assert_one_error(run("train", "--style-image", style, "--out", out / "b", *args[2:], "--content-dir", content),
                     match="zz_huge.png")


# --------------------------------------------------------------------------- pixel budget


def test_huge_png_is_refused_from_its_header_in_little_memory(tmp_path, style):
    """A 20000x20000 PNG of about a megabyte (1.2 GB decoded, several GB as tensors) is refused
    before decoding: the child's peak memory stays at what importing vidstyle takes."""
    huge = tmp_path / "huge.png"
    big_flat_png(huge, 20000, 20000)
    assert huge.stat().st_size < 2_000_000
    out = tmp_path / "out.png"
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", ENTRY, "stylize", str(huge), "-s", style, "-o", str(out),
                                 "--backend", "torch", "--consistency", "off", "--quiet"], stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    r = subprocess.CompletedProcess(proc.args, proc.returncode, "", err_path.read_text())
    assert_one_error(r, code=2, match="20000x20000 is 400 megapixels")
    # decoding alone would take 1.2 GB on top of the ~0.6 GB that importing vidstyle and torch takes
    assert usage.ru_maxrss < 1_500_000, f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB"  # KiB on Linux
    assert leftovers(tmp_path, {"huge.png", "stderr.txt"}) == []


def test_pixel_limit_option_and_environment(tmp_path, style, small_image):
    out = tmp_path / "o.png"
    r = run("stylize", small_image, "-s", style, "-o", out, "--max-pixels", "1000", "--backend", "torch",
            "--consistency", "off", "--quiet")
    assert_one_error(r, code=2, match="48x40 is 0 megapixels, above the limit of 0.001")
    r = run("stylize", small_image, "-s", style, "-o", out, "--backend", "torch", "--consistency", "off", "--quiet",
            env={"VIDSTYLE_MAX_PIXELS": "1000"})
    assert_one_error(r, code=2, match="above the limit")
    r = run("stylize", small_image, "-s", style, "-o", out, "--backend", "torch", "--consistency", "off", "--quiet",
            env={"VIDSTYLE_MAX_PIXELS": "lots"})
    assert_one_error(r, code=2, match="VIDSTYLE_MAX_PIXELS")
    assert not out.exists()
    # the option overrides the environment, both ways
    r = run("stylize", small_image, "-s", style, "-o", out, "--max-pixels", "1920", "--backend", "torch",
            "--consistency", "off", "--quiet", env={"VIDSTYLE_MAX_PIXELS": "10"})
    assert r.exit_code == 0, r.stderr
    assert out.exists()


@pytest.mark.parametrize("kind", ["video", "sequence"])
def test_pixel_limit_applies_to_videos_and_sequences(tmp_path, style, kind):
    from vidstyle.io.synthetic import make_test_sequence

    if kind == "video":
        src = make_test_clip(str(tmp_path / "in.mkv"), width=64, height=48, frames=3, audio=False, codec="ffv1").path
        out = tmp_path / "out.mkv"
    else:
        (tmp_path / "seq").mkdir()
        make_test_sequence(str(tmp_path / "seq" / "f_%04d.png"), frames=3, width=64, height=48)
        src, out = str(tmp_path / "seq" / "f_%04d.png"), tmp_path / "out_%04d.png"
    r = run("stylize", src, "-s", style, "-o", out, "--max-pixels", "3000", "--backend", "torch", "--consistency",
            "off", "--quiet")
    assert_one_error(r, code=2, match="64x48")
    assert leftovers(tmp_path, {"in.mkv", "f_0001.png", "f_0002.png", "f_0003.png"}) == []


def test_header_sizes_of_every_image_format(tmp_path):
    import cv2

    from vidstyle.io.limits import image_header_size
    from vidstyle.io.synthetic import make_test_image

    img = np.random.default_rng(0).integers(0, 255, (37, 65, 3), dtype=np.uint8)
    for name, params in [("a.png", []), ("a.jpg", []), ("p.jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]), ("a.bmp", []),
                         ("a.tif", []), ("a.webp", []), ("l.webp", [cv2.IMWRITE_WEBP_QUALITY, 101])]:
        cv2.imwrite(str(tmp_path / name), img, params)
        assert image_header_size(tmp_path / name) == (65, 37), name
    cv2.imwrite(str(tmp_path / "b.png"), img.astype(np.uint16) * 200)
    assert image_header_size(tmp_path / "b.png") == (65, 37)
    make_test_image(str(tmp_path / "a.exr"), width=65, height=37)
    assert image_header_size(tmp_path / "a.exr") == (65, 37)
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n")
    assert image_header_size(tmp_path / "junk.png") is None


# --------------------------------------------------------------------------- eval


def test_eval_one_frame_video_is_one_line(tmp_path):
    clip = make_test_clip(str(tmp_path / "one.mp4"), width=64, height=48, frames=1, audio=False).path
    report = tmp_path / "report.json"
    report.write_text("old")
    r = run("eval", clip, clip, "--json", report)
    assert_one_error(r, code=2, match="need at least 2")
    assert report.read_text() == "old"


def test_eval_huge_size_is_refused_before_allocating(tmp_path):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=3, audio=False).path
    assert_one_error(run("eval", clip, clip, "--size", "100000x100000", "-q"), code=2, match="megapixels")


def test_eval_of_tiny_frames_and_what_the_numbers_mean(tmp_path):
    clip = make_test_clip(str(tmp_path / "in.mkv"), width=8, height=8, frames=4, audio=False, codec="ffv1").path
    r = run("eval", clip, clip, "--long-k", "2")
    assert r.exit_code == 0, r.stderr
    assert "lower is steadier" in r.stdout and "floor" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "verdict: 1.00x the input's own flicker"


# --------------------------------------------------------------------------- tiny frames


@pytest.mark.parametrize("backend", ["torch", "onnx", "openvino"])
def test_frames_of_a_few_pixels_are_stylized_on_every_backend(tmp_path, style, backend, export_cache):
    """Frames under the nets' reflection padding (<= 4 px) and under DIS's 12 px (consistency on)
    are padded and cropped back, on every engine."""
    import cv2

    from vidstyle.io.synthetic import make_test_sequence

    for w, h in [(1, 1), (3, 4), (4, 9)]:
        img = tmp_path / f"in{w}x{h}.png"
        cv2.imwrite(str(img), np.random.default_rng(w).integers(0, 255, (h, w, 3), dtype=np.uint8))
        out = tmp_path / f"out{w}x{h}.png"
        r = run("stylize", img, "-s", style, "-o", out, "--backend", backend, "--quiet")
        assert r.exit_code == 0 and r.exception is None, (r.stderr, r.exception)
        assert cv2.imread(str(out)).shape == (h, w, 3)
    (tmp_path / "seq").mkdir()
    make_test_sequence(str(tmp_path / "seq" / "f_%04d.png"), frames=3, width=7, height=5)
    r = run("stylize", tmp_path / "seq" / "f_%04d.png", "-s", style, "-o", tmp_path / "o" / "o_%04d.png",
            "--backend", backend, "--consistency", "default", "--quiet")
    assert r.exit_code == 0 and r.exception is None, (r.stderr, r.exception)
    assert [cv2.imread(str(p)).shape for p in sorted((tmp_path / "o").glob("o_*.png"))] == [(5, 7, 3)] * 3


def test_net_and_flow_take_any_size():
    from vidstyle.flow.dis import DISFlow
    from vidstyle.models.transformer import TransformerNet
    from vidstyle.pipeline.stylizer import Stylizer

    for arch in ("light", "fast"):
        torch.manual_seed(0)
        st = Stylizer(TransformerNet(arch), "cpu")
        for hw in [(1, 1), (2, 5), (4, 4), (5, 40), (40, 3)]:
            y = st(torch.rand(1, 3, *hw))
            assert y.shape[-2:] == hw and bool(torch.isfinite(y).all())
    flow = DISFlow()
    for hw in [(1, 1), (5, 11), (11, 40)]:
        a = torch.rand(1, 3, *hw)
        assert flow(a, a).shape == (1, 2, *hw)


def test_large_frames_are_converted_in_bands(monkeypatch):
    """The output conversion of a large frame runs in bands of rows (small temporaries); the
    result is the whole-frame one (to a float ulp where a transfer function runs)."""
    from vidstyle.pipeline import color

    rng = np.random.default_rng(0)
    t = torch.rand(1, 3, 61, 23) * 1.2 - 0.1
    matte = torch.rand(1, 1, 61, 23)
    for spaces in [("srgb", "srgb"), ("linear", "linear")]:
        for like in [rng.integers(0, 255, (61, 23, 4), dtype=np.uint8), rng.random((61, 23, 3), dtype=np.float32)]:
            codec = color.FrameCodec(*spaces)
            whole = codec.to_image(t, like, matte)
            monkeypatch.setattr(color, "BAND_PIXELS", 50)
            banded = codec.to_image(t, like, matte)
            monkeypatch.setattr(color, "BAND_PIXELS", 1 << 22)
            assert banded.dtype == whole.dtype and banded.shape == whole.shape
            assert np.allclose(banded.astype(np.float64), whole.astype(np.float64), atol=1e-6)
            if banded.dtype == like.dtype:
                assert np.array_equal(banded[..., 3:], like[..., 3:])
    scalar = color.FrameCodec().to_image(t, like, torch.tensor(0.0))  # a weight, not a matte
    monkeypatch.setattr(color, "BAND_PIXELS", 50)
    assert np.array_equal(color.FrameCodec().to_image(t, like, torch.tensor(0.0)), scalar)
