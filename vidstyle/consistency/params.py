"""The tunables of temporal consistency, its named presets and the grammar of ``--consistency``.

Plain Python (no PyTorch): the CLI lists the presets and checks the option before anything heavy
loads. What each field does is described in :mod:`vidstyle.consistency.temporal`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

__all__ = ["ConsistencyParams", "PRESETS", "MODES", "parse_consistency"]


@dataclass(frozen=True)
class ConsistencyParams:
    """Tunables of :class:`TemporalConsistency` (see the module docstring)."""

    alpha: float = 0.85  # weight of the warped previous output where fully trusted
    still_alpha: float | None = 0.98  # ... where the pixel and the shot are still (None: alpha everywhere)
    still_detail: float = 0.7  # detail restoration in a still shot (instead of ``detail``)
    still_px: tuple[float, float] = (0.25, 1.0)  # pixel |flow| (full-resolution px): still below, moving above
    shot_px: tuple[float, float] = (0.15, 0.3)  # 90th percentile of |flow|: a still shot below, a moving one above
    flow_max_side: int | None = 320  # masks and the backward check flow at this long side (None: full resolution)
    warp_flow_max_side: int | None = 640  # the flow that warps, at this long side (None: flow_max_side's; never below it)
    fb_check: bool = True  # forward-backward occlusion check (costs a second flow per frame)
    motion_boundaries: bool = False  # also distrust flow motion boundaries
    photo_lo: float = 0.08  # content warp error (mean |.| over RGB) where trust starts to drop
    photo_hi: float = 0.2  # ... and where it reaches 0
    lf_lo: float = 0.06  # low-frequency output disagreement where trust starts to drop
    lf_hi: float = 0.20  # ... and where it reaches 0
    lf_block: int = 4  # block size (flow-resolution pixels) of the low-frequency check
    erode: int = 0  # shrink the trusted region by this many flow-resolution pixels
    warp_mode: str = "bicubic"  # "bilinear" or "bicubic" for the full-resolution warp
    detail: float = 1.0  # restore the finest band to >= this fraction of the fresh local amplitude
    detail_max_gain: float = 1.6  # cap on that high-frequency gain
    scene_cuts: bool = True  # reset at detected scene cuts


PRESETS: dict[str, ConsistencyParams] = {
    # cheaper: one flow resolution (320 px) for the warp and the masks, and less carried over
    "light": ConsistencyParams(alpha=0.7, detail=0.95, warp_flow_max_side=None, still_alpha=None),
    "default": ConsistencyParams(),
    "strong": ConsistencyParams(alpha=0.9, detail=0.85, lf_hi=0.25),
    # offline quality: flow and masks at full resolution (small or thin moving objects get their
    # own flow instead of the background's), photometric check relaxed accordingly
    "fine": ConsistencyParams(flow_max_side=None),
}
MODES = ("off", *PRESETS)


def parse_consistency(value) -> str | float:
    """The one grammar of ``--consistency``: ``off`` or a preset name (any case) → that name; a
    strength (a float or a string in any Python float syntax) in 0..1 → the float, with 0 (``0``,
    ``0.00``, ``0e0``) → ``"off"``; None → ``"off"``. Anything else is ``InputError``."""
    if value is None:
        return "off"
    if isinstance(value, str):
        key = value.strip().lower()
        if key == "off" or key in PRESETS:
            return key
        try:
            strength = float(key)
        except ValueError:
            raise InputError(f"--consistency must be one of {', '.join(MODES)} or a number in 0..1, "
                             f"not {value!r}") from None
    else:
        strength = float(value)
    if not 0.0 <= strength <= 1.0:  # also rejects NaN
        raise InputError(f"--consistency strength must be within 0..1, not {strength:g}")
    return "off" if strength == 0.0 else strength
