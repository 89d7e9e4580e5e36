"""``vidstyle train``: train a style net with perceptual + temporal losses."""

from __future__ import annotations

import click

from ..models.arch import ARCH_CHOICES
from ..training.config import LossWeights, TrainConfig
from .step_bar import run_step_job, written_text


@click.command()
@click.option("--style-image", required=True, type=click.Path(dir_okay=False), help="The painting to learn.")
@click.option("--content-dir", required=True, type=click.Path(file_okay=False), help="Folder of training photos.")
@click.option("--out", required=True, help="Output path without extension, e.g. weights/starry_night.")
@click.option("--arch", type=click.Choice(ARCH_CHOICES), default="full", show_default=True,
              help="full 32/64/128x5, light 16/32/64x3, tiny 8/16/48x3, fast light on 2x2-folded pixels (for tiny and fast, distilling a trained style is better); "
                   "NAME-bilinear: the same with bilinear upsampling, whose strokes move with the content (less flicker on pans).")
@click.option("--size", default=256, show_default=True, help="Training crop size (pixels).")
@click.option("--style-size", default=512, show_default=True, help="Long side of the style image.")
@click.option("--steps", default=2000, show_default=True)
@click.option("--batch-size", default=4, show_default=True)
@click.option("--lr", default=1e-3, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--style-weight", default=LossWeights.style, show_default=True)
@click.option("--content-weight", default=LossWeights.content, show_default=True)
@click.option("--temporal-weight", default=LossWeights.temporal, show_default=True, help="Output temporal loss; 0 disables.")
@click.option("--shift-weight", default=LossWeights.shift, show_default=True,
              help="Shift-equivariance loss (output of a shifted crop against the shifted output); 0 disables.")
@click.option("--init", "init", default=None, metavar="STYLE",
              help="Start from this style's weights (same layers; the upsampling may differ, e.g. a light style into light-bilinear).")
@click.option("--checkpoint-every", default=100, show_default=True)
@click.option("--preview-image", type=click.Path(dir_okay=False), default=None, help="Content photo for previews.")
@click.option("--style-title", default=None, help="Painting title for the sidecar.")
@click.option("--style-license", default=None, help="Licence of the style image for the sidecar.")
@click.option("--style-source", default=None, help="Where the style image comes from.")
@click.option("--time-limit", type=float, default=None, help="Stop after this many minutes (checkpointed; --resume continues).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its checkpoint.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--quiet", is_flag=True)
def train(
    style_image: str, content_dir: str, out: str, arch: str, size: int, style_size: int, steps: int,
    batch_size: int, lr: float, seed: int, style_weight: float, content_weight: float, temporal_weight: float,
    shift_weight: float, init: str | None, checkpoint_every: int, preview_image: str | None, style_title: str | None, style_license: str | None,
    style_source: str | None, time_limit: float | None, resume: bool, device: str, quiet: bool,
) -> None:
    """Train a style net on a folder of photos (checkpoints; --resume continues exactly)."""
    from ..api.train_job import TrainJob  # keep --help light

    no_temporal = {"feature_temporal": 0.0, "noise": 0.0} if temporal_weight == 0 else {}
    cfg = TrainConfig(
        style_image=style_image, content_dir=content_dir, out=out, arch=arch, size=size, style_size=style_size,
        steps=steps, batch_size=batch_size, lr=lr, seed=seed, checkpoint_every=checkpoint_every,
        weights=LossWeights(content=content_weight, style=style_weight, temporal=temporal_weight, shift=shift_weight,
                            **no_temporal),
        preview_image=preview_image, device=device, style_title=style_title,
        style_license=style_license, style_source=style_source, init=init,
    )
    job = TrainJob(cfg, resume=resume, time_limit=time_limit * 60 if time_limit is not None else None)
    stats = run_step_job(job, quiet)
    if not quiet:
        click.echo(written_text(stats))
