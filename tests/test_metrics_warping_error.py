import json
import math

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from vidstyle.cli import main
from vidstyle.flow import DISFlow
from vidstyle.metrics.warping_error import WarpingErrorMeter, pair_warping_error, sharpness, warping_error


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # far faster for small tensors on a busy shared CPU
    yield
    torch.set_num_threads(n)


def scene(h=64, w=96, seed=0, extra=0):
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(1, 3, h // 6 + 2, (w + extra) // 6 + 2, generator=g), size=(h, w + extra),
                      mode="bicubic", align_corners=True)
    return (0.2 + 0.6 * x).clamp(0, 1)


def flicker(frames, sigma, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(f + sigma * torch.randn(f.shape, generator=g)).clamp(0, 1) for f in frames]


def test_pair_error_formula():
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    b[:, 0] = 2.0  # squared errors 4, 1, 1 -> mean over RGB = 2
    flow = torch.zeros(1, 2, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2] = 1
    assert math.isclose(float(pair_warping_error(a, b, flow, mask)), 2.0, rel_tol=1e-6)
    b2 = b.clone()
    b2[..., 2:] = 10.0  # only masked-out pixels change: no effect
    assert math.isclose(float(pair_warping_error(a, b2, flow, mask)), 2.0, rel_tol=1e-6)
    # no valid pixel: falls back to the plain mean, as the reference code does
    assert float(pair_warping_error(a, b, flow, torch.zeros_like(mask))) == pytest.approx(2.0)


def test_static_is_zero_and_flicker_is_not():
    c = scene()
    static = [c.clone() for _ in range(8)]
    sigma = 0.05
    r_static, r_flicker = warping_error(static, [static, flicker(static, sigma)], DISFlow(), long_k=3)
    assert r_static["short"] < 1e-8 and r_static["long"] < 1e-8
    assert r_static["input_short"] < 1e-8
    # independent noise of std sigma: E ≈ 2 sigma² (a bit less, from clipping)
    assert 1.2 * sigma**2 < r_flicker["short"] < 2.2 * sigma**2
    assert r_flicker["long"] > 1.2 * sigma**2
    assert r_flicker["pairs_short"] == 7 and r_flicker["pairs_long"] == 5
    assert r_flicker["sharpness"] > r_static["sharpness"]


def test_moving_clip_floor_and_misaligned_output():
    big = scene(extra=40, seed=2)
    frames = [big[..., :, 30 - 3 * t : 126 - 3 * t] for t in range(8)]  # pan, 3 px per frame
    lagged = [frames[0]] + frames[:-1]  # output one frame late: out of step with the input
    same, late = warping_error(frames, [frames, lagged], DISFlow(), long_k=2)
    assert same["short"] == pytest.approx(same["input_short"], rel=1e-6)
    assert same["ratio_short"] == pytest.approx(1.0, rel=1e-6)
    assert same["input_short"] < 2e-4  # flow is good: the input warps onto itself
    assert late["short"] > 10 * same["input_short"]


def test_scene_cut_pairs_skipped_and_window_bounded():
    a = scene(seed=3) * torch.tensor([1.0, 0.4, 0.2]).view(1, 3, 1, 1)
    b = scene(seed=4) * torch.tensor([0.2, 0.5, 1.0]).view(1, 3, 1, 1)
    frames = [a] * 5 + [b] * 5
    meter = WarpingErrorMeter(DISFlow(), long_k=3)
    for f in frames:
        meter.update(f, f)
        assert len(meter._win) <= 4  # bounded memory: k + 1 frames
    r = meter.result()[0]
    assert r["cuts"] == [5]
    assert r["skipped_pairs"] == {"short": 1, "long": 3}
    assert r["pairs_short"] == 8 and r["pairs_long"] == 4
    r_keep = warping_error(frames, frames, DISFlow(), long_k=3, skip_cuts=False)
    assert r_keep["pairs_short"] == 9 and r_keep["cuts"] == []


def test_sharpness():
    assert sharpness(torch.full((1, 3, 16, 16), 0.5)) == 0.0
    checker = ((torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2).float().expand(1, 3, 16, 16)
    assert sharpness(checker) == pytest.approx(math.sqrt(2), rel=1e-5)


def write_clip(path, frames):
    h, w = frames[0].shape[-2:]
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv444p"
        for f in frames:
            a = (f[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def test_eval_cli_json_and_table(tmp_path):
    big = scene(extra=30, seed=5)
    frames = [big[..., :, 2 * t : 2 * t + 96] for t in range(8)]
    write_clip(tmp_path / "in.mkv", frames)
    write_clip(tmp_path / "same.mkv", frames)
    write_clip(tmp_path / "flicker.mkv", flicker(frames, 0.06))
    runner = CliRunner()
    res = runner.invoke(main, ["eval", str(tmp_path / "in.mkv"), str(tmp_path / "same.mkv"), str(tmp_path / "flicker.mkv"),
                               "--flow", "dis", "--long-k", "3", "--json", "-", "-q"])
    assert res.exit_code == 0, res.output
    same, flick = json.loads(res.output)
    assert same["ratio_short"] < 1.5 and flick["ratio_short"] > 5
    assert flick["output"].endswith("flicker.mkv") and flick["frames"] == 8 and flick["long_k"] == 3
    out_json = tmp_path / "r.json"
    res = runner.invoke(main, ["eval", str(tmp_path / "in.mkv"), str(tmp_path / "flicker.mkv"), "--flow", "dis",
                               "--max-frames", "5", "--size", "48x32", "--json", str(out_json)])
    assert res.exit_code == 0, res.output
    assert "short (k=1)" in res.output and "input (floor)" in res.output
    r = json.loads(out_json.read_text())
    assert r["frames"] == 5 and r["size"] == [48, 32]
    bad = runner.invoke(main, ["eval", str(tmp_path / "missing.mkv"), str(tmp_path / "in.mkv"), "-q"])
    assert bad.exit_code == 2 and "error:" in bad.output
    bad = runner.invoke(main, ["eval", str(tmp_path / "in.mkv"), str(tmp_path / "in.mkv"), "--size", "big", "-q"])
    assert bad.exit_code == 2
