"""The API behind train, distill, train-arbitrary, eval and export: configs checked when made,
jobs with progress and cancelling, reports."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import vidstyle
from vidstyle.errors import InputError, OutputError
from vidstyle.io.synthetic import make_test_clip


def _train(**kw) -> vidstyle.TrainConfig:
    kw = {"arch": "light", "size": 32, **kw}
    return vidstyle.TrainConfig(style_image="p.png", content_dir="photos", out="o", **kw)


def _distill(**kw) -> vidstyle.DistillConfig:
    kw = {"teacher": "starry_night_tiny", "size": 32, **kw}
    return vidstyle.DistillConfig(content_dir="photos", out="o", **kw)


def _arbitrary(**kw) -> vidstyle.ArbitraryConfig:
    return vidstyle.ArbitraryConfig(content_dir="photos", style_dir="paintings", out="o", **kw)


@pytest.mark.parametrize("make, bad, words", [
    (_train, dict(steps=0), "--steps"), (_train, dict(steps="5"), "whole number"), (_train, dict(seed=-1), "--seed"),
    (_train, dict(lr=float("nan")), "--lr"), (_train, dict(size=30), "--size"),
    (_train, dict(arch="huge"), "unknown arch"), (_train, dict(style_size=8), "--style-size"),
    (_train, dict(weights=vidstyle.LossWeights(style=-1)), "--style-weight"),
    (_distill, dict(batch_size=0), "--batch-size"), (_distill, dict(style_image="a.jpg"), "not both"),
    (_distill, dict(teacher=None), "no teacher"), (_distill, dict(noise_std=-1.0), "noise_std"),
    (_distill, dict(objective="perceptual"), "needs --style-image"), (_distill, dict(objective="copy"), "--objective"),
    (_distill, dict(init="nearest"), "needs --style-image"),
    (_arbitrary, dict(size=30), "multiple of 4"), (_arbitrary, dict(checkpoint_every=0), "--checkpoint-every"),
    (_arbitrary, dict(weights=vidstyle.ArbitraryLossWeights(recon=float("inf"))), "--recon-weight"),
    (lambda **kw: vidstyle.EvalConfig("in.mp4", **{"outputs": ["o.mp4"], **kw}), dict(long_k=0), "long_k"),
    (lambda **kw: vidstyle.EvalConfig("in.mp4", **{"outputs": ["o.mp4"], **kw}), dict(outputs=[]), "no output"),
    (lambda **kw: vidstyle.EvalConfig("in.mp4", **{"outputs": ["o.mp4"], **kw}), dict(size=(8, 8)), "size"),
    (lambda **kw: vidstyle.ExportConfig("starry_night_tiny", "o.onnx", **kw), dict(static_size=(30, 32)),
     "multiples of 4"),
])
def test_bad_settings_are_one_line_errors_when_made(make, bad, words):
    with pytest.raises(InputError, match=words) as e:
        make(**bad)
    assert "\n" not in str(e.value)


def test_training_configs_are_frozen_and_travel_as_dicts():
    cfg = _train(weights=vidstyle.LossWeights(temporal=0.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 5  # type: ignore[misc]
    assert vidstyle.TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    arb = _arbitrary(holdout=["a", "b"], steps=0)  # a list (from Python or JSON) becomes a tuple; 0 steps write init
    assert arb.holdout == ("a", "b") and vidstyle.ArbitraryConfig.from_dict(arb.to_dict()) == arb
    assert _distill().arch == "tiny" and _distill(teacher=None, style_image="a.jpg").arch == "light"


def test_distill_defaults_follow_the_objective_as_on_the_command_line():
    from vidstyle.training.distill_config import DEFAULT_LR

    plain = _distill()
    assert (plain.objective, plain.lr, plain.init) == ("distill", DEFAULT_LR["distill"], None)
    bake = _distill(teacher=None, style_image="a.jpg")
    assert (bake.objective, bake.lr, bake.init) == ("perceptual", DEFAULT_LR["perceptual"], "nearest")
    copy = _distill(teacher=None, style_image="a.jpg", objective="distill", init="none", lr=5e-4)
    assert (copy.objective, copy.lr, copy.init) == ("distill", 5e-4, "none")
    assert vidstyle.DistillConfig.from_dict(json.loads(json.dumps(bake.to_dict()))) == bake


def test_the_arbitrary_config_knows_the_decoder_stride():
    from vidstyle.models.arbitrary import STRIDE
    from vidstyle.training.arbitrary_config import STRIDE as CONFIG_STRIDE

    assert CONFIG_STRIDE == STRIDE


def test_jobs_check_what_they_are_given():
    with pytest.raises(TypeError, match="DistillConfig"):
        vidstyle.DistillJob(_train())
    with pytest.raises(InputError, match="--time-limit"):
        vidstyle.TrainJob(_train(), time_limit=0)
    with pytest.raises(InputError, match="--threads"):
        vidstyle.ArbitraryTrainJob(_arbitrary(), threads=0)


def test_a_cancelled_distillation_keeps_its_checkpoint_and_resumes(tmp_path, photo_dir, style, one_thread):
    from vidstyle.training.config import checkpoint_path

    out = tmp_path / "student"
    cfg = vidstyle.DistillConfig(teacher=style, content_dir=str(photo_dir), out=str(out), size=32, steps=3,
                                 batch_size=1, checkpoint_every=10, device="cpu")
    job = vidstyle.DistillJob(cfg)
    seen = []

    def progress(p: vidstyle.StepProgress) -> None:
        seen.append((p.done, p.total, set(p.losses)))
        job.cancel()

    with pytest.raises(vidstyle.Cancelled, match="step 1/3"):
        job.run(progress=progress)
    assert seen == [(1, 3, {"loss"})]
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 1
    assert not out.with_suffix(".safetensors").exists()
    stats = vidstyle.DistillJob(cfg, resume=True).run()
    assert stats.finished and stats.steps == 3 and stats.output == str(out.with_suffix(".safetensors"))
    assert stats.final_losses["loss"] > 0 and stats.checkpoint == str(checkpoint_path(out))


def test_a_time_limited_job_says_how_to_go_on(tmp_path, photo_dir, style, one_thread):
    cfg = vidstyle.DistillConfig(teacher=style, content_dir=str(photo_dir), out=str(tmp_path / "s"), size=32,
                                 steps=3, batch_size=1, device="cpu")
    lines = []
    stats = vidstyle.DistillJob(cfg, time_limit=1e-9).run(log=lambda level, text: lines.append(text))
    assert stats.steps == 1 and not stats.finished
    assert lines == ["time limit reached at step 1/3; --resume continues from here"]


def test_evaluate_reports_progress_and_results(tmp_path, one_thread):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=6, audio=False).path
    done = []
    report = vidstyle.evaluate(vidstyle.EvalConfig(clip, clip, flow="dis", device="cpu", long_k=2),
                               progress=lambda p: done.append(p.done))
    assert done == [1, 2, 3, 4, 5, 6]
    (r,) = report.results
    assert r["output"] == clip and r["frames"] == 6 and abs(r["ratio_short"] - 1) < 1e-6
    assert report.verdict() == "verdict: 1.00x the input's own flicker" and "input (floor)" in report.table()
    assert json.loads(report.to_json())["long_k"] == 2


def test_export_writes_once_unless_overwriting(tmp_path, style):
    pytest.importorskip("onnx")
    out = tmp_path / "net.onnx"
    report = vidstyle.export(vidstyle.ExportConfig(style, out, static_size=(64, 32)))
    assert report.path == str(out) and report.bytes == out.stat().st_size and report.shape == "1x3x32x64"
    with pytest.raises(OutputError, match="exists"):
        vidstyle.export(vidstyle.ExportConfig(style, out))
    assert vidstyle.export(vidstyle.ExportConfig(style, out, overwrite=True)).shape == "dynamic batch/height/width"
