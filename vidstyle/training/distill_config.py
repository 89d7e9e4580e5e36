"""Settings of a distillation run, without PyTorch (the CLI reads their defaults for ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from .run_config import RunConfig, check_crop, not_negative

__all__ = ["BAKE_ARCH", "DistillConfig", "check_teacher"]

BAKE_ARCH = "light"
"""Student arch for a style image: the baked net is that style's only net, so it gets a trained
style's capacity rather than the tiny arch meant for copying one."""


@dataclass(frozen=True, kw_only=True)
class DistillConfig(RunConfig):
    """Everything that defines a distillation run (saved in checkpoints and the sidecar).

    Exactly one of ``teacher`` (a style name or file) and ``style_image`` (an image path whose
    arbitrary-style net teaches) is set; the other is empty. ``arch``: the student's (default:
    ``tiny``, :data:`BAKE_ARCH` for a style image). ``gradient_weight``: the finite-difference term
    of the loss; ``noise_std``: Gaussian noise on the student's input (0..1 pixels). ``init``: a
    style of the student's arch it starts from. Shared fields:
    :class:`~vidstyle.training.run_config.RunConfig`.
    """

    teacher: str | None = None
    style_image: str | None = None
    arch: str | None = None
    size: int = 192
    steps: int = 3000
    lr: float = 2e-3
    gradient_weight: float = 1.0
    noise_std: float = 0.02

    def check(self) -> None:
        check_teacher(self.teacher, self.style_image)
        if self.arch is None:
            object.__setattr__(self, "arch", BAKE_ARCH if self.style_image else "tiny")
        check_crop(self.size, self.arch)
        super().check()
        not_negative("gradient_weight", self.gradient_weight)
        not_negative("noise_std", self.noise_std)


def check_teacher(teacher: str | None, style_image: str | None) -> None:
    """``InputError`` unless exactly one of a teacher style and a style image is given."""
    if bool(teacher) == bool(style_image):
        raise InputError("give either a teacher style or --style-image, not both" if teacher
                         else "no teacher given: give a teacher style or --style-image")
