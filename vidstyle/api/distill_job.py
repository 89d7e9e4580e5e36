"""``DistillJob(config).run()``: teach a smaller net a trained style, or bake a style image into a
transform net (``vidstyle distill``), with :mod:`vidstyle.training.distill`."""

from __future__ import annotations

from pathlib import Path

from ..training.distill_config import DistillConfig
from .step_job import StepJob

__all__ = ["DistillJob"]


class DistillJob(StepJob):
    """One run of a :class:`~vidstyle.training.distill_config.DistillConfig`; see
    :class:`~vidstyle.api.step_job.StepJob`. ``stats.final_losses["loss"]`` says how close the
    student came to its target (last steps): L1 + gradient L1 to the teacher's output, or with the
    perceptual objective the weighted total, beside its ``style`` and ``content`` terms."""

    config_type = DistillConfig

    def _train(self, config: DistillConfig, **options) -> Path:
        from ..training.distill import distill

        return distill(config, **options)
