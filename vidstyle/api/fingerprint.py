"""The resume fingerprint: what made a run's frames, derived from its :class:`RenderConfig`.

Saved with the parts of a resumable run and compared on ``resume``; a difference names the
fields that changed. Built from the config fields marked ``frames`` (nested sections flattened
to their field names), files by identity, plus a digest of the loaded net's weights (a style
file retrained under the same name counts as a change).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any

from .config import RenderConfig, style_text

__all__ = ["file_identity", "fingerprint", "frame_fields", "weights_digest"]


def file_identity(path: str) -> list | None:
    """``[absolute path, size, mtime_ns]`` of a file (None for patterns, folders, cameras)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [os.path.abspath(path), st.st_size, st.st_mtime_ns] if os.path.isfile(path) else None


def weights_digest(net) -> str:
    """A short SHA-256 of a module's state dict (names and float32 values)."""
    digest = hashlib.sha256()
    for name, value in net.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().cpu().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def frame_fields(obj: Any) -> dict[str, tuple[dataclasses.Field, Any]]:
    """The fields of a config (sections flattened) that change the frames: name → (field, value)."""
    out: dict[str, tuple[dataclasses.Field, Any]] = {}
    for f in dataclasses.fields(obj):
        if not f.metadata["frames"]:
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(frame_fields(value))
        else:
            out[f.name] = (f, value)
    return out


def _identity(kind: str | None, value: Any) -> Any:
    if value is None or kind is None:
        return value
    ident = file_identity(value)
    if kind == "path":  # the input: a file's identity, else the absolute pattern or folder
        return ident or os.path.abspath(value)
    return [value, ident]  # a named file, or a keyword such as mask "alpha"


def fingerprint(config: RenderConfig, net) -> dict:
    """The JSON-able fingerprint of ``config``'s frames made with ``net``."""
    out: dict[str, Any] = {}
    for name, (f, value) in frame_fields(config).items():
        if name == "style" and value is not None:
            value = style_text(value)
        if name == "style_image" and value is not None:  # each image of a mix by its identity
            from .style_image import style_image_parts

            out[name] = [[p, w, file_identity(p)] for p, w in style_image_parts(value)]
            continue
        out[name] = _identity(f.metadata.get("identity"), value)
    out["net"] = weights_digest(net)
    return out
