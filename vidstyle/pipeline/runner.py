"""Streaming stylization: decode → stylize → temporal consistency → encode, overlapped.

Four stages in four threads joined by bounded queues, so memory stays flat whatever the clip's
length and the stages overlap: decoding, the net (the calling thread), the per-frame finishing
(artist controls, temporal consistency, matte, conversion back to an image) and encoding. Frame t's
consistency step runs while the net works on frame t+1, so its cost hides behind the net's where
there are cores to spare.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm import tqdm

from ..errors import Cancelled
from ..io.frame import Frame
from ..ops.allocator import keep_freed_memory
from .color import FrameCodec
from .stylizer import Stylizer

_END = object()


class Consistency(Protocol):
    """Anything with ``step(content, stylized) -> output`` (``[1,3,H,W]`` each) and ``reset()``."""

    def step(self, content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor: ...

    def reset(self) -> None: ...


class FrameWriter(Protocol):
    def write(self, frame: Frame) -> None: ...


@dataclass
class RunStats:
    """What a run did: frames written, wall time and throughput."""

    frames: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _producer(frames: Iterable[Frame], q: "queue.Queue", stop: threading.Event) -> None:
    try:
        for f in frames:
            if not _offer(q, f, stop):
                return
        _offer(q, _END, stop)
    except BaseException as e:  # noqa: BLE001 - handed to the main thread
        _offer(q, _Failure(e), stop)


def _offer(q: "queue.Queue", item: object, stop: threading.Event) -> bool:
    """Put ``item`` unless ``stop`` is set first; False when stopped."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _consumer(sink: FrameWriter, q: "queue.Queue", errors: list, on_write: Callable[[], None]) -> None:
    while True:
        item = q.get()
        if item is _END:
            return
        if errors:
            continue  # drain so the main thread never blocks on a full queue
        try:
            sink.write(item)
            on_write()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)


def _get(q: "queue.Queue", consumer_errors: list, cancel: threading.Event | None = None) -> object:
    while True:
        if consumer_errors:
            raise consumer_errors[0]
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            item = q.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(item, _Failure):
            raise item.exc
        return item


