"""torchvision's pretrained weights (VGG16, RAFT) read as tensors only.

torchvision checks a weights file's hash only when it downloads it and then unpickles it with
``weights_only=False``, so a file placed in the torch hub cache could run code. Here the cached
file, or the fresh download, is read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from .errors import VidstyleError, first_line


def load_tensor_file(path: str | Path) -> dict[str, torch.Tensor]:
    """A ``torch.save`` state dict read with ``weights_only=True``; a file holding other objects,
    or an unreadable one, is a one-line ``VidstyleError`` naming ``path``."""
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise VidstyleError(f"refusing to read {path}: it holds Python objects besides tensors, which "
                            "could run code; delete it to download it again") from None
    except Exception as e:  # noqa: BLE001 - zip and OS errors come in many kinds
        raise VidstyleError(f"cannot read {path} ({first_line(e)}); delete it to download it again") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise VidstyleError(f"refusing to read {path}: not a state dict of tensors; delete it to download it again")
    return state


def hub_file(weights) -> Path:
    """Where torchvision keeps ``weights`` (a ``WeightsEnum`` member) in the torch hub cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def hub_state(weights, download: bool = True) -> dict[str, torch.Tensor] | None:
    """The state dict of torchvision ``weights``: the hub cache's file (refused with
    ``VidstyleError`` if it is not plain tensors), else a hash-checked download when ``download``;
    None when it is not cached and cannot be downloaded."""
    path = hub_file(weights)
    if path.exists():
        return load_tensor_file(path)
    if not download:
        return None
    try:
        torch.hub.load_state_dict_from_url(weights.url, progress=False, check_hash=True, weights_only=True)
    except Exception:  # noqa: BLE001 - network errors come in many kinds
        return None
    return load_tensor_file(path)
