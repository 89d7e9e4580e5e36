"""Flow-guided temporal consistency at inference, streaming, for any per-frame style net.

``TemporalConsistency(flow).step(content, stylized) -> output`` is called once per frame, in order
(``[1, 3, H, W]`` tensors, RGB in [0, 1], any device). It keeps the previous content frame and
the previous *output*, estimates flow from the current frame to the previous one (so the
previous output can be backward-warped onto the current frame) and blends

    out = a * warp(prev_out) + (1 - a) * stylized,      a = alpha * trust

where ``trust`` in [0, 1] per pixel is the product of

* the forward-backward flow check and the out-of-frame test (disoccluded / newly visible content
  gets ``trust = 0`` and is stylized fresh);
* a photometric check on the *content*: where ``|content - warp(prev_content)|`` (blurred, mean over
  RGB) is above ``photo_lo`` trust falls linearly to 0 at ``photo_hi`` — the flow there is wrong or
  the appearance really changed (lighting, reflections), so carrying the old output would smear;
* a low-frequency agreement check between ``warp(prev_out)`` and the fresh stylization (both
  blurred at flow resolution): trust falls from ``lf_lo`` to ``lf_hi`` so that the carried output
  can never drift far from what the net produces now (no ghost trails, no colour drift).

``alpha < 1`` makes everything the output carries decay geometrically (a pixel's contribution
after n frames is at most ``alpha**n``), which re-anchors the output to the fresh stylization and
limits drift: chained per-frame flows accumulate geometric error, so a very high ``alpha``
(>= 0.93) makes the long-term (5-frame) warping error worse, not better.

Two things keep the result sharp. The previous output is warped with bicubic interpolation
(bilinear resampling blurs a little every frame and the blur accumulates). And averaging a texture
that changes from frame to frame lowers its contrast, so the finest band of the blend
(``x - up(down2(x))``, :mod:`vidstyle.consistency.detail`) is re-amplified where its local RMS fell
below ``detail`` times the fresh stylization's, with a gain capped at ``detail_max_gain``: flicker
stays slow, strokes keep their contrast.

Two flow resolutions. The flow that warps the previous output is estimated on frames shrunk to a
640-pixel long side (``warp_flow_max_side``; the frames themselves when smaller) and upsampled;
the masks (forward-backward check, photometric and low-frequency trust) are computed at a 320-pixel
long side (``flow_max_side``) from that flow resized, plus one backward flow estimated there. Small
or thin moving objects (distant pedestrians) then get their own motion instead of the
background's smoothed over them, while the masks stay cheap. The state resets at scene cuts
(:class:`~vidstyle.consistency.scenecut.SceneCutDetector`, also told the occluded fraction) and
whenever the frame size changes.

Still shots. On a tripod shot most of the frame does not move, and what flickers there is the
net's own frame-to-frame noise, which a higher carry averages away without anything to smear.
When the 90th percentile of the flow's magnitude is below ``shot_px`` (px per frame), pixels
moving less than ``still_px`` carry ``still_alpha`` and the detail restoration targets
``still_detail``; moving objects keep ``alpha``, and the occlusion, photometric and low-frequency
checks still apply, so people walking out of a region leave no trail. A strength given as a number
(``--consistency 0.7``) is a plain blend at that strength, without the still-shot carry.

The defaults (``default`` mode) were chosen on a camera pan with a hard cut, a static-camera
street and a hand-held shot, scored with the independent E_warp of :mod:`vidstyle.metrics`
(``benchmarks/bench_consistency.py``). ``stylize`` gives the step one OpenCV thread beside an
exported net (a second thread mostly spins), and the streaming runner overlaps it with the net's
next frame. Live mode and ``light`` keep every flow at 320 px (``warp_flow_max_side=None``) for
latency; ``light`` also carries less (more of the per-frame look); ``strong`` trades long-term
drift for the least short-term flicker.

What consistency costs in style: the net's strokes change with sub-pixel motion unless the net is
shift-equivariant (a stride-4 grid with nearest upsampling is not), and blending strokes of
different phases softens their structure, so the Gram-matrix style loss of the output rises. The
cure is in the net, not here: the shipped ``starry_night`` upsamples bilinearly and was trained
with a shift-equivariance loss, so its strokes move with the content.

``fine`` computes the flows and masks at full resolution: no better at 640x360, it is meant for
footage whose moving detail is finer than a 640-pixel frame resolves (4K).
"""

