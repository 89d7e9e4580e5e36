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
import resource
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
    return subprocess.run([sys.executable, "-c", ENTRY, *map(str, args)], capture_output=True, text=True,
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


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width x height`` (8-bit RGB) with a tiny, truncated image stream:
    small on disk, enormous once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\0" + b"\0" * (3 * width)
    idat = zlib.compress(row * 4, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


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
