"""`vidstyle distill --style-image`: bake an image into a fast net, with the perceptual objective
or the arbitrary model teaching, from the nearest installed style; random VGG16 and encoder (no
weights needed), tiny images."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from pictures import painting
from nets import random_net

from vidstyle.cli import main
from vidstyle.models import arbitrary as A
from vidstyle.models.styles import load_style, save_style
from vidstyle.models.vgg import VGGFeatures
from vidstyle.training import bake as B
from vidstyle.training import nearest as N
from vidstyle.training.nearest import write_painting_grams


@pytest.fixture(autouse=True)
def random_encoder(monkeypatch, one_thread):
    """The arbitrary net's encoder and the perceptual losses' VGG16 without their weights (random)."""
    monkeypatch.setattr(A, "load_encoder", lambda: A.Encoder.random(0))
    torch.manual_seed(0)
    vgg = VGGFeatures(None)
    monkeypatch.setattr(B, "load_vgg", lambda: vgg)
    return vgg


@pytest.fixture
def installed(tmp_path, monkeypatch, random_encoder):
    """Two installed light styles, ``near`` (painting ``near.png``) and ``far`` (``far.png``), with
    their painting Grams; returns ``{name: painting path}``."""
    folder = tmp_path / "installed"
    paths = {name: painting(tmp_path / f"{name}.png", seed=seed) for name, seed in (("near", 1), ("far", 2))}
    for i, name in enumerate(paths):
        save_style(random_net("light", seed=i), folder / name, {"style_image": {"file": f"{name}.png"}})
    write_painting_grams({f"{n}.png": Path(p) for n, p in paths.items()}, random_encoder, folder / N.GRAMS_FILE)
    monkeypatch.setenv("VIDSTYLE_WEIGHTS", str(folder))
    return paths


def bake(*args):
    return CliRunner().invoke(main, ["distill", *[str(a) for a in args]])


def test_bake_writes_a_loadable_style_naming_its_image_and_init(tmp_path, photo_dir, installed):
    img = painting(tmp_path / "my painting.png", seed=1)  # the same pattern as near.png
    out = tmp_path / "w" / "baked"
    r = bake("--style-image", img, "--content-dir", photo_dir, "--out", out, "--size", 32, "--steps", 3,
             "--batch-size", 1, "--checkpoint-every", 3)
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1].startswith("final losses (weighted, last steps) after 3 steps: style ")
    net, info = load_style(str(out) + ".safetensors")
    assert info.arch_name == "light"  # the default student with --style-image
    meta = json.loads(out.with_suffix(".json").read_text())
    image = {"file": "my painting.png", "sha256": hashlib.sha256(open(img, "rb").read()).hexdigest()}
    assert meta["style_image"] == image and meta["distilled_from"]["style_image"] == image
    training = meta["training"]
    assert training["objective"] == "perceptual" and training["steps"] == 3
    assert training["init"]["style"] == "near" and training["init"]["chosen"].startswith("nearest")
    assert training["init"]["distances"]["near"] < 1e-3 < training["init"]["distances"]["far"]
    with torch.no_grad():
        assert net(torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)


def test_bake_by_distillation_from_a_given_init(tmp_path, photo_dir, installed):
    out = tmp_path / "baked"
    r = bake("--style-image", painting(tmp_path / "s.png"), "--content-dir", photo_dir, "--out", out, "--size", 32,
             "--steps", 2, "--batch-size", 1, "--objective", "distill", "--init", "far", "--quiet")
    assert r.exit_code == 0, r.output
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["distilled_from"]["model"] == "arbitrary" and meta["training"]["objective"] == "distill"
    assert meta["training"]["init"] == {"style": "far", "file": "far.safetensors", "steps": None,
                                        "chosen": "given (--init)"}


def test_nearest_leaves_out_excluded_styles(installed, random_encoder):
    from vidstyle.models.arch import resolve_arch

    grams = B.style_image_grams(installed["near"], random_encoder)
    assert N.nearest_style(grams, resolve_arch("light"))[0] == "near"
    assert N.nearest_style(grams, resolve_arch("light"), exclude=N.same_painting_styles("near.png"))[0] == "far"
    assert N.nearest_style(grams, resolve_arch("tiny"))[0] is None  # no style of that arch


@pytest.mark.parametrize("case", ["both", "none", "blank", "tiny", "missing", "unreadable", "objective"])
def test_bad_bake_is_one_error_line_and_no_output(tmp_path, photo_dir, style, case):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 90, np.uint8))
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"not an image" * 100)
    args = {"both": [style, "--style-image", painting(tmp_path / "s.png")], "none": [],
            "blank": ["--style-image", blank], "tiny": ["--style-image", painting(tmp_path / "t.png", size=(40, 32))],
            "missing": ["--style-image", tmp_path / "none.png"], "unreadable": ["--style-image", garbage],
            "objective": [style, "--objective", "perceptual"]}[case]
    out = tmp_path / "w" / "baked"
    r = bake(*args, "--content-dir", photo_dir, "--out", out, "--size", 32, "--steps", 1)
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert not out.parent.exists()


def test_an_api_bake_gets_the_cli_defaults_and_resumes_after_cancel(tmp_path, photo_dir, installed):
    import vidstyle

    cfg = vidstyle.DistillConfig(style_image=installed["near"], content_dir=str(photo_dir), out=str(tmp_path / "b"),
                                 size=32, steps=3, batch_size=1, device="cpu")
    job = vidstyle.DistillJob(cfg)
    seen = []
    with pytest.raises(vidstyle.Cancelled):
        job.run(progress=lambda p: (seen.append(p), job.cancel()))
    assert seen[0].done == 1 and "style" in seen[0].losses
    stats = vidstyle.DistillJob(cfg, resume=True).run()  # the resolved init matches the checkpoint's
    assert stats.steps == 3 and {"style", "content"} <= set(stats.final_losses)
    training = json.loads(open(stats.sidecar).read())["training"]
    assert training["objective"] == "perceptual" and training["lr"] == 1e-3 and training["init"]["style"] == "near"
