"""End-to-end `vidstyle stylize` on synthetic media with a tiny random net saved in the test."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from vidstyle.cli import main
from vidstyle.io.synthetic import make_test_clip, make_test_sequence
from vidstyle.pipeline import stylizer as stylizer_mod


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sorted(float(f.pts * f.time_base) for f in c.decode(s))


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def test_video_keeps_size_timing_and_audio(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=322, height=178, frames=20, irregular=True)
    out = tmp_path / "out.mp4"
    r = run("stylize", clip.path, "-s", style, "-o", out, "--consistency", "off", "--quiet")
    assert r.exit_code == 0, r.output
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        frames = list(c.decode(v))
        assert (frames[0].width, frames[0].height) == (322, 178)
    assert len(frames) == 20
    got, want = frame_times(out), sorted(clip.frame_times)
    assert np.max(np.abs(np.array(got) - np.array(want))) < 1e-3
    assert audio_packets(out) == audio_packets(Path(clip.path))
    # The picture really changed (the net ran).
    with av.open(clip.path) as c:
        first_in = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(float)
    assert np.abs(frames[0].to_ndarray(format="rgb24") - first_in).mean() > 5


def test_frame_range_trims_video_and_audio(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "in.mp4"), frames=24, fps=24)
    out = tmp_path / "cut.mkv"
    r = run("stylize", clip.path, "-s", style, "-o", out, "--start", "6", "--end", "18", "--consistency", "off", "--quiet")
    assert r.exit_code == 0, r.output
    times = frame_times(out)
    assert len(times) == 12
    with av.open(str(out)) as c:
        a = c.streams.audio[0]
        dur = sum(float(p.duration * p.time_base) for p in c.demux(a) if p.size)
    assert abs(dur - 0.5) < 0.05  # 12 frames at 24 fps


def test_image_sequence_in_and_out(tmp_path, style):
    (tmp_path / "src").mkdir()
    seq = make_test_sequence(str(tmp_path / "src" / "shot_%04d.png"), frames=3, width=65, height=37)
    out = tmp_path / "dst" / "out_%04d.png"
    r = run("stylize", str(tmp_path / "src" / "shot_%04d.png"), "-s", style, "-o", out, "--consistency", "off", "--quiet")
    assert r.exit_code == 0, r.output
    written = sorted((tmp_path / "dst").glob("out_*.png"))
    assert len(written) == 3, seq
    import cv2

    img = cv2.imread(str(written[0]), cv2.IMREAD_UNCHANGED)
    assert img.shape[:2] == (37, 65)


def test_single_image(tmp_path, style):
    import cv2

    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), (np.random.default_rng(0).random((41, 53, 3)) * 255).astype(np.uint8))
    out = tmp_path / "styled.png"
    r = run("stylize", src, "-s", style, "-o", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert cv2.imread(str(out)).shape == (41, 53, 3)


@pytest.mark.parametrize(
    "case",
    ["missing", "not_media", "no_video", "unknown_style", "exists", "unwritable", "bad_consistency"],
)
def test_bad_input_gives_one_line_error_and_no_output(tmp_path, style, case):
    clip = make_test_clip(str(tmp_path / "in.mp4"), frames=4)
    src, out, extra, sty = clip.path, tmp_path / "out.mp4", [], style
    if case == "missing":
        src = str(tmp_path / "nope.mp4")
    elif case == "not_media":
        src = str(tmp_path / "text.mp4")
        Path(src).write_text("hello, not a video\n")
    elif case == "no_video":
        src = str(tmp_path / "audio.m4a")
        with av.open(src, "w") as c:
            s = c.add_stream("aac", rate=48000)
            fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            fr.sample_rate = 48000
            for p in s.encode(fr):
                c.mux(p)
            for p in s.encode():
                c.mux(p)
    elif case == "unknown_style":
        sty = "no_such_style"
    elif case == "exists":
        out.write_bytes(b"precious")
    elif case == "unwritable":
        (tmp_path / "afile").write_text("x")
        out = tmp_path / "afile" / "out.mp4"
    elif case == "bad_consistency":
        extra = ["--consistency", "sometimes"]
    r = CliRunner().invoke(main, ["stylize", src, "-s", sty, "-o", str(out), *extra])
    assert r.exit_code != 0
    err = r.output.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:"), r.output
    assert "Traceback" not in r.output
    if case == "exists":
        assert out.read_bytes() == b"precious"
    else:
        assert not out.exists()
    assert not [p for p in out.parent.glob("*") if "partial" in p.name] if out.parent.is_dir() else True


def test_ctrl_c_mid_run_leaves_no_output_and_keeps_old_file(tmp_path, style, monkeypatch):
    clip = make_test_clip(str(tmp_path / "in.mp4"), frames=12)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old result")
    calls = {"n": 0}
    real_call = stylizer_mod.Stylizer.__call__

    def interrupted(self, x):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_call(self, x)

    monkeypatch.setattr(stylizer_mod.Stylizer, "__call__", interrupted)
    r = CliRunner().invoke(main, ["stylize", clip.path, "-s", style, "-o", str(out), "--overwrite", "--batch-size", "2", "--consistency", "off",
                                   "--backend", "torch"])
    assert r.exit_code == 130
    assert r.output.strip().splitlines()[-1] == "error: interrupted"
    assert out.read_bytes() == b"old result"
    assert [p.name for p in tmp_path.iterdir()] and not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_truncated_input_finishes_what_decoded_with_warning(tmp_path, style):
    clip = make_test_clip(str(tmp_path / "in.mkv"), frames=30, codec="libx264")
    data = Path(clip.path).read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.mkv"
    r = CliRunner().invoke(main, ["stylize", str(cut), "-s", style, "-o", str(out), "--consistency", "off", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "warning:" in r.output
    n = len(frame_times(out))
    assert 0 < n < 30


def test_styles_lists_installed_style(tmp_path, style, monkeypatch):
    monkeypatch.setenv("VIDSTYLE_WEIGHTS", str(Path(style).parent))
    r = run("styles")
    assert r.exit_code == 0
    assert "tiny" in r.output and "random" in r.output


def test_styles_shows_the_shipped_archs_in_aligned_columns():
    r = run("styles")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    starry = next(ln for ln in lines if ln.startswith("starry_night "))
    assert starry.split()[1] == "light-bilinear"
    assert len({ln.index(" MB") for ln in lines}) == 1, r.output  # a long arch name keeps the columns


def test_output_gets_normal_file_permissions(tmp_path, style):
    import os
    import stat

    clip = make_test_clip(str(tmp_path / "in.mp4"), frames=3)
    out = tmp_path / "out.mp4"
    assert run("stylize", clip.path, "-s", style, "-o", out, "--consistency", "off", "--quiet").exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
