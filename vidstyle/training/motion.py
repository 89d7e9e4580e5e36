"""Training pairs with KNOWN motion made from still images (no flow estimator needed).

``make_motion_pair`` takes a batch of images with a margin and returns two frames, the exact flow
between them and an occlusion mask. Motion = random affine + small perspective + a smooth elastic
field; a pasted occluder moves independently and is masked out, as are pixels it uncovers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..flow.warp import backward_warp, inside_mask


@dataclass
class MotionPair:
    """``prev``, ``cur``: ``[B,3,S,S]``; ``flow``: ``[B,2,S,S]`` with ``backward_warp(prev, flow) ≈ cur``
    where ``mask`` ``[B,1,S,S]`` is 1 (visible in both frames, away from the occluder)."""

    prev: torch.Tensor
    cur: torch.Tensor
    flow: torch.Tensor
    mask: torch.Tensor


@dataclass
class MotionConfig:
    """Ranges of the random motion (pixels and degrees at the training size)."""

    max_shift: float = 6.0
    max_rotate_deg: float = 2.5
    max_scale: float = 0.03
    max_perspective: float = 2e-4
    elastic_px: float = 1.5
    elastic_grid: int = 8
    occluder_prob: float = 0.7
    occluder_size: tuple[float, float] = (0.15, 0.35)
    occluder_shift: float = 10.0


def _uniform(g: torch.Generator, shape: tuple[int, ...], lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(shape, generator=g)


def random_flow(b: int, h: int, w: int, g: torch.Generator, cfg: MotionConfig) -> torch.Tensor:
    """Smooth random flow ``[B,2,H,W]``: homography displacement plus an elastic field."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    cx, cy = (w - 1) / 2, (h - 1) / 2
    x, y = xs - cx, ys - cy
    ang = torch.deg2rad(_uniform(g, (b,), -cfg.max_rotate_deg, cfg.max_rotate_deg))
    scale = 1 + _uniform(g, (b,), -cfg.max_scale, cfg.max_scale)
    tx, ty = _uniform(g, (b,), -cfg.max_shift, cfg.max_shift), _uniform(g, (b,), -cfg.max_shift, cfg.max_shift)
    px, py = _uniform(g, (b,), -cfg.max_perspective, cfg.max_perspective), _uniform(g, (b,), -cfg.max_perspective, cfg.max_perspective)
    flows = []
    for i in range(b):
        c, s = torch.cos(ang[i]) * scale[i], torch.sin(ang[i]) * scale[i]
        den = 1 + px[i] * x + py[i] * y
        qx = (c * x - s * y + tx[i]) / den
        qy = (s * x + c * y + ty[i]) / den
        flows.append(torch.stack([qx - x, qy - y]))
    flow = torch.stack(flows)
    noise = _uniform(g, (b, 2, cfg.elastic_grid, cfg.elastic_grid), -cfg.elastic_px, cfg.elastic_px)
    return flow + F.interpolate(noise, size=(h, w), mode="bicubic", align_corners=True)


def _occluder_alpha(b: int, h: int, w: int, g: torch.Generator, cfg: MotionConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Hard elliptical occluder masks at two positions ``[B,1,H,W]`` each, and which samples have one."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    present = torch.rand((b,), generator=g) < cfg.occluder_prob
    ra = _uniform(g, (b,), *cfg.occluder_size) * w / 2
    rb = _uniform(g, (b,), *cfg.occluder_size) * h / 2
    cx0, cy0 = _uniform(g, (b,), 0.2 * w, 0.8 * w), _uniform(g, (b,), 0.2 * h, 0.8 * h)
    dx, dy = _uniform(g, (b,), -cfg.occluder_shift, cfg.occluder_shift), _uniform(g, (b,), -cfg.occluder_shift, cfg.occluder_shift)

    def ellipse(cx: torch.Tensor, cy: torch.Tensor) -> torch.Tensor:
        inside = ((xs[None] - cx.view(-1, 1, 1)) / ra.view(-1, 1, 1)) ** 2 + ((ys[None] - cy.view(-1, 1, 1)) / rb.view(-1, 1, 1)) ** 2 <= 1
        return (inside & present.view(-1, 1, 1)).float().unsqueeze(1)

    return ellipse(cx0, cy0), ellipse(cx0 + dx, cy0 + dy)


def _dilate(mask: torch.Tensor, px: int = 2) -> torch.Tensor:
    return F.max_pool2d(mask, 2 * px + 1, stride=1, padding=px)


def make_motion_pair(
    images: torch.Tensor, size: int, g: torch.Generator, cfg: MotionConfig | None = None
) -> MotionPair:
    """Make a training pair from ``images`` ``[B,3,S+2m,S+2m]`` (a margin m on each side).

    The current frame is the previous one backward-warped by a random smooth flow (so
    ``backward_warp(prev, flow) == cur`` by construction on the interior) with an occluder,
    textured by another image of the batch, moving between the two frames.
    """
    cfg = cfg or MotionConfig()
    b, _, hb, wb = images.shape
    m = (hb - size) // 2
    flow_big = random_flow(b, hb, wb, g, cfg)
    cur_big = backward_warp(images, flow_big)
    crop = (slice(None), slice(None), slice(m, m + size), slice(m, m + size))
    prev, cur, flow = images[crop], cur_big[crop], flow_big[crop]
    # Pixels whose source lies outside the crop are invalid (a thin band at most).
    inside = inside_mask(flow)  # the losses warp the cropped previous frame
    occ_prev, occ_cur = _occluder_alpha(b, size, size, g, cfg)
    texture = images.roll(1, dims=0)[crop].flip(-1)
    prev = prev * (1 - occ_prev) + texture * occ_prev
    shifted_texture = backward_warp(texture, flow)  # the occluder carries its own texture along
    cur = cur * (1 - occ_cur) + shifted_texture * occ_cur
    # Invalid: under the occluder now, or uncovered by it (it sat there in the previous frame).
    uncovered = backward_warp(occ_prev, flow).gt(0).float()
    mask = inside * (1 - _dilate(occ_cur)) * (1 - _dilate(uncovered))
    return MotionPair(prev.contiguous(), cur.contiguous(), flow.contiguous(), mask.contiguous())
