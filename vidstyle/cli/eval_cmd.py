"""``vidstyle eval``: temporal warping error (E_warp, Lai et al. 2018) of stylized videos.

Flow and occlusion are estimated on INPUT; each OUTPUT (a stylization of INPUT, frame for frame)
is scored by how well its frames agree with each other along that flow, short-term (consecutive
frames) and long-term (``--long-k`` frames apart), next to the input's own warping error (the
floor). Several OUTPUTs share one pass over INPUT (flow is computed once).
"""

from __future__ import annotations

import json
import math
import sys

import click

from ..errors import InputError
from .common import pick_device


def _parse_size(text: str | None, max_pixels: int | None = None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise InputError(f"--size must look like 640x360, not {text!r}") from None
    if w < 16 or h < 16:
        raise InputError(f"--size {text} is too small (at least 16x16)")
    from ..io.limits import check_pixels

    check_pixels(w, h, "--size", max_pixels)  # frames are resized to it: as large as a decoded frame
    return w, h


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def _fmt(v: float, ratio: bool = False) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.2f}x" if ratio else f"{v:.5f}"


def format_table(results: list[dict], input_path: str) -> str:
    """The short text report printed by ``vidstyle eval``."""
    r0 = results[0]
    k = r0["long_k"]
    w, h = r0["size"]
    lines = [
        (f"E_warp (Lai et al. 2018; mean squared RGB error in [0,1] over non-occluded pixels), "
         f"flow {r0['flow']} on the input, {w}x{h}, {r0['frames']} frames"),
        ("lower is steadier; the input's own E_warp is the floor (flow errors and real changes in the "
         "picture), so output/input 1.00x is as steady as the source"),
    ]
    if r0["cuts"]:
        lines.append(f"scene cuts before frames {', '.join(map(str, r0['cuts']))}: pairs across them skipped")
    name_w = max(14, *(len(r.get("output", "")) for r in results)) + 2
    lines.append(f"{'':{name_w}}{'short (k=1)':>13}{f'long (k={k})':>13}{'sharpness':>11}")
    lines.append(f"{'input (floor)':{name_w}}{_fmt(r0['input_short']):>13}{_fmt(r0['input_long']):>13}{r0['input_sharpness']:>11.4f}")
    for r in results:
        lines.append(f"{r.get('output', 'output'):{name_w}}{_fmt(r['short']):>13}{_fmt(r['long']):>13}{r['sharpness']:>11.4f}")
        lines.append(f"{'  output/input':{name_w}}{_fmt(r['ratio_short'], True):>13}{_fmt(r['ratio_long'], True):>13}")
    lines.append(f"{'pairs':{name_w}}{r0['pairs_short']:>13}{r0['pairs_long']:>13}")
    lines.append(verdict(results))
    return "\n".join(lines)


def verdict(results: list[dict]) -> str:
    """One line: each output's short-term E_warp as a multiple of the input's own."""
    def ratio(r: dict) -> str:
        v = r["ratio_short"]
        return f"{v:.2f}x" if v is not None and math.isfinite(v) else "not measurable"

    if len(results) == 1:
        return f"verdict: {ratio(results[0])} the input's own flicker"
    return "verdict: " + ", ".join(f"{r.get('output', 'output')} {ratio(r)}" for r in results) + " the input's own flicker"


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
    from ..flow import get_flow

    import torch

    if threads:
        torch.set_num_threads(threads)
    size = _parse_size(size_text, max_pixels)
    dev = pick_device(device)
    flow, flow_msg = get_flow(flow_kind, device=str(dev), raft_weights=raft_weights, dis_max_side=None)
    if not quiet:
        click.echo(flow_msg, err=True)
    res, warnings, counts = _measure(
        input_path, outputs, flow, dev, long_k=long_k, max_frames=max_frames, size=size, max_side=max_side,
        keep_cuts=keep_cuts, max_pixels=max_pixels, quiet=quiet)
    for r, p in zip(res, outputs):
        r["input"] = input_path
        r["output"] = p
        r["warnings"] = warnings
    if res[0]["frames"] < 2:
        raise InputError("need at least 2 frames to measure temporal stability")
    known = [c for c in counts if c]
    if len(set(known)) > 1 and max_frames is None and not quiet:
        click.echo(f"warning: frame counts differ ({', '.join(map(str, counts))}); compared the first {res[0]['frames']}", err=True)
    if not quiet:
        click.echo(format_table(res, input_path), file=sys.stderr if json_path == "-" else sys.stdout)
    if json_path is not None:
        _write_json(res, json_path)


def _measure(
    input_path: str, outputs: tuple[str, ...], flow, dev, *, long_k: int, max_frames: int | None,
    size: tuple[int, int] | None, max_side: int | None, keep_cuts: bool, max_pixels: int | None, quiet: bool,
) -> tuple[list[dict], list[str], list[int | None]]:
    """Open INPUT and the OUTPUTs and score them in one pass (a progress bar unless ``quiet``);
    returns (one result per output, the warnings the sources logged, their frame counts)."""
    from contextlib import ExitStack

    from ..io.diagnostics import collect_warnings
    from ..io.reader import open_source
    from ..metrics.warping_error import warping_error

    with ExitStack() as stack:
        warnings = stack.enter_context(collect_warnings())
        src = stack.enter_context(open_source(input_path, max_pixels=max_pixels))
        outs = [stack.enter_context(open_source(p, max_pixels=max_pixels)) for p in outputs]
        for path, s in zip((input_path, *outputs), (src, *outs)):
            if s.info.frame_count is not None and s.info.frame_count < 2:
                n = s.info.frame_count
                raise InputError(f"{path}: {n} frame{'' if n == 1 else 's'}; need at least 2 to measure temporal stability")
        total = src.info.frame_count
        if max_frames is not None:
            total = min(total, max_frames) if total else max_frames
        bar = None
        if not quiet:
            from tqdm import tqdm

            bar = stack.enter_context(tqdm(total=total, unit="frame", desc="eval", file=sys.stderr, leave=False))
        try:
            res = warping_error(
                src, list(outs), flow, long_k=long_k, max_frames=max_frames, size=size, max_side=max_side,
                skip_cuts=not keep_cuts, device=dev, progress=(lambda n: bar.update(1)) if bar else None,
            )
        except ValueError as e:
            if "no frames" in str(e):
                raise InputError(f"{input_path}: no frames to compare") from None
            raise
        counts = [src.info.frame_count, *(o.info.frame_count for o in outs)]
    return res, list(warnings), counts


def _write_json(res: list[dict], json_path: str) -> None:
    """The results as JSON (one object for one output, else a list; NaN/inf as null) to
    ``json_path``, or to stdout for ``-``."""
    payload = _clean(res[0] if len(res) == 1 else res)
    text = json.dumps(payload, indent=2)
    if json_path == "-":
        click.echo(text)
        return
    try:
        with open(json_path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError as e:
        from ..errors import OutputError

        raise OutputError(f"cannot write {json_path}: {e.strerror or e}") from None
