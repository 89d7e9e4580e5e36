"""``TrainJob(config).run()``: train a style net on a painting and a folder of photos
(``vidstyle train``), with :mod:`vidstyle.training.trainer`."""

from __future__ import annotations

from pathlib import Path

from ..training.config import TrainConfig
from .step_job import StepJob

__all__ = ["TrainJob"]


class TrainJob(StepJob):
    """One run of a :class:`~vidstyle.training.config.TrainConfig`; see
    :class:`~vidstyle.api.step_job.StepJob`. Needs the VGG16 weights (``vidstyle[train]``)."""

    config_type = TrainConfig

    def _train(self, config: TrainConfig, **options) -> Path:
        from ..training.trainer import train

        return train(config, **options)
