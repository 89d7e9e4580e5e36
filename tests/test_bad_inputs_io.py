"""Hostile inputs and outputs for `vidstyle stylize`, run as a user would (the CLI), on a corpus
made here: each case ends with the right exit code and exactly one `error:` line and no
traceback, leaving no output or temporary file behind and any existing output untouched; the
cases that work give the right output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner, Result

from vidstyle.cli import main
from vidstyle.io import checkpoint, reader
from vidstyle.io.lock import lock_output, lock_path
from vidstyle.io.outpath import hidden_name
from vidstyle.io.synthetic import make_test_clip, make_test_frame

W, H = 64, 48


def stylize(*args, quiet: bool = True) -> Result:
    """`vidstyle stylize ARGS` in-process (torch backend, no consistency: fast)."""
    argv = ["stylize", *[str(a) for a in args], "--backend", "torch", "--consistency", "off"]
    return CliRunner().invoke(main, argv + (["--quiet"] if quiet else []))


def files(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (hidden ones included), relative."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_refused(r: Result, code: int, folder: Path, before: list[str], needle: str = "") -> str:
    """Exit ``code``, one `error:` line (containing ``needle``), no traceback, nothing new left."""
    assert isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code == code, r.output
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, r.stderr
    assert "Traceback" not in r.output
    assert needle in errors[0], errors[0]
    assert files(folder) == before
    return errors[0]


def write_clip(path: Path, pts: list[int | None], tb: Fraction, *, options: dict | None = None,
               streams: int = 1, bframes: int = 2) -> Path:
    """An H.264 clip whose frames carry exactly ``pts`` (in ``tb``); ``streams`` video streams."""
    out = av.open(str(path), "w", options=options or {})
    vs = []
    for _ in range(streams):
        s = out.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt, s.time_base = W, H, "yuv420p", tb
        s.codec_context.time_base = tb
        s.options = {"preset": "ultrafast", "bf": str(bframes), "g": "12"}
        vs.append(s)
    for i, p in enumerate(pts):
        for k, s in enumerate(vs):
            vf = av.VideoFrame.from_ndarray(make_test_frame(W, H, i / 10, seed=k), format="rgb24")
            vf.pts, vf.time_base = p, tb
            for pk in s.encode(vf):
                out.mux(pk)
    for s in vs:
        for pk in s.encode(None):
            out.mux(pk)
    out.close()
    return path


def decoded(path: Path) -> list:
    with av.open(str(path)) as c:
        return list(c.decode(video=0))


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("case", ["junk", "empty", "moov_last_cut"])
def test_unreadable_input_is_refused(tmp_path, style, case):
    src = tmp_path / "in.mp4"
    if case == "junk":
        src.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif case == "empty":
        src.write_bytes(b"")
    else:  # the index (moov) is at the end and was never written
        make_test_clip(str(src), width=W, height=H, frames=12)
        data = src.read_bytes()
        src.write_bytes(data[: len(data) // 2])
    before = files(tmp_path)
    assert_refused(stylize(src, "-s", style, "-o", tmp_path / "out.mp4"), 2, tmp_path, before)


def test_truncated_input_with_index_first_keeps_what_decodes(tmp_path, style):
    src = tmp_path / "in.mp4"
    make_test_clip(str(src), width=W, height=H, frames=24, faststart=True, audio=False)
    data = src.read_bytes()
    src.write_bytes(data[: int(len(data) * 0.6)])
    r = stylize(src, "-s", style, "-o", tmp_path / "out.mp4")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "warning:" in r.stderr
    assert 0 < len(decoded(tmp_path / "out.mp4")) < 24


def test_two_video_streams_use_the_first(tmp_path, style):
    src = write_clip(tmp_path / "two.mkv", list(range(10)), Fraction(1, 24), streams=2)
    r = stylize(src, "-s", style, "-o", tmp_path / "out.mp4")
    assert r.exit_code == 0, r.output
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert len(c.streams.video) == 1
    assert len(decoded(tmp_path / "out.mp4")) == 10


def test_rotation_is_kept(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=W, height=H, frames=6, rotation=90, audio=False)
    r = stylize(clip.path, "-s", style, "-o", tmp_path / "out.mkv")
    assert r.exit_code == 0, r.output
    got = decoded(tmp_path / "out.mkv")
    assert len(got) == 6 and got[0].rotation == decoded(Path(clip.path))[0].rotation != 0


def test_vfr_matroska_trimmed_keeps_its_frame_times(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "vfr.mkv"), width=W, height=H, frames=48, irregular=True)
    r = stylize(clip.path, "-s", style, "-o", tmp_path / "out.mkv", "--start", "0.1s", "--end", "1.6s",
                "--checkpoint-every", "8")
    assert r.exit_code == 0, r.output
    want = [t for t in clip.frame_times if 0.1 - 1e-6 <= t < 1.6]
    got = sorted(float(f.pts * f.time_base) for f in decoded(tmp_path / "out.mkv"))
    assert np.allclose(got, np.array(want) - want[0], atol=1.5e-3)


def test_matroska_frames_1ms_apart_join(tmp_path, style):
    """Matroska parts store no decoding times: inventing them must not overtake a B-frame."""
    src = write_clip(tmp_path / "ms.mkv", list(range(40)), Fraction(1, 1000))
    r = stylize(src, "-s", style, "-o", tmp_path / "out.mkv", "--checkpoint-every", "8")
    assert r.exit_code == 0, r.output
    got = decoded(tmp_path / "out.mkv")
    assert sorted(f.pts for f in got) == list(range(40))


def test_frames_without_timestamps_join(tmp_path, style):
    src = write_clip(tmp_path / "raw.h264", list(range(30)), Fraction(1, 24))  # raw stream: no timestamps
    r = stylize(src, "-s", style, "-o", tmp_path / "out.mkv", "--checkpoint-every", "8")
    assert r.exit_code == 0, r.output
    times = sorted(float(f.pts * f.time_base) for f in decoded(tmp_path / "out.mkv"))
    assert len(times) == 30 and min(np.diff(times)) > 0.03  # a frame apart, not squeezed together


def negative_ts_clip(path: Path) -> Path:
    """An MPEG-TS clip whose 20 frames start at -10/24 s, with audio from -0.44 s (a cut from a
    broadcast): every frame decodes, from a negative timestamp."""
    tb, rate = Fraction(1, 24), 48000
    out = av.open(str(path), "w", options={"avoid_negative_ts": "disabled"})
    vs = out.add_stream("libx264", rate=24)
    vs.width, vs.height, vs.pix_fmt, vs.time_base = W, H, "yuv420p", tb
    vs.codec_context.time_base = tb
    vs.options = {"preset": "ultrafast", "bf": "0"}
    au = out.add_stream("aac", rate=rate)
    au.codec_context.layout = "mono"
    sample = -21000
    for i in range(20):
        vf = av.VideoFrame.from_ndarray(make_test_frame(W, H, i / 10), format="rgb24")
        vf.pts, vf.time_base = i - 10, tb
        for pk in vs.encode(vf):
            out.mux(pk)
        while sample < (i - 9) * rate // 24:
            af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            af.sample_rate, af.pts, af.time_base = rate, sample, Fraction(1, rate)
            for pk in au.encode(af):
                out.mux(pk)
            sample += 1024
    for s in (vs, au):
        for pk in s.encode(None):
            out.mux(pk)
    out.close()
    return path


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_negative_first_timestamp_gives_every_frame(tmp_path, style, ext):
    src = negative_ts_clip(tmp_path / "neg.ts")
    assert len(decoded(src)) == 20
    out = tmp_path / f"out{ext}"
    r = stylize(src, "-s", style, "-o", out, "--checkpoint-every", "4")
    assert r.exit_code == 0, r.output
    times = sorted(float(f.pts * f.time_base) for f in decoded(out))
    assert len(times) == 20 and abs(times[0]) < 1e-3 and abs(times[-1] - 19 / 24) < 2e-3
    with av.open(str(out)) as c:
        audio = [float(p.pts * p.time_base) for p in c.demux(c.streams.audio[0]) if p.size]
    assert 0 <= audio[0] < 0.05  # moved with the video; what came before the first frame is dropped


def test_large_start_time_is_not_truncation(tmp_path, style):
    src = write_clip(tmp_path / "late.mkv", [2400 + i for i in range(20)], Fraction(1, 24))
    r = stylize(src, "-s", style, "-o", tmp_path / "out.mkv")
    assert r.exit_code == 0, r.output
    assert "truncated" not in r.stderr
    assert len(decoded(tmp_path / "out.mkv")) == 20


def test_pcm_audio_into_mp4_is_transcoded(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "pcm.mkv"), width=W, height=H, frames=12, audio_codec="pcm_s16le")
    r = stylize(clip.path, "-s", style, "-o", tmp_path / "out.mp4", quiet=False)
    assert r.exit_code == 0, r.output
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
        dur = sum(float(p.duration * p.time_base) for p in c.demux(c.streams.audio[0]) if p.size)
    assert abs(dur - 0.5) < 0.05


# ----------------------------------------------------------------------------- bad outputs


@pytest.fixture
def clip(tmp_path):
    return make_test_clip(str(tmp_path / "in.mp4"), width=W, height=H, frames=6, audio=False)


def test_dotdot_through_a_missing_folder_is_refused_before_decoding(tmp_path, style, clip, monkeypatch):
    def no_decoding(*a, **k):
        raise AssertionError("decoding started")

    monkeypatch.setattr(reader, "open_source", no_decoding)
    monkeypatch.chdir(tmp_path)
    before = files(tmp_path)
    assert_refused(stylize("in.mp4", "-s", style, "-o", "./nosuch/../out.mp4"), 3, tmp_path, before, "nosuch")


def test_existing_folder_with_a_video_name_is_refused(tmp_path, style, clip):
    (tmp_path / "out.mp4").mkdir()
    before = files(tmp_path)
    assert_refused(stylize(clip.path, "-s", style, "-o", tmp_path / "out.mp4"), 3, tmp_path, before, "folder")


def test_parent_that_is_a_file_is_refused(tmp_path, style, clip):
    (tmp_path / "afile").write_text("x")
    before = files(tmp_path)
    assert_refused(stylize(clip.path, "-s", style, "-o", tmp_path / "afile" / "out.mp4"), 3, tmp_path, before)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_refused(tmp_path, style, clip):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        before = files(tmp_path)
        assert_refused(stylize(clip.path, "-s", style, "-o", ro / "out.mp4"), 3, tmp_path, before, "permission")
    finally:
        ro.chmod(0o700)


def test_existing_output_is_untouched(tmp_path, style, clip):
    (tmp_path / "out.mp4").write_bytes(b"precious")
    before = files(tmp_path)
    assert_refused(stylize(clip.path, "-s", style, "-o", tmp_path / "out.mp4"), 3, tmp_path, before, "exists")
    assert (tmp_path / "out.mp4").read_bytes() == b"precious"


def test_long_output_name_is_written(tmp_path, style, clip):
    out = tmp_path / ("x" * 236 + ".mp4")  # 240 bytes: legal, within NAME_MAX (255)
    r = stylize(clip.path, "-s", style, "-o", out, "--checkpoint-every", "4")
    assert r.exit_code == 0, r.output
    assert len(decoded(out)) == 6
    assert files(tmp_path) == sorted(["in.mp4", out.name])


def test_hidden_names_fit_and_stay_distinct():
    a, b = "a" * 250 + "1", "a" * 250 + "2"
    na, nb = hidden_name(a, ".vidstyle-resume"), hidden_name(b, ".vidstyle-resume")
    assert na != nb and len(na.encode()) <= 255 and na.startswith(".aaa") and na.endswith(".vidstyle-resume")
    assert hidden_name("out.mp4", ".vidstyle-lock") == ".out.mp4.vidstyle-lock"


def test_busy_output_is_refused_at_once(tmp_path, style, clip):
    (tmp_path / "out.mp4").write_bytes(b"precious")
    with lock_output(str(tmp_path / "out.mp4")):  # another run holds it
        before = files(tmp_path)
        t0 = time.monotonic()
        r = stylize(clip.path, "-s", style, "-o", tmp_path / "out.mp4", "--overwrite")
        assert_refused(r, 3, tmp_path, before, "another vidstyle run")
        assert time.monotonic() - t0 < 10
    assert (tmp_path / "out.mp4").read_bytes() == b"precious"
    assert not os.path.exists(lock_path(str(tmp_path / "out.mp4")))  # released and removed


def test_full_disk_leaves_nothing(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=96, height=64, frames=30, audio=False)
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a small tmpfs (needs root)")
    try:
        r = stylize(clip.path, "-s", style, "-o", disk / "out.mkv", "--codec", "ffv1")
        assert_refused(r, 3, disk, [], "no space left")
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_killed_run_keeps_its_lock_only_while_alive(tmp_path, style):
    """Two runs of one output: the second is refused while the first runs; after a SIGKILL the
    lock is free, and a rerun clears the temporary file the killed run left."""
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=W, height=H, frames=60, audio=False)
    out = tmp_path / "out.mp4"
    manifest = Path(checkpoint.work_dir(str(out))) / "manifest.json"
    cmd = [sys.executable, "-c", "from vidstyle.cli import run; run()", "stylize", clip.path, "-s", style, "-o",
           str(out), "--backend", "torch", "--consistency", "off", "--checkpoint-every", "5", "--batch-size", "1",
           "--quiet"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not manifest.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read()
        r = stylize(clip.path, "-s", style, "-o", out, "--overwrite", "--strength", "0.5")
        assert r.exit_code == 3 and "another vidstyle run" in r.stderr, r.output
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    stale = [p.name for p in tmp_path.iterdir() if "partial" in p.name]
    assert len(stale) == 1  # SIGKILL: nothing could clean up
    again = ["--checkpoint-every", "5", "--batch-size", "1"]
    r = stylize(clip.path, "-s", style, "-o", out, *again)  # a plain rerun: refuses to drop the saved parts...
    assert r.exit_code == 3 and "--resume" in r.stderr, r.output
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []  # ...but clears the dead run's file
    r = stylize(clip.path, "-s", style, "-o", out, *again, "--resume")
    assert r.exit_code == 0, r.output
    assert len(decoded(out)) == 60
    assert files(tmp_path) == ["in.mp4", "out.mp4"]


@pytest.mark.parametrize("target", ["shots/out_%04d.png", "frames/"])
def test_a_rerun_clears_only_its_own_stale_temporaries(tmp_path, style, clip, target):
    """What killed runs left (their temporary output) goes with the next run of the same output;
    another output's stays."""
    out = f"{tmp_path}/{target}"
    folder = Path(out).parent if "%" in target else Path(out)
    folder.mkdir()
    prefix = ".out__04d.png" if "%" in target else "._06d.png"
    (folder / f"{prefix}.vidstyle-partial-k1ll3d00").mkdir()  # a killed run of this output
    (folder / ".other__04d.png.vidstyle-partial-k1ll3d00").mkdir()  # another output's
    (tmp_path / ".in.k1ll3d00.partial.mp4").write_bytes(b"")  # a killed run of in.mp4
    r = stylize(clip.path, "-s", style, "-o", out)
    assert r.exit_code == 0, r.output
    hidden = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert hidden == [".other__04d.png.vidstyle-partial-k1ll3d00"]
    assert len(list(folder.glob("*.png"))) == 6
    assert (tmp_path / ".in.k1ll3d00.partial.mp4").exists()
