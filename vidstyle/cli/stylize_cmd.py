"""``vidstyle stylize``: stylize a video, an image sequence or an image."""

from __future__ import annotations

import click

from .common import CONSISTENCY_CHOICES, build_consistency, pick_device


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("-s", "--style", required=True, help="Style name (see `vidstyle styles`) or a .safetensors file.")
@click.option("-o", "--output", required=True, help="Output video, image, or sequence pattern (out_%04d.png).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--batch-size", default=4, show_default=True, type=click.IntRange(1, 256))
@click.option("--start", default=None, help="First frame: frame number, seconds (4.5s) or timecode.")
@click.option("--end", default=None, help="End (exclusive): frame number, seconds or timecode.")
@click.option("--codec", default=None, help="h264, h265, prores, ffv1 or png (default: from the output name).")
@click.option("--crf", default=None, type=click.IntRange(0, 51), help="Quality for h264/h265 (lower is better).")
@click.option("--consistency", default="default", show_default=True, help=f"{'|'.join(CONSISTENCY_CHOICES)} or a strength 0..1.")
@click.option("--flow", "flow_kind", type=click.Choice(["auto", "raft", "dis"]), default="auto", show_default=True)
@click.option("--raft-weights", type=click.Path(dir_okay=False), default=None, help="Local RAFT state dict.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--quiet", is_flag=True, help="No progress bar or messages (errors still go to stderr).")
def stylize(
    input_path: str, style: str, output: str, device: str, batch_size: int, start: str | None, end: str | None,
    codec: str | None, crf: int | None, consistency: str, flow_kind: str, raft_weights: str | None,
    overwrite: bool, quiet: bool,
) -> None:
    """Stylize INPUT (video file, image sequence or image) into OUTPUT with a trained style."""
    from ..io.reader import open_source  # noqa: PLC0415 - keep `vidstyle --help` light
    from ..io.writer import open_sink  # noqa: PLC0415
    from ..models.styles import load_style  # noqa: PLC0415
    from ..pipeline.runner import stylize_stream  # noqa: PLC0415
    from ..pipeline.stylizer import Stylizer  # noqa: PLC0415

    dev = pick_device(device)
    net, info = load_style(style)
    cons, message = build_consistency(consistency, flow_kind, dev, raft_weights)
    with open_source(input_path, start=start, end=end) as source:
        sink = open_sink(output, source.info, codec=codec, crf=crf, audio_source=input_path, overwrite=overwrite)
        if not quiet:
            click.echo(f"{input_path} → {output}: style {info.name} ({info.arch_name}) on {dev}; {message}", err=True)
        with sink:
            stats = stylize_stream(
                source, sink, Stylizer(net, dev), consistency=cons, batch_size=batch_size,
                total=source.info.frame_count, quiet=quiet,
            )
        for w in list(getattr(source, "warnings", [])):
            click.echo(f"warning: {w}", err=True)
    if not quiet:
        click.echo(f"wrote {output}: {stats.frames} frames in {stats.seconds:.1f} s ({stats.fps:.1f} fps)", err=True)
