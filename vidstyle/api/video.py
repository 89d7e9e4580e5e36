"""``VideoStylizer``: the frame API with temporal consistency, for frames a caller supplies in
order (an OpenCV capture loop, a compositor's frame callback).

Each frame is blended with the previous output warped along the optical flow
(:mod:`vidstyle.consistency.temporal`), which removes most of the frame-to-frame shimmer of a
per-frame net. Call ``reset()`` at a cut (or when frames stop being consecutive) so the next
frame starts fresh; detected scene cuts reset on their own.
"""

from __future__ import annotations

import torch

from ..consistency.build import build_consistency
from .config import StyleSpec
from .frames import Stylizer

__all__ = ["VideoStylizer"]


class VideoStylizer(Stylizer):
    """``VideoStylizer(style, consistency="default")``; ``process(frame, mask=None)`` (or calling
    it) stylizes the next frame of the sequence and returns it in the kind, dtype and layout given
    (see :class:`Stylizer`).

    ``consistency``: ``off``, ``light``, ``default``, ``strong``, ``fine`` or a strength 0..1;
    ``flow``: auto, raft or dis (``raft_weights``: a local RAFT state dict). A tensor batch
    ``[N,3,H,W]`` is taken as N consecutive frames. Other keywords: as :class:`Stylizer`.
    """

    def __init__(self, style: StyleSpec | None = None, *, consistency: str | float = "default", flow: str = "auto",
                 raft_weights: str | None = None, **options) -> None:
        super().__init__(style, **options)
        self.consistency, self.consistency_note = build_consistency(
            consistency if isinstance(consistency, str) else str(float(consistency)), flow, self.device, raft_weights)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for i in range(x.shape[0]):
            content = x[i : i + 1].to(self.device)
            y = self.stylize_tensor(content)
            if self.consistency is not None:
                y = self.consistency.step(content, y)
            outs.append(y)
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def reset(self) -> None:
        """Forget the previous frames (a cut): the next frame is stylized on its own."""
        if self.consistency is not None:
            self.consistency.reset()
