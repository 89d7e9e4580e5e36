"""What a render job reports: progress while it runs, statistics when it is done."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Progress", "RenderStats"]


@dataclass(frozen=True)
class Progress:
    """``done`` frames written of ``total`` (None when the source does not say), at ``fps``
    frames per second over ``seconds`` of this run so far."""

    done: int
    total: int | None
    fps: float
    seconds: float


@dataclass
class RenderStats:
    """A finished render: ``frames`` in ``output``, of which ``resumed_frames`` came from the
    saved parts of an interrupted run; ``stylized`` frames went through the net in ``seconds``
    (``fps``), counting the warm-up frames a resumed run stylizes again; ``warnings`` about the
    input or the output."""

    output: str
    frames: int = 0
    stylized: int = 0
    seconds: float = 0.0
    resumed_frames: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.stylized / self.seconds if self.seconds > 0 else 0.0
