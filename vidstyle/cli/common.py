"""Helpers shared by the CLI commands."""

from __future__ import annotations

from ..consistency.build import CONSISTENCY_CHOICES, build_consistency
from ..pipeline.device import pick_device

__all__ = ["CONSISTENCY_CHOICES", "build_consistency", "pick_device"]