from __future__ import annotations

from dataclasses import asdict, replace

import torch

from ..flow.occlusion import fb_consistency_mask, motion_boundary_mask
from ..ops.resample import block_mean, box_blur, erode, resize_area, resize_bilinear
from .detail import restore_detail
from ..flow.warp import backward_warp, inside_mask, resize_flow
from .params import MODES, PRESETS, ConsistencyParams, parse_consistency
from .scenecut import SceneCutDetector

__all__ = ["ConsistencyParams", "TemporalConsistency", "make_consistency", "parse_consistency", "MODES", "PRESETS"]


def _ramp_down(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """1 below ``lo``, 0 above ``hi``, linear in between."""
    return ((hi - x) / max(hi - lo, 1e-6)).clamp_(0.0, 1.0)


def _lowpass_absmean(x: torch.Tensor, block: int) -> torch.Tensor:
    """``|block-average of x|`` (mean over channels), bilinearly upsampled back: the magnitude of
    ``x``'s low frequencies. Block pooling is much cheaper on CPU than a stride-1 box filter."""
    if block <= 1:
        return x.abs().mean(1, keepdim=True)
    lo = block_mean(x, block).abs().mean(1, keepdim=True)
    return resize_bilinear(lo, x.shape[-2:])


class TemporalConsistency:
    """Streaming flow-guided blending of a style net's frames; see the module docstring.

    ``flow_estimator(img1, img2) -> flow(img1→img2)`` (e.g. from :func:`vidstyle.flow.get_flow`).
    ``strength`` overrides ``params.alpha``. ``detector``: a scene-cut detector (default: a fresh
    :class:`SceneCutDetector` when ``params.scene_cuts``). After each ``step``, ``last`` holds
    diagnostics: ``reset`` (why the state was reset, or None), ``trust`` (mean trust), ``cut``.
    """

    def __init__(
        self,
        flow_estimator,
        strength: float | None = None,
        params: ConsistencyParams | None = None,
        detector: SceneCutDetector | None = None,
        **overrides,
    ) -> None:
        p = params or PRESETS["default"]
        if strength is not None:  # a plain blend at that strength (no higher carry in still shots)
            overrides["alpha"] = float(strength)
            overrides.setdefault("still_alpha", None)
        if overrides:
            p = replace(p, **overrides)
        if not 0.0 <= p.alpha <= 1.0:
            raise ValueError(f"alpha/strength must be within 0..1, got {p.alpha}")
        if p.still_alpha is not None and not 0.0 <= p.still_alpha <= 1.0:
            raise ValueError(f"still_alpha must be within 0..1, got {p.still_alpha}")
        if p.warp_mode not in ("bilinear", "bicubic"):
            raise ValueError(f"warp_mode must be 'bilinear' or 'bicubic', not {p.warp_mode!r}")
        self.params = p
        self.flow = flow_estimator
        self.detector = detector if detector is not None else (SceneCutDetector() if p.scene_cuts else None)
        self.last: dict = {}
        self.reset()

    def __repr__(self) -> str:
        return f"TemporalConsistency(flow={getattr(self.flow, 'name', self.flow)!r}, {asdict(self.params)})"

    @property
    def strength(self) -> float:
        return self.params.alpha

    def _carry(self, f_cp: torch.Tensor, width: int) -> tuple[torch.Tensor | float, float, float]:
        """The weight of the carried output where trusted (a map at flow resolution, or
        ``alpha``), and the detail restoration: ``still_alpha`` and ``still_detail`` where the
        pixel moves less than ``still_px`` in a shot whose 90th percentile of motion is below
        ``shot_px`` (ramps in between); ``alpha`` and ``detail`` elsewhere. Third: how still
        the shot is (0..1)."""
        p = self.params
        if p.still_alpha is None or p.still_alpha <= p.alpha:
            return p.alpha, p.detail, 0.0
        # square-sum-sqrt: far cheaper on the CPU than vector_norm over the channel dim
        mag = f_cp.square().sum(1, keepdim=True).sqrt_().mul_(width / f_cp.shape[-1])
        sample = mag.flatten()[::7]  # plenty for the shot's motion
        q = float(sample.kthvalue(max(1, int(0.9 * sample.numel()))).values)
        shot = min(1.0, max(0.0, (p.shot_px[1] - q) / max(p.shot_px[1] - p.shot_px[0], 1e-6)))
        if shot <= 0.0:
            return p.alpha, p.detail, 0.0
        still = _ramp_down(mag, *p.still_px).mul_(shot * (p.still_alpha - p.alpha)).add_(p.alpha)
        return still, p.detail + shot * (p.still_detail - p.detail), shot

    def _warp_size(self, h: int, w: int) -> tuple[int, int]:
        """Size of the flow that warps: long side ``warp_flow_max_side``, never below the masks'."""
        p = self.params
        if not p.flow_max_side:  # masks at full resolution, so is the flow
            return h, w
        if not p.warp_flow_max_side:  # one flow resolution for everything
            return self._work_size(h, w)
        return self._work_size(h, w, max(p.warp_flow_max_side, p.flow_max_side))

    def reset(self) -> None:
        """Forget the past: the next frame is passed through and starts a new history."""
        self._prev_mid: torch.Tensor | None = None  # previous content at the warp flow's resolution
        self._prev_small: torch.Tensor | None = None  # previous content at flow resolution
        self._prev_out: torch.Tensor | None = None  # previous output, full resolution
        self._prev_out_small: torch.Tensor | None = None
        self._size: tuple[int, int] | None = None
        if self.detector is not None:
            self.detector.reset()

    def _work_size(self, h: int, w: int, m: int | None = None) -> tuple[int, int]:
        """``(h, w)`` shrunk to long side ``m`` (``m`` None: ``flow_max_side``; a long side of None
        or 0: unchanged)."""
        m = self.params.flow_max_side if m is None else m
        if not m or max(h, w) <= m:
            return h, w
        s = m / max(h, w)
        return max(8, round(h * s)), max(8, round(w * s))

    def _small(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if tuple(x.shape[-2:]) == size:
            return x
        return resize_area(x, size)

    def _start(self, small: torch.Tensor, mid: torch.Tensor, small_out: torch.Tensor, out: torch.Tensor, size,
               reason: str | None) -> torch.Tensor:
        self._prev_small = small
        self._prev_mid = mid
        self._prev_out = out
        self._prev_out_small = small_out
        self._size = size
        self.last = {"reset": reason, "trust": 0.0, "cut": reason == "scene cut"}
        return out

    @torch.inference_mode()
    def trust_and_flow(self, small: torch.Tensor, small_styled: torch.Tensor,
                       f_cp: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
        """Trust map and flow (current → previous) at flow resolution, plus the fraction of pixels
        failing the occlusion tests (for scene-cut detection). ``f_cp``: that flow when already
        known (e.g. resized from the finer flow that warps), else it is estimated here."""
        p = self.params
        prev = self._prev_small
        if f_cp is None:
            f_cp = self.flow(small, prev)
        valid = inside_mask(f_cp)
        if p.fb_check:
            valid = valid * fb_consistency_mask(f_cp, self.flow(prev, small))
        if p.motion_boundaries:
            valid = valid * motion_boundary_mask(f_cp)
        occluded = 1.0 - float(valid.mean())
        if p.erode > 0:
            valid = erode(valid, p.erode)
        # the previous content and output warped together: one set of sample positions for both
        warped = backward_warp(torch.cat((prev, self._prev_out_small), 1), f_cp, approx=True)
        warped_c, warped_o = warped[:, :3], warped[:, 3:]
        # photometric check on the content
        err = (small - warped_c).abs().mean(1, keepdim=True)
        trust = valid * _ramp_down(box_blur(err, 1), p.photo_lo, p.photo_hi)
        # low-frequency agreement between the carried output and the fresh stylization
        d = _lowpass_absmean(warped_o - small_styled, p.lf_block)
        trust = trust * _ramp_down(d, p.lf_lo, p.lf_hi)
        self._warped_out_small = warped_o
        return trust, f_cp, occluded

    @torch.inference_mode()
    def step(self, content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        """Blend ``stylized`` (this frame's net output) with the warped previous output."""
        if content.dim() == 3:
            content = content.unsqueeze(0)
        if stylized.dim() == 3:
            stylized = stylized.unsqueeze(0)
        if content.shape[0] != 1 or stylized.shape[0] != 1:
            raise ValueError("TemporalConsistency.step takes one frame at a time ([1,3,H,W])")
        if content.shape[-2:] != stylized.shape[-2:]:
            raise ValueError(f"content {tuple(content.shape[-2:])} and stylized {tuple(stylized.shape[-2:])} sizes differ")
        s = stylized.float()
        c = content[:, :3].to(s.device, torch.float32)
        size = tuple(s.shape[-2:])
        work, wsize = self._work_size(*size), self._warp_size(*size)
        if work != size:
            small, small_s = self._small(c, work), self._small(s, work)
        else:
            small, small_s = c, s
        # content for the flow that warps (the masks' own when both flows share one resolution)
        mid = small if wsize == work else (c if wsize == size else self._small(c, wsize))
        if self._prev_out is None or self._size != size or self.params.alpha <= 0:
            if self.detector is not None:
                self.detector.reset()
                self.detector.push(small)
            return self._start(small, mid, small_s, s, size, "start" if self._prev_out is None else "size change")
        f_mid = self.flow(mid, self._prev_mid) if wsize != work else None
        trust, f_cp, occluded = self.trust_and_flow(small, small_s, None if f_mid is None else resize_flow(f_mid, work))
        if self.detector is not None and self.detector.push(small, occluded_fraction=occluded):
            return self._start(small, mid, small_s, s, size, "scene cut")
        carry, detail, still = self._carry(f_cp, size[1])
        a = trust * carry
        # the previous output at flow resolution, for the next low-frequency check (cheaper than
        # downscaling the full-resolution output)
        next_small_out = torch.lerp(small_s, self._warped_out_small, a)
        f_warp = f_cp if f_mid is None else f_mid
        if work != size:
            a = resize_bilinear(a, size)
        f_warp = resize_flow(f_warp, size)
        warped = backward_warp(self._prev_out, f_warp, mode=self.params.warp_mode, approx=True)
        out = torch.lerp(s, warped, a)
        if detail > 0:
            out = restore_detail(out, s, detail, self.params.detail_max_gain)
        if self.params.warp_mode == "bicubic" or detail > 0:  # no overshoot beyond s's range
            lo, hi = torch.aminmax(s)
            out = out.clamp_(min(0.0, float(lo)), max(1.0, float(hi)))
        self._prev_small = small
        self._prev_mid = mid
        self._prev_out = out
        self._prev_out_small = next_small_out
        self.last = {"reset": None, "trust": float(trust.mean()), "cut": False, "occluded": occluded,
                     "still": still}
        return out.to(stylized.dtype)


DIS_GD_ITERATIONS = 8
"""Gradient-descent iterations per scale of the DIS flows that ``stylize`` and ``live`` give the
consistency step (DIS medium's own 25 stay for ``vidstyle eval``): the blend's warping error,
sharpness and style loss do not change with the extra iterations, its flows get about 10% cheaper."""

DIS_PATCH_STRIDE = 4
"""Pixels between the patches of the DIS flows that ``stylize`` and ``live`` give the consistency
step (DIS medium's own 3 stay for ``vidstyle eval``): a third fewer patches to search for nearly
the same warping error."""


def make_consistency(mode_or_strength, flow_estimator, **overrides) -> TemporalConsistency | None:
    """The CLI's ``--consistency`` (see :func:`parse_consistency`) as a consistency stage, or None
    for off."""
    mode = parse_consistency(mode_or_strength)
    if mode == "off":
        return None
    if isinstance(mode, str):
        return TemporalConsistency(flow_estimator, params=PRESETS[mode], **overrides)
    return TemporalConsistency(flow_estimator, strength=mode, **overrides)
