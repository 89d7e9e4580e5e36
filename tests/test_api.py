"""The Python API: render jobs, their config and fingerprint, cancelling, the frame stylizers,
and the documented examples."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np
import pytest
import torch

import vidstyle
from vidstyle.api.config import Controls, RenderConfig, Runtime
from vidstyle.api.fingerprint import fingerprint, frame_fields
from vidstyle.errors import InputError, VidstyleError
from vidstyle.io import checkpoint
from vidstyle.io.synthetic import make_test_clip, make_test_frame

ROOT = Path(__file__).resolve().parents[1]
TORCH = Runtime(device="cpu", backend="torch", batch_size=1)


def python_api_examples(path: Path) -> list[str]:
    """The ```python blocks of the ``## Python API`` section of ``path``."""
    m = re.search(r"^## Python API\s*$(.*?)(?=^## |\Z)", path.read_text(encoding="utf-8"), re.M | re.S)
    return re.findall(r"^```python\n(.*?)^```", m.group(1), re.M | re.S) if m else []


@pytest.mark.parametrize("doc, outputs", [
    ("README.md", {"styled.mp4"}),
    ("docs/python-api.md", {"styled.mp4", "shot_styled.mkv", "edit_styled.avi", "my_style.safetensors",
                            "my_tiny.safetensors", "adain.safetensors", "steady.mkv", "starry.onnx"}),
])
def test_the_documented_examples_run(doc, outputs, tmp_path, monkeypatch, one_thread):
    from vidstyle.models import arbitrary, vgg
    from vidstyle.training import arbitrary as train_arbitrary, trainer

    blocks = python_api_examples(ROOT / doc)
    assert blocks
    monkeypatch.chdir(tmp_path)
    # the training examples with random VGG16 weights: the real ones come with the [train] extra
    monkeypatch.setattr(trainer, "load_vgg16_features", lambda: vgg.VGGFeatures(None))
    monkeypatch.setattr(train_arbitrary, "load_encoder", lambda: arbitrary.Encoder.random(0))
    for code in blocks:
        exec(compile(code, f"{doc} example", "exec"), {"__name__": "__example__"})
    assert outputs <= {p.name for p in tmp_path.iterdir()}
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name or p.name.startswith(".")]


def test_import_vidstyle_is_light():
    code = ("import sys, vidstyle; vidstyle.RenderConfig('a.mp4', 'b.mp4', 'x'); "
            "vidstyle.TrainConfig(style_image='p.png', content_dir='c', out='o'); "
            "vidstyle.DistillConfig(teacher='t', content_dir='c', out='o'); "
            "vidstyle.ArbitraryConfig(content_dir='c', style_dir='s', out='o'); "
            "vidstyle.EvalConfig('a.mp4', 'b.mp4'); vidstyle.ExportConfig('x', 'x.onnx'); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(sorted(vidstyle.__all__))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode == 0, r.stderr
    for name in ("RenderConfig", "RenderJob", "Stylizer", "VideoStylizer", "Cancelled", "TrainJob", "DistillJob",
                 "ArbitraryTrainJob", "evaluate", "export"):
        assert name in r.stdout and hasattr(vidstyle, name)


def test_every_config_field_says_whether_it_changes_the_frames():
    names = []
    for cls in (RenderConfig, Controls, Runtime):
        for f in dataclasses.fields(cls):
            assert isinstance(f.metadata.get("frames"), bool), f"{cls.__name__}.{f.name} lacks metadata['frames']"
            names.append(f.name)
    assert len(names) == len(set(names))  # the fingerprint names fields without their section


def test_the_fingerprint_is_made_of_the_frame_fields(tmp_path):
    from nets import tiny_net

    clip = make_test_clip(str(tmp_path / "in.mp4"), width=32, height=24, frames=2, audio=False)
    net = tiny_net()
    base = RenderConfig(clip.path, str(tmp_path / "o.mp4"), {"a": 0.7, "b": 0.3})
    fp = fingerprint(base, net)
    assert set(fp) == set(frame_fields(base)) | {"net"}
    assert fp["input"] == [os.path.abspath(clip.path), os.path.getsize(clip.path), os.stat(clip.path).st_mtime_ns]
    assert fp["style"] == "a:0.7,b:0.3"
    for change in (dict(crf=20), dict(start=3), dict(consistency="strong"), dict(checkpoint_every=10),
                   dict(controls=Controls(strength=0.5)), dict(runtime=Runtime(precision="int8"))):
        assert fingerprint(dataclasses.replace(base, **change), net) != fp, change
    for same in (dict(output=str(tmp_path / "elsewhere.mp4")), dict(overwrite=True), dict(resume=True),
                 dict(runtime=Runtime(device="cpu", backend="torch", threads=2, batch_size=3))):
        assert fingerprint(dataclasses.replace(base, **same), net) == fp, same
    assert fingerprint(base, tiny_net(seed=1))["net"] != fp["net"]
    os.utime(clip.path, ns=(0, 0))  # the same path, another file
    assert fingerprint(base, net)["input"] != fp["input"]


def test_configs_and_results_travel_by_pickle():
    import pickle

    config = RenderConfig("in.mp4", "out.mp4", {"a": 0.7, "b": 0.3}, controls=Controls(strength=0.5), start=2.5)
    assert pickle.loads(pickle.dumps(config)) == config
    e = pickle.loads(pickle.dumps(vidstyle.Cancelled(saved_frames=20)))
    assert isinstance(e, vidstyle.Cancelled) and e.saved_frames == 20


@pytest.mark.parametrize("bad", [dict(crf=99), dict(checkpoint_every=0), dict(mix="blend"), dict(consistency=1.5),
                                 dict(controls=dict(strength=2)), dict(controls=dict(mask_feather=-1)),
                                 dict(runtime=dict(backend="cuda")), dict(runtime=dict(threads=0)),
                                 dict(exr_half=True)])
def test_bad_settings_are_one_line_errors(bad):
    with pytest.raises(InputError) as e:
        kw = {k: (Controls(**v) if k == "controls" else Runtime(**v)) if isinstance(v, dict) else v
              for k, v in bad.items()}
        RenderConfig("in.mp4", "out.mp4", "starry_night_tiny", **kw)
    assert "\n" not in str(e.value)


@pytest.fixture(scope="module")
def stylizer(style):
    return vidstyle.Stylizer(style, device="cpu", backend="torch")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_numpy_images_keep_their_dtype_and_shape(stylizer, dtype, one_thread):
    img = make_test_frame(37, 29, dtype=np.float32 if dtype == np.float64 else dtype).astype(dtype)
    out = stylizer(img)
    assert out.dtype == img.dtype and out.shape == img.shape
    assert np.abs(out.astype(np.float64) - img).mean() > 0.02 * (1 if img.dtype.kind == "f" else np.iinfo(dtype).max)
    rgba = make_test_frame(37, 29, dtype=dtype if dtype != np.float64 else np.float32, alpha=True)
    out = stylizer(rgba)
    assert out.shape == rgba.shape and np.array_equal(out[..., 3], rgba[..., 3])  # alpha passed through
    if img.dtype.kind == "f":
        assert 0.0 <= out.min() and out.max() <= 1.0


def test_tensors_keep_their_layout_dtype_and_device(stylizer, one_thread):
    img = make_test_frame(40, 24, dtype=np.float32)
    chw = torch.from_numpy(img).permute(2, 0, 1).double()
    out = stylizer(chw)
    assert out.shape == chw.shape and out.dtype == torch.float64 and out.device == chw.device
    nchw = torch.stack([chw, chw.flip(-1)]).float()
    both = stylizer(nchw)
    assert both.shape == nchw.shape and both.dtype == torch.float32
    assert torch.allclose(both[0].double(), out, atol=1e-4)  # a batch is frames side by side
    as_numpy = stylizer(img)
    assert np.abs(as_numpy - out.permute(1, 2, 0).numpy()).max() < 1e-5


def test_strength_zero_gives_the_input_back(style, one_thread):
    st = vidstyle.Stylizer(style, device="cpu", backend="torch", strength=0)
    img = make_test_frame(32, 24)
    assert np.array_equal(st(img), img)
    with pytest.raises(VidstyleError):
        st.strength = 1.5
    with pytest.raises(InputError):
        st(np.zeros((24, 32), np.uint8))  # not RGB


def test_a_mask_keeps_the_input_where_it_is_black(stylizer, one_thread):
    img = make_test_frame(40, 24, dtype=np.uint16)
    mask = np.zeros((24, 40), np.uint8)
    mask[:, 20:] = 255
    out = stylizer(img, mask=mask)
    assert np.array_equal(out[:, :20], img[:, :20])
    assert np.abs(out[:, 20:].astype(np.int64) - stylizer(img)[:, 20:]).max() <= 1  # float compositing rounds
    t = torch.from_numpy(img.astype(np.float32) / 65535).permute(2, 0, 1)
    half = stylizer(t, mask=torch.from_numpy(mask.astype(np.float32) / 255))
    assert torch.equal(half[:, :, :20], t[:, :, :20])
    with pytest.raises(InputError, match="mask"):
        stylizer(img, mask=mask[:, :30])


def pan(frames: int, width: int = 64, height: int = 48, step: int = 2) -> list[np.ndarray]:
    """A camera pan over a fixed textured picture: frame t is the picture shifted ``step*t`` px."""
    big = make_test_frame(width + step * frames, height, seed=3)
    return [np.ascontiguousarray(big[:, step * t : step * t + width]) for t in range(frames)]


def pan_flicker(outs: list[np.ndarray], step: int = 2) -> float:
    """Mean change between consecutive outputs where the pan shows the same picture."""
    return float(np.mean([np.abs(b[:, : -step].astype(np.float64) - a[:, step:]).mean()
                          for a, b in zip(outs, outs[1:])]))


def test_video_stylizer_is_steadier_than_per_frame_and_reset_forgets(style, stylizer, one_thread):
    frames = pan(12)
    video = vidstyle.VideoStylizer(style, device="cpu", backend="torch", consistency="default", flow="dis")
    steady = [video(f) for f in frames]
    single = [stylizer(f) for f in frames]
    assert pan_flicker(steady) < 0.8 * pan_flicker(single), (pan_flicker(steady), pan_flicker(single))
    assert not np.array_equal(steady[-1], single[-1])  # the history shapes the frame ...
    video.reset()
    assert np.array_equal(video(frames[-1]), single[-1])  # ... and reset forgets it


def job_config(tmp_path, style, clip, out="out.mkv", **kw) -> RenderConfig:
    kw.setdefault("consistency", "off")
    return RenderConfig(clip, str(tmp_path / out), style, codec="ffv1", runtime=TORCH, **kw)


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_run_reports_progress_and_stats(tmp_path, style, one_thread):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=48, height=32, frames=6, audio=False).path
    seen, logged = [], []
    stats = vidstyle.RenderJob(job_config(tmp_path, style, clip)).run(
        progress=seen.append, log=lambda level, text: logged.append((level, text)))
    assert [p.done for p in seen] == [1, 2, 3, 4, 5, 6] and seen[-1].total == 6 and seen[-1].fps > 0
    assert stats.frames == stats.stylized == 6 and stats.resumed_frames == 0 and stats.fps > 0
    assert stats.output == str(tmp_path / "out.mkv") and len(decoded(stats.output)) == 6
    assert logged[0][0] == "info" and "style tiny" in logged[0][1]
    with pytest.raises(VidstyleError, match="already exists"):  # no overwrite unless asked
        vidstyle.RenderJob(job_config(tmp_path, style, clip)).run()


def cancel_when(job, frames: int):
    """A progress callback that cancels ``job`` from another thread once ``frames`` are written."""
    def progress(p):
        if p.done == frames:
            t = threading.Thread(target=job.cancel)
            t.start()
            t.join()
    return progress


def test_cancel_from_a_thread_leaves_no_output_and_no_temporary_file(tmp_path, style, one_thread):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=48, height=32, frames=40, audio=False).path
    old = tmp_path / "out.mkv"
    old.write_bytes(b"old result")
    job = vidstyle.RenderJob(job_config(tmp_path, style, clip, overwrite=True))
    with pytest.raises(vidstyle.Cancelled) as e:
        job.run(progress=cancel_when(job, 3))
    assert e.value.saved_frames == 0 and job.saved_frames == 0
    assert old.read_bytes() == b"old result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mkv"]  # no partial, no parts
    early = vidstyle.RenderJob(job_config(tmp_path, style, clip, out="never.mkv"))
    early.cancel()
    with pytest.raises(vidstyle.Cancelled):
        early.run()
    assert not (tmp_path / "never.mkv").exists()


def test_a_cancelled_job_resumes_to_the_uninterrupted_output(tmp_path, style, one_thread):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=48, height=32, frames=30, audio=False).path
    whole = vidstyle.RenderJob(job_config(tmp_path, style, clip, out="whole.mkv", checkpoint_every=8)).run()
    config = job_config(tmp_path, style, clip, checkpoint_every=8)
    job = vidstyle.RenderJob(config)
    with pytest.raises(vidstyle.Cancelled) as e:
        job.run(progress=cancel_when(job, 17))
    saved = e.value.saved_frames
    assert saved >= 16 and saved % 8 == 0 and Path(job.work_dir).is_dir()
    assert not Path(config.output).exists()
    with pytest.raises(VidstyleError, match="resume"):  # the saved parts are not dropped by accident
        vidstyle.RenderJob(config).run()
    with pytest.raises(VidstyleError, match=r"other settings \(strength\)"):
        vidstyle.RenderJob(dataclasses.replace(config, resume=True, controls=Controls(strength=0.5))).run()
    stats = vidstyle.RenderJob(dataclasses.replace(config, resume=True)).run()
    assert stats.frames == 30 and stats.resumed_frames == saved and stats.stylized == 30 - saved + 1
    assert not Path(checkpoint.work_dir(config.output)).exists()
    a, b = decoded(whole.output), decoded(config.output)
    assert len(a) == len(b) == 30 and all(np.array_equal(x, y) for x, y in zip(a, b))
