"""`vidstyle distill`: a small student learns to reproduce a trained (here: random) teacher style."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidstyle.cli import main
from vidstyle.errors import InputError
from vidstyle.models.styles import load_style, save_style
from vidstyle.models.transformer import TransformerNet
from vidstyle.training.distill import DistillConfig, distill, distill_loss
from vidstyle.training.trainer import checkpoint_path


@pytest.fixture()
def data(tmp_path: Path, photo_dir: Path) -> tuple[Path, Path]:
    """Synthetic photos and a random light 'teacher' style with a sidecar."""
    torch.manual_seed(1)
    teacher = save_style(TransformerNet("light"), tmp_path / "teacher",
                         {"style_image": {"file": "x.jpg", "license": "test"}, "training": {"temporal_loss": True}})
    return photo_dir, teacher


def _cfg(data, out, steps, **kw) -> DistillConfig:
    content, teacher = data
    return DistillConfig(teacher=str(teacher), content_dir=str(content), out=str(out), arch="tiny", size=32,
                         steps=steps, batch_size=2, seed=5, checkpoint_every=2, **kw)


def test_distill_loss_is_zero_only_for_a_match():
    a = torch.rand(1, 3, 16, 16)
    assert float(distill_loss(a, a)) == 0
    blurred = torch.nn.functional.avg_pool2d(a, 3, 1, 1)
    assert float(distill_loss(blurred, a)) > float(distill_loss(blurred, a, gradient_weight=0)) > 0


def test_distillation_lowers_the_loss_and_writes_a_style(tmp_path, data, one_thread):
    out = tmp_path / "w" / "student"
    weights = distill(_cfg(data, out, steps=60, lr=5e-3), quiet=True)
    hist = json.loads(torch.load(checkpoint_path(out), weights_only=True)["history"])
    losses = [h["loss"] for h in hist]
    assert np.mean(losses[-2:]) < 0.6 * losses[0]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["arch"]["channels"] == [8, 16, 48] and meta["training"]["steps"] == 60
    assert meta["distilled_from"]["style"] == "teacher" and meta["style_image"]["license"] == "test"
    assert meta["training"]["temporal_loss"] is True  # inherited from the teacher
    assert (out.parent / "student_preview.jpg").exists()
    net, info = load_style(str(weights))
    assert info.arch_name == "tiny"


def test_distill_resume_matches_uninterrupted_run(tmp_path, data, one_thread):
    distill(_cfg(data, tmp_path / "full", steps=4), quiet=True)
    distill(_cfg(data, tmp_path / "part", steps=4), quiet=True, time_limit=1e-9)  # stops after one step
    assert torch.load(checkpoint_path(tmp_path / "part"), weights_only=True)["step"] == 1
    with pytest.raises(InputError, match="--steps"):
        distill(_cfg(data, tmp_path / "part", steps=5), resume=True, quiet=True)
    distill(_cfg(data, tmp_path / "part", steps=4), resume=True, quiet=True)
    a = torch.load(checkpoint_path(tmp_path / "full"), weights_only=True)
    b = torch.load(checkpoint_path(tmp_path / "part"), weights_only=True)
    assert a["step"] == b["step"] == 4
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k


def test_distill_cli_bad_input_is_one_line(tmp_path, data):
    content, _ = data
    r = CliRunner().invoke(main, ["distill", "no_such_style", "--content-dir", str(content), "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "unknown style 'no_such_style'" in r.output and "Traceback" not in r.output
    assert not list(tmp_path.glob("o*"))
    r = CliRunner().invoke(main, ["distill", str(data[1]), "--content-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "content folder not found" in r.output


def test_init_continues_from_a_students_weights(tmp_path, data, one_thread):
    first = distill(_cfg(data, tmp_path / "first", steps=30, lr=5e-3), quiet=True)
    loss_of = lambda out: json.loads(torch.load(checkpoint_path(out), weights_only=True)["history"])
    fresh_first = loss_of(tmp_path / "first")[0]["loss"]
    more = distill(_cfg(data, tmp_path / "more", steps=2, init=str(first)), quiet=True)
    # the continued run starts where the first one ended, not from a random net
    assert loss_of(tmp_path / "more")[0]["loss"] < 0.8 * fresh_first
    meta = json.loads(Path(more).with_suffix(".json").read_text())
    assert meta["training"]["init"] == {"style": "first", "file": "first.safetensors", "steps": 30,
                                        "chosen": "given (--init)"}
    # an init of another arch is refused in one line
    r = CliRunner().invoke(main, ["distill", str(data[1]), "--content-dir", str(data[0]), "--out", str(tmp_path / "x"),
                                  "--arch", "fast", "--size", "32", "--steps", "1", "--init", str(first)])
    assert r.exit_code != 0 and r.output.strip().splitlines()[-1] == (
        f"error: --init {str(first)!r} is a tiny net; the student's --arch is fast")
