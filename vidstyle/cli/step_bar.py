"""What ``train``, ``distill`` and ``train-arbitrary`` show while a training job runs: a progress
bar of steps with the main loss terms, the job's status lines, and the line naming what it wrote."""

from __future__ import annotations

import click

from .lazy_bar import LazyBar

__all__ = ["StepBar", "run_step_job", "written_text"]

#: Loss terms shown beside the bar (label → key in a step's losses), in this order when present.
SHOWN = (("c", "content"), ("s", "style"), ("t", "temporal"), ("sh", "shift"), ("r", "recon"),
         ("px", "recon_pixel"), ("loss", "loss"), ("tot", "total"))


class StepBar(LazyBar):
    """A progress bar of optimizer steps fed with a job's ``StepProgress`` (a resumed run's bar
    starts where it left off), the main loss terms beside it; nothing with ``quiet``."""

    def __init__(self, quiet: bool) -> None:
        super().__init__(quiet, unit="step", dynamic_ncols=True)

    def opening_options(self, p) -> dict:
        return {**self.options, "initial": p.done - 1}

    def update(self, p) -> None:
        super().update(p)
        if self.bar is not None:
            self.bar.set_postfix({label: f"{p.losses[key]:.4f}" if key == "loss" else f"{p.losses[key]:.3g}"
                                  for label, key in SHOWN if key in p.losses and (key != "shift" or p.losses[key])})


def run_step_job(job, quiet: bool):
    """``job.run()`` with a :class:`StepBar` and its status lines (on stdout, between the bar's
    redraws on stderr; none with ``quiet``); returns its ``TrainStats``."""
    bar = StepBar(quiet)

    def say(level: str, text: str) -> None:
        if not quiet:
            click.echo(text)

    try:
        return job.run(progress=bar.update, log=say)
    finally:
        bar.close()


def written_text(stats) -> str:
    """The line saying what a finished training job wrote."""
    from pathlib import Path

    return f"wrote {stats.output} (+ {Path(stats.sidecar).name}); checkpoint kept at {stats.checkpoint}"
