"""Build the temporal-consistency stage from a mode or strength, with the flow it needs."""

from __future__ import annotations

import torch

from ..errors import InputError
from .temporal import DIS_GD_ITERATIONS, DIS_PATCH_STRIDE, MODES, make_consistency

CONSISTENCY_CHOICES = MODES  # off and the presets


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
    from ..flow import get_flow  # noqa: PLC0415 - RAFT/DIS load only when consistency is on

    flow, flow_msg = get_flow(flow_kind, device=str(device), raft_weights=raft_weights,
                              dis_gd_iterations=DIS_GD_ITERATIONS, dis_patch_stride=DIS_PATCH_STRIDE)
    return make_consistency(mode, flow, **overrides), f"consistency {mode}, {flow_msg}"
