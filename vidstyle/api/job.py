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
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

import torch

from ..consistency.build import build_consistency
from ..errors import Cancelled, InputError
from ..io import checkpoint
from ..io.diagnostics import collect_warnings
from ..io.reader import open_source
from ..io.writer import FrameSink, open_sink
from ..pipeline import runner
from ..pipeline.color import FrameCodec
from ..pipeline.controls import StyleControls
from ..pipeline.device import pick_device
from ..pipeline.exported_stylizer import opencv_threads, threads_beside, torch_threads
from ..pipeline.tiling import parse_tile
from .config import RenderConfig, position_text
from .fingerprint import fingerprint
from .frames import make_engine, style_controls
from .stats import Progress, RenderStats
from .style_image import load_net

__all__ = ["RenderJob"]

Log = Callable[[str, str], None]
"""``log(level, text)``: ``"info"`` (status lines) or ``"note"`` (advice)."""


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
        gets status lines and notes. Problems the render survives (a damaged input, a transcoded
        audio track) are logged to the ``vidstyle.io`` loggers where they are found and listed in
        ``RenderStats.warnings``. Raises ``VidstyleError`` for bad settings, input or output
        (one-line messages), ``Cancelled`` after :meth:`cancel`."""
        say = log or (lambda level, text: None)
        self._check()
        with self._claim_output():
            return self._run_claimed(progress, say)

    def _claim_output(self) -> AbstractContextManager:
        """Check the output's path and lock it before any work, so a second run of the same
        output stops at once (:func:`vidstyle.io.checkpoint.claim_output`)."""
        return checkpoint.claim_output(self.config.output, overwrite=self.config.overwrite)

    def _run_claimed(self, progress: Callable[[Progress], None] | None, say: Log) -> RenderStats:
        cfg, ctl = self.config, self.config.controls
        setup = self._set_up(say)
        self._check()
        point = setup.point
        start = point.start if point and point.start else position_text(cfg.start)
        with collect_warnings() as warnings, open_source(cfg.input, start=start, end=position_text(cfg.end),
                         max_pixels=cfg.runtime.max_pixels) as source, ExitStack() as stack:
            matte = None
            if ctl.mask is not None:
                from ..pipeline.mattes import open_matte  # only for masked runs

                matte = stack.enter_context(open_matte(ctl.mask, source.info, feather=ctl.mask_feather))
            frame_codec = FrameCodec.for_paths(cfg.input, source.info.dtype, cfg.output, ctl.colorspace, cfg.codec)
            sink = self._open_output(setup, source, say)
            say("info", f"{cfg.input} → {cfg.output}: style {setup.style_label} on {setup.engine_label}; "
                        f"{setup.consistency_note}{_controls_text(setup.controls, matte, frame_codec)}")
            if point is not None:
                again = (f"; the next {point.warmup} are stylized again to restore the temporal state"
                         if setup.consistency is not None else "")
                say("info", f"resuming: {point.frames} frames saved{again}")
            frames = self._stream(setup, source, sink, matte, frame_codec, progress)
        kept = point.frames - point.warmup if point else 0
        return RenderStats(output=cfg.output, frames=frames.frames + kept, stylized=frames.frames,
                           seconds=frames.seconds, resumed_frames=point.frames if point else 0,
                           warnings=list(warnings))

    def _set_up(self, say: Log) -> _Setup:
        """Device, net, consistency and engine, and what an interrupted run left (checked before
        the engine is built: a refused resume fails fast)."""
        cfg, rt, ctl = self.config, self.config.runtime, self.config.controls
        try:
            parse_tile(rt.tile)  # a bad tile fails before the net loads
        except ValueError as e:
            raise InputError(str(e)) from None
        dev = pick_device(rt.device)
        net, style_label, backend, arbitrary = load_net(cfg.style, cfg.style_image, dev, mix=cfg.mix,
                                                        strength=ctl.strength, backend=rt.backend,
                                                        precision=rt.precision, cpu_net=rt.cpu_net)
        mode = cfg.consistency if isinstance(cfg.consistency, str) else str(float(cfg.consistency))
        cons, cons_note = build_consistency(mode, cfg.flow, dev, cfg.raft_weights)
        fp = fingerprint(cfg, net)
        point = self._plan_resume(fp, cons is not None)
        # idle engine threads must not spin: decoding, encoding and consistency run beside the net
        stylizer, engine = make_engine(net, dev, backend, rt, spinning=False)
        if cfg.resume and point is None:
            say("info", f"nothing saved to resume for {cfg.output}: starting from the beginning")
        return _Setup(
            stylizer=stylizer, consistency=cons, fingerprint=fp, point=point,
            controls=style_controls(ctl, strength_in_net=arbitrary),
            batch_size=rt.batch_size or (4 if dev.type == "cuda" else 1),
            # an exported-net engine has every core; PyTorch and OpenCV only run what is beside the net
            side_threads=threads_beside(stylizer, rt.threads or torch.get_num_threads()),
            style_label=style_label, engine_label=f"{dev} ({engine})" if engine else str(dev),
            consistency_note=cons_note,
        )

    def _plan_resume(self, fp: dict, temporal: bool) -> checkpoint.ResumePoint | None:
        """What an interrupted run of this output left (None: start from the beginning)."""
        cfg = self.config
        return checkpoint.plan_resume(cfg.output, fp, resume=cfg.resume, overwrite=cfg.overwrite,
                                      warmup=checkpoint.WARMUP_FRAMES if temporal else 1)

    def _open_output(self, setup: _Setup, source, say: Log) -> FrameSink:
        """The output, in saved parts where it can be resumed."""
        cfg, point = self.config, setup.point
        audio = cfg.input if source.info.kind == "video" else None  # sequences have no audio file
        info = point.info if point else source.info  # a resumed run keeps the first run's range and timing
        sink = open_sink(cfg.output, info, codec=cfg.codec, crf=cfg.crf, audio_source=audio, overwrite=cfg.overwrite,
                         encoder_options={"exr_half": True} if cfg.exr_half else None)
        if checkpoint.can_resume(sink):
            return checkpoint.ResumableSink(sink, setup.fingerprint, part_frames=cfg.checkpoint_every, point=point,
                                            work=self.work_dir)
        if cfg.resume:
            say("note", "resume applies to videos (not AVI) and image sequences; this output is written in one go")
        return sink

    def _stream(self, setup: _Setup, source, sink: FrameSink, matte, frame_codec: FrameCodec,
                progress: Callable[[Progress], None] | None) -> runner.RunStats:
        """The frames through the net into ``sink``, which is closed (put in place) or aborted."""
        total = source.info.frame_count
        t0 = time.perf_counter()

        def written(n: int) -> None:
            if progress is not None:
                dt = time.perf_counter() - t0
                progress(Progress(n, total, n / dt if dt > 0 else 0.0, dt))

        controls = setup.controls
        try:
            with sink, torch_threads(setup.side_threads), opencv_threads(setup.side_threads):
                self._check()
                stats = runner.stylize_stream(
                    source, sink, setup.stylizer, consistency=setup.consistency, batch_size=setup.batch_size,
                    total=total, quiet=True, controls=None if controls.is_identity else controls, masks=matte,
                    codec=frame_codec, on_frame=written, cancel=self._cancel,
                )
                self._check()  # asked for before the output was complete: not put in place
        except BaseException as e:
            self.saved_frames = getattr(sink, "saved_frames", 0)
            if isinstance(e, Cancelled):
                raise Cancelled(saved_frames=self.saved_frames) from None
            raise
        return stats


@dataclass
class _Setup:
    """What :meth:`RenderJob._set_up` prepared for a run."""

    stylizer: object
    consistency: object | None
    fingerprint: dict
    point: checkpoint.ResumePoint | None
    controls: StyleControls
    batch_size: int
    side_threads: int
    style_label: str
    engine_label: str
    consistency_note: str


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
