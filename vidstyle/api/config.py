"""The settings of a render job as frozen dataclasses.

Every field declares in ``metadata["frames"]`` whether it changes the output's frames (or how
they are laid out in the file). The resume fingerprint (:mod:`vidstyle.api.fingerprint`) is
built from exactly those fields, so an option added here cannot be forgotten by ``resume``: a
new field without the metadata fails the tests. ``metadata["identity"]`` marks file fields whose
*file* counts (absolute path, size, mtime), not only the text given.

This module imports nothing heavy: a config can be built (and checked) without torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

__all__ = ["Controls", "RenderConfig", "Runtime", "StyleSpec", "style_text"]

StyleSpec = str | os.PathLike | Mapping[str, float]
"""A style name, a ``.safetensors`` path, or a mix ``{"starry_night": 0.7, "great_wave": 0.3}``."""

Position = int | float | str | None
"""A range end: a frame number (int), seconds (float) or text as ``--start``/``--end`` take it."""


def _opt(default: Any = None, *, frames: bool, identity: str | None = None, factory: Any = None) -> Any:
    """A field with its ``frames`` flag (and ``identity``: ``"path"`` or ``"file"``, see
    :func:`vidstyle.api.fingerprint.fingerprint`)."""
    meta: dict[str, Any] = {"frames": frames}
    if identity:
        meta["identity"] = identity
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _required(*, frames: bool, identity: str | None = None) -> Any:
    meta: dict[str, Any] = {"frames": frames}
    if identity:
        meta["identity"] = identity
    return field(metadata=meta)


@dataclass(frozen=True)
class Controls:
    """Artist controls applied after the net (see :mod:`vidstyle.pipeline.controls`).

    ``strength``: 0 (the input) .. 1 (full style). ``preserve_colors``: keep the input's chroma.
    ``mask``: a matte (image, video, sequence, or ``"alpha"``; white = styled) softened by
    ``mask_feather`` px (Gaussian sigma). ``colorspace``: encoding of the input and image outputs
    (``auto``: EXR scene-linear, others sRGB).
    """

    strength: float = _opt(1.0, frames=True)
    preserve_colors: bool = _opt(False, frames=True)
    mask: str | None = _opt(None, frames=True, identity="file")
    mask_feather: float = _opt(3.0, frames=True)
    colorspace: str = _opt("auto", frames=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", _number(self.strength, "strength", 0.0, 1.0))
        object.__setattr__(self, "mask_feather", _number(self.mask_feather, "mask_feather", 0.0, 1000.0))
        if self.mask is not None:
            object.__setattr__(self, "mask", os.fspath(self.mask))
        _choice(self.colorspace, "colorspace", ("auto", "srgb", "linear"))


@dataclass(frozen=True)
class Runtime:
    """Where and how the net runs. ``device``: auto, cpu or cuda; ``backend``: auto, torch, onnx
    or openvino; ``precision``: fp32 or int8 (CPU engines); ``threads``: CPU threads for the net
    (None: all); ``batch_size``: frames per net call (None: 1 on CPU, 4 on CUDA); ``tile``:
    ``"auto"``, ``"off"`` or a tile size in px.

    Device, engine, threads and batching give the same frames up to float rounding, so a run may
    be resumed on another machine; int8 and tiling change them. ``max_pixels``: the largest frame
    accepted (None: ``$VIDSTYLE_MAX_PIXELS`` or 100 megapixels), checked before decoding.
    ``cpu_net``: on a CPU, run a style's distilled CPU net when it ships one (same look, a few
    times faster); False runs the trained net everywhere.
    """

    device: str = _opt("auto", frames=False)
    backend: str = _opt("auto", frames=False)
    precision: str = _opt("fp32", frames=True)
    threads: int | None = _opt(None, frames=False)
    batch_size: int | None = _opt(None, frames=False)
    tile: int | str = _opt("auto", frames=True)
    max_pixels: int | None = _opt(None, frames=False)
    # which net runs is in the fingerprint already, as the digest of the loaded weights
    cpu_net: bool = _opt(True, frames=False)

    def __post_init__(self) -> None:
        _choice(self.backend, "backend", ("auto", "torch", "onnx", "openvino"))
        _choice(self.precision, "precision", ("fp32", "int8"))
        for name in ("threads", "batch_size"):
            v = getattr(self, name)
            if v is not None and not _whole(v, 1, 256):
                raise _error(f"{name} must be a whole number in 1..256, not {v!r}")
        if self.max_pixels is not None and not _whole(self.max_pixels, 1, 1 << 40):
            raise _error(f"max_pixels must be a positive whole number, not {self.max_pixels!r}")


@dataclass(frozen=True)
class RenderConfig:
    """One render: ``input`` (video, image sequence or image) → ``output`` with ``style``.

    ``style_image`` instead of ``style``: any image (or a mix ``"a.jpg:0.7,b.jpg:0.3"``) as the
    style, through the arbitrary-style net (see :mod:`vidstyle.api.style_image`); then
    ``controls.strength`` is that net's feature-space strength.

    ``start``/``end``: the range (end exclusive). ``codec``/``crf``: output encoding (default from
    the output name). ``consistency``: ``off``, ``light``, ``default``, ``strong``, ``fine`` or a
    strength 0..1; ``flow``: auto, raft or dis (``raft_weights``: a local RAFT state dict).
    ``mix``: how a style mix is made (auto, weights, outputs). ``exr_half``: half-float EXR output.
    ``overwrite``: replace an existing output (and drop an interrupted run's parts); ``resume``:
    continue an interrupted run of the same settings; ``checkpoint_every``: frames per saved
    part of a video or image-sequence output.
    """

    input: str = _required(frames=True, identity="path")
    output: str = _required(frames=False)
    style: StyleSpec | None = _opt(None, frames=True)
    mix: str = _opt("auto", frames=True)
    start: Position = _opt(None, frames=True)
    end: Position = _opt(None, frames=True)
    codec: str | None = _opt(None, frames=True)
    crf: int | None = _opt(None, frames=True)
    consistency: str | float = _opt("default", frames=True)
    flow: str = _opt("auto", frames=True)
    raft_weights: str | None = _opt(None, frames=True, identity="file")
    controls: Controls = _opt(frames=True, factory=Controls)
    runtime: Runtime = _opt(frames=True, factory=Runtime)
    exr_half: bool = _opt(False, frames=True)
    overwrite: bool = _opt(False, frames=False)
    resume: bool = _opt(False, frames=False)
    checkpoint_every: int = _opt(250, frames=True)
    # any image as a style (``"a.jpg"`` or a mix ``"a.jpg:0.7,b.jpg:0.3"``) instead of ``style``
    style_image: StyleSpec | None = _opt(None, frames=True, identity="file")

    def __post_init__(self) -> None:
        for name in ("input", "output", "raft_weights"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, os.fspath(v))
        if not self.input:
            raise _error("no input given")
        if not self.output:
            raise _error("no output given")
        if isinstance(self.style, Mapping):  # a private copy (a plain dict: configs travel by pickle)
            object.__setattr__(self, "style", dict(self.style))
        elif isinstance(self.style, os.PathLike):
            object.__setattr__(self, "style", os.fspath(self.style))
        _check_style_choice(self)
        _choice(self.mix, "mix", ("auto", "weights", "outputs"))
        _choice(self.flow, "flow", ("auto", "raft", "dis"))
        if self.crf is not None and not _whole(self.crf, 0, 51):
            raise _error(f"crf must be a whole number in 0..51, not {self.crf!r}")
        if not _whole(self.checkpoint_every, 1, 1_000_000):
            raise _error(f"checkpoint_every must be a whole number in 1..1000000, not {self.checkpoint_every!r}")
        if isinstance(self.consistency, (int, float)) and not isinstance(self.consistency, bool):
            _number(self.consistency, "consistency", 0.0, 1.0)
        exr = self.output.lower().rstrip("/").endswith(".exr") or (self.codec or "").lower() == "exr"
        if self.exr_half and not exr:
            raise _error("exr_half needs an EXR output (out_%04d.exr or codec exr)")


def _check_style_choice(config: RenderConfig) -> None:
    """Exactly one of ``style``/``style_image``; the image spec kept as text."""
    if config.style_image is not None:
        if config.style is not None:
            raise _error("give either style or style_image, not both")
        object.__setattr__(config, "style_image", style_text(config.style_image))
    elif config.style is None:
        raise _error("no style given")


def style_text(style: StyleSpec) -> str:
    """``style`` as the mix text that :func:`vidstyle.models.mixing.parse_style_spec` reads
    (``{"a": 0.7, "b": 0.3}`` → ``"a:0.7,b:0.3"``)."""
    if isinstance(style, Mapping):
        return ",".join(f"{name}:{float(w)!r}" for name, w in style.items())
    return os.fspath(style)


def position_text(value: Position) -> str | None:
    """A range end as the reader's text: int → frame number, float → seconds."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise _error(f"bad range position {value!r}")
    if isinstance(value, int):
        return str(value)
    return f"{float(value)!r}s"


def _error(message: str) -> InputError:
    return InputError(message)


def _number(value: Any, name: str, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _error(f"{name} must be a number in {lo:g}..{hi:g}, not {value!r}") from None
    if isinstance(value, bool) or not lo <= x <= hi:  # also rejects NaN
        raise _error(f"{name} must be within {lo:g}..{hi:g}, not {value!r}")
    return x


def _whole(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise _error(f"unknown {name} {value!r}; use {', '.join(choices)}")
