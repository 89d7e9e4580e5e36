"""Occlusion and motion-boundary masks from optical flow (Sundaram et al. 2010, Ruder et al. 2016).

Shapes: flows are ``[B, 2, H, W]`` in pixels (see :mod:`vidstyle.flow.warp` for the convention);
every mask returned here is ``[B, 1, H, W]`` float32 with **1 = valid/visible, 0 = occluded or
unreliable**, defined on the pixels of the frame the first flow argument lives on.

Forward-backward check: for ``flow_fw = flow(1→2)`` (on frame-1 pixels) and
``flow_bw = flow(2→1)`` (on frame-2 pixels), a frame-1 pixel ``p`` that is visible in frame 2 should
come back to itself: ``w̃_b(p) = flow_bw(p + flow_fw(p)) ≈ -flow_fw(p)``. It is flagged occluded
when ``|w_f + w̃_b|² > 0.01 (|w_f|² + |w̃_b|²) + 0.5``.

Motion boundaries: ``|∇u|² + |∇v|² > 0.01 |w|² + 0.002`` (forward differences), flagged invalid
because flow is unreliable there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .warp import backward_warp, inside_mask

__all__ = ["fb_consistency_mask", "motion_boundary_mask", "occlusion_mask"]


def fb_consistency_mask(
    flow_fw: torch.Tensor, flow_bw: torch.Tensor, alpha1: float = 0.01, alpha2: float = 0.5
) -> torch.Tensor:
    """Forward-backward consistency on frame-1 pixels: ``[B,1,H,W]``, 1 = consistent (visible)."""
    bw_warped = backward_warp(flow_bw, flow_fw, padding="border")
    s = flow_fw + bw_warped
    lhs = (s * s).sum(1, keepdim=True)
    rhs = alpha1 * ((flow_fw * flow_fw).sum(1, keepdim=True) + (bw_warped * bw_warped).sum(1, keepdim=True)) + alpha2
    return (lhs <= rhs).to(flow_fw.dtype)


def motion_boundary_mask(flow: torch.Tensor, alpha1: float = 0.01, alpha2: float = 0.002) -> torch.Tensor:
    """Motion boundaries of ``flow``: ``[B,1,H,W]``, 0 on a boundary, 1 elsewhere.

    Uses forward differences (the last row/column gets zero gradient), as Lai et al.'s reference
    evaluation code does.
    """
    dx = F.pad(flow[..., :, 1:] - flow[..., :, :-1], (0, 1, 0, 0))
    dy = F.pad(flow[..., 1:, :] - flow[..., :-1, :], (0, 0, 0, 1))
    grad2 = (dx * dx + dy * dy).sum(1, keepdim=True)
    mag2 = (flow * flow).sum(1, keepdim=True)
    return (grad2 <= alpha1 * mag2 + alpha2).to(flow.dtype)


def occlusion_mask(
    flow_fw: torch.Tensor,
    flow_bw: torch.Tensor,
    motion_boundaries: bool = True,
    out_of_frame: bool = True,
) -> torch.Tensor:
    """Combined validity mask on frame-1 pixels (1 = visible in frame 2 and flow trustworthy).

    Product of :func:`fb_consistency_mask`, optionally :func:`motion_boundary_mask` of ``flow_fw``
    and optionally :func:`vidstyle.flow.warp.inside_mask` (``p + flow_fw(p)`` inside frame 2).
    """
    mask = fb_consistency_mask(flow_fw, flow_bw)
    if motion_boundaries:
        mask = mask * motion_boundary_mask(flow_fw)
    if out_of_frame:
        mask = mask * inside_mask(flow_fw)
    return mask
