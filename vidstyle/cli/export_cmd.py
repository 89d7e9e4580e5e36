"""``vidstyle export``: write a style net as an ONNX model (for ONNX Runtime and other runtimes)."""

from __future__ import annotations

import click

from .options import parse_frame_size


@click.command("export")
@click.argument("style")
@click.option("--onnx", "onnx_out", required=True, type=click.Path(dir_okay=False), metavar="OUT.onnx",
              help="Write the net as an ONNX model (opset 17, input x [B,3,H,W] RGB in [0,1], output y).")
@click.option("--static-size", default=None, metavar="WxH",
              help="Fix the input to batch 1 and this size (multiples of 4); default: dynamic batch, height, width.")
@click.option("--overwrite", is_flag=True, help="Replace OUT.onnx if it exists.")
@click.option("--quiet", is_flag=True, help="No message on success.")
def export(style: str, onnx_out: str, static_size: str | None, overwrite: bool, quiet: bool) -> None:
    """Export STYLE (a name from `vidstyle styles`, a .safetensors file, or a weight mix a:0.5,b:0.5)
    to ONNX."""
    from ..api.export_job import ExportConfig, export as run_export  # keep --help light

    size = parse_frame_size(static_size, option="--static-size", multiple=4, min_side=4)  # (w, h)
    report = run_export(ExportConfig(style, onnx_out, static_size=size, overwrite=overwrite))
    if not quiet:
        click.echo(f"wrote {report.path}: {report.style} ({report.arch}), {report.shape}, {report.bytes / 1e6:.1f} MB",
                   err=True)
