"""Frame API for embedding: ``Stylizer(style)(image)`` on numpy images or torch tensors.

An image goes in and the same kind comes back: a numpy ``H x W x 3`` (or ``x 4``: alpha is passed
through) RGB array of uint8, uint16 or float (0..1) keeps its dtype and shape; a float torch
tensor ``[3,H,W]`` or ``[N,3,H,W]`` in 0..1 keeps its shape, dtype and device. Integer arrays are
scaled to 0..1 and back; float values are clipped to 0..1 for the net (the nets were trained on
display-referred sRGB). The net runs on the engine that ``vidstyle stylize`` would pick
(:func:`vidstyle.pipeline.backends.make_stylizer`), followed by the artist controls.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..errors import InputError
from ..pipeline.backends import make_stylizer
from ..pipeline.color import FrameCodec
from ..pipeline.controls import StyleControls, apply_mask, check_strength
from ..pipeline.device import pick_device
from ..pipeline.mattes import matte_plane
from ..pipeline.tiling import parse_tile
from .config import Controls, Runtime, StyleSpec, style_text
from .style_image import load_net

__all__ = ["Stylizer", "load_engine", "make_engine", "style_controls"]


def make_engine(net, device: torch.device, backend: str, runtime: Runtime, *, spinning: bool = True):
    """The engine that runs ``net`` as ``runtime`` asks (``backend``: as :func:`~.style_image.load_net`
    settled it): ``(engine, note)``. ``engine``: callable ``[N,3,H,W]`` float32 0..1 → the styled
    batch; ``note``: which engine runs, or why a faster one was not used. ``spinning=False`` keeps
    idle exported-engine threads from busy-waiting, for callers that run other work beside the net."""
    options: dict = {"threads": runtime.threads} if runtime.threads else {}
    if not spinning:
        options["spinning"] = False
    return make_stylizer(net, device, backend, tile=runtime.tile, precision=runtime.precision, **options)


def style_controls(controls: Controls, *, strength_in_net: bool = False) -> StyleControls:
    """The artist controls applied after the net for ``controls``; ``strength_in_net``: the net
    already holds the strength (a style image's), so the output is not blended again."""
    return StyleControls(strength=1.0 if strength_in_net else controls.strength,
                         preserve_colors=controls.preserve_colors)


def load_engine(style: StyleSpec | None, style_image: StyleSpec | None, device: torch.device, runtime: Runtime, *,
                mix: str = "auto", strength: float = 1.0, spinning: bool = True):
    """The style net and the engine that runs it (:func:`make_engine`): ``(net, engine, label,
    note, arbitrary)``; ``arbitrary``: a style image's net, which holds ``strength``.

    One loader for every surface (stylize, the frame API, live), so a style, a device, a backend
    or a precision means the same everywhere.
    """
    net, label, backend, arbitrary = load_net(style, style_image, device, mix=mix, strength=strength,
                                              backend=runtime.backend, precision=runtime.precision,
                                              cpu_net=runtime.cpu_net)
    engine, note = make_engine(net, device, backend, runtime, spinning=spinning)
    return net, engine, label, note, arbitrary


class Stylizer:
    """``Stylizer(style)(image) -> image``: one picture at a time (no temporal state).

    ``style``: a name, a ``.safetensors`` path or a mix ``{"a": 0.7, "b": 0.3}`` (``mix``: auto,
    weights, outputs); or ``style_image``: any image (or a mix ``"a.jpg:0.7,b.jpg:0.3"``) as the
    style, on PyTorch, with ``strength`` acting in the arbitrary net's feature space. ``device``/``backend``/``precision``/``tile``: as ``vidstyle stylize`` takes
    them; ``threads``: the exported engines' CPU threads (PyTorch keeps its own setting);
    ``cpu_net``: on a CPU, a style's distilled CPU net when it ships one (as ``RenderConfig``).
    ``strength`` (0..1) and ``preserve_colors`` are attributes that may change between calls.
    ``description`` says which style runs where.
    """

    def __init__(self, style: StyleSpec | None = None, *, style_image: StyleSpec | None = None, device: str = "auto",
                 backend: str = "auto", precision: str = "fp32", threads: int | None = None,
                 tile: int | str = "auto", mix: str = "auto", strength: float = 1.0,
                 preserve_colors: bool = False, cpu_net: bool = True) -> None:
        try:
            self.controls = StyleControls(strength=check_strength(strength), preserve_colors=bool(preserve_colors))
            parse_tile(tile)
        except ValueError as e:
            raise InputError(str(e)) from None
        if style is not None and (isinstance(style, Mapping) or not isinstance(style, str)):
            style = style_text(style)
        runtime = Runtime(device=device, backend=backend, precision=precision, threads=threads, tile=tile,
                          cpu_net=cpu_net)
        self.device = pick_device(runtime.device)
        net, self.engine, label, note, self._arbitrary = load_engine(style, style_image, self.device, runtime, mix=mix,
                                                                     strength=self.controls.strength)
        if self._arbitrary:  # the strength lives in the net (feature space), not in the output blend
            self.controls.strength = 1.0
        self.net = net
        self.description = f"{label} on {self.device}" + (f" ({note})" if note else "")
        self._codec = FrameCodec()

    @property
    def strength(self) -> float:
        return self.net.strength if self._arbitrary else self.controls.strength

    @strength.setter
    def strength(self, value: float) -> None:
        try:
            s = check_strength(value)
        except ValueError as e:
            raise InputError(str(e)) from None
        if self._arbitrary:
            self.engine.net.strength = s  # the engine's copy of the net (the same module on PyTorch)
            self.net.strength = s
        else:
            self.controls.strength = s

    @property
    def preserve_colors(self) -> bool:
        return self.controls.preserve_colors

    @preserve_colors.setter
    def preserve_colors(self, value: bool) -> None:
        self.controls.preserve_colors = bool(value)

    def stylize_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """``[N,3,H,W]`` float32 in 0..1 on any device → the styled batch (float32, on the
        engine's device), artist controls applied."""
        x = x.to(self.device)
        y = self.engine(x)
        return self.controls(x, y) if not self.controls.is_identity else y

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return self.stylize_tensor(x)

    def process(self, image, mask=None):
        """Stylize one image (numpy HWC) or a tensor (CHW/NCHW); see the module docstring.

        ``mask`` (optional) restricts the style, white = styled: a numpy ``H x W`` (or
        ``x 1|3|4``, as :func:`~vidstyle.pipeline.mattes.matte_plane` reads it) image or a float
        tensor ``[H,W]``/``[1,H,W]``/``[N,1,H,W]`` in 0..1, of the image's size; the result is
        composited over the input last (after temporal consistency in :class:`VideoStylizer`).
        """
        if isinstance(image, torch.Tensor):
            x, back = tensor_in(image)
            y = self._run(x)
            if mask is not None:
                y = apply_mask(x.to(y.device), y, matte_tensor(mask, y))
            return back(y)
        img = check_array(image)
        y = self._run(self._codec.to_tensor(img, self.device))
        if self.controls.strength <= 0.0 and not self._arbitrary:  # the input, bit for bit
            return img.copy()
        return self._codec.to_image(y, img, None if mask is None else matte_tensor(mask, y))

    __call__ = process


def check_array(image) -> np.ndarray:
    """``image`` if it is an ``H x W x 3|4`` uint8/uint16/float array, else an ``InputError``."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"expected a numpy image or a torch tensor, not {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 1:
        raise InputError(f"expected an H x W x 3 RGB (or RGBA) image, not shape {tuple(image.shape)}")
    if image.dtype not in (np.uint8, np.uint16) and image.dtype.kind != "f":
        raise InputError(f"expected a uint8, uint16 or float image, not {image.dtype}")
    return image


def matte_tensor(mask, like: torch.Tensor) -> torch.Tensor:
    """A frame API ``mask`` → ``[N|1,1,H,W]`` float32 in 0..1 on ``like``'s device."""
    if isinstance(mask, torch.Tensor):
        m = mask.detach().float()
        m = m.reshape(1, 1, *m.shape[-2:]) if m.dim() in (2, 3) else m
    elif isinstance(mask, np.ndarray):
        m = torch.from_numpy(matte_plane(mask))[None, None]
    else:
        raise InputError(f"expected a numpy or torch mask, not {type(mask).__name__}")
    if m.dim() != 4 or m.shape[1] != 1 or m.shape[-2:] != like.shape[-2:]:
        raise InputError(f"the mask ({tuple(mask.shape)}) does not match the image ({tuple(like.shape[-2:])})")
    return m.clamp(0.0, 1.0).to(like.device)


def tensor_in(t: torch.Tensor):
    """A ``[3,H,W]``/``[N,3,H,W]`` float tensor → (``[N,3,H,W]`` float32 in 0..1, a function that
    puts a result back into ``t``'s shape, dtype and device)."""
    if not t.is_floating_point() or t.dim() not in (3, 4) or t.shape[-3] != 3:
        raise InputError(f"expected a float tensor [3,H,W] or [N,3,H,W], not {t.dtype} {tuple(t.shape)}")
    dtype, device, squeeze = t.dtype, t.device, t.dim() == 3
    x = (t.unsqueeze(0) if squeeze else t).detach().float().clamp(0.0, 1.0)

    def back(y: torch.Tensor) -> torch.Tensor:
        y = y.to(device=device, dtype=dtype)
        return y[0] if squeeze else y

    return x, back
