"""``vidstyle stylize``: stylize a video, an image sequence or an image."""

from __future__ import annotations

import hashlib
import os
from contextlib import ExitStack

import click

from ..errors import InputError
from ..pipeline.backends import BACKENDS
from ..pipeline.exported_stylizer import PRECISIONS
from .common import CONSISTENCY_CHOICES, build_consistency, pick_device


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("-s", "--style", required=True,
              help="Style name (see `vidstyle styles`), a .safetensors file, or a mix: starry:0.7,wave:0.3.")
@click.option("-o", "--output", required=True, help="Output video, image, or sequence pattern (out_%04d.png).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--backend", default="auto", show_default=True, type=click.Choice(list(BACKENDS)),
              help="Inference engine: openvino = OpenVINO, onnx = ONNX Runtime (CPU; the net is exported "
                   "once and cached), torch = PyTorch; auto = the fastest installed on CPU "
                   "(openvino, then onnx), torch on CUDA.")
@click.option("--precision", default="fp32", show_default=True, type=click.Choice(list(PRECISIONS)),
              help="Arithmetic of the net on CPU engines: int8 = a quantized copy, calibrated once per style "
                   "(1.4-2.5x faster on CPUs with VNNI; ~33 dB PSNR against fp32, more frame-to-frame shimmer "
                   "without consistency).")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="CPU threads for the net (default: all cores); beside an exported net (OpenVINO, "
                   "ONNX Runtime) the consistency step gets a quarter of them, at least one; the "
                   "encoder picks its own.")
@click.option("--batch-size", default=None, type=click.IntRange(1, 256),
              help="Frames per net call (default: 1 on CPU, where larger batches are slower per frame; 4 on CUDA).")
@click.option("--tile", "tile_spec", default="auto", show_default=True, metavar="auto|off|N",
              help="Stylize large frames in overlapping tiles of N px (bounded memory): auto = only when a "
                   "frame exceeds the memory budget, off = never.")
@click.option("--start", default=None, help="First frame: frame number, seconds (4.5s) or timecode.")
@click.option("--end", default=None, help="End (exclusive): frame number, seconds or timecode.")
@click.option("--codec", default=None, help="h264, h265, prores, ffv1 or png (default: from the output name).")
@click.option("--crf", default=None, type=click.IntRange(0, 51), help="Quality for h264/h265 (lower is better).")
@click.option("--consistency", default="default", show_default=True, help=f"{'|'.join(CONSISTENCY_CHOICES)} or a strength 0..1.")
@click.option("--flow", "flow_kind", type=click.Choice(["auto", "raft", "dis"]), default="auto", show_default=True)
@click.option("--raft-weights", type=click.Path(dir_okay=False), default=None, help="Local RAFT state dict.")
@click.option("--strength", default="1", show_default=True, help="How much style, 0 (the input) .. 1 (full style).")
@click.option("--preserve-colors", is_flag=True, help="Keep the input's colours; take only luminance texture from the style.")
@click.option("--mask", "mask_spec", default=None, metavar="MASK",
              help="Matte restricting the style: an image, a video or an image sequence (white = styled), "
                   "or 'alpha' for the input's alpha channel.")
@click.option("--mask-feather", default="3", show_default=True, metavar="PX", help="Soft matte edge: Gaussian sigma in pixels (0 = hard).")
@click.option("--mix", "mix_mode", default="auto", show_default=True, type=click.Choice(["auto", "weights", "outputs"]),
              help="How a style mix is made: interpolated weights (same arch, related nets) or blended outputs.")
@click.option("--colorspace", default="auto", show_default=True, type=click.Choice(["auto", "srgb", "linear"]),
              help="Encoding of the input and of image outputs: auto = EXR scene-linear, others sRGB.")
@click.option("--exr-half", is_flag=True, help="Write EXR output as half floats (default: 32-bit float).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists (and drop the saved parts of an interrupted run).")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run of the same command from its saved parts (video and image-sequence outputs).")
@click.option("--checkpoint-every", "part_frames", default=250, show_default=True, type=click.IntRange(1, 1_000_000),
              metavar="FRAMES", help="Video and image-sequence outputs are saved in parts of this many frames (or of 10 "
                                     "minutes of work, if less), joined at the end; an interrupted run keeps them "
                                     "for --resume.")
