"""What the training jobs share (``TrainJob``, ``DistillJob``, ``ArbitraryTrainJob``): a frozen,
checked config from :mod:`vidstyle.training` in, a run of optimizer steps with progress reports
and cancelling, :class:`TrainStats` out.

Cancelling: :meth:`StepJob.cancel` may be called from any thread; the run stops after the step in
progress, saves its checkpoint (``resume=True`` continues from it) and raises
:class:`~vidstyle.errors.Cancelled`; the weights file is not written.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..errors import Cancelled, InputError
from ..training.config import checkpoint_path
from ..training.run_config import RunConfig, check_time_limit

__all__ = ["StepJob", "StepProgress", "TrainStats"]

Log = Callable[[str, str], None]
"""``log(level, text)``: ``"info"`` (status lines), ``"note"`` (advice) or ``"warning"``."""


@dataclass(frozen=True)
class StepProgress:
    """``done`` optimizer steps of ``total`` (counting those of a resumed checkpoint), ``seconds``
    into this run, and the last step's ``losses`` (loss term → weighted value)."""

    done: int
    total: int
    seconds: float
    losses: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainStats:
    """A finished run: the weights ``output`` (``.safetensors``) with its ``sidecar`` (``.json``),
    ``preview`` image and resumable ``checkpoint``; ``steps`` done of ``total_steps`` (fewer when a
    time limit ended the run), ``seconds`` of this run, ``final_losses`` (mean of the last steps)."""

    output: str
    sidecar: str
    preview: str
    checkpoint: str
    steps: int
    total_steps: int
    seconds: float
    final_losses: dict[str, float] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.steps >= self.total_steps


class StepJob:
    """One training run of ``config`` (see the module docstring). ``resume``: continue the run's
    checkpoint; ``time_limit``: seconds after which the run stops at a step boundary with its
    weights and checkpoint written; ``threads``: PyTorch CPU threads for the run (None: all)."""

    config_type: ClassVar[type[RunConfig]] = RunConfig
    steps_key: ClassVar[str] = "steps"  # the sidecar's count of steps done, under "training"

    def __init__(self, config: RunConfig, *, resume: bool = False, time_limit: float | None = None,
                 threads: int | None = None) -> None:
        if not isinstance(config, self.config_type):
            raise TypeError(f"{type(self).__name__} takes a {self.config_type.__name__}, not {type(config).__name__}")
        check_time_limit(time_limit)
        if threads is not None and threads < 1:
            raise InputError("--threads must be at least 1")
        self.config, self.resume, self.time_limit, self.threads = config, resume, time_limit, threads
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop the run after the step in progress (thread-safe); ``run`` then raises ``Cancelled``."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self, progress: Callable[[StepProgress], None] | None = None, log: Log | None = None) -> TrainStats:
        """Train; returns :class:`TrainStats`. ``progress(StepProgress)`` is called after every step;
        ``log(level, text)`` gets status lines. Raises ``VidstyleError`` for bad settings, input or
        output (one-line messages), ``Cancelled`` after :meth:`cancel`."""
        from ..pipeline.device import pick_device
        from ..pipeline.exported_stylizer import torch_threads

        if self.cancelled:
            raise Cancelled()
        config = dataclasses.replace(self.config, device=str(pick_device(self.config.device)))
        t0 = time.perf_counter()

        def step(done: int, losses: dict[str, float]) -> None:
            if progress is not None:
                progress(StepProgress(done, config.steps, time.perf_counter() - t0, dict(losses)))

        with torch_threads(self.threads) if self.threads else nullcontext():
            path = self._train(config, resume=self.resume, quiet=True, time_limit=self.time_limit, progress=step,
                               cancel=self._cancel)
        stats = self._stats(Path(path), config)
        if not stats.finished and self.time_limit is not None:
            (log or (lambda level, text: None))(
                "info", f"time limit reached at step {stats.steps}/{config.steps}; --resume continues from here")
        return stats

    def _train(self, config: RunConfig, **options) -> Path:
        """Run the trainer of this kind of job; returns the weights file."""
        raise NotImplementedError

    def _stats(self, weights: Path, config: RunConfig) -> TrainStats:
        sidecar = weights.with_suffix(".json")
        training = json.loads(sidecar.read_text()).get("training", {})
        out = Path(config.out)
        return TrainStats(
            output=str(weights), sidecar=str(sidecar), preview=str(out.with_name(out.name + "_preview.jpg")),
            checkpoint=str(checkpoint_path(out)), steps=int(training.get(self.steps_key, 0)),
            total_steps=config.steps, seconds=float(training.get("seconds_this_run", 0.0)),
            final_losses=dict(training.get("final_losses", {})),
        )
