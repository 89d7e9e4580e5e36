"""`vidstyle distill --style-image`: bake an image into a fast net, the arbitrary model teaching,
on a tiny random encoder (no VGG weights needed)."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidstyle.cli import main
from vidstyle.models import arbitrary as A
from vidstyle.models.styles import load_style
from vidstyle.models.vgg import VGGFeatures
from vidstyle.training import bake as B


@pytest.fixture(autouse=True)
def random_encoder(monkeypatch, one_thread):
    """The arbitrary net's encoder and the perceptual losses' VGG16 without their weights (random)."""
    monkeypatch.setattr(A, "load_encoder", lambda: A.Encoder.random(0))
    torch.manual_seed(0)
    vgg = VGGFeatures(None)
    monkeypatch.setattr(B, "load_vgg", lambda: vgg)


def painting(path, seed: int = 0, size=(96, 80)) -> str:
    rng = np.random.default_rng(seed)
    img = (rng.random((size[1] // 8, size[0] // 8, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(path), cv2.resize(img, size, interpolation=cv2.INTER_NEAREST))
    return str(path)


def bake(*args):
    return CliRunner().invoke(main, ["distill", *[str(a) for a in args]])


def test_bake_writes_a_loadable_style_naming_its_image(tmp_path, photo_dir):
    img = painting(tmp_path / "my painting.png")
    out = tmp_path / "w" / "baked"
    r = bake("--style-image", img, "--content-dir", photo_dir, "--out", out, "--size", 32, "--steps", 3,
             "--batch-size", 1, "--checkpoint-every", 3)
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1].startswith("final losses (weighted, last steps) after 3 steps: style ")
    net, info = load_style(str(out) + ".safetensors")
    assert info.arch_name == "light"  # the default student with --style-image
    meta = json.loads(out.with_suffix(".json").read_text())
    image = {"file": "my painting.png", "sha256": hashlib.sha256(open(img, "rb").read()).hexdigest()}
    assert meta["style_image"] == image
    assert meta["distilled_from"]["style_image"] == image and meta["training"]["objective"] == "perceptual"
    assert meta["training"]["steps"] == 3
    with torch.no_grad():
        assert net(torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)


@pytest.mark.parametrize("case", ["both", "none", "blank", "tiny", "missing"])
def test_bad_bake_is_one_error_line_and_no_output(tmp_path, photo_dir, style, case):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 90, np.uint8))
    args = {"both": [style, "--style-image", painting(tmp_path / "s.png")], "none": [],
            "blank": ["--style-image", blank], "tiny": ["--style-image", painting(tmp_path / "t.png", size=(40, 32))],
            "missing": ["--style-image", tmp_path / "none.png"]}[case]
    out = tmp_path / "w" / "baked"
    r = bake(*args, "--content-dir", photo_dir, "--out", out, "--size", 32, "--steps", 1)
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert not out.parent.exists()
