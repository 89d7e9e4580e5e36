"""Codec policy: which encoder, pixel format and options a video output gets.

A pure function of names and numbers (no PyAV objects), so the policy can be read and tested
without encoding anything; :mod:`vidstyle.io.video_sink` applies it to a real stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vidstyle.errors import OutputError

__all__ = ["EncoderSettings", "encoder_settings", "canonical_codec", "prores_profile", "PRORES_PROFILES",
           "CONTAINERS", "SEQUENCE_EXTS", "SEQUENCE_DEFAULT_EXT", "DEFAULT_CRF", "IMAGE_CODECS"]

CODEC_ALIASES = {
    "h264": "libx264", "avc": "libx264", "x264": "libx264", "libx264": "libx264",
    "h265": "libx265", "hevc": "libx265", "x265": "libx265", "libx265": "libx265",
    "prores": "prores_ks", "prores_ks": "prores_ks",
    "ffv1": "ffv1",
    "vp9": "libvpx-vp9", "libvpx-vp9": "libvpx-vp9",
    "mpeg4": "mpeg4",
    "png": "png", "exr": "exr", "tiff": "tiff", "tif": "tiff", "jpeg": "jpeg", "jpg": "jpeg",
}

#: extension -> (muxer, default codec, allowed codecs)
CONTAINERS = {
    ".mp4": ("mp4", "libx264", {"libx264", "libx265"}),
    ".m4v": ("mp4", "libx264", {"libx264", "libx265"}),
    ".mkv": ("matroska", "libx264", {"libx264", "libx265", "ffv1", "prores_ks", "libvpx-vp9"}),
    ".mov": ("mov", "prores_ks", {"prores_ks", "libx264", "libx265"}),
    ".avi": ("avi", "mpeg4", {"mpeg4", "libx264", "ffv1"}),
    ".webm": ("webm", "libvpx-vp9", {"libvpx-vp9"}),
}

#: image-sequence extension -> codec, and each image codec's default extension
SEQUENCE_EXTS = {".png": "png", ".exr": "exr", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg",
                 ".jpeg": "jpeg"}
SEQUENCE_DEFAULT_EXT = {"png": ".png", "exr": ".exr", "tiff": ".tif", "jpeg": ".jpg"}
IMAGE_CODECS = ("png", "exr", "tiff", "jpeg")

PRORES_PROFILES = {"proxy": 0, "lt": 1, "standard": 2, "hq": 3, "4444": 4, "4444xq": 5}

DEFAULT_CRF = {"libx264": 18, "libx265": 20, "libvpx-vp9": 32, "mpeg4": 18}


def canonical_codec(codec: str | None) -> str | None:
    """The FFmpeg encoder for a user's codec name (``h264`` -> ``libx264``); None stays None."""
    if codec is None:
        return None
    name = str(codec).strip().lower()
    if name not in CODEC_ALIASES:
        known = ", ".join(sorted({"h264", "h265", "hevc", "prores", "ffv1", "vp9", "mpeg4", "png",
                                   "exr", "tiff", "jpeg"}))
        raise OutputError(f"unknown codec {codec!r} (known: {known})")
    return CODEC_ALIASES[name]


def prores_profile(value, has_alpha: bool) -> int:
    """ProRes profile number 0-5 from a number or a name (``hq``, ``4444``); None: 4444 for
    frames with alpha (to keep it), HQ otherwise."""
    if value is None:
        return 4 if has_alpha else 3
    if isinstance(value, str):
        key = value.strip().lower().replace(" ", "")
        if key in PRORES_PROFILES:
            return PRORES_PROFILES[key]
        try:
            value = int(key)
        except ValueError:
            raise OutputError(f"unknown ProRes profile {value!r} "
                              f"(use 0-5 or {', '.join(PRORES_PROFILES)})") from None
    if value == 4444:
        return 4
    if isinstance(value, int) and 0 <= value <= 5:
        return value
    raise OutputError(f"unknown ProRes profile {value!r} (use 0-5 or {', '.join(PRORES_PROFILES)})")


@dataclass(frozen=True)
class EncoderSettings:
    """How to encode: ``codec`` (FFmpeg encoder), ``pix_fmt``, encoder ``options`` (strings);
    ``bits`` (8 or 16) and ``alpha``: the RGB(A) layout frames are converted to before encoding;
    ``qscale`` (mpeg4 only, 1-31); ``colorspace``: the RGB->YUV matrix (PyAV's name) and
    ``tag_bt709``: whether the stream is tagged BT.709 limited range; ``warnings``: what the
    output loses (alpha, bit depth, exact size as 4:2:0), which the sink that uses the settings
    logs (a pure description here: settings may be computed without encoding anything)."""

    codec: str
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)
    bits: int = 8
    alpha: bool = False
    qscale: int | None = None
    colorspace: str = "ITU709"
    tag_bt709: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def yuv(self) -> bool:
        """Frames are converted from RGB to YUV (else the encoder takes RGB)."""
        return self.pix_fmt.startswith("yuv")


