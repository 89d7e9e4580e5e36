"""Live engine core without a camera or a window: latest-frame slot, frame dropping with a slow
net, style switching and consistency toggling driven by LiveState, capture pacing and end."""

from __future__ import annotations

import functools
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.live.capture import CaptureThread, LatestFrameSlot
from vidstyle.cli.options import parse_frame_size, parse_net_scale, split_style_specs
from vidstyle.live.engine import LiveEngine, StyleBank, fit_size
from vidstyle.live.keys import LiveState, handle_key
from vidstyle.models.transformer import TransformerNet


class FakeCamera:
    """``read()`` gives a new BGR frame every ``interval`` seconds (blocking like a camera);
    after ``frames`` frames (None: never) it fails, like an unplugged camera or a file's end."""

    def __init__(self, interval: float = 0.005, frames: int | None = None, size=(32, 24)) -> None:
        self.interval, self.limit, self.size = interval, frames, size
        self.n = 0
        self.released = False
        self._next = time.perf_counter()

    def read(self):
        if self.limit is not None and self.n >= self.limit:
            return False, None
        self._next += self.interval
        delay = self._next - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        img = np.full((self.size[1], self.size[0], 3), self.n % 256, np.uint8)
        self.n += 1
        return True, img

    def release(self) -> None:
        self.released = True


class LockstepCamera(FakeCamera):
    """A camera that gives its next frame only once the previous one came out of the engine, so
    tests that need every frame processed do not depend on the machine's load (a real camera
    does not wait: frame dropping is tested separately)."""

    def __init__(self, frames: int, size=(32, 24)) -> None:
        super().__init__(0.0, frames=frames, size=size)
        self.consumed = threading.Semaphore(0)

    def read(self):
        if self.n > 0 and not self.consumed.acquire(timeout=10):
            return False, None
        return super().read()


class SlowNet:
    """Stands in for a style net: sleeps ``delay`` and tags the output with ``value``."""

    def __init__(self, delay: float = 0.0, value: float = 0.5) -> None:
        self.delay, self.value, self.calls = delay, value, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return torch.full_like(x, self.value)


def fake_bank(nets: dict[str, SlowNet]) -> StyleBank:
    return StyleBank(list(nets), loader=lambda spec, device: (nets[spec], spec))


def run_engine(cam, bank, state, *, seconds=None, max_frames=None, **kw):
    slot = LatestFrameSlot()
    cap = CaptureThread(cam, slot, kind=kw.pop("kind", "camera"), lost_after=kw.pop("lost_after", 0.2),
                        pace=kw.pop("pace", True), fps=kw.pop("fps", None))
    eng = LiveEngine(slot, bank, state, max_frames=max_frames, warmup=False, **kw)
    cap.start()
    eng.start()
    if seconds is not None:
        eng.done.wait(seconds)
    else:
        assert eng.done.wait(20), "engine did not finish"
    cap.stop()
    eng.stop()
    eng.join(5)
    cap.join(5)
    return slot, cap, eng


# --------------------------------------------------------------------------- slot


def test_latest_frame_slot_keeps_only_the_newest():
    slot = LatestFrameSlot()
    assert slot.put(1) and len(slot) == 1
    assert not slot.put(2)  # replaced 1
    assert not slot.put(3)
    assert slot.dropped == 2 and len(slot) == 1 and slot.max_size == 1
    assert slot.get(timeout=0) == 3
    assert slot.get(timeout=0.01) is None
    slot.put(4)
    slot.close("end")
    assert not slot.finished
    assert slot.get(timeout=0) == 4  # a pending item survives close
    assert slot.finished and slot.get(timeout=None) is None  # closed: no blocking
    assert not slot.put(5)


def test_slot_get_wakes_up_on_put_from_another_thread():
    slot = LatestFrameSlot()
    threading.Timer(0.05, slot.put, args=("x",)).start()
    t0 = time.perf_counter()
    assert slot.get(timeout=5) == "x"
    assert time.perf_counter() - t0 < 2


# --------------------------------------------------------------------------- dropping


