"""The Python API: render jobs (:mod:`.job`) configured by frozen dataclasses (:mod:`.config`),
the frame API for embedding (:mod:`.frames`, :mod:`.video`; :mod:`.switching` switches styles
frame by frame, for live mode), and a job or function behind each other command: training
(:mod:`.train_job`, :mod:`.distill_job`, :mod:`.arbitrary_job`, sharing :mod:`.step_job`; configs
from :mod:`vidstyle.training`), :mod:`.eval_job` and :mod:`.export_job`.

The names are resolved on first use (the configs import no torch; the jobs and the stylizers do).
"""

from __future__ import annotations

import importlib

_WHERE = {
    "Cancelled": "vidstyle.errors",
    "VidstyleError": "vidstyle.errors",
    # rendering
    "Controls": "vidstyle.api.config",
    "RenderConfig": "vidstyle.api.config",
    "Runtime": "vidstyle.api.config",
    "Progress": "vidstyle.api.stats",
    "RenderStats": "vidstyle.api.stats",
    "RenderJob": "vidstyle.api.job",
    "Stylizer": "vidstyle.api.frames",
    "VideoStylizer": "vidstyle.api.video",
    # training, distilling, the any-image decoder
    "TrainConfig": "vidstyle.training.config",
    "LossWeights": "vidstyle.training.config",
    "DistillConfig": "vidstyle.training.distill_config",
    "ArbitraryConfig": "vidstyle.training.arbitrary_config",
    "ArbitraryLossWeights": "vidstyle.training.arbitrary_config",
    "StepProgress": "vidstyle.api.step_job",
    "TrainStats": "vidstyle.api.step_job",
    "TrainJob": "vidstyle.api.train_job",
    "DistillJob": "vidstyle.api.distill_job",
    "ArbitraryTrainJob": "vidstyle.api.arbitrary_job",
    # measuring flicker, exporting
    "EvalConfig": "vidstyle.api.eval_job",
    "EvalReport": "vidstyle.api.eval_report",
    "evaluate": "vidstyle.api.eval_job",
    "ExportConfig": "vidstyle.api.export_job",
    "ExportReport": "vidstyle.api.export_job",
    "export": "vidstyle.api.export_job",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
