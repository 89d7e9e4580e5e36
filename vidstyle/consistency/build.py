"""Build the temporal-consistency stage from a mode or strength, with the flow it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .params import MODES, parse_consistency

if TYPE_CHECKING:
    import torch

CONSISTENCY_CHOICES = MODES  # off and the presets


def build_consistency(mode, flow_kind: str, device: torch.device, raft_weights: str | None, **overrides):
    """Make the temporal-consistency stage for ``--consistency`` (a preset name or a strength, as
    :func:`~vidstyle.consistency.temporal.parse_consistency` reads it; None when off) and a status
    line; ``overrides``: :class:`~vidstyle.consistency.temporal.ConsistencyParams` fields to change."""
    mode = parse_consistency(mode)
    if mode == "off":
        return None, "consistency off"
    from ..flow import get_flow  # RAFT/DIS load only when consistency is on
    from .temporal import DIS_GD_ITERATIONS, DIS_PATCH_STRIDE, make_consistency

    flow, flow_msg = get_flow(flow_kind, device=str(device), raft_weights=raft_weights,
                              dis_gd_iterations=DIS_GD_ITERATIONS, dis_patch_stride=DIS_PATCH_STRIDE)
    label = mode if isinstance(mode, str) else f"{mode:g}"
    return make_consistency(mode, flow, **overrides), f"consistency {label}, {flow_msg}"
