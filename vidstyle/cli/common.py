"""Helpers shared by the CLI commands."""

from __future__ import annotations

from ..consistency.build import CONSISTENCY_CHOICES, build_consistency
from ..errors import InputError
from ..pipeline.device import pick_device

#: Largest training crop: a batch of these already needs gigabytes of activations.
MAX_CROP = 2048

__all__ = ["CONSISTENCY_CHOICES", "build_consistency", "check_crop_size", "pick_device"]


def check_crop_size(size: int, arch: str) -> None:
    """``--size`` of train/distill: a multiple of ``arch``'s stride within 32..:data:`MAX_CROP`."""
    from ..models.arch import resolve_arch

    stride = resolve_arch(arch).stride
    if size % stride or not 32 <= size <= MAX_CROP:
        raise InputError(f"--size must be a multiple of {stride} (the {arch} arch's stride) within 32..{MAX_CROP}")
