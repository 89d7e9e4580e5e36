"""torchvision RAFT (Teed & Deng 2020) behind vidstyle's flow-estimator interface.

``RaftFlow(...)(img1, img2)``: two ``[B, 3, H, W]`` float RGB batches in [0, 1] → flow from img1 to
img2, ``[B, 2, H, W]`` float32 in pixels, backward-warping convention
(``backward_warp(img2, flow) ≈ img1``), which is RAFT's own convention.

Inputs are scaled to [-1, 1] (as torchvision's RAFT transforms do), replicate-padded to a multiple
of 8 (and to at least 128, the smallest size torchvision's RAFT accepts) and the flow is
cropped back; on CUDA the network runs under fp16 autocast. Weights come
from torchvision's registry (``Raft_Small_Weights.DEFAULT`` / ``Raft_Large_Weights.DEFAULT``: the
torch hub cache, else a download) or from a local file (a state dict saved with ``torch.save`` or
as ``.safetensors``; loaded with ``weights_only=True``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import InputError, VidstyleError
from ..hub import hub_state

__all__ = ["RaftFlow", "load_raft", "load_raft_state", "RAFT_MODELS", "WEIGHTS_UNAVAILABLE"]

RAFT_MODELS = ("small", "large")
_MIN_SIDE = 128
WEIGHTS_UNAVAILABLE = "RAFT weights unavailable (no cache, download failed): pass --raft-weights FILE or use --flow dis"


def _builders(model: str):
    from torchvision.models.optical_flow import (
        Raft_Large_Weights,
        Raft_Small_Weights,
        raft_large,
        raft_small,
    )

    if model == "small":
        return raft_small, Raft_Small_Weights.DEFAULT
    if model == "large":
        return raft_large, Raft_Large_Weights.DEFAULT
    raise InputError(f"unknown RAFT model {model!r}; choose 'small' or 'large'")


def load_raft_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a RAFT state dict from ``path`` (``.safetensors`` or a ``torch.save`` file).

    Accepts a bare state dict or one wrapped as ``{"state_dict": ...}`` / ``{"model": ...}``;
    strips a ``module.`` prefix (DataParallel checkpoints). Never unpickles arbitrary objects.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"RAFT weights file not found: {p}")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p), device="cpu")
        else:
            state = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a bad input file
        raise InputError(f"cannot read RAFT weights {p}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"RAFT weights {p} is not a state dict of tensors")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in state.items()}


def load_raft(model: str = "small", weights: str | Path | None = None, device: str | torch.device = "cpu"):
    """Build torchvision's ``raft_small``/``raft_large`` with weights, in eval mode on ``device``.

    ``weights=None``: torchvision's default weights (hub cache, else download); raises
    ``VidstyleError`` with :data:`WEIGHTS_UNAVAILABLE` when neither works. ``weights=path``: a
    local state dict (``InputError`` if missing, unreadable or not matching the model).
    """
    build, default = _builders(model)
    net = build(weights=None, progress=False)
    if weights is None:
        state = hub_state(default)  # a tampered cached file is refused, never unpickled
        if state is None:
            raise VidstyleError(WEIGHTS_UNAVAILABLE)
        source = f"torchvision {default}"
    else:
        state = load_raft_state(weights)
        source = str(weights)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError:
        raise InputError(f"RAFT weights {source} do not match raft_{model} (wrong model size or not RAFT)") from None
    return net.eval().to(device)


class RaftFlow:
    """RAFT flow estimator. ``num_flow_updates``: refinement iterations (torchvision default 12)."""

    def __init__(
        self,
        model: str = "small",
        weights: str | Path | None = None,
        device: str | torch.device = "cpu",
        num_flow_updates: int = 12,
        net: torch.nn.Module | None = None,
    ) -> None:
        self.model = model
        self.device = torch.device(device)
        self.num_flow_updates = int(num_flow_updates)
        self.net = net.eval().to(self.device) if net is not None else load_raft(model, weights, self.device)
        self.name = f"raft-{model}"

    def __repr__(self) -> str:
        return f"RaftFlow(model={self.model!r}, device={str(self.device)!r}, iters={self.num_flow_updates})"

    @torch.inference_mode()
    def __call__(self, img1: torch.Tensor, img2: torch.Tensor) -> torch.Tensor:
        if img1.shape != img2.shape:
            raise ValueError(f"frames differ in shape: {tuple(img1.shape)} vs {tuple(img2.shape)}")
        if img1.dim() == 3:
            img1, img2 = img1.unsqueeze(0), img2.unsqueeze(0)
        out_device = img1.device
        H, W = img1.shape[-2:]
        x = torch.cat((img1, img2), 0).to(self.device, torch.float32)[:, :3]
        x = x * 2.0 - 1.0
        # Multiple of 8, and at least 128: torchvision's correlation pyramid needs 16x16 features.
        ph, pw = max(_MIN_SIDE, H + (-H) % 8) - H, max(_MIN_SIDE, W + (-W) % 8) - W
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        a, b = x.chunk(2, 0)
        use_amp = self.device.type == "cuda"
        with torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
            flows = self.net(a.contiguous(), b.contiguous(), num_flow_updates=self.num_flow_updates)
        flow = flows[-1].float()[..., :H, :W]
        return flow.contiguous().to(out_device)
