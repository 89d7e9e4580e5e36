"""`vidstyle live` end to end, headless: recordings from a synthetic source, how runs end (frame
count, source end, camera loss, Ctrl-C) and the one-line errors (no camera, no display, ...)."""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidstyle.cli import main
from vidstyle.errors import InputError
from vidstyle.io.synthetic import make_test_clip
from vidstyle.live import display as display_mod
from vidstyle.live.session import LiveConfig, run_live
from vidstyle.models.styles import save_style
from vidstyle.models.transformer import TransformerNet

TINY = {"channels": [4, 8, 8], "blocks": 1}


@pytest.fixture(scope="module")
def styles(tmp_path_factory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("styles")
    out = []
    for i, name in enumerate(("tiny_a", "tiny_b")):
        torch.manual_seed(i)
        out.append(str(save_style(TransformerNet(TINY), d / name, {})))
    return out[0], out[1]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip")
    return make_test_clip(str(d / "in.mp4"), width=64, height=48, frames=30, fps=50, audio=False)


def run(*args):
    return CliRunner().invoke(main, ["live", *[str(a) for a in args]], catch_exceptions=False)


def decode(path) -> tuple[list[np.ndarray], list[float]]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    return [f.to_ndarray(format="rgb24") for f in frames], [float(f.pts * f.time_base) for f in frames]


def leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if "partial" in n]


def test_headless_run_for_n_frames_writes_a_playable_recording(tmp_path, styles, clip):
    out = tmp_path / "live.mp4"
    r = run("--source", clip.path, "-s", styles[0], "--no-display", "-o", out, "--frames", 8,
            "--size", "48x32", "--threads", 1)
    assert r.exit_code == 0, r.output
    images, times = decode(out)
    assert len(images) == 8
    assert images[0].shape == (32, 48, 3)
    # real (wall-clock) timing: increasing, and on average the source's 50 fps pacing or slower
    # (single gaps jitter with machine load)
    gaps = np.diff(times)
    assert (gaps > 0).all() and gaps.mean() > 0.9 * 0.02
    assert times[0] == 0.0
    # the net ran: the picture is not the (resized) input
    with av.open(clip.path) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    import cv2

    assert np.abs(images[0].astype(float) - cv2.resize(first, (48, 32), interpolation=cv2.INTER_AREA)).mean() > 5
    last = r.output.strip().splitlines()[-1]
    assert "8 frames done" in last and "latency p50" in last and f"recorded {out} (8 frames)" in last
    assert leftovers(tmp_path) == []


def test_source_end_finalises_the_recording(tmp_path, styles, clip):
    out = tmp_path / "end.mkv"
    r = run("--source", clip.path, "-s", f"{styles[0]},{styles[1]}", "--no-display", "-o", out,
            "--threads", 1, "--consistency", "off")
    assert r.exit_code == 0, r.output
    last = r.output.strip().splitlines()[-1]
    assert "end of file after 30 frames" in last
    images, _ = decode(out)
    n = int(last.split("recorded ")[1].split("(")[1].split(" frames")[0])
    assert 1 <= n <= 30 and len(images) == n
    assert leftovers(tmp_path) == []


def test_missing_camera_is_one_line_error(tmp_path, styles):
    r = run("--camera", 9, "-s", styles[0], "--no-display", "-o", tmp_path / "x.mp4")
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no camera found at index 9")
    assert not (tmp_path / "x.mp4").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("source, message", [("nope.mp4", "no such file"), (".", "is a folder")])
def test_missing_or_bad_source_is_one_line_error(tmp_path, styles, source, message):
    src = str(tmp_path / source) if source != "." else str(tmp_path)
    r = run("--source", src, "-s", styles[0], "--no-display", "-o", tmp_path / "x.mp4")
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error:")


def test_unreadable_source_is_one_line_error(tmp_path, styles):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    r = run("--source", bad, "-s", styles[0], "--no-display", "-o", tmp_path / "x.mp4")
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and "bad.mp4" in r.output


