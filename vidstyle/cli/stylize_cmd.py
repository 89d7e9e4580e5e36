"""``vidstyle stylize``: stylize a video, an image sequence or an image."""

from __future__ import annotations

import click

from ..errors import InputError
from ..pipeline.choices import BACKENDS, PRECISIONS
from .common import CONSISTENCY_CHOICES
from .lazy_bar import LazyBar
from .logs import io_warnings_shown


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("-s", "--style", default=None,
              help="Style name (see `vidstyle styles`), a .safetensors file, or a mix: starry_night:0.7,great_wave:0.3.")
@click.option("--style-image", "style_images", multiple=True, metavar="IMAGE",
              help="Any image as the style instead of -s (arbitrary-style net, PyTorch; slow on a CPU); repeat "
                   "it or give a:0.7,b:0.3 to mix images. --strength then acts in the net's feature space.")
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
@click.option("--cpu-net/--no-cpu-net", default=True, show_default=True,
              help="On a CPU, run the style's distilled CPU net where it ships one (same look, "
                   "about 2x faster); --no-cpu-net runs the trained net.")
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
@click.option("--ray", "ray_address", default=None, is_flag=False, flag_value="auto", metavar="[auto|ADDRESS]",
              help="Render on Ray (pip install 'vidstyle[ray]'): the range is split into segments rendered in "
                   "parallel (one GPU each where the cluster has GPUs) and joined without re-encoding. auto = a "
                   "cluster started here with `ray start`, else a local Ray; or a cluster address (HOST:6379). "
                   "Video file outputs only.")
@click.option("--workers", type=click.IntRange(1, 100_000), default=None,
              help="With --ray: segments rendered at once (default: the cluster's GPUs, else its nodes).")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None,
              help="With --ray: folder for the segments' parts, at the same path on every node (a shared "
                   "mount; URLs such as s3:// don't work). Default: beside the output, which then must be shared.")
@click.option("--quiet", is_flag=True, help="No progress bar or messages (errors still go to stderr).")
def stylize(
    input_path: str, style: str | None, style_images: tuple[str, ...], output: str, device: str, backend: str, precision: str, cpu_net: bool, threads: int | None, batch_size: int | None, tile_spec: str,
    start: str | None, end: str | None,
    codec: str | None, crf: int | None, consistency: str, flow_kind: str, raft_weights: str | None,
    strength: str, preserve_colors: bool, mask_spec: str | None, mask_feather: str, mix_mode: str, colorspace: str,
    exr_half: bool, overwrite: bool, resume: bool, part_frames: int, max_pixels: int | None,
    ray_address: str | None, workers: int | None, work_dir: str | None, quiet: bool,
) -> None:
    """Stylize INPUT (video file, image sequence or image) into OUTPUT with a trained style."""
    from ..api.config import Controls, RenderConfig, Runtime  # keep `vidstyle --help` light
    from ..api.job import RenderJob

    style_image = pick_style_source(style, style_images)
    controls = parse_controls(strength, preserve_colors)
    if exr_half and not (str(output).lower().rstrip("/").endswith(".exr") or (codec or "").lower() == "exr"):
        raise InputError("--exr-half needs an EXR output (out_%04d.exr or --codec exr)")
    feather = parse_feather(mask_feather)
    parse_tile_option(tile_spec)
    if ray_address is None and (workers is not None or work_dir is not None):
        raise InputError("--workers and --work-dir apply to --ray")
    config = RenderConfig(
        input_path, output, style, mix=mix_mode, start=start, end=end, codec=codec, crf=crf,
        consistency=consistency, flow=flow_kind, raft_weights=raft_weights,
        controls=Controls(strength=controls.strength, preserve_colors=preserve_colors, mask=mask_spec,
                          mask_feather=feather, colorspace=colorspace),
        runtime=Runtime(device=device, backend=backend, precision=precision, threads=threads,
                        batch_size=batch_size, tile=tile_spec, max_pixels=max_pixels, cpu_net=cpu_net),
        exr_half=exr_half, overwrite=overwrite, resume=resume, checkpoint_every=part_frames,
        style_image=style_image,
    )
    if ray_address is not None:
        from ..distributed.driver import RayRenderJob  # Ray only when asked for

        job = RayRenderJob(config, address=ray_address, workers=workers, work_dir=work_dir)
    else:
        job = RenderJob(config)
    bar = LazyBar(quiet, unit="frame", desc="stylizing", dynamic_ncols=True, smoothing=0.1)
    try:
        with io_warnings_shown():
            stats = job.run(progress=bar.update, log=lambda level, text: echo(level, text, quiet))
    except BaseException:
        bar.close()
        if job.saved_frames:
            click.echo(f"note: {job.saved_frames} frames are saved in {job.work_dir}; run the same command "
                       "with --resume to continue", err=True)
        raise
    bar.close()
    if not quiet:
        kept = f" ({stats.resumed_frames} of them from the saved parts)" if stats.resumed_frames else ""
        click.echo(f"wrote {output}: {stats.frames} frames{kept} in {stats.seconds:.1f} s ({stats.fps:.1f} fps)",
                   err=True)


def echo(level: str, text: str, quiet: bool) -> None:
    """A job's status line or note on stderr unless ``quiet`` (its warnings come through logging)."""
    if not quiet:
        click.echo(text if level == "info" else f"{level}: {text}", err=True)


def parse_controls(strength: str, preserve_colors: bool):
    """``--strength``/``--preserve-colors`` → a ``StyleControls``; bad values are ``InputError``."""
    from ..pipeline.controls import StyleControls, check_strength

    try:
        s = check_strength(strength)
    except ValueError as e:
        raise InputError(f"--{e}") from None
    return StyleControls(strength=s, preserve_colors=preserve_colors)


def pick_style_source(style: str | None, style_images: tuple[str, ...]) -> str | None:
    """Exactly one of ``-s``/``--style-image``; the style images (repeated options mix equally)
    as one mix text, or None for ``-s``."""
    images = [v.strip() for v in style_images if v.strip()]
    if style is not None and images:
        raise InputError("give either -s/--style or --style-image, not both")
    if style is None and not images:
        raise InputError("no style given: use -s STYLE or --style-image IMAGE")
    return ",".join(images) if images else None


def parse_tile_option(text: str) -> int | None:
    """``--tile`` → None (auto), 0 (off) or a tile size; bad values are ``InputError``."""
    from ..pipeline.tiling import parse_tile

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
