"""``ArbitraryTrainJob(config).run()``: train the decoder of the any-image (AdaIN) style net
(``vidstyle train-arbitrary``), with :mod:`vidstyle.training.arbitrary`."""

from __future__ import annotations

from pathlib import Path

from ..training.arbitrary_config import ArbitraryConfig
from .step_job import StepJob

__all__ = ["ArbitraryTrainJob"]


class ArbitraryTrainJob(StepJob):
    """One run of an :class:`~vidstyle.training.arbitrary_config.ArbitraryConfig`; see
    :class:`~vidstyle.api.step_job.StepJob`. Needs the VGG16 weights (``vidstyle[train]``)."""

    config_type = ArbitraryConfig
    steps_key = "steps_done"

    def _train(self, config: ArbitraryConfig, **options) -> Path:
        from ..training.arbitrary import train_arbitrary

        return train_arbitrary(config, **options)