def test_no_display_available_says_what_to_do(monkeypatch, styles, clip):
    monkeypatch.setattr(display_mod, "_gui_backend", lambda: None)
    r = run("--source", clip.path, "-s", styles[0])
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "--no-display --output" in lines[0]
    assert "opencv-python" in lines[0]


def test_headless_needs_an_output_and_refuses_to_overwrite(tmp_path, styles, clip):
    r = run("--source", clip.path, "-s", styles[0], "--no-display")
    assert r.exit_code == 2 and "--no-display needs --output" in r.output
    existing = tmp_path / "keep.mp4"
    existing.write_bytes(b"precious")
    r = run("--source", clip.path, "-s", styles[0], "--no-display", "-o", existing)
    assert r.exit_code == 3 and "already exists" in r.output
    assert existing.read_bytes() == b"precious"
    r = run("--source", clip.path, "-s", styles[0], "--camera", 0, "--no-display", "-o", tmp_path / "y.mp4")
    assert r.exit_code == 2 and "either --camera or --source" in r.output
    r = run("--source", clip.path, "-s", styles[0], "--net-scale", "2", "--no-display", "-o", tmp_path / "y.mp4")
    assert r.exit_code != 0 and r.output.strip().splitlines() == ["error: --net-scale must be within 0.05..1, not 2"]
    assert not (tmp_path / "y.mp4").exists()


def test_unknown_style_and_missing_virtual_camera(tmp_path, styles, clip, monkeypatch):
    r = run("--source", clip.path, "-s", tmp_path / "none.safetensors", "--no-display", "-o", tmp_path / "z.mp4")
    assert r.exit_code == 2 and "style file not found" in r.output
    import builtins

    real_import = builtins.__import__

    def no_pyvirtualcam(name, *a, **k):
        if name == "pyvirtualcam":
            raise ModuleNotFoundError("No module named 'pyvirtualcam'", name="pyvirtualcam")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pyvirtualcam)
    r = run("--source", clip.path, "-s", styles[0], "--no-display", "--virtual-cam", "--size", "32x24")
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "pip install pyvirtualcam" in lines[0]


class VanishingCamera:
    """Delivers ``frames`` frames at ~100 fps, then read() fails forever (unplugged)."""

    def __init__(self, frames: int) -> None:
        self.frames, self.n, self.released = frames, 0, False

    def read(self):
        time.sleep(0.01)
        if self.n >= self.frames:
            return False, None
        self.n += 1
        img = np.zeros((24, 32, 3), np.uint8)
        img[:, : self.n % 32] = 255
        return True, img

    def release(self):
        self.released = True


def test_camera_lost_mid_run_keeps_a_playable_recording_and_fails(tmp_path, styles):
    out = tmp_path / "lost.mp4"
    cam = VanishingCamera(10)
    cfg = LiveConfig(styles=[styles[0]], display=False, output=str(out), threads=1, quiet=True)
    with pytest.raises(InputError) as ei:
        run_live(cfg, capture=cam, capture_kind="camera", capture_fps=100.0, lost_after=0.2)
    msg = str(ei.value)
    assert "camera 0 stopped delivering frames after 10 (disconnected?)" in msg
    assert f"{out} saved (" in msg and "\n" not in msg
    images, _ = decode(out)
    assert 1 <= len(images) <= 10
    assert cam.released and leftovers(tmp_path) == []


