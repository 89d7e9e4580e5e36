"""``vidstyle distill``: make a faster net that reproduces a trained style, or bake a style image
into a fast transform net; the options become a ``DistillConfig`` run by ``DistillJob``."""

from __future__ import annotations

import click

from ..models.arch import ARCH_CHOICES
from ..training.distill_config import BAKE_ARCH, DEFAULT_LR, OBJECTIVES, DistillConfig
from .step_bar import run_step_job, written_text

BAKE_MINUTES = 15.0
"""Default ``--time-limit`` with ``--style-image``, so a bake ends by itself (checkpointed)."""


@click.command()
@click.argument("teacher", required=False)
@click.option("--style-image", type=click.Path(dir_okay=False), default=None,
              help="Bake this image into a net (instead of TEACHER); see --objective.")
@click.option("--content-dir", required=True, type=click.Path(file_okay=False), help="Folder of photos to learn on.")
@click.option("--out", required=True, help="Output path without extension, e.g. weights/starry_night_tiny.")
@click.option("--arch", type=click.Choice(ARCH_CHOICES), default=None,
              help=f"The student's arch  [default: tiny; {BAKE_ARCH} with --style-image]")
@click.option("--size", default=192, show_default=True, help="Crop size (pixels, multiple of 4).")
@click.option("--steps", default=3000, show_default=True)
@click.option("--batch-size", default=4, show_default=True)
@click.option("--lr", type=float, default=None,
              help="Peak learning rate (cosine decay to 5% over --steps or --time-limit, whichever ends first)  "
                   f"[default: {DEFAULT_LR['distill']:g}; {DEFAULT_LR['perceptual']:g} with --objective perceptual]")
@click.option("--seed", default=0, show_default=True)
@click.option("--checkpoint-every", default=100, show_default=True)
@click.option("--init", default=None, metavar="STYLE",
              help="Start the student from this style's weights (same arch; e.g. to continue a finished "
                   "distillation with a new schedule); with --style-image also 'nearest' (the installed style "
                   "whose painting is nearest the image) or 'none' (random weights)  [default: random; nearest "
                   "with --style-image]")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=None,
              help="With --style-image: 'perceptual' trains against the image with `vidstyle train`'s losses "
                   "(needs VGG16); 'distill' copies the arbitrary-style net's outputs  [default: perceptual with "
                   "--style-image, else distill]")
@click.option("--preview-image", type=click.Path(dir_okay=False), default=None, help="Content photo for previews.")
@click.option("--time-limit", type=float, default=None,
              help=f"Stop after this many minutes (checkpointed; --resume continues)  [default: none; {BAKE_MINUTES:g} "
                   "with --style-image]")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its checkpoint.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--quiet", is_flag=True)
def distill(teacher: str | None, style_image: str | None, content_dir: str, out: str, arch: str | None, size: int, steps: int,
            batch_size: int, lr: float | None, seed: int, checkpoint_every: int, init: str | None, objective: str | None,
            preview_image: str | None, time_limit: float | None, resume: bool, device: str, quiet: bool) -> None:
    """Teach a smaller, faster net (default: the tiny arch) to reproduce the trained style TEACHER
    (a name from `vidstyle styles` or a .safetensors file). Needs no VGG and no style image.

    With --style-image instead of TEACHER, bake that image into a light net (needs VGG16, the
    [train] extra): trained against the image with `vidstyle train`'s losses, starting from the
    installed style whose painting is nearest, for 15 minutes unless --time-limit says otherwise."""
    from ..api.distill_job import DistillJob  # keep --help light

    cfg = DistillConfig(teacher=teacher, content_dir=content_dir, out=out, arch=arch, size=size, steps=steps,
                        batch_size=batch_size, lr=lr, seed=seed, checkpoint_every=checkpoint_every,
                        preview_image=preview_image, device=device, init=init, style_image=style_image,
                        objective=objective)
    if style_image and time_limit is None:
        time_limit = BAKE_MINUTES
    job = DistillJob(cfg, resume=resume, time_limit=time_limit * 60 if time_limit is not None else None)
    stats = run_step_job(job, quiet)
    if not quiet:
        click.echo(written_text(stats))
        click.echo(_comparison(stats, cfg.objective))


def _comparison(stats, objective: str) -> str:
    """One line on how close the student came to its target: the final losses (means of the last
    steps): the weighted style and content terms against the style image, or the distillation
    loss (L1 + gradient L1 to the teacher's output)."""
    final = stats.final_losses
    loss = final.get("loss")
    if loss is None:
        return "no steps run this time"
    if objective == "perceptual":
        return (f"final losses (weighted, last steps) after {stats.steps} steps: style {final['style']:.3f}, "
                f"content {final['content']:.3f}, total {loss:.3f}")
    return (f"student vs teacher: final loss {loss:.4f} (L1 + gradient L1 to the teacher's output, last steps) "
            f"after {stats.steps} steps")
