"""Streaming stylization: decode → stylize (+ temporal consistency) → encode, overlapped.

Decoding and encoding run in their own threads, joined to the inference loop by bounded queues,
so memory stays flat whatever the clip's length and the three stages overlap.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import torch
from tqdm import tqdm

from ..io.frame import Frame
from .stylizer import Stylizer
from .tensors import image_to_tensor, tensor_to_image

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
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _producer(frames: Iterable[Frame], q: "queue.Queue", stop: threading.Event) -> None:
    try:
        for f in frames:
            while not stop.is_set():
                try:
                    q.put(f, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        q.put(_END)
    except BaseException as e:  # noqa: BLE001 - handed to the main thread
        q.put(_Failure(e))


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


def _get(q: "queue.Queue", consumer_errors: list) -> object:
    while True:
        if consumer_errors:
            raise consumer_errors[0]
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
) -> RunStats:
    """Stylize ``frames`` into ``sink`` in batches; frames keep their index and timestamps.

    ``consistency`` (optional) is applied frame by frame, in order, after the net. Raises whatever
    the decoder, the net or the encoder raised; the caller aborts the sink in that case.
    """
    stats = RunStats()
    in_q: queue.Queue = queue.Queue(maxsize=queue_size)
    out_q: queue.Queue = queue.Queue(maxsize=queue_size)
    stop = threading.Event()
    sink_errors: list = []
    bar = tqdm(total=total, disable=quiet, unit="frame", desc=desc, dynamic_ncols=True, smoothing=0.1)

    def written() -> None:
        stats.frames += 1
        bar.update(1)

    reader = threading.Thread(target=_producer, args=(frames, in_q, stop), daemon=True, name="vidstyle-decode")
    writer = threading.Thread(target=_consumer, args=(sink, out_q, sink_errors, written), daemon=True, name="vidstyle-encode")
    t0 = time.perf_counter()
    reader.start()
    writer.start()
    try:
        done = False
        while not done:
            batch: list[Frame] = []
            while len(batch) < batch_size:
                item = _get(in_q, sink_errors)
                if item is _END:
                    done = True
                    break
                assert isinstance(item, Frame)
                if batch and item.image.shape[:2] != batch[0].image.shape[:2]:
                    _process(batch, stylizer, consistency, out_q, sink_errors)
                    batch = []
                batch.append(item)
            if batch:
                _process(batch, stylizer, consistency, out_q, sink_errors)
        _put(out_q, _END, sink_errors)
        writer.join()
        if sink_errors:
            raise sink_errors[0]
    finally:
        stop.set()
        if writer.is_alive():
            sink_errors.append(RuntimeError("stopped"))
            try:
                out_q.put_nowait(_END)
            except queue.Full:
                pass
        bar.close()
    stats.seconds = time.perf_counter() - t0
    return stats


def _put(q: "queue.Queue", item: object, consumer_errors: list) -> None:
    while True:
        if consumer_errors:
            raise consumer_errors[0]
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _process(batch: list[Frame], stylizer: Stylizer, consistency: Consistency | None, out_q: "queue.Queue", errors: list) -> None:
    content = torch.cat([image_to_tensor(f.image, stylizer.device) for f in batch])
    styled = stylizer(content)
    for i, f in enumerate(batch):
        y = styled[i : i + 1]
        if consistency is not None:
            y = consistency.step(content[i : i + 1], y)
        out = Frame(tensor_to_image(y, f.image), f.index, f.pts, f.time_base, f.time, dict(f.meta))
        _put(out_q, out, errors)
