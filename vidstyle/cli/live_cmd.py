"""``vidstyle live``: real-time stylization of a camera, file or stream, with live controls."""

from __future__ import annotations

import click

from ..pipeline.choices import BACKENDS, PRECISIONS
from .common import CONSISTENCY_CHOICES
from .options import parse_consistency, parse_frame_size, parse_net_scale, split_style_specs

_KEYS = ("n/p next/previous style, +/- strength, c consistency, b side-by-side, o overlay, "
         "s snapshot, r record, h help, q quit")


@click.command(epilog=f"\b\nKeys (window): {_KEYS}.\n\b\nExamples:\n"
               "  vidstyle live -s starry_night --size 640x360\n"
               "  vidstyle live --source clip.mp4 -s starry_night,great_wave --no-display -o out.mp4 --frames 300")
@click.option("--camera", type=click.IntRange(0, 255), default=None, help="Camera index (default 0).")
@click.option("--source", default=None, help="A video file or stream URL instead of a camera.")
@click.option("-s", "--style", "styles", multiple=True,
              help="Style name or .safetensors file; a comma list (a,b,c) to cycle through (keys n/p), or a mix "
                   "(a:0.7,b:0.3). Repeatable. Only these styles load. Default: starry_night.")
@click.option("--style-image", "style_images", multiple=True, metavar="IMAGE",
              help="Any image as a style (arbitrary-style net, PyTorch; slow on a CPU), or a mix a.jpg:0.7,b.jpg:0.3; "
                   "repeatable, cycled with the -s styles (before them).")
@click.option("--cycle-all", is_flag=True,
              help="Also load every other installed style, to cycle through after the -s ones (each one "
                   "loads in the background and takes memory; on the CPU the first use exports it).")
@click.option("--size", default=None, help="Working size WxH (e.g. 640x360) or a width; default: the capture size.")
@click.option("--net-scale", default="auto", show_default=True,
              help="Run the net at this fraction (0.05..1) of --size and upscale its output (0.5: ~4x faster, "
                   "coarser strokes); auto: 1 on a GPU, on the CPU the net's long side at most 320 px.")
@click.option("--consistency", default="off", show_default=True,
              help=f"Temporal consistency at start: {'|'.join(CONSISTENCY_CHOICES)} or 0..1 (key c toggles; "
                   "a strength of 0 is off). Off by default, unlike stylize: on a CPU the consistency step "
                   "about halves the frame rate and doubles the latency.")
@click.option("--flow", "flow_kind", type=click.Choice(["auto", "raft", "dis"]), default="auto", show_default=True)
@click.option("--raft-weights", type=click.Path(dir_okay=False), default=None, help="Local RAFT state dict.")
@click.option("--strength", default=1.0, show_default=True, type=float, help="Style strength 0..1 (keys +/-).")
@click.option("--preserve-colors", is_flag=True, help="Keep the camera's colours, take only the style's texture.")
@click.option("--mask", default=None, metavar="IMAGE", help="A still matte image: style only where it is white (soft edge).")
@click.option("--mask-feather", default=3.0, show_default=True, type=float, metavar="PX", help="Matte edge softness (Gaussian sigma, px).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--backend", default="auto", show_default=True, type=click.Choice(list(BACKENDS)),
              help="Inference engine, as in stylize: auto = OpenVINO or ONNX Runtime on CPU when installed, else PyTorch.")
@click.option("--precision", default="fp32", show_default=True, type=click.Choice(list(PRECISIONS)),
              help="Arithmetic of the net on CPU engines, as in stylize (int8: a quantized copy, 1.4-2.5x faster).")
@click.option("--cpu-net/--no-cpu-net", default=True, show_default=True,
              help="On a CPU, run each style's distilled CPU net where it ships one, as in stylize.")
@click.option("--threads", type=click.IntRange(1, 256), default=None, help="CPU threads for the net; default: all cores (OpenVINO, ONNX Runtime), all but one (--backend torch).")
@click.option("--display/--no-display", default=True, show_default=True, help="Show a preview window.")
@click.option("-o", "--output", default=None, help="Record the stylized stream to this video file (from the start).")
@click.option("--frames", type=click.IntRange(1, None), default=None, help="Stop after N stylized frames.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--codec", default=None, help="Recording codec (default from the extension: h264 for .mp4).")
@click.option("--crf", default=None, type=click.IntRange(0, 51), help="Recording quality for h264/h265.")
@click.option("--fast-source", is_flag=True,
              help="Read a file as fast as it decodes instead of at its frame rate (frames the net cannot "
                   "keep up with are dropped, as with a camera).")
@click.option("--side-by-side", is_flag=True, help="Start with the original beside the stylized feed (key b).")
@click.option("--no-overlay", is_flag=True, help="Start without the style/fps/latency overlay (key o).")
@click.option("--virtual-cam", is_flag=True, help="Also send the stylized feed to a virtual camera (needs pyvirtualcam).")
@click.option("--preview-http", type=click.IntRange(0, 65535), is_flag=False, flag_value=8765, default=None,
              metavar="[PORT]",
              help="Also serve the stylized feed as an MJPEG stream at http://127.0.0.1:PORT/ (default port 8765; "
                   "0: any free one) for a browser: a window on any install, headless OpenCV included "
                   "(then no other window opens); over SSH: ssh -L PORT:127.0.0.1:PORT HOST.")
@click.option("--snapshot-dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder for snapshots (key s) and recordings started with key r.")
@click.option("--quiet", is_flag=True, help="Only errors and the final summary line.")
def live(camera, source, styles, style_images, cycle_all, size, net_scale, consistency, flow_kind, raft_weights, strength, preserve_colors, mask, mask_feather,
         device, backend, precision, cpu_net, threads, display, output, frames, overwrite, codec, crf, fast_source, side_by_side,
         no_overlay, virtual_cam, preview_http, snapshot_dir, quiet) -> None:
    """Stylize a camera (or a file/stream) in real time, with style switching and recording.

    Capture, inference and display run on separate threads; when the net is slower than the
    source the newest frame is always used (older ones are dropped), so latency stays bounded.
    Headless (servers, tests): --no-display --output FILE [--frames N].
    """
    from ..live.session import LiveConfig, run_live

    cfg = LiveConfig(
        camera=camera, source=source, styles=live_styles(styles, style_images, cycle_all),
        size=parse_frame_size(size, allow_width=True), net_scale=parse_net_scale(net_scale),
        consistency=parse_consistency(consistency), flow_kind=flow_kind, raft_weights=raft_weights, strength=strength,
        preserve_colors=preserve_colors, mask=mask, mask_feather=mask_feather, device=device, backend=backend, precision=precision, cpu_net=cpu_net, threads=threads, display=display,
        output=output, frames=frames, overwrite=overwrite, codec=codec, crf=crf, pace=not fast_source,
        side_by_side=side_by_side, overlay=not no_overlay, virtual_cam=virtual_cam, preview_http=preview_http,
        snapshot_dir=snapshot_dir, quiet=quiet,
    )
    result = run_live(cfg, echo=lambda m: click.echo(m, err=True))
    click.echo(result.summary(), err=True)


def live_styles(styles: tuple[str, ...], style_images: tuple[str, ...], cycle_all: bool) -> list[str]:
    """The style specs to cycle through: the style images first, then the ``-s`` styles (the
    default style only when neither is given)."""
    images = [v.strip() for v in style_images if v.strip()]
    if images and not styles and not cycle_all:
        return images
    return [*images, *split_style_specs(styles, cycle_all=cycle_all)[0]]
