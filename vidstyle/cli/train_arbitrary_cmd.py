"""``vidstyle train-arbitrary``: train the arbitrary-style (AdaIN) decoder in resumable slices."""

from __future__ import annotations

import click

from ..training.arbitrary_config import DEFAULT_HOLDOUT, ArbitraryConfig, ArbitraryLossWeights
from .step_bar import run_step_job, written_text


@click.command("train-arbitrary")
@click.option("--content-dir", required=True, type=click.Path(file_okay=False), help="Folder of training photos.")
@click.option("--style-dir", required=True, type=click.Path(file_okay=False), help="Folder of training paintings.")
@click.option("--out", required=True, help="Output path without extension, e.g. weights/arbitrary/adain.")
@click.option("--holdout", default=",".join(DEFAULT_HOLDOUT), show_default=True,
              help="Comma-separated painting names (file stems) kept out of training for evaluation.")
@click.option("--size", default=ArbitraryConfig.size, show_default=True, help="Training crop size (pixels, multiple of 4).")
@click.option("--style-side", default=ArbitraryConfig.style_side, show_default=True, help="Long side paintings are read at.")
@click.option("--steps", default=ArbitraryConfig.steps, show_default=True)
@click.option("--batch-size", default=ArbitraryConfig.batch_size, show_default=True)
@click.option("--lr", default=ArbitraryConfig.lr, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--width", default=ArbitraryConfig.width, show_default=True,
              help="Decoder channels at full resolution (x2 at half, x4 at quarter resolution).")
@click.option("--style-weight", default=ArbitraryLossWeights.style, show_default=True)
@click.option("--recon-weight", default=ArbitraryLossWeights.recon, show_default=True,
              help="Reconstruction of the photo's own features; 0 disables (pure AdaIN training).")
@click.option("--init", "init", type=click.Path(dir_okay=False), default=None, metavar="DECODER",
              help="Start a new run from a trained decoder's .safetensors (same --width; new settings and optimizer).")
@click.option("--checkpoint-every", default=ArbitraryConfig.checkpoint_every, show_default=True)
@click.option("--preview-image", type=click.Path(dir_okay=False), default=None, help="Content photo for previews.")
@click.option("--preview-style", type=click.Path(dir_okay=False), default=None, help="Style image for previews (default: a held-out painting).")
@click.option("--time-limit", type=float, default=None, help="Stop after this many minutes (checkpointed; --resume continues).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its checkpoint.")
@click.option("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all cores).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--quiet", is_flag=True)
def train_arbitrary_cmd(
    content_dir: str, style_dir: str, out: str, holdout: str, size: int, style_side: int, steps: int, batch_size: int,
    lr: float, seed: int, width: int, style_weight: float, recon_weight: float, init: str | None, checkpoint_every: int, preview_image: str | None,
    preview_style: str | None, time_limit: float | None, resume: bool, threads: int | None, device: str, quiet: bool,
) -> None:
    """Train the decoder that turns any image into a style (AdaIN; checkpoints, --resume continues exactly)."""
    from ..api.arbitrary_job import ArbitraryTrainJob  # keep `vidstyle --help` light

    recon_pixel = ArbitraryLossWeights.recon_pixel if recon_weight > 0 else 0.0
    cfg = ArbitraryConfig(
        content_dir=content_dir, style_dir=style_dir, out=out, holdout=holdout, size=size, style_side=style_side,
        steps=steps, batch_size=batch_size, lr=lr, seed=seed, width=width, checkpoint_every=checkpoint_every,
        weights=ArbitraryLossWeights(style=style_weight, recon=recon_weight, recon_pixel=recon_pixel),
        preview_image=preview_image, preview_style=preview_style, device=device, init=init,
    )
    job = ArbitraryTrainJob(cfg, resume=resume, time_limit=time_limit * 60 if time_limit is not None else None,
                            threads=threads)
    stats = run_step_job(job, quiet)
    if not quiet:
        click.echo(written_text(stats))
