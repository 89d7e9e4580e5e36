"""`vidstyle stylize` saves video outputs in parts; an interrupted run continues with --resume."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner, Result

from vidstyle.cli import main
from vidstyle.io import checkpoint, writer
from vidstyle.io.synthetic import make_test_clip, make_test_sequence
from vidstyle.pipeline import stylizer as stylizer_mod


def stylize(*args) -> Result:
    """`vidstyle stylize ARGS --backend torch` in-process."""
    return CliRunner().invoke(main, ["stylize", *[str(a) for a in args], "--backend", "torch"])


def interrupt_at(monkeypatch, call: int) -> None:
    """Ctrl-C at the ``call``-th net call (batch size 1: frame ``call - 1``), once the frames
    stylized before it are written (the encoder thread runs a few frames behind the net, so what
    is saved would otherwise depend on timing)."""
    real = stylizer_mod.Stylizer.__call__
    real_write = writer.FrameSink.write
    calls, written = {"n": 0}, {"n": 0}

    def write(self, frame):
        real_write(self, frame)
        if not isinstance(self, checkpoint.ResumableSink):  # its part sinks count each frame
            written["n"] += 1

    def interrupted(self, x):
        calls["n"] += 1
        if calls["n"] == call:
            deadline = time.monotonic() + 10
            while written["n"] < (call - 1) * len(x) and time.monotonic() < deadline:
                time.sleep(0.002)
            raise KeyboardInterrupt
        return real(self, x)

    monkeypatch.setattr(writer.FrameSink, "write", write)
    monkeypatch.setattr(stylizer_mod.Stylizer, "__call__", interrupted)


def video_packets(path: Path) -> list[tuple]:
    with av.open(str(path)) as c:
        return [(p.pts, p.dts, bytes(p)) for p in c.demux(c.streams.video[0]) if p.size]


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


@pytest.mark.parametrize("ext,codec", [(".mkv", ["--codec", "ffv1"]), (".mp4", [])])
def test_interrupted_run_resumes_to_the_uninterrupted_output(tmp_path, style, monkeypatch, ext, codec):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=96, height=64, frames=30, irregular=True)
    common = [clip.path, "-s", style, "--consistency", "off", "--checkpoint-every", "8", "--batch-size", "1", *codec]
    whole = tmp_path / f"whole{ext}"
    assert stylize(*common, "-o", whole, "--quiet").exit_code == 0
    out = tmp_path / f"out{ext}"
    work = Path(checkpoint.work_dir(str(out)))

    with monkeypatch.context() as m:
        interrupt_at(m, 20)  # frames 0-15 are two complete parts, 16-18 an unfinished one
        r = stylize(*common, "-o", out, "--quiet")
    assert r.exit_code == 130
    lines = r.output.strip().splitlines()
    assert lines[-1] == "error: interrupted" and "16 frames are saved" in lines[-2] and "--resume" in lines[-2]
    assert not out.exists()
    assert json.loads((work / "manifest.json").read_text())["frames"] == 16

    r = stylize(*common, "-o", out, "--quiet")  # the saved parts are not thrown away by accident
    assert r.exit_code != 0 and r.output.strip().splitlines() == [r.output.strip()]
    assert "--resume" in r.output and work.is_dir()

    stale = tmp_path / f".out.k1ll3d00.partial{ext}"  # what a killed run's output left
    stale.write_bytes(b"")
    r = stylize(*common, "-o", out, "--resume")
    assert r.exit_code == 0, r.output
    assert not stale.exists()
    assert "resuming: 16 frames saved" in r.output
    assert "wrote" in r.output and "30 frames (16 of them from the saved parts)" in r.output
    assert not work.exists()
    # every frame stylized independently: the joined file is the uninterrupted one, packet for
    # packet with a deterministic encoder. libx264 is not one: two runs given the same frames,
    # timestamps and options (even threads=1) can differ in a few packets' bytes, so for H.264
    # the timestamps must match exactly
    if "ffv1" in codec:
        assert video_packets(out) == video_packets(whole)
    else:
        assert [p[:2] for p in video_packets(out)] == [p[:2] for p in video_packets(whole)]
    assert audio_packets(out) == audio_packets(Path(clip.path))
    def times(path):
        with av.open(str(path)) as c:
            return np.array(sorted(float(f.pts * f.time_base) for f in c.decode(video=0)))

    assert np.array_equal(times(out), times(whole))
    if ext == ".mp4":  # (Matroska moves the whole file 21 ms later: it cannot start the AAC priming before 0)
        assert np.max(np.abs(times(out) - np.array(sorted(clip.frame_times)))) < 1e-3


def test_resumed_consistency_warms_up_to_the_uninterrupted_state(tmp_path, style, monkeypatch):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=96, height=64, frames=50, audio=False)
    common = [clip.path, "-s", style, "--codec", "ffv1", "--checkpoint-every", "10", "--batch-size", "1", "--quiet"]
    whole = tmp_path / "whole.mkv"
    assert stylize(*common, "-o", whole).exit_code == 0
    results = {}
    for warmup in (16, 1):
        monkeypatch.setattr(checkpoint, "WARMUP_FRAMES", warmup)
        out = tmp_path / f"out{warmup}.mkv"
        with monkeypatch.context() as m:
            interrupt_at(m, 32)  # frames 0-29 in three parts, 30 in an unfinished one
            assert stylize(*common, "-o", out).exit_code == 130
        saved = json.loads((Path(checkpoint.work_dir(str(out))) / "manifest.json").read_text())["frames"]
        assert saved == 30  # more than the warm-up: the resumed run does not start from the top
        r = stylize(*common, "-o", out, "--resume")
        assert r.exit_code == 0, r.output
        a, b = decoded(whole), decoded(out)
        assert len(a) == len(b) == 50
        assert all(np.array_equal(x, y) for x, y in zip(a[:saved], b[:saved]))  # the saved parts
        results[warmup] = [float(np.abs(x - y).mean()) for x, y in zip(a[saved:], b[saved:])]
    # the warm-up frames rebuild the carried state: close to the uninterrupted run at the join
    # (lossless output), much closer than restarting the consistency cold at the first new frame
    # (16 frames with this flickery random net: 1.4/255 at the join, against 14/255 cold)
    assert max(results[16]) < 2.0
    assert results[1][0] > 8 * max(results[16][0], 0.05)


def test_resume_refuses_parts_made_with_other_settings(tmp_path, style, monkeypatch):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=12)
    out = tmp_path / "out.mp4"
    common = [clip.path, "-s", style, "-o", out, "--consistency", "off", "--checkpoint-every", "4", "--quiet"]
    with monkeypatch.context() as m:
        interrupt_at(m, 7)
        assert stylize(*common).exit_code == 130
    r = stylize(*common, "--crf", "30", "--resume")
    assert r.exit_code != 0
    assert r.output.strip().startswith("error:") and "other settings (crf)" in r.output
    assert len(r.output.strip().splitlines()) == 1
    # --overwrite drops the saved parts and starts over
    r = stylize(*common, "--overwrite")
    assert r.exit_code == 0, r.output
    assert len(decoded(out)) == 12 and not Path(checkpoint.work_dir(str(out))).exists()


@pytest.mark.parametrize("ext", [".mkv", ".mp4", ".mov"])
def test_parts_keep_a_trimmed_range_and_its_audio(tmp_path, style, ext):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=48, fps=24, irregular=True)
    outs = {}
    # parts of 8 frames, with B-frames: Matroska gives their first packets back without decoding
    # times, and parts far from 0 came back up to 0.7 ms early in MP4/MOV (1 ms movie time scale)
    for every in ("8", "250"):
        outs[every] = tmp_path / f"cut{every}{ext}"
        r = stylize(clip.path, "-s", style, "-o", outs[every], "--start", "0.3s", "--end", "40", "--consistency", "off",
                    "--checkpoint-every", every, "--quiet")
        assert r.exit_code == 0, r.output
    assert min(p[0] for p in video_packets(outs["8"])) == 0  # the range starts at 0 in the output
    assert sorted(p[0] for p in video_packets(outs["8"])) == sorted(p[0] for p in video_packets(outs["250"]))
    assert audio_packets(outs["8"]) == audio_packets(outs["250"])
    assert len(decoded(outs["8"])) == len(decoded(outs["250"])) > 25


def test_a_sequence_source_resumes_by_frame_number(tmp_path, style, monkeypatch):
    make_test_sequence(str(tmp_path / "shot_%04d.png"), frames=14, width=48, height=32)
    common = [str(tmp_path / "shot_%04d.png"), "-s", style, "--consistency", "off", "--codec", "ffv1",
              "--checkpoint-every", "5", "--quiet"]
    whole = tmp_path / "whole.mkv"
    assert stylize(*common, "-o", whole).exit_code == 0
    out = tmp_path / "out.mkv"
    with monkeypatch.context() as m:
        interrupt_at(m, 12)
        assert stylize(*common, "-o", out).exit_code == 130
    r = stylize(*common, "-o", out, "--resume")
    assert r.exit_code == 0, r.output
    assert video_packets(out) == video_packets(whole)


def test_sigterm_stops_like_ctrl_c_and_keeps_the_parts(tmp_path, style):
    import os
    import signal
    import subprocess
    import sys
    import time

    clip = make_test_clip(str(tmp_path / "in.mp4"), width=256, height=144, frames=150)
    out = tmp_path / "out.mp4"
    manifest = Path(checkpoint.work_dir(str(out))) / "manifest.json"
    cmd = [sys.executable, "-c", "from vidstyle.cli import run; run()", "stylize", clip.path, "-s", style, "-o", str(out),
           "--backend", "torch", "--checkpoint-every", "10", "--quiet"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not manifest.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 143, err
    lines = err.strip().splitlines()
    assert lines[-1] == "error: terminated" and "--resume" in lines[-2]
    assert "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []  # no temporary output left
    saved = json.loads(manifest.read_text())["frames"]
    assert saved >= 10 and saved % 10 == 0
    r = stylize(clip.path, "-s", style, "-o", out, "--checkpoint-every", "10", "--quiet", "--resume")
    assert r.exit_code == 0, r.output
    assert len(decoded(out)) == 150 and not manifest.parent.exists()


@pytest.mark.parametrize("target", ["shots/out_%04d.png", "frames/"])
def test_an_image_sequence_output_resumes_to_the_same_files(tmp_path, style, monkeypatch, target):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=20, audio=False)
    common = [clip.path, "-s", style, "--consistency", "off", "--checkpoint-every", "6", "--batch-size", "1", "--quiet"]
    assert stylize(*common, "-o", tmp_path / "whole" / "out_%04d.png").exit_code == 0
    out = f"{tmp_path}/{target}"
    folder = Path(out).parent if "%" in target else Path(out)
    with monkeypatch.context() as m:
        interrupt_at(m, 16)
        r = stylize(*common, "-o", out)
    assert r.exit_code == 130 and "12 frames are saved" in r.output
    assert not list(folder.glob("*.png"))  # nothing in place before the run completes
    r = stylize(*common, "-o", out, "--resume")
    assert r.exit_code == 0, r.output
    got = sorted(folder.glob("*.png"))
    want = sorted((tmp_path / "whole").glob("*.png"))
    assert len(got) == len(want) == 20
    assert [p.read_bytes() for p in got] == [p.read_bytes() for p in want]
    assert not Path(checkpoint.work_dir(out)).exists()
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in got]  # and nothing else


def test_avi_is_written_in_one_go(tmp_path, style, monkeypatch):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=12)
    out = tmp_path / "out.avi"
    common = [clip.path, "-s", style, "-o", out, "--consistency", "off", "--checkpoint-every", "3"]
    with monkeypatch.context() as m:
        interrupt_at(m, 10)
        r = stylize(*common, "--quiet")
    assert r.exit_code == 130 and "saved" not in r.output
    assert not Path(checkpoint.work_dir(str(out))).exists() and not out.exists()
    r = stylize(*common, "--resume")
    assert r.exit_code == 0, r.output
    assert "written in one go" in r.output and len(decoded(out)) == 12


def test_a_slow_part_is_saved_after_its_time_limit(tmp_path):
    from vidstyle.io.frame import Frame, VideoInfo
    from vidstyle.io.writer import open_sink

    info = VideoInfo(path="x", kind="video", width=32, height=16, fps=Fraction(25), time_base=Fraction(1, 25))
    out = tmp_path / "slow.mp4"
    sink = checkpoint.ResumableSink(open_sink(str(out), info), {"k": 1}, part_frames=100, part_seconds=0.0)
    for i in range(3):
        sink.write(Frame(np.full((16, 32, 3), 40 * i, np.uint8), i, i, Fraction(1, 25), i / 25))
        manifest = json.loads((Path(checkpoint.work_dir(str(out))) / "manifest.json").read_text())
        assert manifest["frames"] == i + 1  # every frame took "too long": a part each
    sink.close()
    assert len(decoded(out)) == 3 and not Path(checkpoint.work_dir(str(out))).exists()
