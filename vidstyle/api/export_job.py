"""``export(ExportConfig(style, onnx))``: write a style's net as an ONNX model (``vidstyle export``),
for ONNX Runtime and other runtimes: opset 17, input ``x`` ``[B,3,H,W]`` RGB in 0..1, output
``y``; the style's name, painting and arch in the model's metadata."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, OutputError

__all__ = ["ExportConfig", "ExportReport", "export"]


@dataclass(frozen=True)
class ExportConfig:
    """``style`` (a name from ``vidstyle styles``, a ``.safetensors`` file, or a weight mix
    ``"a:0.5,b:0.5"``) exported to the file ``onnx``. ``static_size``: ``(width, height)``
    (multiples of 4) fixes the input to batch 1 and that size; None: dynamic batch, height and
    width. ``overwrite``: replace an existing file."""

    style: str
    onnx: str
    static_size: tuple[int, int] | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "style", os.fspath(self.style))
        object.__setattr__(self, "onnx", os.fspath(self.onnx))
        if not self.style:
            raise InputError("no style given")
        if not self.onnx:
            raise InputError("no output given")
        if self.static_size is not None:
            if len(self.static_size) != 2 or not all(isinstance(v, int) and 4 <= v <= 8192 and v % 4 == 0
                                                     for v in self.static_size):
                raise InputError(f"static_size must be (width, height), multiples of 4 within 4..8192, "
                                 f"not {self.static_size!r}")
            object.__setattr__(self, "static_size", tuple(self.static_size))


@dataclass
class ExportReport:
    """The written model: its ``path``, the ``style`` it holds, the net's ``arch`` name, its input
    ``shape`` (text) and ``bytes`` on disk."""

    path: str
    style: str
    arch: str
    shape: str
    bytes: int


def export(config: ExportConfig) -> ExportReport:
    """Write the model (whole or not at all); returns an :class:`ExportReport`. A missing ``onnx``
    package, an existing file, an unknown style or an output-blending mix is a one-line
    ``VidstyleError``."""
    from ..models.onnx_export import export_onnx, read_metadata, require_onnx

    require_onnx()  # one-line error before any work when onnx is missing
    out = Path(config.onnx)
    if out.exists() and not config.overwrite:
        raise OutputError(f"{out} exists; use --overwrite to replace it")
    net, meta = _load(config.style)
    size = config.static_size
    kwargs: dict = {"dynamic": size is None}
    if size is not None:
        kwargs["sample_size"] = (size[1], size[0])  # the net's (height, width)
    try:
        export_onnx(net, out, meta=meta, **kwargs)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    info = read_metadata(out)
    shape = f"1x3x{size[1]}x{size[0]}" if size else "dynamic batch/height/width"
    return ExportReport(str(out), meta["style"], info.get("arch_name", "?"), shape, out.stat().st_size)


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
