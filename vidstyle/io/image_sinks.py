"""Image outputs: numbered image sequences and single stills (png, tiff, jpeg, exr).

Frames go to a hidden temporary folder (or name) and are moved into place on ``close()``, so a
killed run never leaves a mix of old and new frames.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from vidstyle.errors import OutputError
from vidstyle.io._exr import encode_exr
from vidstyle.io._util import has_pattern, pattern_regex
from vidstyle.io.codecs import SEQUENCE_DEFAULT_EXT
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.outpath import hidden_name, physical_folder
from vidstyle.io.sink import MKSTEMP_CHARS, FrameSink, oserror_message, to_uint

import cv2
import numpy as np

__all__ = ["SequenceSink", "ImageSink", "encode_image", "stale_sequence_folders"]


def _sequence_tmp_prefix(template: str, folder: str) -> str:
    """Prefix of an image sequence's temporary folder (``.out_%04d.png.vidstyle-partial-<random>``,
    ``%`` spelt ``_``), so a later run of the same output recognises one a killed run left."""
    return hidden_name(template.replace("%", "_"), ".vidstyle-partial-", folder=folder, reserve=MKSTEMP_CHARS)


def stale_sequence_folders(output: str) -> list[str]:
    """Temporary folders that killed runs writing the image sequence ``output`` (a pattern or a
    folder: any image type) left; callers hold the output's lock."""
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        folder = os.path.realpath(output)
        templates = ["%06d" + ext for ext in SEQUENCE_DEFAULT_EXT.values()]
    elif has_pattern(output):
        folder = physical_folder(output)
        try:
            templates = [pattern_regex(output)[1]]
        except ValueError:
            return []
    else:
        return []
    prefixes = [_sequence_tmp_prefix(t, folder) for t in templates]
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    own = re.compile("|".join(re.escape(p) + "[a-z0-9_]{%d}$" % MKSTEMP_CHARS for p in prefixes))
    return [os.path.join(folder, n) for n in names if own.match(n) and os.path.isdir(os.path.join(folder, n))]



def encode_image(image: np.ndarray, codec: str, options: dict, path: str) -> bytes:
    """Encode one ``H x W x C`` frame as the bytes of a png/tiff/jpeg/exr file."""
    c = image.shape[2]
    if codec == "exr":
        if image.dtype == np.uint8:
            data = image.astype(np.float32) / 255.0
        elif image.dtype == np.uint16:
            data = image.astype(np.float32) / 65535.0
        else:
            data = image.astype(np.float32)
        return encode_exr(data, half=bool(options.get("exr_half")),
                          compression=str(options.get("exr_compression", "zip16")))
    if codec == "jpeg":
        data = to_uint(image, 8)
        if c == 4:
            data = data[:, :, :3]
        params = [cv2.IMWRITE_JPEG_QUALITY, int(options.get("quality", 95))]
        ext = ".jpg"
    else:  # png / tiff
        data = image if image.dtype in (np.uint8, np.uint16) else to_uint(image, 16)
        params = ([cv2.IMWRITE_PNG_COMPRESSION, int(options.get("compression", 3))]
                  if codec == "png" else [])
        ext = ".png" if codec == "png" else ".tif"
    if data.shape[2] == 4:
        data = data[:, :, [2, 1, 0, 3]]
    else:
        data = data[:, :, ::-1]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(data), params)
    if not ok:
        raise OutputError(f"{path}: cannot encode {codec} image")
    return buf.tobytes()