def _muxer(container: str) -> str:
    """A muxer name from a muxer name or an output extension (``.mkv`` -> ``matroska``)."""
    key = container.lower()
    if not key.startswith("."):
        key = "." + key
    if key in CONTAINERS:
        return CONTAINERS[key][0]
    return container.lower()


def _codec_layout(codec: str, width: int, height: int, deep: bool, alpha_in: bool, crf: int | None,
                  profile) -> tuple[str, int, bool, dict[str, str]]:
    """(pix_fmt, bits, alpha kept, options) of ``codec``: see :mod:`vidstyle.io.writer`."""
    opts: dict[str, str] = {}
    if codec in ("libx264", "libx265"):
        pix = "yuv420p" if (width % 2 == 0 and height % 2 == 0) else "yuv444p"
        opts["crf"] = str(crf if crf is not None else DEFAULT_CRF[codec])
        if codec == "libx265":
            opts["x265-params"] = "log-level=error"
        return pix, 8, False, opts
    if codec == "prores_ks":
        number = prores_profile(profile, alpha_in)
        opts["profile"] = str(number)
        if number < 4:
            return "yuv422p10le", 16, False, opts
        if alpha_in:
            opts["alpha_bits"] = "16"
        return ("yuva444p10le" if alpha_in else "yuv444p10le"), 16, alpha_in, opts
    if codec == "ffv1":
        opts.update({"level": "3", "slicecrc": "1"})
        if deep:
            return ("gbrap16le" if alpha_in else "gbrp16le"), 16, alpha_in, opts
        return ("bgra" if alpha_in else "bgr0"), 8, alpha_in, opts
    if codec == "libvpx-vp9":
        opts.update({"crf": str(crf if crf is not None else DEFAULT_CRF[codec]), "b": "0", "deadline": "good",
                     "cpu-used": "4", "row-mt": "1"})
        return "yuv420p", 8, False, opts
    if codec == "mpeg4":
        return "yuv420p", 8, False, opts
    raise OutputError(f"codec {codec} cannot write video files")


def encoder_settings(codec: str | None, width: int, height: int, *, depth: int = 8, alpha: bool = False,
                     container: str = "mp4", crf: int | None = None, prores: int | str | None = None,
                     encoder_options: dict | None = None) -> EncoderSettings:
    """Encoder settings for ``width`` x ``height`` frames (pixels) of ``depth`` bits per channel
    (8, 16, or 32 for float frames), with ``alpha`` or not, written into ``container`` (a muxer
    name such as ``matroska`` or an extension such as ``.mkv``). ``codec``: a user's name
    (``h264``, ``prores`` ...) or None for the container's default; ``crf``: quality (None: the
    codec's default); ``prores``: the ProRes profile; ``encoder_options`` override the options.
    Raises :class:`~vidstyle.errors.OutputError` for an unknown codec or a bad ProRes profile."""
    muxer = _muxer(container)
    name = canonical_codec(codec)
    if name is None:
        defaults = {m: default for m, default, _ in CONTAINERS.values()}
        name = defaults.get(muxer, "libx264")
    pix, bits, alpha_out, opts = _codec_layout(name, width, height, depth != 8, alpha, crf, prores)
    warnings = []
    if name in ("libx264", "libx265") and (width % 2 or height % 2):
        warnings.append(f"odd frame size {width}x{height}: encoded as {pix} (4:4:4) to keep the exact size")
    if alpha and not alpha_out:
        warnings.append(f"{name} ({pix}) has no alpha: the alpha channel is dropped")
    if depth == 32:
        warnings.append("float frames are clipped to [0, 1] for video output")
    elif depth == 16 and bits == 8:
        warnings.append(f"16-bit frames are converted to 8 bits for {name}")
    opts.update({str(k): str(v) for k, v in (encoder_options or {}).items()})
    qscale = None
    if name == "mpeg4":  # qscale 1..31, mapped from the CRF scale (18 -> 3)
        qscale = max(1, min(31, int(round((crf if crf is not None else DEFAULT_CRF[name]) / 6))))
    return EncoderSettings(codec=name, pix_fmt=pix, options=opts, bits=bits, alpha=alpha_out, qscale=qscale,
                           colorspace="ITU601" if muxer == "avi" else "ITU709",
                           tag_bt709=pix.startswith("yuv") and muxer != "avi", warnings=tuple(warnings))
