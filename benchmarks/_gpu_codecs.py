"""GPU video decoding and encoding, measured apart from vidstyle's pipeline (which decodes and
encodes on the CPU), to see what moving either stage to the GPU could gain.

    python benchmarks/_gpu_codecs.py pyav CLIP FRAMES DEVICE WORK_DIR    # one JSON line on stdout
    python benchmarks/_gpu_codecs.py torchcodec CLIP FRAMES DEVICE WORK_DIR

``pyav``: which NVIDIA codecs PyAV's FFmpeg has (``h264_nvenc``, ``h264_cuvid`` ...), the encode
fps of ``h264_nvenc`` against ``libx264`` at vidstyle's default CRF 18, and the decode fps of
``h264_cuvid`` and of NVDEC through FFmpeg's ``cuda`` hwaccel against FFmpeg's threaded
software decoder, each fed or read as RGB24 arrays as vidstyle's reader and sink do. ``torchcodec``: decode fps of torchcodec's CUDA decoder (and its
CPU decoder for reference) to tensors. GPU parts on a CPU-only machine say ``skipped (no CUDA)``.

gpu_check.py runs these in a child process: a GPU codec that cannot start (a driver library
missing, an FFmpeg ABI that does not match) may crash its process, which must not end the check.
"""

from __future__ import annotations

import json
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from _steps import SKIPPED_NO_CUDA, error_line

NVIDIA_CODECS = ("h264_nvenc", "hevc_nvenc", "av1_nvenc", "h264_cuvid", "hevc_cuvid")
FFMPEG_LIBS = ("avutil", "avcodec", "avformat", "avdevice", "avfilter", "swscale", "swresample")


def read_rgb(clip: str, frames: int) -> list[np.ndarray]:
    """The first ``frames`` frames of ``clip`` as ``H x W x 3`` uint8 RGB arrays."""
    out = []
    with av.open(clip) as c:
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="rgb24"))
            if len(out) >= frames:
                break
    return out


