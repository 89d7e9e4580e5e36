"""``RenderJob(config).run()``: stylize a video, an image sequence or an image into a file.

The workflow behind ``vidstyle stylize``: pick the device and engine, budget threads, plan a
resume, open the input, the matte and the output (written to a temporary file and renamed into
place only when complete; video and image-sequence outputs in saved parts, see
:mod:`vidstyle.io.checkpoint`), then stream the frames through
:func:`vidstyle.pipeline.runner.stylize_stream`.

Cancelling: :meth:`RenderJob.cancel` may be called from any thread; the run stops once the net
call in progress returns, and ``run`` raises :class:`~vidstyle.errors.Cancelled` (a
``VidstyleError``) after removing the temporary output. A resumable output keeps its complete saved parts
(``Cancelled.saved_frames``), which a run with ``resume=True`` continues. Ctrl-C and other
exceptions unwind the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack

import torch

from ..consistency.build import build_consistency
from ..errors import Cancelled, InputError
from ..io import checkpoint
from ..io.reader import open_source
from ..io.writer import open_sink
from ..models.mixing import load_styles_mix
from ..pipeline import runner
from ..pipeline.backends import make_stylizer
from ..pipeline.color import FrameCodec
from ..pipeline.controls import StyleControls
from ..pipeline.device import pick_device
from ..pipeline.exported_stylizer import opencv_threads, threads_beside, torch_threads
from ..pipeline.tiling import parse_tile
from .config import RenderConfig, position_text, style_text
from .fingerprint import fingerprint
from .stats import Progress, RenderStats

__all__ = ["RenderJob"]

Log = Callable[[str, str], None]
"""``log(level, text)``: ``"info"`` (status lines), ``"note"`` (advice) or ``"warning"``."""


class RenderJob:
    """One render of a :class:`~vidstyle.api.config.RenderConfig` (see the module docstring).

    After a run that stopped, ``saved_frames`` is the number of frames kept in ``work_dir`` for a
    resumed run (0: nothing kept).
    """

    def __init__(self, config: RenderConfig) -> None:
        if not isinstance(config, RenderConfig):
            raise TypeError(f"RenderJob takes a RenderConfig, not {type(config).__name__}")
        self.config = config
        self.work_dir = checkpoint.work_dir(config.output)
        self.saved_frames = 0
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop the run (thread-safe); ``run`` then raises :class:`~vidstyle.errors.Cancelled`.
        Called before ``run``, the run stops before it writes anything."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(saved_frames=self.saved_frames)

    def run(self, progress: Callable[[Progress], None] | None = None, log: Log | None = None) -> RenderStats:
        """Render; returns :class:`~vidstyle.api.stats.RenderStats`. ``progress(Progress)`` is called
        after every written frame (from the encoding thread: keep it short); ``log(level, text)``
        gets status lines, notes and warnings. Raises ``VidstyleError`` for bad settings, input or
        output (one-line messages), ``Cancelled`` after :meth:`cancel`."""
        cfg, rt, ctl = self.config, self.config.runtime, self.config.controls
        say = log or (lambda level, text: None)
        self._check()
        try:
            tile = parse_tile(rt.tile)
        except ValueError as e:
            raise InputError(str(e)) from None
        controls = StyleControls(strength=ctl.strength, preserve_colors=ctl.preserve_colors)
        dev = pick_device(rt.device)
        batch_size = rt.batch_size or (4 if dev.type == "cuda" else 1)
        net, style_label = load_styles_mix(style_text(cfg.style), dev, mode=cfg.mix)
        mode = cfg.consistency if isinstance(cfg.consistency, str) else str(float(cfg.consistency))
        cons, cons_note = build_consistency(mode, cfg.flow, dev, cfg.raft_weights)
        fp = fingerprint(cfg, net)
        point = checkpoint.plan_resume(cfg.output, fp, resume=cfg.resume, overwrite=cfg.overwrite,
                                       warmup=checkpoint.WARMUP_FRAMES if cons is not None else 1)
        cores = rt.threads or torch.get_num_threads()
        # idle engine threads must not spin: decoding, encoding and consistency run beside the net
        stylizer, engine = make_stylizer(net, dev, rt.backend, tile=tile, precision=rt.precision, spinning=False,
                                         **({"threads": rt.threads} if rt.threads else {}))
        # an exported-net engine has every core; PyTorch and OpenCV only run what is beside the net
        side = threads_beside(stylizer, cores)
        if cfg.resume and point is None:
            say("info", f"nothing saved to resume for {cfg.output}: starting from the beginning")
        self._check()
        start = point.start if point and point.start else position_text(cfg.start)
        warnings: list[str] = []
        with open_source(cfg.input, start=start, end=position_text(cfg.end)) as source, ExitStack() as stack:
            matte = None
            if ctl.mask is not None:
                from ..pipeline.mattes import open_matte  # noqa: PLC0415 - only for masked runs

                matte = stack.enter_context(open_matte(ctl.mask, source.info, feather=ctl.mask_feather))
            frame_codec = FrameCodec.for_paths(cfg.input, source.info.dtype, cfg.output, ctl.colorspace, cfg.codec)
            audio = cfg.input if source.info.kind == "video" else None  # sequences have no audio file
            info = point.info if point else source.info  # a resumed run keeps the first run's range and timing
            sink = open_sink(cfg.output, info, codec=cfg.codec, crf=cfg.crf, audio_source=audio,
                             overwrite=cfg.overwrite, encoder_options={"exr_half": True} if cfg.exr_half else None)
            if checkpoint.can_resume(sink):
                sink = checkpoint.ResumableSink(sink, fp, part_frames=cfg.checkpoint_every, point=point,
                                                work=self.work_dir)
            elif cfg.resume:
                say("note", "resume applies to videos (not AVI) and image sequences; this output is written in one go")
            on = f"{dev} ({engine})" if engine else str(dev)
            say("info", f"{cfg.input} → {cfg.output}: style {style_label} on {on}; {cons_note}"
                        f"{_controls_text(controls, matte, frame_codec)}")
            if point is not None:
                again = (f"; the next {point.warmup} are stylized again to restore the temporal state"
                         if cons is not None else "")
                say("info", f"resuming: {point.frames} frames saved{again}")
            for w in list(getattr(matte, "warnings", [])):
                warnings.append(w)
                say("warning", w)
            total = source.info.frame_count
            t0 = time.perf_counter()

            def written(n: int) -> None:
                if progress is not None:
                    dt = time.perf_counter() - t0
                    progress(Progress(n, total, n / dt if dt > 0 else 0.0, dt))

            try:
                with sink, torch_threads(side), opencv_threads(side):
                    self._check()
                    rs = runner.stylize_stream(
                        source, sink, stylizer, consistency=cons, batch_size=batch_size, total=total, quiet=True,
                        controls=None if controls.is_identity else controls, masks=matte, codec=frame_codec,
                        on_frame=written, cancel=self._cancel,
                    )
                    self._check()  # asked for before the output was complete: not put in place
            except BaseException as e:
                self.saved_frames = getattr(sink, "saved_frames", 0)
                if isinstance(e, Cancelled):
                    raise Cancelled(saved_frames=self.saved_frames) from None
                raise
            for w in [*getattr(matte, "warnings", []), *getattr(source, "warnings", [])]:
                if w not in warnings:
                    warnings.append(w)
                    say("warning", w)
        kept = point.frames - point.warmup if point else 0
        return RenderStats(output=cfg.output, frames=rs.frames + kept, stylized=rs.frames, seconds=rs.seconds,
                           resumed_frames=point.frames if point else 0, warnings=warnings)


def _controls_text(controls: StyleControls, matte, frame_codec: FrameCodec) -> str:
    """The artist controls in effect, for the status line (empty when none)."""
    parts = []
    if controls.strength < 1.0:
        parts.append(f"strength {controls.strength:g}")
    if controls.preserve_colors:
        parts.append("input colours kept")
    if matte is not None:
        parts.append(f"masked by {matte.description} (feather {matte.feather:g} px)")
    if not frame_codec.is_plain:
        parts.append(f"{frame_codec.in_space} in, {frame_codec.out_space} out")
    return "".join("; " + p for p in parts)