@click.option("--max-pixels", default=None, type=click.IntRange(1), metavar="PIXELS",
              help="Refuse frames larger than this many pixels, checked from the file's header before decoding "
                   "(default: $VIDSTYLE_MAX_PIXELS, else 100000000 = 100 megapixels). Frames below it run in "
                   "bounded memory (tiled when large).")
@click.option("--quiet", is_flag=True, help="No progress bar or messages (errors still go to stderr).")
def stylize(
    input_path: str, style: str, output: str, device: str, backend: str, precision: str, threads: int | None, batch_size: int | None, tile_spec: str,
    start: str | None, end: str | None,
    codec: str | None, crf: int | None, consistency: str, flow_kind: str, raft_weights: str | None,
    strength: str, preserve_colors: bool, mask_spec: str | None, mask_feather: str, mix_mode: str, colorspace: str,
    exr_half: bool, overwrite: bool, resume: bool, part_frames: int, max_pixels: int | None, quiet: bool,
) -> None:
    """Stylize INPUT (video file, image sequence or image) into OUTPUT with a trained style."""
    from ..io.reader import open_source  # noqa: PLC0415 - keep `vidstyle --help` light
    from ..io.checkpoint import WARMUP_FRAMES, ResumableSink, can_resume, plan_resume, work_dir  # noqa: PLC0415
    from ..io.writer import open_sink  # noqa: PLC0415
    from ..models.mixing import load_styles_mix  # noqa: PLC0415
    from ..pipeline.color import FrameCodec  # noqa: PLC0415
    from ..pipeline.runner import stylize_stream  # noqa: PLC0415
    from ..pipeline.backends import make_stylizer  # noqa: PLC0415
    from ..pipeline.exported_stylizer import opencv_threads, threads_beside, torch_threads  # noqa: PLC0415
    import torch  # noqa: PLC0415

    controls = parse_controls(strength, preserve_colors)
    if exr_half and not (str(output).lower().rstrip("/").endswith(".exr") or (codec or "").lower() == "exr"):
        raise InputError("--exr-half needs an EXR output (out_%04d.exr or --codec exr)")
    feather = parse_feather(mask_feather)
    tile = parse_tile_option(tile_spec)
    dev = pick_device(device)
    batch_size = batch_size or (4 if dev.type == "cuda" else 1)
    net, style_text = load_styles_mix(style, dev, mode=mix_mode)
    cons, message = build_consistency(consistency, flow_kind, dev, raft_weights)
    settings = {"style": style, "mix": mix_mode, "start": start, "end": end, "codec": codec, "crf": crf,
                "consistency": consistency, "flow": flow_kind, "strength": strength, "preserve_colors": preserve_colors,
                "mask": [mask_spec, file_identity(mask_spec)] if mask_spec else None, "mask_feather": mask_feather,
                "colorspace": colorspace, "exr_half": exr_half, "precision": precision, "tile": tile_spec,
                "checkpoint_every": part_frames}
    fingerprint = run_fingerprint(input_path, net, settings)
    point = plan_resume(output, fingerprint, resume=resume, overwrite=overwrite,
                        warmup=WARMUP_FRAMES if cons is not None else 1)
    cores = threads or torch.get_num_threads()
    # idle engine threads must not spin: decoding, encoding and consistency run beside the net
    stylizer, engine = make_stylizer(net, dev, backend, tile=tile, precision=precision, spinning=False,
                                     **({"threads": threads} if threads else {}))
    # an exported-net engine has every core; PyTorch and OpenCV only run what is beside the net
    side = threads_beside(stylizer, cores)
    if resume and point is None and not quiet:
        click.echo(f"nothing saved to resume for {output}: starting from the beginning", err=True)
    with open_source(input_path, start=point.start if point and point.start else start, end=end,
                     max_pixels=max_pixels) as source, \
            ExitStack() as stack:
        matte = None
        if mask_spec is not None:
            from ..pipeline.mattes import open_matte  # noqa: PLC0415

            matte = stack.enter_context(open_matte(mask_spec, source.info, feather=feather))
        frame_codec = FrameCodec.for_paths(input_path, source.info.dtype, output, colorspace, codec)
        audio = input_path if source.info.kind == "video" else None  # sequences have no audio file
        info = point.info if point else source.info  # a resumed run keeps the first run's range and timing
        sink = open_sink(output, info, codec=codec, crf=crf, audio_source=audio, overwrite=overwrite,
                         encoder_options={"exr_half": True} if exr_half else None)
        if can_resume(sink):
            sink = ResumableSink(sink, fingerprint, part_frames=part_frames, point=point, work=work_dir(output))
        elif resume and not quiet:
            click.echo("note: --resume applies to videos (not AVI) and image sequences; this output is written "
                       "in one go", err=True)
        if not quiet:
            extras = controls_text(controls, matte, frame_codec)
            on = f"{dev} ({engine})" if engine else str(dev)
            click.echo(f"{input_path} → {output}: style {style_text} on {on}; {message}{extras}", err=True)
            if point is not None:
                again = f"; the next {point.warmup} are stylized again to restore the temporal state" if cons is not None else ""
                click.echo(f"resuming: {point.frames} frames saved{again}", err=True)
            for w in list(getattr(matte, "warnings", [])):
                click.echo(f"warning: {w}", err=True)
        try:
            with sink, torch_threads(side), opencv_threads(side):
                stats = stylize_stream(
                    source, sink, stylizer, consistency=cons, batch_size=batch_size,
                    total=source.info.frame_count, quiet=quiet,
                    controls=None if controls.is_identity else controls, masks=matte, codec=frame_codec,
                )
        except BaseException:
            saved = getattr(sink, "saved_frames", 0)
            if saved:
                click.echo(f"note: {saved} frames are saved in {work_dir(output)}; run the same command "
                           "with --resume to continue", err=True)
            raise
        for w in list(getattr(source, "warnings", [])):
            click.echo(f"warning: {w}", err=True)
    if not quiet:
        kept = f" ({point.frames} of them from the saved parts)" if point else ""
        total = stats.frames + (point.frames - point.warmup if point else 0)
        click.echo(f"wrote {output}: {total} frames{kept} in {stats.seconds:.1f} s ({stats.fps:.1f} fps)", err=True)