def test_slow_inference_drops_stale_frames_and_latency_stays_bounded():
    delay, interval = 0.04, 0.004  # the "net" is 10x slower than the source
    net = SlowNet(delay)
    cam = FakeCamera(interval)
    slot, cap, eng = run_engine(cam, fake_bank({"slow": net}), LiveState(styles=["slow"]), seconds=1.0)
    s = eng.stats
    assert s.frames >= 5
    assert cap.frames > 3 * s.frames  # the source really was faster ...
    assert slot.dropped > 0  # ... and the stale frames were dropped, not queued
    assert slot.dropped + eng.skipped + s.frames + len(slot) >= cap.frames - 1
    assert slot.max_size <= 1
    lat = np.array(s.latencies)
    # bounded by ~ one inference + one frame interval (+ scheduling slack on a busy machine),
    # whereas a FIFO would have reached ~0.9 s by the end of the run (the first frame also
    # carries the threads' start-up, so it is left out)
    assert lat[1:].max() < delay + interval + 0.25, lat
    assert np.median(lat[-3:]) < 3 * delay + 0.1  # not growing over time
    # the engine always took the newest frame: consecutive outputs skip source frames
    assert s.frames < cap.frames


def test_fast_inference_drops_nothing():
    cam = FakeCamera(0.02, frames=10)
    slot, cap, eng = run_engine(cam, fake_bank({"fast": SlowNet(0.0)}), LiveState(styles=["fast"]))
    assert eng.stats.frames == 10
    assert slot.dropped == 0 and eng.skipped == 0
    assert eng.end_reason == slot.reason and "stopped delivering frames after 10" in slot.reason


# --------------------------------------------------------------------------- state


class Recorder:
    def __init__(self, on_frame=None, camera: LockstepCamera | None = None):
        self.frames = []
        self.on_frame = on_frame
        self.camera = camera

    def submit(self, lf):
        self.frames.append(lf)
        if self.on_frame:
            self.on_frame(len(self.frames))
        if self.camera is not None:
            self.camera.consumed.release()


def test_keys_switch_style_and_strength_in_the_running_engine():
    from vidstyle.pipeline.controls import StyleControls

    nets = {"dark": SlowNet(value=0.0), "bright": SlowNet(value=1.0)}
    state = LiveState(styles=["dark", "bright"])

    def press(n):
        if n == 3:
            handle_key(state, "n")  # -> bright
        if n == 6:
            for _ in range(5):
                handle_key(state, "-")  # strength 0.5

    cam = LockstepCamera(frames=12, size=(16, 8))
    rec = Recorder(press, cam)
    _, _, eng = run_engine(cam, fake_bank(nets), state, controls=StyleControls(), outputs=[rec])
    assert len(rec.frames) == 12
    styles = [f.style for f in rec.frames]
    assert styles == ["dark"] * 3 + ["bright"] * 9  # switched from the very next frame
    assert rec.frames[0].stylized.max() == 0
    assert [f.strength for f in rec.frames] == [1.0] * 6 + [pytest.approx(0.5)] * 6
    late = rec.frames[-1]
    # strength 0.5 pulls the (all-white) stylized frame towards the content
    assert late.stylized.mean() < 250 and rec.frames[5].stylized.mean() == 255
    assert (nets["dark"].calls, nets["bright"].calls) == (3, 9)


class FakeConsistency:
    def __init__(self):
        self.steps, self.resets = 0, 0

    def step(self, content, stylized):
        self.steps += 1
        return stylized * 0 + 0.25

    def reset(self):
        self.resets += 1


def test_consistency_toggle_is_lazy_and_resets_on_switch_on():
    cons = FakeConsistency()
    built = []
    state = LiveState(styles=["a"])

    def make():
        built.append(1)
        return cons

    def press(n):
        if n in (2, 5, 8):
            handle_key(state, "c")  # on, off, on

    cam = LockstepCamera(frames=10, size=(16, 8))
    rec = Recorder(press, cam)
    _, _, eng = run_engine(cam, fake_bank({"a": SlowNet(value=1.0)}), state,
                           make_consistency=make, outputs=[rec])
    flags = [f.consistency for f in rec.frames]
    assert flags == [False] * 2 + [True] * 3 + [False] * 3 + [True] * 2
    assert len(built) == 1  # built once, on first use
    assert cons.resets == 2  # each time it was switched on
    assert cons.steps == sum(flags)
    assert rec.frames[3].stylized.max() == 64 and rec.frames[0].stylized.min() == 255


