import pytest
import torch
import torch.nn.functional as F

from vidstyle.consistency.temporal import PRESETS, TemporalConsistency, make_consistency
from vidstyle.errors import InputError
from vidstyle.flow import DISFlow

from test_consistency_detail import band_rms


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Small torch ops are far faster single-threaded on the shared test CPU."""


def scene(h, w, seed, lo=0.2, hi=0.8, tint=(1.0, 1.0, 1.0)):
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(1, 3, h // 6 + 2, w // 6 + 2, generator=g), size=(h, w), mode="bicubic", align_corners=True)
    return (lo + (hi - lo) * x.clamp(0, 1)) * torch.tensor(tint).view(1, 3, 1, 1)


def noisy(c, g, sigma=0.05):
    return c + sigma * torch.randn(c.shape, generator=g)


def msd(a, b):
    return float((a - b).pow(2).mean())


def pan_clip(n, v=3):
    """``n`` frames ``(content, noisy stylization)`` of a scene moving right by ``v`` px per frame."""
    g = torch.Generator().manual_seed(2)
    big = scene(72, 160, 3)
    for t in range(n):
        c = big[..., :, 50 - v * t : 146 - v * t]
        yield c, noisy(c, g)


def run_static(tc, n=14, sigma=0.05):
    g = torch.Generator().manual_seed(1)
    c = scene(72, 96, 0)
    outs, styl = [], []
    for _ in range(n):
        s = noisy(c, g, sigma)
        outs.append(tc.step(c, s))
        styl.append(s)
    d_out = sum(msd(outs[i], outs[i - 1]) for i in range(6, n)) / (n - 6)
    d_in = sum(msd(styl[i], styl[i - 1]) for i in range(6, n)) / (n - 6)
    return d_out / d_in, outs, c


def test_static_noisy_stylization_is_stabilised():
    ratio, outs, c = run_static(TemporalConsistency(DISFlow()))
    # default mode: frame-to-frame squared difference drops by more than 10x ...
    assert ratio < 0.1, ratio
    # ... without drifting away from the content (low frequencies stay put)
    lo = lambda x: F.avg_pool2d(x, 8)
    assert (lo(outs[-1]) - lo(c)).abs().max() < 0.03
    # with the detail restoration off, averaging removes even more of the flicker
    ratio_plain, _, _ = run_static(TemporalConsistency(DISFlow(), detail=0.0))
    assert ratio_plain < 0.05, ratio_plain
    # and 'off' (alpha 0) changes nothing
    ratio_off, _, _ = run_static(TemporalConsistency(DISFlow(), strength=0.0), n=8)
    assert ratio_off > 0.95


def test_pan_is_stabilised_along_the_motion():
    tc = TemporalConsistency(DISFlow())
    outs, styl, v = [], [], 3
    for c, s in pan_clip(12, v):
        outs.append(tc.step(c, s))
        styl.append(s)
    # compare frame t's interior with frame t-1 shifted by the known motion
    def comp(a, b):
        return msd(a[..., 8:-8, 8 + v : -8], b[..., 8:-8, 8:-8 - v])

    d_out = sum(comp(outs[i], outs[i - 1]) for i in range(6, 12)) / 6
    d_in = sum(comp(styl[i], styl[i - 1]) for i in range(6, 12)) / 6
    assert d_out / d_in < 0.3, d_out / d_in
    assert tc.last["trust"] > 0.7


def test_scene_cut_resets():
    g = torch.Generator().manual_seed(3)
    a = scene(72, 96, 4, tint=(1.0, 0.5, 0.3))
    b = scene(72, 96, 5, tint=(0.3, 0.6, 1.0))
    tc = TemporalConsistency(DISFlow())
    for _ in range(6):
        tc.step(a, noisy(a, g))
        assert tc.last["reset"] in ("start", None)
    s_b = noisy(b, g)
    out = tc.step(b, s_b)
    assert tc.last["reset"] == "scene cut"
    assert torch.equal(out, s_b)  # the first frame of a new shot is the fresh stylization
    out2 = tc.step(b, noisy(b, g))
    assert tc.last["reset"] is None
    lo = lambda x: F.avg_pool2d(x, 8)
    assert (lo(out2) - lo(b)).abs().max() < 0.05  # nothing of shot A leaks into shot B


def test_no_ghost_trail_behind_moving_object():
    g = torch.Generator().manual_seed(4)
    h, w, side, v = 72, 128, 20, 4
    bg = scene(h, w, 6, lo=0.55, hi=0.9)
    tc = TemporalConsistency(DISFlow())
    worst = 0.0
    for t in range(16):
        x0 = 8 + v * t
        c = bg.clone()
        c[..., 26 : 26 + side, x0 : x0 + side] = 0.1  # dark square moving right over the background
        s = noisy(c, g, 0.03)
        out = tc.step(c, s)
        if t >= 6:  # where the square was during the last frames: must show background now
            trail = (out - s)[..., 28 : 24 + side, x0 - 3 * v : x0 - 2]
            worst = max(worst, float(F.avg_pool2d(trail, 2).abs().mean(1).max()))
    assert worst < 0.15, worst  # the square/background contrast is ~0.6


def test_size_change_and_shapes():
    tc = TemporalConsistency(DISFlow())
    a = torch.rand(3, 40, 56)
    out = tc.step(a, a)
    assert out.shape == (1, 3, 40, 56) and tc.last["reset"] == "start"
    tc.step(torch.rand(1, 3, 48, 64), torch.rand(1, 3, 48, 64))
    assert tc.last["reset"] == "size change"
    with pytest.raises(ValueError):
        tc.step(torch.rand(2, 3, 48, 64), torch.rand(2, 3, 48, 64))


def test_make_consistency_modes():
    flow = DISFlow()
    assert make_consistency("off", flow) is None
    assert make_consistency("0", flow) is None
    assert make_consistency(0.0, flow) is None
    for mode in ("light", "default", "strong", "fine"):
        tc = make_consistency(mode, flow)
        assert tc.params == PRESETS[mode]
    assert PRESETS["light"].alpha < PRESETS["default"].alpha < PRESETS["strong"].alpha
    assert make_consistency("0.5", flow).strength == 0.5
    assert make_consistency(0.3, flow).strength == 0.3
    with pytest.raises(InputError):
        make_consistency("1.5", flow)
    with pytest.raises(InputError):
        make_consistency("silky", flow)


def test_flow_resolutions_of_the_presets():
    """``default`` warps with a flow estimated on frames shrunk to a 640-pixel long side and computes
    its masks (and the backward check flow) at 320; ``fine`` does both on the frames themselves;
    ``warp_flow_max_side=None`` (what live mode uses) estimates every flow at 320. All of them still stabilise a static scene with per-frame noise."""
    dis = DISFlow()
    sizes = []

    def spy(a, b):
        sizes.append(tuple(a.shape[-2:]))
        return dis(a, b)

    g = torch.Generator().manual_seed(3)
    c = scene(200, 800, 5)
    results = {}
    for mode, overrides in (("default", {}), ("fine", {}), ("single", {"warp_flow_max_side": None})):
        sizes.clear()
        tc = make_consistency("default" if mode == "single" else mode, spy, **overrides)
        frames = [noisy(c, g) for _ in range(8)]
        outs = [tc.step(c, f) for f in frames]
        results[mode] = (sorted(set(sizes)), msd(outs[-1], outs[-2]) / msd(frames[-1], frames[-2]))
    assert results["default"][0] == [(80, 320), (160, 640)]
    assert results["fine"][0] == [(200, 800)]
    assert results["single"][0] == [(80, 320)]
    for mode, (_, ratio) in results.items():
        assert ratio < 0.2, (mode, ratio)


def test_still_shot_carries_more_and_a_moving_shot_does_not():
    # a still shot (tripod): the still pixels carry still_alpha (0.98) and flicker less than with
    # alpha (0.85) alone
    ratio, _, _ = run_static(TemporalConsistency(DISFlow()), n=20)
    tc_plain = TemporalConsistency(DISFlow(), still_alpha=None)
    ratio_plain, _, _ = run_static(tc_plain, n=20)
    assert ratio < 0.6 * ratio_plain, (ratio, ratio_plain)
    # a pan (3 px per frame): not a still shot, the result is exactly the plain blend's
    tcs = [TemporalConsistency(DISFlow()), TemporalConsistency(DISFlow(), still_alpha=None)]
    for c, s in pan_clip(8):
        a, b = (tc.step(c, s) for tc in tcs)
        assert torch.equal(a, b)
        assert tcs[0].last.get("still", 0.0) == 0.0
    # a strength given as a number is a plain blend at that strength
    assert TemporalConsistency(DISFlow(), strength=0.85).params.still_alpha is None
    assert make_consistency("0.85", DISFlow()).params.still_alpha is None
    assert PRESETS["default"].still_alpha == 0.98 and PRESETS["light"].still_alpha is None


def test_moving_shot_keeps_the_fresh_fine_detail():
    # averaging a texture that changes every frame lowers its finest band; in a moving shot the
    # default restores it to the fresh stylization's level (detail target 1.0)
    tc = TemporalConsistency(DISFlow())
    ratios = []
    for t, (c, s) in enumerate(pan_clip(12)):
        out = tc.step(c, s)
        if t >= 6:
            ratios.append(band_rms(out, 8) / band_rms(s, 8))
    assert tc.last["still"] == 0.0
    assert min(ratios) > 0.95, ratios
    assert max(ratios) < 1.1, ratios  # and does not sharpen beyond it
