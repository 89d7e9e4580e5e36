"""The installed style nearest to a style image: where a bake starts from.

A bake fine-tunes a net for a new image within minutes; starting from a trained style whose
painting has similar texture statistics leaves the net far less to learn than random weights. The
distance is the style loss's own measure, the relative Gram error of VGG16 features, between the
image and each style's painting. The paintings are not shipped, so their Grams are:
``weights/grams/paintings.safetensors`` holds ``FILE|LAYER`` -> ``[C,C]`` (float16) for every
painting a shipped sidecar names (``style_image.file``), at :data:`GRAM_LAYERS`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path

import torch

from ..errors import InputError
from ..models.arch import Arch
from ..models.styles import StyleInfo, arch_of, list_styles, search_dirs
from ..models.vgg import VGGFeatures
from .losses import gram_matrix

GRAM_LAYERS = ("relu1_2", "relu2_2", "relu3_3")
"""Layers compared: texture at three scales; relu4_3's Gram (512x512) would quadruple the file for
little change in the ranking."""
GRAMS_FILE = Path("grams") / "paintings.safetensors"
STYLE_SIDE = 512
"""Long side (pixels) of an image whose Grams are compared: the training's ``--style-size``."""

Grams = Mapping[str, torch.Tensor]


def image_grams(vgg: VGGFeatures, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """Grams ``[C,C]`` of ``image`` ``[1,3,H,W]`` (RGB in [0,1]) at :data:`GRAM_LAYERS`."""
    with torch.no_grad():
        feats = vgg(image.to(next(vgg.parameters()).device), layers=GRAM_LAYERS)
    return {k: gram_matrix(feats[k])[0].float().cpu() for k in GRAM_LAYERS}


def gram_distance(a: Grams, b: Grams) -> float:
    """Sum over layers of ``mean((a - b)^2) / mean(b^2)``: the style loss's relative Gram error of
    an image with Grams ``a`` against a painting with Grams ``b``."""
    return float(sum(((a[k] - b[k].float()).pow(2).mean() / b[k].float().pow(2).mean().clamp_min(1e-12))
                     for k in GRAM_LAYERS))


def grams_file() -> Path | None:
    """The painting Grams file of the first search folder that has one."""
    return next((d / GRAMS_FILE for d in search_dirs() if (d / GRAMS_FILE).is_file()), None)


def painting_grams(path: Path | None = None) -> dict[str, dict[str, torch.Tensor]]:
    """``{painting file name: {layer: [C,C]}}`` from ``path`` (default: :func:`grams_file`)."""
    from safetensors.torch import load_file

    path = path or grams_file()
    if path is None:
        return {}
    out: dict[str, dict[str, torch.Tensor]] = {}
    for key, t in load_file(str(path)).items():
        name, _, layer = key.rpartition("|")
        out.setdefault(name, {})[layer] = t
    return {k: v for k, v in out.items() if set(GRAM_LAYERS) <= set(v)}


def fits(info: StyleInfo, arch: Arch) -> bool:
    """Whether ``info``'s weights load into a net of ``arch`` (upsampling may differ)."""
    try:
        return replace(arch_of(info), upsample=arch.upsample) == arch
    except InputError:
        return False


def style_distances(grams: Grams, arch: Arch, exclude: Collection[str] = (),
                    paintings: Mapping[str, Grams] | None = None) -> dict[str, float]:
    """``{style name: Gram distance of its painting to grams}`` for the installed styles of
    ``arch`` whose painting's Grams are known, leaving out the styles named in ``exclude``."""
    paintings = painting_grams() if paintings is None else paintings
    out = {}
    for info in list_styles():
        file = (info.meta.get("style_image") or {}).get("file")
        if info.name in exclude or file not in paintings or not fits(info, arch):
            continue
        out[info.name] = gram_distance(grams, paintings[file])
    return out


def nearest_style(grams: Grams, arch: Arch, exclude: Collection[str] = ()) -> tuple[str | None, dict[str, float]]:
    """The installed style of ``arch`` whose painting is nearest to ``grams`` (None if there is
    none), and every candidate's distance."""
    dist = style_distances(grams, arch, exclude)
    return (min(dist, key=dist.__getitem__) if dist else None), dist


def same_painting_styles(painting_file: str) -> set[str]:
    """The installed styles trained on (or distilled from) the painting ``painting_file``."""
    return {s.name for s in list_styles() if (s.meta.get("style_image") or {}).get("file") == painting_file}


def write_painting_grams(paintings: Mapping[str, Path], vgg: VGGFeatures, out: Path) -> Path:
    """Write the Grams of ``paintings`` (``{file name: image path}``) to ``out`` (float16: the
    ranking needs no more, and the file ships with the styles)."""
    from safetensors.torch import save_file

    from ..io.atomic import atomic_path
    from .data import read_rgb, to_tensor

    tensors = {f"{name}|{layer}": g.half().contiguous()
               for name, path in sorted(paintings.items())
               for layer, g in image_grams(vgg, to_tensor(read_rgb(path, STYLE_SIDE))).items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        save_file(tensors, str(tmp))
    return out