def stylize_stream(
    frames: Iterable[Frame],
    sink: FrameWriter,
    stylizer: Stylizer,
    *,
    consistency: Consistency | None = None,
    batch_size: int = 4,
    total: int | None = None,
    quiet: bool = False,
    queue_size: int = 8,
    desc: str = "stylizing",
    controls: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    masks: Callable[[Frame], torch.Tensor | None] | None = None,
    codec: FrameCodec | None = None,
    on_frame: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunStats:
    """Stylize ``frames`` into ``sink`` in batches; frames keep their index and timestamps.

    Per frame: net → ``controls(content, stylized)`` (a
    :class:`~vidstyle.pipeline.controls.StyleControls`: strength, colour preservation) →
    ``consistency`` (frame by frame, in order) → matte. ``masks(frame)`` (called in the decoding
    thread) gives a ``[1,1,H,W]`` matte in [0,1] that composites the result over the original
    frame (0 = untouched; see :mod:`vidstyle.pipeline.mattes`); ``codec`` converts frames to and
    from the net's sRGB tensors (default: sRGB in and out, see :mod:`vidstyle.pipeline.color`).
    ``on_frame(frames_written)`` is called from the encoding thread after every written frame
    (progress reports). Setting ``cancel`` (from any thread) stops the run within one batch with
    :class:`~vidstyle.errors.Cancelled`. Raises whatever the decoder, the net or the encoder
    raised; the caller aborts the sink then.
    """
    keep_freed_memory()  # every frame reuses the pages the previous one freed
    stats = RunStats()
    codec = codec or FrameCodec()
    if masks is not None:
        frames = _with_mattes(frames, masks)
    run = _Stages(stylizer, controls, consistency, codec)
    errors: list = []  # raised by the finishing or the encoding thread (the first one counts)
    bar = tqdm(total=total, disable=quiet, unit="frame", desc=desc, dynamic_ncols=True, smoothing=0.1)

    def written() -> None:
        stats.frames += 1
        bar.update(1)
        if on_frame is not None:
            on_frame(stats.frames)

    threads = _Threads.start(frames, sink, run, queue_size, batch_size, errors, written)
    ok = False
    try:
        _net_loop(threads.in_q, threads.post_q, run, batch_size, errors, cancel)
        _join(threads.finisher, cancel)
        _join(threads.writer, cancel)
        if errors:
            raise errors[0]
        ok = True
    finally:
        threads.stop(ok, errors)
        bar.close()
    stats.seconds = time.perf_counter() - threads.t0
    return stats


@dataclass
class _Threads:
    """The decoding, finishing and encoding threads of one run and the queues between them."""

    in_q: queue.Queue
    post_q: queue.Queue
    stopping: threading.Event
    reader: threading.Thread
    finisher: threading.Thread
    writer: threading.Thread
    t0: float

    @classmethod
    def start(cls, frames: Iterable[Frame], sink: FrameWriter, run: "_Stages", queue_size: int, batch_size: int,
              errors: list, written: Callable[[], None]) -> "_Threads":
        """Start the threads; ``t0`` is when (``time.perf_counter`` seconds)."""
        in_q: queue.Queue = queue.Queue(maxsize=queue_size)
        post_q: queue.Queue = queue.Queue(maxsize=max(1, queue_size // max(1, batch_size)))
        out_q: queue.Queue = queue.Queue(maxsize=queue_size)
        stopping = threading.Event()
        reader = threading.Thread(target=_producer, args=(frames, in_q, stopping), daemon=True,
                                  name="vidstyle-decode")
        finisher = threading.Thread(target=_finisher, args=(run, post_q, out_q, errors), daemon=True,
                                    name="vidstyle-finish")
        writer = threading.Thread(target=_consumer, args=(sink, out_q, errors, written), daemon=True,
                                  name="vidstyle-encode")
        t0 = time.perf_counter()
        reader.start()
        finisher.start()
        writer.start()
        return cls(in_q, post_q, stopping, reader, finisher, writer, t0)

    def stop(self, ok: bool, errors: list) -> None:
        """End the threads; after a failure (``ok`` False) nothing more reaches the sink."""
        self.stopping.set()
        # The decoder thread must be out of the demuxer before the caller closes the source:
        # PyAV does not guard a container against being closed while another thread decodes
        # from it, and that kills the process. The thread sees ``stopping`` within one frame.
        self.reader.join(timeout=60)
        if not ok:
            # the finishing and encoding threads drain what is queued without using it and end,
            # so nothing is written to the sink after this returns (the caller aborts it then)
            if not errors:
                errors.append(RuntimeError("stopped"))
            _put_end(self.post_q, self.finisher)
            self.finisher.join(timeout=60)
            self.writer.join(timeout=60)


def _net_loop(in_q: queue.Queue, post_q: queue.Queue, run: "_Stages", batch_size: int, errors: list,
              cancel: threading.Event | None) -> None:
    """The net's stage, in the calling thread: decoded frames in batches of up to ``batch_size``
    (a size change starts a new batch), each stylized and queued for finishing; then the end."""
    done = False
    while not done:
        batch: list[Frame] = []
        while len(batch) < batch_size:
            item = _get(in_q, errors, cancel)
            if item is _END:
                done = True
                break
            assert isinstance(item, Frame)
            if batch and item.image.shape[:2] != batch[0].image.shape[:2]:
                _put(post_q, _stylize(batch, run), errors, cancel)
                batch = []
            batch.append(item)
        if batch:
            _put(post_q, _stylize(batch, run), errors, cancel)
    _put(post_q, _END, errors, cancel)


def _join(thread: threading.Thread, cancel: threading.Event | None) -> None:
    """Wait for ``thread`` to end; :class:`Cancelled` as soon as ``cancel`` is set."""
    while thread.is_alive():
        thread.join(0.1)
        if cancel is not None and cancel.is_set():
            raise Cancelled()


def _put_end(q: "queue.Queue", thread: threading.Thread) -> None:
    """Queue the end marker for ``thread``, waiting while it drains a full queue."""
    while thread.is_alive():
        try:
            q.put(_END, timeout=0.1)
            return
        except queue.Full:
            continue


def _put(q: "queue.Queue", item: object, consumer_errors: list, cancel: threading.Event | None = None) -> None:
    while True:
        if consumer_errors:
            raise consumer_errors[0]
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


_MATTE_KEY = "vidstyle.matte"


def _with_mattes(frames: Iterable[Frame], masks: Callable[[Frame], torch.Tensor | None]) -> Iterable[Frame]:
    for f in frames:
        f.meta[_MATTE_KEY] = masks(f)
        yield f


@dataclass
class _Stages:
    stylizer: Stylizer
    controls: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None
    consistency: Consistency | None
    codec: FrameCodec


def _stylize(batch: list[Frame], run: _Stages) -> tuple[list[Frame], torch.Tensor, torch.Tensor]:
    """The net on a batch of same-size frames: (frames, content, stylized)."""
    dev = run.stylizer.device
    frames = [run.codec.to_tensor(f.image, dev) for f in batch]
    content = frames[0] if len(frames) == 1 else torch.cat(frames)
    return batch, content, run.stylizer(content)


def _finish(item: tuple[list[Frame], torch.Tensor, torch.Tensor], run: _Stages) -> Iterator[Frame]:
    """Per frame of a stylized batch, in order: controls → consistency → matte → output frame."""
    batch, content, styled = item
    for i, f in enumerate(batch):
        x, y = content[i : i + 1], styled[i : i + 1]
        if run.controls is not None:
            y = run.controls(x, y)
        if run.consistency is not None:
            y = run.consistency.step(x, y)
        meta = dict(f.meta)
        matte = meta.pop(_MATTE_KEY, None)
        if getattr(run.controls, "strength", 1.0) <= 0.0:  # strength 0: the input, bit for bit
            matte = torch.zeros(())
        yield Frame(run.codec.to_image(y, f.image, matte), f.index, f.pts, f.time_base, f.time, meta)


def _finisher(run: _Stages, in_q: "queue.Queue", out_q: "queue.Queue", errors: list) -> None:
    """The finishing thread: stylized batches from ``in_q`` → output frames into ``out_q``. After
    an error (its own or the encoder's, in ``errors``) it drains ``in_q`` until the end marker."""
    while True:
        item = in_q.get()
        if item is _END:
            break
        if errors:
            continue
        try:
            for out in _finish(item, run):
                _put(out_q, out, errors)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            if not any(e is x for x in errors):
                errors.append(e)
    out_q.put(_END)  # the encoder thread keeps taking items until it sees this
