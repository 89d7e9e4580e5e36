"""Pick a flow estimator: ``get_flow("auto"|"raft"|"dis", ...) -> (estimator, message)``.

Every estimator is a callable ``estimator(img1, img2) -> flow`` with ``img1``/``img2``
``[B, 3, H, W]`` float RGB in [0, 1] and ``flow`` ``[B, 2, H, W]`` float32 pixels from img1 to img2
(backward-warping convention, see :mod:`vidstyle.flow.warp`), plus a ``.name`` attribute.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import InputError, VidstyleError
from .dis import DISFlow

__all__ = ["get_flow", "FLOW_KINDS"]

FLOW_KINDS = ("auto", "raft", "dis")


def _is_cuda(device) -> bool:
    return torch.device(device).type == "cuda"


def get_flow(
    kind: str = "auto",
    device: str | torch.device = "cpu",
    raft_model: str = "small",
    raft_weights: str | Path | None = None,
    dis_preset: str | None = None,
    dis_max_side: int | None | str = "default",
    dis_gd_iterations: int | None = None,
    dis_patch_stride: int | None = None,
):
    """Return ``(estimator, message)``; ``message`` is one line saying which flow and why.

    ``auto``: RAFT when ``device`` is CUDA and its weights load (``raft_weights`` file, else
    torchvision's cache/download), otherwise DIS. ``raft``: RAFT or a ``VidstyleError``.
    ``dis``: OpenCV DIS on the CPU (``dis_preset``/``dis_max_side``/``dis_gd_iterations``/
    ``dis_patch_stride`` override the defaults).
    """
    kind = (kind or "auto").lower()
    if kind not in FLOW_KINDS:
        raise InputError(f"unknown flow {kind!r}; choose one of {', '.join(FLOW_KINDS)}")

    def dis(reason: str):
        kw = {}
        if dis_preset is not None:
            kw["preset"] = dis_preset
        if dis_max_side != "default":
            kw["max_side"] = dis_max_side
        if dis_gd_iterations is not None:
            kw["gd_iterations"] = dis_gd_iterations
        if dis_patch_stride is not None:
            kw["patch_stride"] = dis_patch_stride
        est = DISFlow(**kw)
        res = f", long side <= {est.max_side}" if est.max_side else ""
        res += f", {est.gd_iterations} iterations" if dis_gd_iterations is not None else ""
        res += f", patch stride {est.patch_stride}" if dis_patch_stride is not None else ""
        return est, f"flow: DIS ({est.preset}{res}, CPU){reason}"

    if kind == "dis":
        return dis("")
    from .raft import RaftFlow  # torchvision RAFT only when needed

    if kind == "raft":
        est = RaftFlow(raft_model, raft_weights, device)
        src = Path(raft_weights).name if raft_weights else "torchvision weights"
        return est, f"flow: RAFT-{raft_model} on {torch.device(device)} ({src})"
    # auto
    if not _is_cuda(device):
        return dis(" — RAFT is used automatically only on CUDA (slow on CPU; use --flow raft to force)")
    try:
        est = RaftFlow(raft_model, raft_weights, device)
    except VidstyleError as e:
        why = str(e).split(": pass --raft-weights")[0]  # drop the CLI hint, we fall back anyway
        return dis(f" — RAFT not used: {why}")
    src = Path(raft_weights).name if raft_weights else "torchvision weights"
    return est, f"flow: RAFT-{raft_model} on {torch.device(device)} ({src})"
