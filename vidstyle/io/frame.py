"""The unit that flows through vidstyle: one decoded picture plus its timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


@dataclass
class Frame:
    """A decoded frame.

    ``image``: ``H x W x C`` RGB (C=3) or RGBA (C=4), dtype ``uint8``, ``uint16`` (16-bit
    sources) or ``float32`` (EXR, scene-linear). ``pts`` is the presentation timestamp in units of
    ``time_base`` (``None`` for stills); ``time`` the same in seconds; ``index`` the 0-based
    position in the source (before range trimming).
    """

    image: np.ndarray
    index: int
    pts: int | None = None
    time_base: Fraction | None = None
    time: float | None = None
    meta: dict = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


@dataclass
class VideoInfo:
    """What a source knows about itself (filled by the reader, used by the writer)."""

    path: str
    kind: str  # "video" | "sequence" | "image"
    width: int
    height: int
    fps: Fraction | None = None  # nominal / average frame rate
    time_base: Fraction | None = None
    frame_count: int | None = None  # after range trimming, when known
    duration: float | None = None  # seconds, when known
    rotation: int = 0  # degrees, from display-matrix metadata
    audio_streams: int = 0
    has_alpha: bool = False
    dtype: str = "uint8"  # "uint8" | "uint16" | "float32"
    codec: str | None = None
    start_time: float = 0.0  # seconds of the first selected frame (for audio trimming)
    end_time: float | None = None  # seconds just past the last selected frame, when known
    # --- added by the I/O layer (all optional) ---
    source_start: float = 0.0  # seconds of the source's first frame (same timeline as start_time)
    trimmed: bool = False  # a --start/--end range was applied
    pix_fmt: str | None = None  # the source's pixel format (video), e.g. "yuv420p"
