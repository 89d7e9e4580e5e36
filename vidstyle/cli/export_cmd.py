"""``vidstyle export``: write a style net as an ONNX model (for ONNX Runtime and other runtimes)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, OutputError
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
    from ..models.onnx_export import export_onnx, read_metadata, require_onnx

    require_onnx()  # one-line error before any work when onnx is missing
    out = Path(onnx_out)
    if out.exists() and not overwrite:
        raise OutputError(f"{out} exists; use --overwrite to replace it")
    size = parse_frame_size(static_size, option="--static-size", multiple=4, min_side=4)  # (w, h)
    net, meta = _load(style)
    kwargs = {"dynamic": size is None}
    if size is not None:
        kwargs["sample_size"] = (size[1], size[0])  # the net's (height, width)
    try:
        export_onnx(net, out, meta=meta, **kwargs)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    if not quiet:
        info = read_metadata(out)
        shape = f"1x3x{size[1]}x{size[0]}" if size else "dynamic batch/height/width"
        click.echo(f"wrote {out}: {meta['style']} ({info.get('arch_name', '?')}), {shape}, "
                   f"{out.stat().st_size / 1e6:.1f} MB", err=True)


def _load(spec: str):
    """The net to export and its metadata; a mix must interpolate weights (one net)."""
    from ..models.mixing import load_styles_mix, parse_style_spec
    from ..models.styles import find_style
    from ..models.transformer import TransformerNet

    parts = parse_style_spec(spec)
    net, text = load_styles_mix(spec, "cpu")
    if not isinstance(net, TransformerNet):
        raise InputError(f"the mix {spec!r} blends the outputs of several nets ({text}); only one net "
                         "(a style, or a mix of related styles whose weights interpolate) can be exported")
    meta: dict = {"style": spec, "description": text}
    if len([w for _, w in parts if w > 0]) == 1:
        info = find_style(next(n for n, w in parts if w > 0))
        meta.update(style=info.name, source=info.weights.name)
        if info.painting:
            meta["painting"] = info.painting
    return net, meta
