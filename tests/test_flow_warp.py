import math

import pytest
import torch
import torch.nn.functional as F

from vidstyle.flow.warp import backward_warp, inside_mask, resize_flow


def smooth_image(h=48, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 3, h // 8 + 2, w // 8 + 2, generator=g)
    return F.interpolate(x, size=(h, w), mode="bicubic", align_corners=True).clamp(0, 1)


def test_integer_translation_reproduces_shifted_image():
    img1 = smooth_image()
    dx, dy = 3, -2
    # img2(q) = img1(q - d): content moves by +d, so flow(1->2) = +d everywhere.
    img2 = torch.roll(img1, shifts=(dy, dx), dims=(2, 3))
    flow = torch.zeros(1, 2, *img1.shape[-2:])
    flow[:, 0], flow[:, 1] = dx, dy
    out, mask = backward_warp(img2, flow, return_mask=True)
    assert torch.allclose(out[..., 4:-4, 4:-4], img1[..., 4:-4, 4:-4], atol=1e-5)
    # samples that leave the frame are flagged: the last dx columns and first |dy| rows
    assert mask[0, 0, :, -dx:].sum() == 0 and mask[0, 0, : -dy, :].sum() == 0
    assert mask[0, 0, -dy:, :-dx].min() == 1


def test_subpixel_translation_smooth_image():
    h, w = 40, 56
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")

    def f(x, y):  # a smooth analytic image, values in [0, 1]
        return torch.stack([0.5 + 0.4 * torch.sin(x / 5 + c) * torch.cos(y / 7 - c) for c in (0.0, 1.0, 2.0)])[None]

    d = (1.25, 0.5)
    img1 = f(xs, ys)
    img2 = f(xs - d[0], ys - d[1])
    flow = torch.tensor(d).view(1, 2, 1, 1).expand(1, 2, h, w)
    out = backward_warp(img2, flow)
    assert (out - img1)[..., 3:-3, 3:-3].abs().max() < 0.01
    # and a wrong flow does not
    assert (backward_warp(img2, -flow) - img1)[..., 3:-3, 3:-3].abs().max() > 0.05


def test_zero_padding_and_batch_broadcast():
    img = torch.ones(2, 3, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0] = 5.0
    out = backward_warp(img, flow, padding="zeros")
    assert out.shape == (2, 3, 10, 12)
    assert out[..., :, -3:].max() == 0 and out[..., :, :6].min() == 1
    border = backward_warp(img, flow, padding="border")
    assert border.min() == 1
    with pytest.raises(ValueError):
        backward_warp(img, flow, padding="reflect")


def test_inside_mask_margin():
    flow = torch.zeros(1, 2, 6, 6)
    flow[:, 1] = -0.4
    assert inside_mask(flow)[0, 0, 0].sum() == 0
    assert inside_mask(flow, margin=0.5)[0, 0, 0].sum() == 6


def test_resize_flow_scales_values():
    flow = torch.ones(1, 2, 18, 32)
    flow[:, 1] *= 2
    big = resize_flow(flow, (36, 64))
    assert big.shape == (1, 2, 36, 64)
    assert math.isclose(big[0, 0].mean().item(), 2.0, rel_tol=1e-5)
    assert math.isclose(big[0, 1].mean().item(), 4.0, rel_tol=1e-5)