def test_net_scale_auto_brings_the_cpu_net_to_320_px():
    eng = LiveEngine(LatestFrameSlot(), fake_bank({"a": SlowNet()}), LiveState(styles=["a"]), net_scale=None)
    assert eng.scale_for(360, 640) == 0.5 and eng.scale_for(720, 1280) == 0.25
    assert eng.scale_for(180, 320) == 1.0 and eng.scale_for(48, 64) == 1.0
    assert eng._net_size(360, 640) == (180, 320)
    # a pixel-folding net (the fast arch) already runs at half resolution inside, also when a
    # stylizer (e.g. the ONNX backend) wraps it
    for folding in (TransformerNet("fast"), SimpleNamespace(net=TransformerNet("fast"))):
        assert eng.scale_for(360, 640, folding) == 1.0 and eng.scale_for(720, 1280, folding) == 0.5
        assert eng._net_size(720, 1280, folding) == (360, 640)
    assert eng.scale_for(360, 640, TransformerNet("light")) == 0.5
    assert parse_net_scale("auto") is None and parse_net_scale(None) is None and parse_net_scale("0.5") == 0.5
    for bad in ("2", "0", "big"):
        with pytest.raises(VidstyleError, match="--net-scale"):
            parse_net_scale(bad)


def test_consistency_runs_at_the_net_scale():
    sizes = []

    class Probe(FakeConsistency):
        def step(self, content, stylized):
            sizes.append((tuple(content.shape[-2:]), tuple(stylized.shape[-2:])))
            return super().step(content, stylized)

    cons = Probe()
    rec = Recorder()
    run_engine(FakeCamera(0.005, frames=3, size=(64, 48)), fake_bank({"a": SlowNet(value=1.0)}),
               LiveState(styles=["a"], consistency=True), size=(64, 48), net_scale=0.5,
               make_consistency=lambda: cons, outputs=[rec])
    assert sizes and set(sizes) == {((24, 32), (24, 32))}
    assert rec.frames[-1].stylized.shape == (48, 64, 3) and rec.frames[-1].stylized.max() == 64


def test_unavailable_consistency_turns_the_toggle_off():
    state = LiveState(styles=["a"], consistency=True)

    def make():
        raise VidstyleError("no flow here")

    cam = LockstepCamera(frames=3)
    rec = Recorder(camera=cam)
    _, _, eng = run_engine(cam, fake_bank({"a": SlowNet()}), state, make_consistency=make, outputs=[rec])
    assert len(rec.frames) == 3 and not any(f.consistency for f in rec.frames)
    assert not state.consistency and not state.consistency_available
    assert "consistency unavailable" in eng.messages[0]


def test_style_that_fails_to_load_keeps_the_previous_one():
    def loader(spec, device):
        if spec == "broken":
            raise VidstyleError("cannot read style weights broken")
        return SlowNet(value=1.0), spec

    bank = StyleBank(["good", "broken"], loader=loader)
    state = LiveState(styles=bank.names)
    rec = Recorder(lambda n: handle_key(state, "n") if n == 2 else None)
    _, _, eng = run_engine(FakeCamera(0.01, frames=6), bank, state, outputs=[rec])
    assert eng.error is None and len(rec.frames) == 6
    assert all(f.style == "good" for f in rec.frames)
    assert state.style_index == 0 and "broken" in state.message


def test_style_bank_loads_lazily_and_caches():
    calls = []

    def loader(spec, device):
        calls.append(spec)
        return SlowNet(), spec.upper()

    bank = StyleBank(["a", "b", "c"], loader=loader)
    assert calls == []
    assert bank.get(1)[1] == "B" and bank.get(1)[1] == "B"
    assert calls == ["b"]
    bank.preload(1).join(5)
    assert sorted(calls) == ["a", "b", "c"] and bank.names == ["A", "B", "C"]


def test_working_size_is_applied():
    rec = Recorder()
    run_engine(FakeCamera(0.005, frames=2, size=(64, 48)), fake_bank({"a": SlowNet()}),
               LiveState(styles=["a"]), size=(32, 18), outputs=[rec])
    assert rec.frames[0].stylized.shape == (18, 32, 3) and rec.frames[0].content.shape == (18, 32, 3)
    parse_size = functools.partial(parse_frame_size, allow_width=True)
    assert parse_size("640x360") == (640, 360) and parse_size("480") == 480 and parse_size(None) is None
    assert fit_size(480, 1280, 720) == (480, 270) and fit_size(None, 64, 48) == (64, 48)
    with pytest.raises(VidstyleError):
        parse_size("big")


