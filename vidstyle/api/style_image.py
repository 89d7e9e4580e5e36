"""Any image as a style: the arbitrary-style (AdaIN) net behind ``style_image``.

``style_image`` takes one image path, or a mix in the grammar of style mixes
(``a.jpg:0.7,b.jpg:0.3``, :func:`vidstyle.models.mixing.parse_style_spec`); the images'
statistics are mixed inside one net (:mod:`vidstyle.models.arbitrary`). ``strength`` then is the
net's feature-space strength (0: the decoder's reconstruction of the input), not a blend of the
output with the input, so the output-side strength of the artist controls stays at 1.

The net runs on PyTorch only: the exported engines (ONNX Runtime, OpenVINO, int8) take the
transform nets, whose export is checked against PyTorch; ``auto`` picks PyTorch for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import nn

from ..errors import InputError
from ..models.mixing import parse_style_spec
from .config import StyleSpec, style_text

__all__ = ["IMAGE_EXTENSIONS", "check_engine", "is_style_image_spec", "load_net", "load_style_image_net",
           "style_image_parts"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
"""Names that mark a style spec as image files (live mode's style list holds both kinds)."""


def style_image_parts(spec: StyleSpec) -> list[tuple[str, float]]:
    """``"a.jpg:0.7,b.jpg:0.3"`` (or ``{"a.jpg": 0.7, ...}``, or a path) → ``[(path, weight)]``,
    weights summing to one, zero-weight entries dropped."""
    text = style_text(spec) if isinstance(spec, Mapping) else os.fspath(spec)
    return [(p, w) for p, w in parse_style_spec(text) if w > 0]


def is_style_image_spec(spec: str) -> bool:
    """Does every entry of ``spec`` (a path or a mix) name an image file by its extension?"""
    from ..models.mixing import split_mix_item

    names = [split_mix_item(s)[0] for s in str(spec).split(",") if s.strip()]
    return bool(names) and all(n.lower().endswith(IMAGE_EXTENSIONS) for n in names)


def load_style_image_net(spec: StyleSpec, device: torch.device | str = "cpu", strength: float = 1.0) -> tuple[nn.Module, str]:
    """The :class:`~vidstyle.models.arbitrary.ArbitraryStyleNet` for ``spec`` on ``device`` and a
    label for status lines. Bad images and missing VGG weights are one-line ``VidstyleError``."""
    from ..models.arbitrary import build_style_net  # heavy, only for style images

    parts = style_image_parts(spec)
    net = build_style_net([p for p, _ in parts], [w for _, w in parts], strength)
    names = [os.path.basename(p) for p, _ in parts]
    label = names[0] if len(parts) == 1 else " + ".join(f"{n} {w:.0%}" for n, (_, w) in zip(names, parts))
    amount = f", strength {strength:g}" if strength < 1 else ""
    return net.to(device).eval(), f"image {label} (arbitrary AdaIN{amount})"


def check_engine(backend: str, precision: str) -> str:
    """The backend the arbitrary net runs on (``torch``); an ``InputError`` for an engine or a
    precision it cannot use."""
    if backend not in ("auto", "torch"):
        raise InputError(f"--style-image runs on the torch backend, not {backend}; use --backend torch or auto")
    if precision != "fp32":
        raise InputError(f"--style-image runs in fp32 only, not --precision {precision}")
    return "torch"


def load_net(style: StyleSpec | None, style_image: StyleSpec | None, device: torch.device, *, mix: str = "auto",
             strength: float = 1.0, backend: str = "auto", precision: str = "fp32",
             cpu_net: bool = True) -> tuple[nn.Module, str, str, bool]:
    """The net for a shipped style or a style image: ``(net, label, backend, arbitrary)``.

    Exactly one of ``style``/``style_image`` is given. For a style image, ``strength`` is baked
    into the net and ``backend`` becomes ``torch`` (see the module docstring). On a CPU, with
    ``cpu_net``, a single named style that ships a CPU net (:func:`~vidstyle.models.styles.cpu_twin`)
    runs that net instead.
    """
    from ..models.mixing import load_styles_mix

    if (style is None) == (style_image is None):
        raise InputError("give either a style or a style image, not both" if style is not None
                         else "no style given: give a style or a style image")
    if style_image is not None:
        backend = check_engine(backend, precision)
        net, label = load_style_image_net(style_image, device, strength)
        return net, label, backend, True
    text = style_text(style)
    twin = _cpu_twin(text) if cpu_net and device.type == "cpu" else None
    if twin is not None:
        net, label = load_styles_mix(str(twin.weights), device, mode=mix)
        return net, f"{text} as its CPU net {label}", backend, False
    net, label = load_styles_mix(text, device, mode=mix)
    return net, label, backend, False


def _cpu_twin(text: str):
    """The CPU net of ``text`` when it names one shipped style that has one (not a file, not a mix)."""
    from ..models.mixing import parse_style_spec
    from ..models.styles import cpu_twin, find_style, names_file

    parts = [name for name, weight in parse_style_spec(text) if weight > 0]
    if len(parts) != 1 or names_file(parts[0]):
        return None
    return cpu_twin(find_style(parts[0]))
