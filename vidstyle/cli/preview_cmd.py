"""``vidstyle preview``: a contact sheet of one frame in a style image and the installed styles."""

from __future__ import annotations

import click


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("--style-image", required=True, metavar="IMAGE",
              help="The image to take a style from (or a mix: a.jpg:0.7,b.jpg:0.3).")
@click.option("-o", "--output", required=True, help="The sheet: an image file (.jpg or .png).")
@click.option("--frame", type=click.IntRange(0), default=None, help="Frame number of INPUT (default: the middle one).")
@click.option("--size", type=click.IntRange(64, 1024), default=256, show_default=True, metavar="PX",
              help="Long side of each tile in pixels.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--quiet", is_flag=True, help="No messages (errors still go to stderr).")
def preview(input_path: str, style_image: str, output: str, frame: int | None, size: int, device: str,
            overwrite: bool, quiet: bool) -> None:
    """Write a labelled sheet of one frame of INPUT (video, sequence or image): the frame, the style
    image at strengths 0.4, 0.7 and 1, and every installed style."""
    from ..api.preview import make_preview_sheet  # keep `vidstyle --help` light

    sheet = make_preview_sheet(input_path, style_image, output, frame=frame, size=size, device=device,
                               overwrite=overwrite, log=None if quiet else lambda t: click.echo(f"  {t}", err=True))
    if not quiet:
        click.echo(f"wrote {sheet.path}: {len(sheet.labels)} tiles", err=True)