def file_identity(path: str) -> list | None:
    """``[absolute path, size, mtime_ns]`` of a file (None for patterns, folders, cameras)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [os.path.abspath(path), st.st_size, st.st_mtime_ns] if os.path.isfile(path) else None


def run_fingerprint(input_path: str, net, settings: dict) -> dict:
    """What makes a stylization's frames: the input file, the net's weights (a digest) and the
    options that change the output; saved with the parts of a resumable run and compared on
    ``--resume``."""
    digest = hashlib.sha256()
    for name, value in net.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().cpu().float().contiguous().numpy().tobytes())
    return {"input": file_identity(input_path) or os.path.abspath(input_path), "net": digest.hexdigest()[:20], **settings}


def parse_controls(strength: str, preserve_colors: bool):
    """``--strength``/``--preserve-colors`` → a ``StyleControls``; bad values are ``InputError``."""
    from ..pipeline.controls import StyleControls, check_strength  # noqa: PLC0415

    try:
        s = check_strength(strength)
    except ValueError as e:
        raise InputError(f"--{e}") from None
    return StyleControls(strength=s, preserve_colors=preserve_colors)


def parse_tile_option(text: str) -> int | None:
    """``--tile`` → None (auto), 0 (off) or a tile size; bad values are ``InputError``."""
    from ..pipeline.tiling import parse_tile  # noqa: PLC0415

    try:
        return parse_tile(text)
    except ValueError as e:
        raise InputError(f"--{e}") from None


def parse_feather(text: str) -> float:
    try:
        px = float(text)
    except ValueError:
        px = float("nan")
    if not (0.0 <= px <= 1000.0):
        raise InputError(f"--mask-feather must be a number of pixels in 0..1000, not {text!r}")
    return px


def controls_text(controls, matte, frame_codec) -> str:
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
