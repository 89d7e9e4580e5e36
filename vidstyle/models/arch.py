"""Transform-net archs (widths, depth, pixel folding, upsampling) and where a style file records its
own: plain Python, no PyTorch, so ``vidstyle styles`` and every ``--help`` start fast."""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, replace
from pathlib import Path

__all__ = ["ARCH_CHOICES", "ARCHS", "UPSAMPLE_MODES", "Arch", "resolve_arch", "safetensors_metadata", "stored_arch"]


@dataclass(frozen=True)
class Arch:
    """Width and depth of a transform net.

    ``channels`` gives the width of each resolution level, finest first: the encoder has one
    stride-2 convolution between consecutive levels (three levels, two downsamplings, in Johnson et
    al.'s net; two levels, one downsampling, are allowed too) and the residual blocks run at the
    coarsest level.

    ``unshuffle`` > 1 folds each ``u x u`` pixel block into channels before the first layer
    (``pixel_unshuffle``) and unfolds the last layer's ``3*u*u`` channels back into pixels
    (``pixel_shuffle``, as in ESPCN): every layer then runs at ``1/u`` of the resolution of the
    plain net, and the first/last convolutions shrink from 9x9 to 5x5 (a similar footprint in
    input pixels).

    ``upsample`` is how the decoder doubles the resolution before each of its 3x3 convolutions:
    ``"nearest"`` (Johnson et al.; each coarse pixel becomes a 2x2 block, so the output depends on
    where the content sits on the net's stride-4 grid: a 1-pixel shift of the input changes the
    light net's output by ~12/255) or ``"bilinear"`` (half-pixel centres, edges clamped, and the
    following convolution pads by replication; the same shift changes an untrained copy of the
    light net by ~3/255, and the shipped starry_night, retrained with a shift-equivariance loss, by
    ~8/255). Both cost the same on the CPU (``fold.SubPixelConvNormAct``). A weights file records its
    arch in its own metadata too, since the shapes do not tell the two apart.
    """

    channels: tuple[int, ...] = (32, 64, 128)
    blocks: int = 5
    unshuffle: int = 1
    upsample: str = "nearest"

    def __post_init__(self) -> None:
        if len(self.channels) not in (2, 3):
            raise ValueError(f"an arch has 2 or 3 channel levels, not {len(self.channels)}")
        # bounds far above any useful net, so a corrupt sidecar cannot make a net of many gigabytes
        if not all(1 <= c <= MAX_CHANNELS for c in self.channels):
            raise ValueError(f"channels must be within 1..{MAX_CHANNELS}, not {list(self.channels)}")
        if not 0 <= self.blocks <= MAX_BLOCKS:
            raise ValueError(f"blocks must be within 0..{MAX_BLOCKS}, not {self.blocks}")
        if not 1 <= self.unshuffle <= MAX_UNSHUFFLE:
            raise ValueError(f"unshuffle must be within 1..{MAX_UNSHUFFLE}, not {self.unshuffle}")
        if self.upsample not in UPSAMPLE_MODES:
            raise ValueError(f"unknown upsample mode {self.upsample!r}; choose one of {', '.join(UPSAMPLE_MODES)}")

    @property
    def stride(self) -> int:
        """Input sides must be multiples of this (the coarsest level's scale)."""
        return 2 ** (len(self.channels) - 1) * self.unshuffle

    @property
    def edge_kernel(self) -> int:
        """Kernel size of the first and last convolutions."""
        return 9 if self.unshuffle == 1 else 5

    @property
    def name(self) -> str:
        for key, value in ARCHS.items():
            if value == self:
                return key
            if replace(value, upsample=self.upsample) == self:
                return f"{key}-{self.upsample}"  # e.g. "light-bilinear"
        suffix = f"/u{self.unshuffle}" if self.unshuffle != 1 else ""
        suffix += f"/{self.upsample}" if self.upsample != "nearest" else ""
        return f"custom-{'/'.join(map(str, self.channels))}x{self.blocks}{suffix}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        if self.unshuffle == 1:  # sidecars of plain nets stay as they were
            del d["unshuffle"]
        if self.upsample == "nearest":
            del d["upsample"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Arch":
        return cls(channels=tuple(int(c) for c in d["channels"]), blocks=int(d["blocks"]),
                   unshuffle=int(d.get("unshuffle", 1)), upsample=str(d.get("upsample", "nearest")))


UPSAMPLE_MODES = ("nearest", "bilinear")
#: Limits of a sane arch (see ``Arch.__post_init__``).
MAX_CHANNELS, MAX_BLOCKS, MAX_UNSHUFFLE = 1024, 64, 8

ARCHS: dict[str, Arch] = {
    "full": Arch((32, 64, 128), 5),
    "light": Arch((16, 32, 64), 3),
    # Real-time CPU variant (~2x faster than light at 640x360): thin full-resolution layers, which
    # dominate the cost. Best made by distilling a trained style (``vidstyle distill``).
    "tiny": Arch((8, 16, 48), 3),
    # Real-time CPU arch on 2x2-folded pixels: 5x5 conv at half resolution, one stride-2 conv down to
    # light's quarter scale, 3 residual blocks of 48 channels there (~4x fewer operations than
    # light). Made by distilling a trained style (``vidstyle distill --arch fast``). Its blocks stay
    # at 1/4 scale: at 1/8 the net learns the brush texture far more slowly.
    "fast": Arch((16, 48), 3, unshuffle=2),
}


ARCH_CHOICES = [*ARCHS, *(f"{a}-{m}" for a in ARCHS for m in UPSAMPLE_MODES if m != "nearest")]
"""Arch names the command line takes: every named arch, and each with bilinear upsampling."""


def resolve_arch(arch: str | Arch | dict) -> Arch:
    """Turn ``"full"``/``"light"`` (or ``"light-bilinear"``: a named arch with another upsampling
    mode), a dict or an ``Arch`` into an ``Arch``."""
    if isinstance(arch, Arch):
        return arch
    if isinstance(arch, dict):
        return Arch.from_dict(arch)
    base, _, mode = arch.partition("-")
    if base not in ARCHS or (mode and mode not in UPSAMPLE_MODES):
        raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)} "
                         f"(optionally with -{'/-'.join(UPSAMPLE_MODES)})")
    return replace(ARCHS[base], upsample=mode) if mode else ARCHS[base]


def safetensors_metadata(path: str | Path) -> dict[str, str]:
    """The ``__metadata__`` of a ``.safetensors`` file, read from its JSON header alone (an 8-byte
    little-endian length, then the header): no tensor is loaded and nothing is unpickled. Raises
    ``OSError`` or ``ValueError`` for an unreadable or malformed header."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: not a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > 100_000_000:
            raise ValueError(f"{path}: safetensors header too large ({n} bytes)")
        header = json.loads(f.read(n))
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def stored_arch(weights: str | Path) -> Arch | None:
    """The arch recorded in a weights file's safetensors metadata (None when absent or unreadable):
    without a sidecar it is the only way to tell bilinear upsampling from nearest."""
    try:
        raw = safetensors_metadata(weights).get("arch")
        return Arch.from_dict(json.loads(raw)) if raw else None
    except Exception:  # noqa: BLE001 - unreadable here; load_style reports a broken file itself
        return None