def test_style_specs_list_and_mix(monkeypatch, tmp_path):
    import vidstyle.models.styles as styles_mod

    shipped, explicit = split_style_specs(None)  # no -s: the default shipped style
    assert "starry_night" in shipped and not explicit
    monkeypatch.setattr(styles_mod, "search_dirs", lambda: [tmp_path])  # an install without styles
    with pytest.raises(VidstyleError, match="no styles installed"):
        split_style_specs(None)
    assert split_style_specs(["a.safetensors,b.safetensors"]) == (["a.safetensors", "b.safetensors"], True)
    assert split_style_specs(["a:0.7,b:0.3", "c.safetensors"]) == (["a:0.7,b:0.3", "c.safetensors"], True)


# --------------------------------------------------------------------------- capture


def test_file_source_is_paced_at_its_frame_rate():
    slot = LatestFrameSlot()
    cam = FakeCamera(0.0, frames=6)
    cap = CaptureThread(cam, slot, kind="file", fps=50.0)
    times = []

    def take():
        while (cf := slot.get(timeout=2)) is not None:
            times.append(cf.t_capture)

    t = threading.Thread(target=take)
    t0 = time.perf_counter()
    cap.start()
    t.start()
    cap.join(5)
    t.join(5)
    assert len(times) == 6 and slot.dropped == 0
    assert times[-1] - t0 >= 5 * 0.02 * 0.9  # 6 frames at 50 fps: at least 100 ms
    assert slot.reason and "end of file after 6 frames" in slot.reason and not slot.error
    assert cam.released


def test_camera_that_stops_is_reported_lost():
    slot = LatestFrameSlot()
    cap = CaptureThread(FakeCamera(0.001, frames=3), slot, kind="camera", lost_after=0.1, name="camera 0")
    cap.start()
    cap.join(5)
    assert slot.error and "camera 0 stopped delivering frames after 3" in slot.reason


def test_net_scale_runs_the_net_smaller_and_upsamples():
    seen = []

    class Probe(SlowNet):
        def __call__(self, x):
            seen.append(tuple(x.shape[-2:]))
            return super().__call__(x)

    rec = Recorder()
    run_engine(FakeCamera(0.005, frames=2, size=(64, 48)), fake_bank({"a": Probe(value=1.0)}),
               LiveState(styles=["a"]), size=(64, 48), net_scale=0.5, outputs=[rec])
    assert seen and set(seen) == {(24, 32)}
    assert rec.frames[0].stylized.shape == (48, 64, 3) and rec.frames[0].stylized.min() == 255
    with pytest.raises(VidstyleError):
        LiveEngine(LatestFrameSlot(), fake_bank({"a": SlowNet()}), LiveState(styles=["a"]), net_scale=0)


def test_matte_limits_the_style_to_its_white_area():
    from vidstyle.pipeline.mattes import StaticMatte

    matte_img = np.zeros((24, 32), np.uint8)
    matte_img[:, 16:] = 255  # style on the right half only
    rec = Recorder()
    run_engine(FakeCamera(0.005, frames=2, size=(64, 48)), fake_bank({"a": SlowNet(value=1.0)}),
               LiveState(styles=["a"]), size=(64, 48), outputs=[rec], matte=StaticMatte(matte_img, feather=0))
    f = rec.frames[0]
    assert f.stylized.shape == (48, 64, 3)
    assert np.array_equal(f.stylized[:, :28], f.content[:, :28])  # left: the camera, untouched
    assert f.stylized[:, 36:].min() == 255  # right: the "style" (white)


def test_live_mask_must_be_a_still_image(tmp_path):
    from vidstyle.errors import InputError
    from vidstyle.live.session import LiveConfig, _live_matte

    with pytest.raises(InputError, match="--mask"):
        _live_matte(LiveConfig(mask=str(tmp_path / "missing.png")))
    assert _live_matte(LiveConfig()) is None
