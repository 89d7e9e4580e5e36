"""``evaluate(EvalConfig(input, outputs))``: how much stylized videos flicker, as the temporal
warping error (E_warp, Lai et al. 2018) that ``vidstyle eval`` reports.

Flow and occlusion are estimated on the input; each output (a stylization of the input, frame for
frame) is scored by how well its frames agree with each other along that flow, short-term
(consecutive frames) and long-term (``long_k`` frames apart), next to the input's own warping
error (the floor). Several outputs share one pass over the input (flow is computed once).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass

from ..errors import InputError
from .eval_report import EvalReport
from .stats import Progress

__all__ = ["EvalConfig", "evaluate"]


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation of ``outputs`` (paths, or one path) against their ``input``.

    ``flow``: auto, raft (``raft_weights``: a local RAFT state dict) or dis; ``device``: auto,
    cpu or cuda (for RAFT and the error maps); ``long_k``: frame gap of the long-term error
    (1..100); ``max_frames``: at most this many frames (2 or more); ``size``: ``(width, height)``
    the frames are resized to, or ``max_side``: the long side shrunk to it (px); ``keep_cuts``:
    also score pairs across detected scene cuts (as the paper does); ``threads``: PyTorch CPU
    threads (0: its default); ``max_pixels``: the largest frame accepted (None:
    ``$VIDSTYLE_MAX_PIXELS`` or 100 megapixels), checked before decoding.
    """

    input: str
    outputs: tuple[str, ...]
    flow: str = "auto"
    raft_weights: str | None = None
    device: str = "auto"
    long_k: int = 5
    max_frames: int | None = None
    size: tuple[int, int] | None = None
    max_side: int | None = None
    keep_cuts: bool = False
    threads: int = 0
    max_pixels: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", os.fspath(self.input))
        outputs = [self.outputs] if isinstance(self.outputs, (str, os.PathLike)) else list(self.outputs)
        object.__setattr__(self, "outputs", tuple(os.fspath(p) for p in outputs))
        if not self.outputs:
            raise InputError("no output to evaluate given")
        if self.flow not in ("auto", "raft", "dis"):
            raise InputError(f"unknown flow {self.flow!r}; use auto, raft, dis")
        for name, lo, hi, none_ok in (("long_k", 1, 100, False), ("max_frames", 2, 1 << 40, True),
                                      ("max_side", 16, 1 << 20, True), ("threads", 0, 256, False),
                                      ("max_pixels", 1, 1 << 40, True)):
            v = getattr(self, name)
            if not ((v is None and none_ok) or (isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi)):
                raise InputError(f"{name} must be a whole number in {lo}..{hi}, not {v!r}")
        if self.size is not None:
            if len(self.size) != 2 or not all(isinstance(v, int) and v >= 16 for v in self.size):
                raise InputError(f"size must be (width, height), each at least 16 pixels, not {self.size!r}")
            object.__setattr__(self, "size", tuple(self.size))


def evaluate(config: EvalConfig, progress: Callable[[Progress], None] | None = None,
             log: Callable[[str, str], None] | None = None) -> EvalReport:
    """Measure; returns an :class:`~vidstyle.api.eval_report.EvalReport`. ``progress(Progress)``
    after every frame; ``log(level, text)`` gets the flow's status line. Bad input is a
    ``VidstyleError`` with a one-line message."""
    from ..flow import get_flow
    from ..io.limits import check_pixels
    from ..pipeline.device import pick_device
    from ..pipeline.exported_stylizer import torch_threads

    if config.size is not None:  # frames are resized to it: as large as a decoded frame
        check_pixels(*config.size, "--size", config.max_pixels)
    with torch_threads(config.threads) if config.threads else nullcontext():
        dev = pick_device(config.device)
        flow, flow_note = get_flow(config.flow, device=str(dev), raft_weights=config.raft_weights, dis_max_side=None)
        (log or (lambda level, text: None))("info", flow_note)
        report = _measure(config, flow, dev, progress)
    report.flow = flow_note
    for r in report.results:
        r["warnings"] = report.warnings
    if report.results[0]["frames"] < 2:
        raise InputError("need at least 2 frames to measure temporal stability")
    return report


def _measure(config: EvalConfig, flow, dev, progress: Callable[[Progress], None] | None) -> EvalReport:
    """Open the input and the outputs and score them in one pass."""
    from ..io.diagnostics import collect_warnings
    from ..io.reader import open_source
    from ..metrics.warping_error import warping_error

    with ExitStack() as stack:
        warnings = stack.enter_context(collect_warnings())
        src = stack.enter_context(open_source(config.input, max_pixels=config.max_pixels))
        outs = [stack.enter_context(open_source(p, max_pixels=config.max_pixels)) for p in config.outputs]
        _check_lengths((config.input, *config.outputs), (src, *outs))
        total = src.info.frame_count
        if config.max_frames is not None:
            total = min(total, config.max_frames) if total else config.max_frames
        t0 = time.perf_counter()

        def frame_done(n: int) -> None:
            if progress is not None:
                dt = time.perf_counter() - t0
                progress(Progress(n, total, n / dt if dt > 0 else 0.0, dt))

        try:
            res = warping_error(src, list(outs), flow, long_k=config.long_k, max_frames=config.max_frames,
                                size=config.size, max_side=config.max_side, skip_cuts=not config.keep_cuts,
                                device=dev, progress=frame_done)
        except ValueError as e:
            if "no frames" in str(e):
                raise InputError(f"{config.input}: no frames to compare") from None
            raise
        for r, p in zip(res, config.outputs):
            r["input"], r["output"] = config.input, p
        counts = [s.info.frame_count for s in (src, *outs)]
    return EvalReport(res, list(warnings), counts)


def _check_lengths(paths: Sequence[str], sources: Sequence) -> None:
    """``InputError`` for a source whose header says it has fewer than 2 frames."""
    for path, s in zip(paths, sources):
        n = s.info.frame_count
        if n is not None and n < 2:
            raise InputError(f"{path}: {n} frame{'' if n == 1 else 's'}; need at least 2 to measure temporal stability")
