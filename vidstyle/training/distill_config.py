"""Settings of a distillation or bake run, without PyTorch (the CLI reads their defaults and
choices for ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from .run_config import RunConfig, check_crop, not_negative

__all__ = ["BAKE_ARCH", "DEFAULT_LR", "NEAREST", "NO_INIT", "OBJECTIVES", "DistillConfig", "check_objective",
           "check_teacher"]

BAKE_ARCH = "light"
"""Student arch for a style image: the baked net is that style's only net, so it gets a trained
style's capacity rather than the tiny arch meant for copying one."""
OBJECTIVES = ("perceptual", "distill")
"""What the student learns from (:mod:`vidstyle.training.bake`): the style image's perceptual
losses, or a teacher net's outputs."""
DEFAULT_LR = {"perceptual": 1e-3, "distill": 2e-3}
"""Peak learning rates: ``vidstyle train``'s for the perceptual objective, the distillation's own
(its L1 targets are steadier) for ``distill``."""
NEAREST = "nearest"
"""``init`` value: start from the installed style whose painting is nearest the style image."""
NO_INIT = "none"
"""``init`` value: start from random weights (the default without a style image)."""


@dataclass(frozen=True, kw_only=True)
class DistillConfig(RunConfig):
    """Everything that defines a distillation run (saved in checkpoints and the sidecar).

    Exactly one of ``teacher`` (a style name or file) and ``style_image`` (an image to bake) is
    set; the other is empty. ``objective`` (one of :data:`OBJECTIVES`): default ``perceptual``
    with a style image, else ``distill`` (with a style image, its arbitrary-style net teaches).
    ``arch``: the student's (default: ``tiny``, :data:`BAKE_ARCH` for a style image). ``lr``: peak
    learning rate (default: :data:`DEFAULT_LR` of the objective). ``init``: a style of the
    student's arch it starts from; with a style image also :data:`NEAREST` (the default) or
    :data:`NO_INIT`. ``gradient_weight``: the finite-difference term of the distillation loss;
    ``noise_std``: Gaussian noise on the student's input (0..1 pixels). Defaults are resolved when
    the config is made, so the API and the CLI run the same settings. Shared fields:
    :class:`~vidstyle.training.run_config.RunConfig`.
    """

    teacher: str | None = None
    style_image: str | None = None
    objective: str | None = None
    arch: str | None = None
    size: int = 192
    steps: int = 3000
    lr: float | None = None  # type: ignore[assignment]  # None: DEFAULT_LR of the objective
    gradient_weight: float = 1.0
    noise_std: float = 0.02

    def check(self) -> None:
        check_teacher(self.teacher, self.style_image)
        image = bool(self.style_image)
        self._default("objective", "perceptual" if image else "distill")
        check_objective(self.objective, self.style_image)
        self._default("arch", BAKE_ARCH if image else "tiny")
        self._default("lr", DEFAULT_LR[self.objective])
        self._default("init", NEAREST if image else None)
        if self.init == NEAREST and not image:
            raise InputError("--init nearest needs --style-image (it picks the style nearest that image)")
        check_crop(self.size, self.arch)
        super().check()
        not_negative("gradient_weight", self.gradient_weight)
        not_negative("noise_std", self.noise_std)

    def _default(self, name: str, value: object) -> None:
        """Set the field ``name`` to ``value`` when it is None (a frozen field, so at construction only)."""
        if getattr(self, name) is None:
            object.__setattr__(self, name, value)


def check_teacher(teacher: str | None, style_image: str | None) -> None:
    """``InputError`` unless exactly one of a teacher style and a style image is given."""
    if bool(teacher) == bool(style_image):
        raise InputError("give either a teacher style or --style-image, not both" if teacher
                         else "no teacher given: give a teacher style or --style-image")


def check_objective(objective: str | None, style_image: str | None) -> None:
    """``InputError`` for an unknown objective or a perceptual one without a style image."""
    if objective not in OBJECTIVES:
        raise InputError(f"--objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    if objective == "perceptual" and not style_image:
        raise InputError("--objective perceptual needs --style-image (a teacher style has no image to match)")