def test_ctrl_c_stops_cleanly_and_finalises_the_recording(tmp_path, styles):
    """Ctrl-C (simulated with ``_thread.interrupt_main``) ends the session and keeps the recording.

    ``interrupt_main`` does nothing while SIGINT is ignored, and a process started in the
    background by a non-interactive shell (``cmd &``, as some CI runners do) starts with SIGINT
    ignored, so the test installs Python's own handler first. The camera gives up after about 30 s
    so that a lost interrupt fails the test instead of hanging it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    cam = VanishingCamera(3000)
    started = threading.Event()

    class EndlessCamera:
        def read(self):
            started.set()
            return cam.read()

        def release(self):
            cam.release()

    def press_ctrl_c():
        if started.wait(30.0):
            time.sleep(0.5)  # setup time varies
            _thread.interrupt_main()

    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    presser.start()
    out = tmp_path / "int.mp4"
    cfg = LiveConfig(styles=[styles[0]], display=False, output=str(out), threads=1, quiet=True)
    try:
        result = run_live(cfg, capture=EndlessCamera(), capture_kind="camera", lost_after=0.5)
    finally:
        presser.join(5.0)
        signal.signal(signal.SIGINT, previous)
    assert result.reason.startswith("interrupted") and not result.error
    assert result.stats.frames >= 1 and cam.released
    images, _ = decode(out)
    assert len(images) == result.stats.frames == result.recordings[0][1]


def test_recorder_uses_wall_clock_capture_times(tmp_path):
    from vidstyle.live.engine import LiveFrame
    from vidstyle.live.recorder import Recorder

    out = tmp_path / "vfr.mp4"
    rec = Recorder(str(out), fps=30)
    t0 = 1000.0
    capture_times = [0.0, 0.1, 0.15, 0.4, 0.45]  # irregular, as when frames are dropped
    for i, t in enumerate(capture_times):
        img = np.full((24, 32, 3), 40 * i, np.uint8)
        rec.submit(LiveFrame(img, img, i, i, t0 + t, t0 + t + 0.05, "s", 1.0, False))
    assert rec.close() == 5
    images, times = decode(out)
    assert len(images) == 5
    assert np.allclose(times, capture_times, atol=1e-3), times
    assert leftovers(tmp_path) == []


def test_recorder_with_nothing_recorded_leaves_no_file(tmp_path):
    from vidstyle.errors import OutputError
    from vidstyle.live.recorder import Recorder

    rec = Recorder(str(tmp_path / "empty.mp4"))
    with pytest.raises(OutputError, match="nothing was recorded"):
        rec.close()
    assert os.listdir(tmp_path) == []


class FakeWindow:
    """Stands in for the cv2 window: records what is shown and plays scripted keys."""

    script = {2: "n", 3: "s", 4: "r", 8: "b", 9: "r", 10: "q"}  # shown frame count -> key

    def __init__(self, title="vidstyle live"):
        self.shown: list[np.ndarray] = []
        self.sent: set[int] = set()
        FakeWindow.last = self

    def show(self, rgb):
        self.shown.append(rgb.copy())

    def poll_key(self, wait_ms=1):
        n = len(self.shown)
        if n in self.script and n not in self.sent:
            self.sent.add(n)
            return ord(self.script[n])
        return -1

    def closed(self):
        return False

    def close(self):
        pass


def test_window_keys_switch_style_snapshot_and_record(tmp_path, styles, monkeypatch):
    monkeypatch.setattr(display_mod, "check_display", lambda: None)
    monkeypatch.setattr(display_mod, "Window", FakeWindow)
    cfg = LiveConfig(styles=[styles[0], styles[1]], display=True, threads=1, quiet=True,
                     snapshot_dir=str(tmp_path))  # no --output: recording only through the key
    result = run_live(cfg, capture=VanishingCamera(10**6), capture_kind="camera")
    win = FakeWindow.last
    assert result.reason == "quit" and not result.error
    assert len(win.shown) >= 10
    assert win.shown[-1].shape == (24, 64, 3)  # side by side after 'b'
    assert win.shown[0].shape == (24, 32, 3)
    # snapshot: a PNG of what was on screen (without the overlay)
    assert len(result.snapshots) == 1 and os.path.exists(result.snapshots[0])
    import cv2

    snap = cv2.imread(result.snapshots[0])
    assert snap.shape == (24, 32, 3)
    # recording started with 'r' and stopped with the second 'r': a playable file in snapshot_dir
    assert len(result.recordings) == 1
    path, n = result.recordings[0]
    assert os.path.dirname(path) == str(tmp_path) and path.endswith(".mp4")
    images, _ = decode(path)
    assert len(images) == n >= 1 and images[0].shape == (24, 32, 3)
    # the window may redraw a frame while the next is stylized, so fewer frames than redraws
    assert result.stats.frames >= max(n, 3)


def test_style_mix_spec(tmp_path, styles, clip):
    out = tmp_path / "mix.mp4"
    r = run("--source", clip.path, "-s", f"{styles[0]}:0.7,{styles[1]}:0.3", "--no-display", "-o", out,
            "--frames", 3, "--threads", 1)
    assert r.exit_code == 0, r.output
    assert "styles: tiny_a+tiny_b" in r.output
    assert len(decode(out)[0]) == 3


def test_inference_failure_keeps_the_recording_and_reports_one_line(tmp_path):
    from vidstyle.errors import VidstyleError
    from vidstyle.live.engine import StyleBank

    class Breaks:
        calls = 0

        def __call__(self, x):
            Breaks.calls += 1
            if Breaks.calls > 4:  # 1 warm-up pass + 3 frames, then the "GPU" fails
                raise RuntimeError("out of memory\nlong details")
            return x

    bank = StyleBank(["breaks"], loader=lambda spec, dev: (Breaks(), "breaks"))
    out = tmp_path / "partial_run.mp4"
    cfg = LiveConfig(display=False, output=str(out), threads=1, quiet=True)
    with pytest.raises(VidstyleError) as ei:
        run_live(cfg, capture=VanishingCamera(100), capture_kind="camera", bank=bank)
    msg = str(ei.value)
    assert msg.startswith("live inference failed: RuntimeError: out of memory") and "\n" not in msg
    assert f"{out} saved (3 frames)" in msg
    assert len(decode(out)[0]) == 3


def test_virtual_camera_gets_the_stylized_frames(tmp_path, styles, clip, monkeypatch):
    import sys
    import types

    sent = []

    class Camera:
        def __init__(self, width, height, fps, fmt=None, device=None):
            self.width, self.height, self.device = width, height, "/dev/video9"
            Camera.opened = (width, height, fps)

        def send(self, frame):
            sent.append(frame.shape)

        def close(self):
            Camera.closed = True

    fake = types.SimpleNamespace(Camera=Camera, PixelFormat=types.SimpleNamespace(RGB="RGB"))
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake)
    r = run("--source", clip.path, "-s", styles[0], "--no-display", "--virtual-cam", "--size", "40x30",
            "--frames", 4, "--threads", 1)
    assert r.exit_code == 0, r.output
    assert "virtual camera: /dev/video9 (40x30)" in r.output
    assert Camera.opened[:2] == (40, 30) and Camera.closed
    assert sent == [(30, 40, 3)] * 4


def test_headless_with_real_consistency(tmp_path, styles, clip):
    out = tmp_path / "cons.mp4"
    r = run("--source", clip.path, "-s", styles[0], "--no-display", "-o", out, "--frames", 4,
            "--size", "48x32", "--threads", 1, "--consistency", "light", "--flow", "dis")
    assert r.exit_code == 0, r.output
    assert "consistency light" in r.output and "flow: DIS" in r.output
    assert len(decode(out)[0]) == 4


def test_live_consistency_estimates_one_flow_resolution():
    """Live mode (toggled on or given up front) keeps every consistency flow at the masks' 320 px,
    unlike the offline default, which warps with a finer flow."""
    import torch

    from vidstyle.consistency.temporal import PRESETS
    from vidstyle.live.session import LiveConfig, _consistency_factory

    notes: list[str] = []
    cons = _consistency_factory(LiveConfig(flow_kind="dis"), torch.device("cpu"), notes)()
    assert cons.params.warp_flow_max_side is None and cons.params.flow_max_side == 320
    assert PRESETS["default"].warp_flow_max_side == 640
    assert cons._warp_size(360, 640) == cons._work_size(360, 640) == (180, 320)