def encode_fps(images: list[np.ndarray], codec: str, options: dict[str, str], path: str) -> dict:
    """Frames per second of RGB arrays → ``codec`` → an MP4 at ``path``, and the bitrate at 25 fps."""
    h, w = images[0].shape[:2]
    t0 = time.perf_counter()
    with av.open(path, "w") as c:
        s = c.add_stream(codec, rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = options
        for i, img in enumerate(images):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = i, Fraction(1, 25)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    dt = time.perf_counter() - t0
    return {"fps": len(images) / dt, "mbit_s": os.path.getsize(path) * 8 / 1e6 / (len(images) / 25)}


def decode_fps(clip: str, frames: int, codec: str | None = None, hwaccel: str | None = None,
               on_device: bool = False) -> dict:
    """Frames per second of ``clip`` decoded to RGB24 arrays by FFmpeg's own decoder (threaded), by
    the decoder ``codec`` (``h264_cuvid``: NVDEC, frames copied back to the CPU), or by FFmpeg's
    decoder with ``hwaccel`` (``cuda``: NVDEC); ``on_device`` leaves those frames in GPU memory
    (no RGB conversion: what a pipeline that takes frames on the GPU would get)."""
    kw = {}
    if hwaccel:
        from av.codec.hwaccel import HWAccel

        kw["hwaccel"] = HWAccel(hwaccel, allow_software_fallback=False, is_hw_owned=on_device)
    with av.open(clip, **kw) as c:
        stream = c.streams.video[0]
        if codec is None:
            stream.thread_type = "AUTO"
            ctx = stream.codec_context
        else:
            ctx = av.CodecContext.create(codec, "r")
            ctx.extradata = stream.codec_context.extradata
        n, t0 = 0, time.perf_counter()
        for packet in c.demux(stream):  # the last, empty packet flushes the decoder
            for f in ctx.decode(packet):
                if not on_device:
                    f.to_ndarray(format="rgb24")
                n += 1
            if n >= frames:
                break
        dt = time.perf_counter() - t0
    if n == 0:
        raise RuntimeError(f"{codec or 'decoder'} returned no frames")
    return {"fps": n / dt, "frames": n}


def _gpu_part(cuda: bool, available: bool, run) -> dict:
    """``run()``'s figures, or why it did not run, as one record with a status."""
    if not cuda:
        return {"status": SKIPPED_NO_CUDA}
    if not available:
        return {"status": "skipped (not in this FFmpeg build)"}
    try:
        return {"status": "pass", **run()}
    except Exception as e:  # noqa: BLE001  (a GPU codec failing is a figure of this check)
        return {"status": "fail", "error": error_line(e)}


def pyav(clip: str, frames: int, cuda: bool, work: Path) -> dict:
    """PyAV's NVIDIA codecs: availability, NVENC encode fps and NVDEC (cuvid) decode fps."""
    from av.codec.hwaccel import hwdevices_available

    have = set(av.codecs_available)
    out: dict = {"pyav": av.__version__, "libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
                 "available": {c: c in have for c in NVIDIA_CODECS}}
    images = read_rgb(clip, frames)
    h, w = images[0].shape[:2]
    out["size"], out["frames"] = f"{w}x{h}", len(images)
    tmp = work / f"gpucodecs-{w}x{h}"
    out["libx264_encode"] = {"status": "pass", **encode_fps(images, "libx264", {"crf": "18"}, f"{tmp}-x264.mp4")}
    out["h264_nvenc_encode"] = _gpu_part(cuda, "h264_nvenc" in have,
                                         lambda: encode_fps(images, "h264_nvenc", {"preset": "p4"}, f"{tmp}-nvenc.mp4"))
    out["cpu_decode"] = {"status": "pass", **decode_fps(clip, frames)}
    out["h264_cuvid_decode"] = _gpu_part(cuda, "h264_cuvid" in have, lambda: decode_fps(clip, frames, "h264_cuvid"))
    nvdec = "cuda" in hwdevices_available()
    out["nvdec_hwaccel_decode"] = _gpu_part(cuda, nvdec, lambda: decode_fps(clip, frames, hwaccel="cuda"))
    out["nvdec_hwaccel_decode_on_gpu"] = _gpu_part(cuda, nvdec, lambda: decode_fps(clip, frames, hwaccel="cuda",
                                                                                   on_device=True))
    return out


def torchcodec(clip: str, frames: int, cuda: bool, work: Path) -> dict:
    """torchcodec decode fps to uint8 ``[3, H, W]`` tensors: its CUDA decoder and its CPU one."""
    import torch
    import torchcodec as tc
    from torchcodec.decoders import VideoDecoder

    def run(device: str, **kw) -> dict:
        t0 = time.perf_counter()
        dec = VideoDecoder(clip, device=device, **kw)
        opened = time.perf_counter()
        n = 0
        for frame in dec:
            n += 1
            if n >= frames:
                break
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        dt = time.perf_counter() - opened
        return {"fps": n / dt, "frames": n, "open_s": opened - t0, "tensor_device": str(frame.device)}

    out: dict = {"torchcodec": getattr(tc, "__version__", "?")}
    try:
        out["cpu_decode"] = {"status": "pass", **run("cpu", num_ffmpeg_threads=0)}
    except Exception as e:  # noqa: BLE001  (reported as this part's figure)
        out["cpu_decode"] = {"status": "fail", "error": error_line(e)}
    if not cuda:
        out["cuda_decode"] = {"status": SKIPPED_NO_CUDA}
        return out
    try:
        out["cuda_decode"] = {"status": "pass", "backend": "ffmpeg", **run("cuda")}
    except Exception as e:  # noqa: BLE001 - the FFmpeg backend failing leads to the beta one
        first = error_line(e)
        # newer torchcodec also decodes through NVDEC directly, without FFmpeg's CUDA support
        try:
            from torchcodec.decoders import set_cuda_backend

            with set_cuda_backend("beta"):
                out["cuda_decode"] = {"status": "pass", "backend": "beta", "ffmpeg_backend_error": first, **run("cuda")}
        except Exception as e2:  # noqa: BLE001 - both backends failing is this part's figure
            out["cuda_decode"] = {"status": "fail", "error": first, "beta_backend_error": error_line(e2)}
    return out


def ffmpeg_shim(folder: Path) -> dict[str, str]:
    """Environment that lets torchcodec load PyAV's bundled FFmpeg where the system has none.

    The wheel's libraries carry hashed names (``libavcodec-5e6b81c2.so.62``); ``folder`` gets links
    under the plain sonames torchcodec asks for, and the wheel's folder stays on the search path
    for their own dependencies. Returns the ``LD_LIBRARY_PATH`` to run the child with.
    """
    libs = Path(av.__file__).resolve().parent.parent / "av.libs"
    folder.mkdir(parents=True, exist_ok=True)
    for lib in FFMPEG_LIBS:
        for f in libs.glob(f"lib{lib}-*.so.*"):
            major = f.name.split(".so.")[1].split(".")[0]
            link = folder / f"lib{lib}.so.{major}"
            if not link.exists():
                link.symlink_to(f)
    paths = [str(folder), str(libs), *filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":"))]
    return {"LD_LIBRARY_PATH": ":".join(paths)}


def main() -> None:
    kind, clip, frames, device, work = sys.argv[1:6]
    run = {"pyav": pyav, "torchcodec": torchcodec}[kind]
    print(json.dumps(run(clip, int(frames), device == "cuda", Path(work))), flush=True)


if __name__ == "__main__":
    main()
