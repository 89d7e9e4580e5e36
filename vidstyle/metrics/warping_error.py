"""Temporal warping error E_warp (Lai et al. 2018, "Learning Blind Video Temporal Consistency").

Definition (matching the paper's released evaluation code): flow and occlusion are computed on the
**input** video; for a pair of frames ``(t, t+k)`` the output frame ``O_{t+k}`` is backward-warped
onto frame ``t`` with ``flow(I_t → I_{t+k})`` and

    E_pair = sum_p M(p) * sum_c (O_t(p,c) - Ô_{t+k}(p,c))²  /  (3 * sum_p M(p))

i.e. the mean squared error over RGB channels in [0, 1] of the non-occluded pixels (the reference
code multiplies the difference by a 3-channel mask and divides by that mask's sum; when no pixel
is valid it divides by the number of pixel×channel values). ``M`` is 1 where the forward-backward
check (``|w_f + w̃_b|² <= 0.01(|w_f|² + |w̃_b|²) + 0.5``) passes and the pixel is not on a motion
boundary (``|∇u|² + |∇v|² <= 0.01|w|² + 0.002``), as in the paper; in addition pixels whose match
falls outside frame ``t+k`` are excluded (the reference code silently compares them with clamped
border pixels). E_warp is the mean of E_pair over pairs: short-term ``k = 1``, long-term
``k = long_k`` (flow estimated directly between ``t`` and ``t+k``).

The same flows and masks give the input's own warping error (the input warped onto itself), the
floor that the flow's inaccuracy and true appearance changes put under any output: an output with
``E_warp`` close to its input's is as stable as the source itself.

Differences from the paper, both documented in the result: pairs that straddle a detected scene
cut are skipped by default (flow across a cut is meaningless), and frames can be resized before
evaluation for speed (E_warp depends a little on resolution; compare runs at the same size).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..flow.occlusion import occlusion_mask
from ..flow.warp import backward_warp
from ..ops.tensors import image_to_tensor

__all__ = [
    "pair_warping_error",
    "sharpness",
    "to_tensor",
    "WarpingErrorMeter",
    "warping_error",
]

def to_tensor(frame, device: str | torch.device = "cpu") -> torch.Tensor:
    """A ``Frame``, an ``H x W x C`` array (uint8/uint16/float) or a ``[1,3,H,W]``/``[3,H,W]``
    tensor → ``[1,3,H,W]`` float32 RGB in [0, 1]."""
    img = getattr(frame, "image", frame)
    if isinstance(img, torch.Tensor):
        t = img.detach()
        t = t.unsqueeze(0) if t.dim() == 3 else t
        return t[:, :3].to(device, torch.float32)
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[..., None].repeat(3, axis=2)
    return image_to_tensor(a, device)


def _is_frame(x) -> bool:
    return isinstance(x, (torch.Tensor, np.ndarray)) or hasattr(x, "image")


def pair_warping_error(
    out_t: torch.Tensor, out_tk: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """E_pair per batch item (``[B]``): ``O_{t+k}`` warped by ``flow`` (``t → t+k``, on frame-t
    pixels) against ``O_t``, mean squared error over RGB of the pixels where ``mask`` is 1."""
    warped = backward_warp(out_tk, flow, padding="border")
    sq = (out_t - warped).pow(2).sum(1, keepdim=True)  # sum over RGB
    n = mask.sum(dim=(1, 2, 3))
    err = (sq * mask).sum(dim=(1, 2, 3))
    total = torch.full_like(n, float(sq[0].numel()))
    return torch.where(n > 0, err / (3.0 * n.clamp_min(1e-8)), sq.sum(dim=(1, 2, 3)) / (3.0 * total))


def sharpness(img: torch.Tensor) -> float:
    """Mean gradient magnitude of the luma (BT.601) of ``[B,3,H,W]`` images in [0, 1]:
    ``mean sqrt(gx² + gy²)`` with forward differences (the last row/column excluded)."""
    t = img.float()
    y = t[:, 0] * 0.299 + t[:, 1] * 0.587 + t[:, 2] * 0.114
    gx = y[:, :-1, 1:] - y[:, :-1, :-1]
    gy = y[:, 1:, :-1] - y[:, :-1, :-1]
    return float(torch.sqrt(gx * gx + gy * gy).mean())


def _resize(t: torch.Tensor, size: tuple[int, int] | None) -> torch.Tensor:
    if size is None or tuple(t.shape[-2:]) == tuple(size):
        return t
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def eval_size(height: int, width: int, size: tuple[int, int] | None = None, max_side: int | None = None) -> tuple[int, int]:
    """``(H, W)`` to evaluate at: ``size`` as ``(W, H)`` wins, else shrink to ``max_side``."""
    if size is not None:
        return int(size[1]), int(size[0])
    if max_side and max(height, width) > max_side:
        s = max_side / max(height, width)
        return max(8, int(round(height * s))), max(8, int(round(width * s)))
    return height, width


class WarpingErrorMeter:
    """Streaming E_warp over one input clip and one or more outputs of it.

    Call ``update(input_frame, output_frames)`` for each frame in order (``output_frames``: one
    frame or a list, one per output); memory holds at most ``long_k + 1`` frames per stream.
    ``result()`` returns one dict per output (see :func:`warping_error`).
    """

    def __init__(
        self,
        flow_estimator,
        long_k: int = 5,
        skip_cuts: bool = True,
        size: tuple[int, int] | None = None,
        max_side: int | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if long_k < 1:
            raise ValueError("long_k must be >= 1")
        self.flow = flow_estimator
        self.k = int(long_k)
        self.skip_cuts = skip_cuts
        self.size, self.max_side = size, max_side
        self.device = torch.device(device)
        self._work: tuple[int, int] | None = None
        self._win: deque = deque(maxlen=self.k + 1)  # (input, [outputs]) per frame
        self._frames = 0
        self._last_cut = -1  # index of the first frame after the latest cut
        self._cuts: list[int] = []
        self._skipped = {"short": 0, "long": 0}
        self._sums: dict | None = None
        self._sharp_in = 0.0
        self._sharp_out: list[float] = []
        self._n_out = None
        self._detector = None
        if skip_cuts:
            from ..consistency.scenecut import SceneCutDetector

            self._detector = SceneCutDetector()

    def _pair(self, a, b) -> tuple[list[float], float]:
        (ia, oa), (ib, ob) = a, b
        fw = self.flow(ia, ib)
        bw = self.flow(ib, ia)
        mask = occlusion_mask(fw, bw)
        e_in = float(pair_warping_error(ia, ib, fw, mask)[0])
        outs = torch.cat(oa), torch.cat(ob)
        e_out = pair_warping_error(outs[0], outs[1], fw.expand(len(oa), -1, -1, -1), mask.expand(len(oa), -1, -1, -1))
        return [float(e) for e in e_out], e_in

    def update(self, input_frame, output_frames) -> None:
        if not isinstance(output_frames, (list, tuple)):
            output_frames = [output_frames]
        inp = to_tensor(input_frame, self.device)
        if self._work is None:
            self._work = eval_size(inp.shape[-2], inp.shape[-1], self.size, self.max_side)
            self._n_out = len(output_frames)
            self._sums = {key: [0.0] * self._n_out for key in ("short", "long")}
            self._sums.update({f"input_{key}": 0.0 for key in ("short", "long")})
            self._counts = {"short": 0, "long": 0}
            self._sharp_out = [0.0] * self._n_out
        if len(output_frames) != self._n_out:
            raise ValueError("number of outputs changed between frames")
        inp = _resize(inp, self._work)
        outs = [_resize(to_tensor(o, self.device), self._work) for o in output_frames]
        t = self._frames
        if self._detector is not None and self._detector.push(inp):
            self._last_cut = t
            self._cuts.append(t)
        self._win.append((inp, outs))
        self._sharp_in += sharpness(inp)
        for i, o in enumerate(outs):
            self._sharp_out[i] += sharpness(o)
        for key, k in (("short", 1), ("long", self.k)):
            if key == "long" and self.k == 1:
                break
            if t < k:
                continue
            if self._last_cut > t - k:  # the pair straddles a cut
                self._skipped[key] += 1
                continue
            e_out, e_in = self._pair(self._win[-1 - k], self._win[-1])
            for i, e in enumerate(e_out):
                self._sums[key][i] += e
            self._sums[f"input_{key}"] += e_in
            self._counts[key] += 1
        self._frames += 1

    def result(self) -> list[dict]:
        if self._frames == 0:
            raise ValueError("no frames were evaluated")
        res = []
        for i in range(self._n_out):
            d: dict = {}
            for key in ("short", "long"):
                n = self._counts[key] if (key == "short" or self.k > 1) else self._counts["short"]
                src = key if (key == "short" or self.k > 1) else "short"
                val = self._sums[src][i] / n if n else math.nan
                inp = self._sums[f"input_{src}"] / n if n else math.nan
                d[key] = val
                d[f"input_{key}"] = inp
                d[f"ratio_{key}"] = val / inp if n and inp > 0 else math.nan
                d[f"pairs_{key}"] = n
            d.update(
                {
                    "long_k": self.k,
                    "frames": self._frames,
                    "cuts": list(self._cuts),
                    "skipped_pairs": dict(self._skipped) if self.skip_cuts else {"short": 0, "long": 0},
                    "sharpness": self._sharp_out[i] / self._frames,
                    "input_sharpness": self._sharp_in / self._frames,
                    "size": [self._work[1], self._work[0]],
                    "flow": getattr(self.flow, "name", type(self.flow).__name__),
                }
            )
            res.append(d)
        return res


def warping_error(
    inputs: Iterable,
    outputs: Iterable | list[Iterable],
    flow_estimator,
    long_k: int = 5,
    max_frames: int | None = None,
    size: tuple[int, int] | None = None,
    max_side: int | None = None,
    skip_cuts: bool = True,
    device: str | torch.device = "cpu",
    progress=None,
) -> dict | list[dict]:
    """E_warp of ``outputs`` (one frame iterable, or a list of frame iterables) against ``inputs``.

    Frames may be ``Frame`` objects, arrays or tensors; output frames are resized to the input's
    evaluation size (``size=(W, H)`` or ``max_side``). Streams with bounded memory and stops at
    the shortest stream or ``max_frames``. Returns, per output, a dict with ``short``/``long``
    (output E_warp for k=1 and k=``long_k``), ``input_short``/``input_long`` (the input's own
    E_warp, the floor), ``ratio_short``/``ratio_long`` (output/input), ``pairs_short``/
    ``pairs_long``, ``frames``, ``cuts`` (frame indices starting a new shot), ``skipped_pairs``,
    ``sharpness``/``input_sharpness`` (mean luma gradient magnitude), ``size`` ``[W, H]``,
    ``flow`` and ``long_k``. NaN where no pair was available. A single output gives a dict,
    a list of outputs a list of dicts. ``progress``: optional callable(frames_done).
    """
    single = not isinstance(outputs, (list, tuple)) or (len(outputs) > 0 and _is_frame(outputs[0]))
    streams: list[Iterator] = [iter(outputs)] if single else [iter(o) for o in outputs]
    meter = WarpingErrorMeter(flow_estimator, long_k, skip_cuts, size, max_side, device)
    n = 0
    for inp in inputs:
        if max_frames is not None and n >= max_frames:
            break
        outs = []
        for s in streams:
            try:
                outs.append(next(s))
            except StopIteration:
                outs = None
                break
        if outs is None:
            break
        meter.update(inp, outs)
        n += 1
        if progress is not None:
            progress(n)
    res = meter.result()
    return res[0] if single else res
