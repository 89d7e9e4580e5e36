"""Losses for training style nets: perceptual (Johnson et al. 2016) and temporal (ReCoNet, 2018).

Functional core; all images ``[B,3,H,W]`` RGB in [0,1]. ``flow`` ``[B,2,H,W]`` (pixels) is the
flow from the current frame to the previous one in the backward-warping convention of
``vidstyle.flow.warp``: ``backward_warp(prev, flow) ≈ cur``. Masks ``[B,1,H,W]`` are 1 where the
pixel is visible in both frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..flow.warp import backward_warp, resize_flow

# Rec. 709 relative luminance, as used by ReCoNet's luminance-aware output temporal loss.
LUMA = (0.2126, 0.7152, 0.0722)


def gram_matrix(feat: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``[B,C,C]`` of features ``[B,C,H,W]``, normalised by ``C*H*W``."""
    b, c, h, w = feat.shape
    f = feat.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def content_loss(feat_out: torch.Tensor, feat_in: torch.Tensor) -> torch.Tensor:
    """Relative feature error ``||F_out - F_in||^2 / ||F_in||^2`` (one VGG layer).

    Normalising by the target makes the loss weights independent of the VGG source's scale.
    """
    return F.mse_loss(feat_out, feat_in) / feat_in.detach().pow(2).mean().clamp_min(1e-12)


def style_loss(feats_out: dict[str, torch.Tensor], grams_style: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the relative Gram error ``||G_out - G_style||^2 / ||G_style||^2``."""
    total = feats_out[next(iter(grams_style))].new_zeros(())
    for name, g_style in grams_style.items():
        g = gram_matrix(feats_out[name])
        total = total + F.mse_loss(g, g_style.expand_as(g)) / g_style.pow(2).mean().clamp_min(1e-12)
    return total


def total_variation(img: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (anisotropic TV)."""
    dx = (img[..., :, 1:] - img[..., :, :-1]).abs().mean()
    dy = (img[..., 1:, :] - img[..., :-1, :]).abs().mean()
    return dx + dy


def luminance(img: torch.Tensor) -> torch.Tensor:
    """Relative luminance ``[B,1,H,W]`` of RGB ``[B,3,H,W]``."""
    w = img.new_tensor(LUMA).view(1, 3, 1, 1)
    return (img * w).sum(dim=1, keepdim=True)


def output_temporal_loss(
    out_prev: torch.Tensor,
    out_cur: torch.Tensor,
    in_prev: torch.Tensor,
    in_cur: torch.Tensor,
    flow: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """ReCoNet's luminance-aware output temporal loss.

    ``mean(mask * ||(O_t - W(O_t-1)) - (Y(I_t) - Y(W(I_t-1)))||^2)``: the output may change between
    frames only as much as the input's luminance does. Zero for a perfectly warped pair.
    """
    warped_out = backward_warp(out_prev, flow)
    warped_in = backward_warp(in_prev, flow)
    d_in = luminance(in_cur) - luminance(warped_in)
    diff = (out_cur - warped_out) - d_in
    return (mask * diff.pow(2)).sum() / (mask.sum() * 3).clamp_min(1.0)


def feature_temporal_loss(
    feat_prev: torch.Tensor, feat_cur: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Masked MSE between the current encoder features and the previous ones warped by the flow.

    Flow and mask are at image resolution; they are resized to the feature map's resolution.
    """
    h, w = feat_cur.shape[-2:]
    small_flow = resize_flow(flow, (h, w))
    small_mask = F.interpolate(mask, size=(h, w), mode="area").gt(0.999).to(mask.dtype)
    warped = backward_warp(feat_prev, small_flow)
    diff = (feat_cur - warped).pow(2).mean(dim=1, keepdim=True)
    return (small_mask * diff).sum() / small_mask.sum().clamp_min(1.0)


def noise_stability_loss(out: torch.Tensor, out_noisy: torch.Tensor) -> torch.Tensor:
    """MSE between the stylization of a frame and of the same frame with small added noise."""
    return F.mse_loss(out_noisy, out)


def shift_equivariance_loss(net: torch.nn.Module, img: torch.Tensor, g: torch.Generator,
                            max_shift: int = 3, margin: int = 8) -> torch.Tensor:
    """How much ``net``'s output depends on where the content sits on its pixel grid.

    ``img`` ``[B,3,S,S]`` (S a multiple of the net's stride, at least 2*(4 + margin) + 4): the net
    stylizes two ``S-8`` crops of it, one offset by a random ``(dy, dx)`` of 1..``max_shift``
    pixels each way (drawn from ``g``); returns the mean absolute difference of the two outputs
    where they show the same pixels, ``margin`` pixels in from the crops' borders. A net that moves
    its strokes with the content scores 0.
    """
    s = img.shape[-1]
    mag = torch.randint(1, max_shift + 1, (2,), generator=g)
    sign = torch.randint(0, 2, (2,), generator=g) * 2 - 1
    dy, dx = (int(v) for v in mag * sign)
    a = img[:, :, 4:s - 4, 4:s - 4]
    b = img[:, :, 4 + dy:s - 4 + dy, 4 + dx:s - 4 + dx]
    ya, yb = net(torch.cat([a, b])).chunk(2)
    n = s - 8
    pa = ya[:, :, margin + max(dy, 0):n - margin + min(dy, 0), margin + max(dx, 0):n - margin + min(dx, 0)]
    pb = yb[:, :, margin + max(-dy, 0):n - margin + min(-dy, 0), margin + max(-dx, 0):n - margin + min(-dx, 0)]
    return (pa - pb).abs().mean()
