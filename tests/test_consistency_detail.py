"""Detail restoration: the OpenCV and PyTorch paths agree, and it restores what blending removed."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vidstyle.consistency import detail
from vidstyle.consistency.detail import restore_detail


def texture(h: int = 48, w: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


def band_rms(x: torch.Tensor, border: int = 0) -> float:
    """RMS of the finest band ``x - up(down2(x))``, ``border`` pixels from the edges left out."""
    lo = F.interpolate(F.avg_pool2d(x, 2), size=x.shape[-2:], mode="bilinear", align_corners=False)
    h, w = x.shape[-2:]
    return float((x - lo)[..., border : h - border, border : w - border].pow(2).mean().sqrt())


def test_opencv_and_torch_paths_agree():
    out, fresh = texture(seed=1) * 0.5 + 0.25, texture(seed=2)
    fast = restore_detail(out, fresh, 0.9, 1.6)
    ref = detail._restore_torch(out, fresh, 0.9, 1.6)
    assert fast.shape == out.shape
    assert float((fast - ref).abs().max()) < 1e-5
    assert float((fast - out).abs().max()) > 0.01  # it did change something


def test_unchanged_where_the_output_already_has_the_detail():
    x = texture()
    assert torch.allclose(restore_detail(x, x.clone(), 0.9, 1.6), x, atol=1e-6)


def test_blurred_output_gets_its_fine_band_back_up_to_the_cap():
    fresh = texture(seed=3)
    blurred = 0.5 * fresh + 0.5 * texture(seed=4)  # averaging two uncorrelated textures: band x ~0.7
    before, target = band_rms(blurred), band_rms(fresh)
    after = band_rms(restore_detail(blurred, fresh, 0.9, 1.6))
    assert before < 0.8 * target
    assert 0.85 * target < after < 0.95 * target  # raised to ~0.9x the fresh amplitude
    capped = band_rms(restore_detail(blurred, fresh, 0.9, 1.1))
    assert capped < 1.12 * before


def test_sizes_that_are_not_multiples_of_the_block_use_the_torch_path():
    out, fresh = texture(37, 53, seed=5), texture(37, 53, seed=6)
    got = restore_detail(out, fresh)
    assert got.shape == out.shape and torch.isfinite(got).all()
