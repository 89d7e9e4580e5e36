"""Helpers shared by the CLI commands."""

from __future__ import annotations

import torch

from ..consistency.temporal import MODES
from ..errors import InputError


def pick_device(spec: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a clear error."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(spec)
    except RuntimeError:
        raise InputError(f"unknown device {spec!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but no CUDA GPU is available")
    if dev.type not in ("cpu", "cuda"):
        raise InputError(f"unsupported device {spec!r}; use auto, cpu or cuda")
    return dev


CONSISTENCY_CHOICES = MODES  # off and the presets


def check_crop_size(size: int, arch: str) -> None:
    """``--size`` of train/distill: a multiple of ``arch``'s stride and at least 32."""
    from ..models.transformer import resolve_arch  # noqa: PLC0415

    stride = resolve_arch(arch).stride
    if size % stride or size < 32:
        raise InputError(f"--size must be a multiple of {stride} (the {arch} arch's stride) and at least 32")


def build_consistency(mode: str, flow_kind: str, device: torch.device, raft_weights: str | None, **overrides):
    """Make the temporal-consistency stage for ``--consistency`` (None when off) and a status line;
    ``overrides``: :class:`~vidstyle.consistency.temporal.ConsistencyParams` fields to change."""
    if mode == "off":
        return None, "consistency off"
    if mode not in CONSISTENCY_CHOICES:
        try:
            strength = float(mode)
        except ValueError:
            raise InputError(f"--consistency must be one of {', '.join(CONSISTENCY_CHOICES)} or a number in 0..1") from None
        if not 0.0 <= strength <= 1.0:
            raise InputError("--consistency strength must be within 0..1")
        if strength == 0.0:
            return None, "consistency off"
    from ..consistency.temporal import DIS_GD_ITERATIONS, DIS_PATCH_STRIDE, make_consistency  # noqa: PLC0415
    from ..flow import get_flow  # noqa: PLC0415

    flow, flow_msg = get_flow(flow_kind, device=str(device), raft_weights=raft_weights,
                              dis_gd_iterations=DIS_GD_ITERATIONS, dis_patch_stride=DIS_PATCH_STRIDE)
    return make_consistency(mode, flow, **overrides), f"consistency {mode}, {flow_msg}"
