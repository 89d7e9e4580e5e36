"""``vidstyle eval``: temporal warping error (E_warp, Lai et al. 2018) of stylized videos, measured
by :func:`vidstyle.api.eval_job.evaluate` (what it measures: see there)."""

from __future__ import annotations

import sys

import click

from ..errors import InputError
from .lazy_bar import LazyBar


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise InputError(f"--size must look like 640x360, not {text!r}") from None
    if w < 16 or h < 16:
        raise InputError(f"--size {text} is too small (at least 16x16)")
    return w, h


@click.command("eval")
@click.argument("input_path", metavar="INPUT")
@click.argument("outputs", metavar="OUTPUT...", nargs=-1, required=True)
@click.option("--flow", "flow_kind", type=click.Choice(["auto", "raft", "dis"]), default="auto", show_default=True,
              help="Flow on the input: RAFT (CUDA) or OpenCV DIS (medium, full resolution).")
@click.option("--raft-weights", type=click.Path(dir_okay=False), default=None, help="Local RAFT state dict.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda (for RAFT and the error maps).")
@click.option("--long-k", default=5, show_default=True, type=click.IntRange(1, 100), help="Frame gap of the long-term error.")
@click.option("--max-frames", default=None, type=click.IntRange(2), help="Evaluate at most this many frames.")
@click.option("--size", "size_text", default=None, metavar="WxH", help="Evaluate at this size (frames are resized).")
@click.option("--max-side", default=None, type=click.IntRange(16), help="Evaluate with the long side shrunk to this (faster).")
@click.option("--keep-cuts", is_flag=True, help="Also score pairs across detected scene cuts (as the paper does).")
@click.option("--json", "json_path", default=None, metavar="FILE|-", help="Also write the results as JSON (- = stdout).")
@click.option("--threads", default=0, type=click.IntRange(0, 256),
              help="CPU threads for torch (0: torch's default). 1 is often fastest on a busy machine.")
@click.option("--max-pixels", default=None, type=click.IntRange(1), metavar="PIXELS",
              help="Refuse frames (and --size) larger than this many pixels, before decoding "
                   "(default: $VIDSTYLE_MAX_PIXELS, else 100 megapixels).")
@click.option("--quiet", "-q", is_flag=True, help="No progress or table (errors still go to stderr).")
def eval_cmd(
    input_path: str, outputs: tuple[str, ...], flow_kind: str, raft_weights: str | None, device: str, long_k: int,
    max_frames: int | None, size_text: str | None, max_side: int | None, keep_cuts: bool, json_path: str | None,
    threads: int, max_pixels: int | None, quiet: bool,
) -> None:
    """Temporal stability of OUTPUT(s), stylizations of INPUT: short/long-term warping error."""
    from ..api.eval_job import EvalConfig, evaluate  # keep --help light

    config = EvalConfig(input_path, outputs, flow=flow_kind, raft_weights=raft_weights, device=device, long_k=long_k,
                        max_frames=max_frames, size=_parse_size(size_text), max_side=max_side, keep_cuts=keep_cuts,
                        threads=threads, max_pixels=max_pixels)
    bar = LazyBar(quiet, unit="frame", desc="eval", file=sys.stderr, leave=False)

    def say(level: str, text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    try:
        report = evaluate(config, progress=bar.update, log=say)
    finally:
        bar.close()
    if report.counts_differ and max_frames is None and not quiet:
        counts = ", ".join(map(str, report.frame_counts))
        click.echo(f"warning: frame counts differ ({counts}); compared the first {report.results[0]['frames']}", err=True)
    if not quiet:  # the sources' warnings were logged as they were found
        click.echo(report.table(), file=sys.stderr if json_path == "-" else sys.stdout)
    if json_path == "-":
        click.echo(report.to_json())
    elif json_path is not None:
        report.write_json(json_path)
