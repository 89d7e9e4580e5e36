"""OpenCV fast paths for resampling agree with the torch reference they replace."""

import pytest
import torch
import torch.nn.functional as F

from vidstyle.ops import resample
from vidstyle.ops.resample import cv2_ok, remap_planes, resize_area, resize_bilinear
from vidstyle.flow.warp import backward_warp, inside_mask, resize_flow


def smooth(h: int, w: int, c: int = 3, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(1, c, h // 6 + 2, w // 6 + 2, generator=g), size=(h, w),
                         mode="bicubic", align_corners=False)


@pytest.mark.parametrize("size", [(37, 61), (18, 30), (9, 14)])
def test_resize_bilinear_equals_interpolate(size):
    x = torch.rand(1, 3, 18, 30)
    ref = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    assert torch.allclose(resize_bilinear(x, size), ref, atol=1e-5)


def test_resize_area_equals_interpolate_for_integer_factors():
    x = torch.rand(1, 4, 24, 40)
    for size in [(12, 20), (6, 10), (3, 5)]:
        assert torch.allclose(resize_area(x, size), F.interpolate(x, size=size, mode="area"), atol=1e-6)


def test_resize_flow_values_same_on_both_paths():
    flow = torch.randn(1, 2, 10, 16)
    fast = resize_flow(flow, (25, 40))
    ref = resize_flow(flow.expand(2, -1, -1, -1), (25, 40))[:1]  # batch 2: the torch path
    assert torch.allclose(fast, ref, atol=1e-5)


def test_remap_matches_grid_sample_within_subpixel_quantisation():
    img = smooth(45, 70)
    g = torch.Generator().manual_seed(1)
    flow = F.interpolate(torch.randn(1, 2, 4, 6, generator=g) * 4, size=(45, 70), mode="bilinear",
                         align_corners=False)
    for mode in ("bilinear", "bicubic"):
        ref = backward_warp(img, flow, mode=mode)
        fast = backward_warp(img, flow, mode=mode, approx=True)
        assert not torch.equal(fast, ref)  # really the OpenCV path
        # OpenCV rounds sample positions to 1/32 px: the error is bounded by the image gradient
        grad = max(float((img[..., 1:] - img[..., :-1]).abs().max()), float((img[..., 1:, :] - img[..., :-1, :]).abs().max()))
        inside = inside_mask(flow, margin=-2.0)  # samples with all bicubic taps in the frame
        assert float(((fast - ref).abs() * inside).max()) < grad / 32, mode
        assert float((fast - ref).abs().mean()) < 1e-3, mode


def test_remap_integer_shift_is_exact_inside():
    img = torch.rand(1, 3, 20, 30)
    flow = torch.zeros(1, 2, 20, 30)
    flow[:, 0] = 3.0
    flow[:, 1] = -2.0
    out = remap_planes(img, flow, "bicubic")
    assert torch.allclose(out[..., 2:, :-3], img[..., :-2, 3:], atol=1e-5)
    assert torch.equal(out[..., 0, :-3], out[..., 2, :-3])  # border rows repeat the edge


def test_fast_paths_only_without_gradients_and_batch_one():
    x = torch.rand(1, 3, 8, 8)
    assert cv2_ok(x) and not cv2_ok(x.expand(2, -1, -1, -1)) and not cv2_ok(x.double())
    xg = x.clone().requires_grad_()
    assert not cv2_ok(xg)
    flow = torch.zeros(1, 2, 8, 8, requires_grad=True)
    out = backward_warp(xg, flow, approx=True)  # falls back to grid_sample: differentiable
    out.sum().backward()
    assert xg.grad is not None and flow.grad is not None
    with torch.no_grad():
        assert cv2_ok(xg)


@pytest.mark.parametrize("shape", [(1, 1, 180, 320), (1, 3, 36, 52), (1, 2, 37, 53)])
def test_pooling_fast_paths_equal_torch(shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(resample.block_mean(x, 4), F.avg_pool2d(x, 4, ceil_mode=True), atol=1e-6)
    assert torch.allclose(resample.box_blur(x, 1), F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1),
                          atol=1e-6)
    for r in (1, 2):
        assert torch.equal(resample.erode(x, r), -F.max_pool2d(-x, 2 * r + 1, stride=1, padding=r))
    # a one-pixel hole grows to 3x3; the frame edge is not a hole
    m = torch.ones(1, 1, 9, 9)
    m[..., 4, 4] = 0
    e = resample.erode(m, 1)
    assert float(e.sum()) == 81 - 9 and float(e[..., 0, :].min()) == 1