class SequenceSink(FrameSink):
    """Numbered image files (``out_%04d.png``; a folder gets ``%06d.png``), numbered from 0.

    PNG/TIFF follow the frame dtype (8 or 16 bits; float frames become 16-bit), JPEG is 8-bit RGB,
    EXR is float32 (``encoder_options={"exr_half": True}`` for half floats; integer frames are
    scaled to 0..1; encoded by FFmpeg's EXR codec, zip16 compression). Files are written into a
    hidden temporary folder and moved into place by ``close()``; with ``overwrite`` older files
    matching the pattern are removed.
    """

    def __init__(self, pattern: str, info: VideoInfo, *, codec: str, overwrite: bool,
                 audio_source: str | None, encoder_options, created_dirs: list[str],
                 first_number: int = 0) -> None:
        super().__init__(pattern, info, overwrite)
        self.tmp_dir = None
        self.first_number = int(first_number)  # the number of the first frame written
        self._created_dirs = created_dirs
        self.codec = codec
        self.options = dict(encoder_options or {})
        self.folder = os.path.dirname(os.path.abspath(pattern))
        self.regex, self.template = pattern_regex(pattern)
        self.written: list[str] = []
        if audio_source:
            self._warn("image sequences carry no audio: audio not copied")
        existing = self._existing()
        if existing and not overwrite:
            self.abort()
            raise OutputError(f"{pattern}: {len(existing)} matching file(s) already exist "
                              "(use --overwrite to replace them)")
        try:
            self.tmp_dir = tempfile.mkdtemp(prefix=_sequence_tmp_prefix(self.template, self.folder), dir=self.folder)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write into {self.folder}: {oserror_message(exc)}") from None
        self._shape = None

    def _existing(self) -> list[str]:
        try:
            return [n for n in os.listdir(self.folder) if self.regex.match(n)]
        except OSError:
            return []

    def _encode(self, image: np.ndarray) -> bytes:
        return encode_image(image, self.codec, self.options, self.path)

    def _write(self, frame: Frame) -> None:
        image = frame.image
        if self._shape is None:
            self._shape = image.shape
            if image.dtype in (np.float32, np.float16, np.float64) and self.codec in ("png", "tiff"):
                self._warn("float frames are clipped to [0, 1] and saved as 16-bit")
            if image.shape[2] == 4 and self.codec == "jpeg":
                self._warn("JPEG has no alpha: the alpha channel is dropped")
        elif image.shape[:2] != self._shape[:2]:
            raise OutputError(f"{self.path}: frame {frame.index} is {image.shape[1]}x{image.shape[0]}, "
                              f"the sequence is {self._shape[1]}x{self._shape[0]}")
        name = self.template % (self.first_number + self.frames_written)
        with open(os.path.join(self.tmp_dir, name), "wb") as fh:
            fh.write(self._encode(image))
        self.written.append(name)

    def adopt(self, files: list[str]) -> int:
        """Take finished frame files (named by this sink's pattern, e.g. the saved parts of one
        run, see :mod:`vidstyle.io.checkpoint`) instead of encoding frames: they are linked (or
        copied) into this output's temporary folder, and ``close()`` moves them into place; the
        originals stay until the caller removes them. Returns how many."""
        for path in files:
            name = os.path.basename(path)
            if not self.regex.match(name):
                raise OutputError(f"{self.path}: {name} does not match the output pattern")
            dest = os.path.join(self.tmp_dir, name)
            try:
                try:
                    os.link(path, dest)
                except OSError:  # another file system, or no hard links there
                    shutil.copyfile(path, dest)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot link or copy {name} ({oserror_message(exc)})") from None
            self.written.append(name)
        self.frames_written += len(files)
        return len(files)

    def _finish(self) -> None:
        existing = set(self._existing())
        if existing and not self.overwrite:
            raise OutputError(f"{self.path}: matching files appeared while writing; not overwritten")
        new = set(self.written)
        for name in self.written:
            os.replace(os.path.join(self.tmp_dir, name), os.path.join(self.folder, name))
        for name in sorted(existing - new):  # stale frames of an older, longer output
            try:
                os.remove(os.path.join(self.folder, name))
            except OSError:
                pass
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def _discard(self) -> None:
        if self.tmp_dir:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)


class ImageSink(FrameSink):
    """One still image (png/tiff/jpeg/exr), for a single-image source; written to a temporary
    name beside ``path`` and renamed on ``close()``."""

    def __init__(self, path: str, info: VideoInfo, *, codec: str, overwrite: bool,
                 encoder_options, created_dirs: list[str]) -> None:
        super().__init__(path, info, overwrite)
        self._created_dirs = created_dirs
        self.codec = codec
        self.options = dict(encoder_options or {})
        stem, ext = os.path.splitext(os.path.basename(path))
        folder = physical_folder(path)
        self.tmp = os.path.join(folder, hidden_name(stem, f".partial{ext}", folder=folder))
        if os.path.lexists(path) and not overwrite:
            self.abort()
            raise OutputError(f"{path}: already exists (use --overwrite to replace it)")

    def _write(self, frame: Frame) -> None:
        if self.frames_written:
            raise OutputError(f"{self.path}: a single image output takes one frame; "
                              "give a pattern like out_%04d.png for a sequence")
        with open(self.tmp, "wb") as fh:
            fh.write(encode_image(frame.image, self.codec, self.options, self.path))

    def _finish(self) -> None:
        os.replace(self.tmp, self.path)

    def _discard(self) -> None:
        try:
            os.remove(self.tmp)
        except OSError:
            pass

