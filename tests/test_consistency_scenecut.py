import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidstyle.consistency.scenecut import SceneCutDetector, frame_thumbnail


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Small torch ops are far faster single-threaded on the shared test CPU."""


def textured(h, w, seed, tint):
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(1, 3, h // 8, w // 8, generator=g), size=(h, w), mode="bicubic", align_corners=True)
    return (0.15 + 0.7 * x.clamp(0, 1)) * torch.tensor(tint).view(1, 3, 1, 1)


def pan(img, n, v, w):
    """n frames of a horizontal pan over ``img`` (window width w, v px per frame)."""
    return [img[..., :, v * t : v * t + w] for t in range(n)]


def test_cut_detected_only_on_the_cut():
    h, w = 90, 160
    a = textured(h, w + 60, 1, (1.0, 0.7, 0.4))
    b = textured(h, w + 60, 2, (0.4, 0.7, 1.0))
    frames = pan(a, 12, 4, w) + pan(b, 8, 5, w)  # fast-ish pans, hard cut at index 12
    det = SceneCutDetector()
    cuts = [i for i, f in enumerate(frames) if det.push(f)]
    assert cuts == [12]
    assert det.last["cut"] is False


def test_is_cut_pairs_and_uint8_arrays():
    h, w = 72, 96
    a = textured(h, w, 3, (0.9, 0.9, 0.9))
    b = textured(h, w, 4, (0.2, 0.9, 0.3))
    to_u8 = lambda t: (t[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    det = SceneCutDetector()
    assert not det.is_cut(to_u8(a), to_u8(a))
    assert not det.is_cut(a, (a * 1.02).clamp(0, 1))  # slight exposure change
    assert det.is_cut(to_u8(a), to_u8(b))
    assert det.is_cut(a, b)


def test_smooth_motion_with_noise_is_not_a_cut():
    g = torch.Generator().manual_seed(0)
    img = textured(120, 300, 5, (0.8, 0.8, 0.6))
    det = SceneCutDetector()
    for f in pan(img, 30, 3, 160):
        f = (f + 0.03 * torch.randn(f.shape, generator=g)).clamp(0, 1)
        assert not det.push(f)


def test_thumbnail_formats():
    arr16 = (np.random.default_rng(0).random((50, 80, 3)) * 65535).astype(np.uint16)
    t = frame_thumbnail(arr16, 40)
    assert t.shape == (25, 40, 3) and t.dtype == np.uint8
    t = frame_thumbnail(torch.rand(3, 50, 80), 40)
    assert t.shape == (25, 40, 3) and t.dtype == np.uint8
