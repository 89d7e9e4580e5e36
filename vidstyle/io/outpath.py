"""Output-path checks done before any work, and hidden names that fit the file system.

``check_output_path(path, overwrite=...)`` finds every problem with an output path that would
otherwise only show when the finished file is moved into place: a ``..`` that goes through a
missing folder (the kernel resolves ``nosuch/..`` physically, so it fails even though the path
looks fine once normalised), a parent that is a file or cannot be written, a name longer than the
file system allows, an existing folder with a video extension, an existing file without
``overwrite``. Missing folders themselves are fine: the sinks create them.

``hidden_name(name, suffix, reserve=...)`` builds the ``.NAME<suffix>`` names of temporary files,
lock files and resume folders beside an output. A legal output name can be within a few bytes of
``NAME_MAX`` (255 on most file systems); the hidden name then keeps a shortened stem plus a digest
of the full name, so it still fits and stays unique per output.
"""

from __future__ import annotations

import hashlib
import os

from vidstyle.errors import OutputError
from vidstyle.io._util import has_pattern, one_line

__all__ = ["VIDEO_EXTS", "check_output_path", "hidden_name", "name_max", "physical_folder", "prepare_folder",
           "remove_dirs"]

VIDEO_EXTS = (".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm")
DEFAULT_NAME_MAX = 255  # bytes: ext4, XFS, btrfs, APFS, NTFS (in UTF-16 units)


def _existing_ancestor(folder: str) -> str:
    probe = os.path.abspath(folder or ".")
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return probe


def name_max(folder: str) -> int:
    """Longest file name (bytes) allowed in ``folder`` (or its nearest existing ancestor)."""
    try:
        return int(os.pathconf(_existing_ancestor(folder), "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or an odd file system
        return DEFAULT_NAME_MAX


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def hidden_name(name: str, suffix: str, *, folder: str = ".", reserve: int = 0) -> str:
    """``"." + name + suffix``, shortened to fit ``NAME_MAX`` with ``reserve`` bytes to spare
    (e.g. the random characters ``mkstemp`` inserts). A shortened name is
    ``.<stem>~<8 hex digits of sha1(name)><suffix>``: deterministic, so a later run finds it."""
    full = "." + name + suffix
    limit = name_max(folder) - reserve
    if _size(full) <= limit:
        return full
    digest = "~" + hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    room = limit - _size("." + digest + suffix)
    if room < 1:
        raise OutputError(f"{name}: cannot make a temporary name that fits the file system")
    stem = name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return "." + stem + digest + suffix


def physical_folder(path: str) -> str:
    """The folder ``path`` lands in, resolved as the kernel will (symlinks before ``..``)."""
    return os.path.realpath(os.path.dirname(path) or ".")


def _check_dotdot(path: str) -> None:
    parts = path.split(os.sep) if os.sep == "/" else path.replace("\\", "/").split("/")
    for i, part in enumerate(parts):
        if part != ".." or i == 0:
            continue
        prefix = os.sep.join(parts[:i]) or os.sep
        if not os.path.isdir(prefix):
            raise OutputError(f"{path}: folder {prefix} does not exist (the path goes back out of it "
                              "with ..); create it or give the path without ..")


def check_output_path(path: str, *, overwrite: bool = False) -> None:
    """Raise :class:`OutputError` for an output path that cannot end up written (module
    docstring); a path naming an image sequence (a pattern or a folder) only gets the folder
    checks."""
    if not path:
        raise OutputError("no output path given")
    path = os.fspath(path)
    _check_dotdot(path)
    ext = os.path.splitext(path.rstrip("/" + os.sep))[1].lower()
    if ext in VIDEO_EXTS and (os.path.isdir(path) or path.endswith(("/", os.sep))):
        raise OutputError(f"{path}: is a folder; a video output must be a file (a folder output is an "
                          "image sequence only when its name has no video extension)")
    is_dir = path.endswith(("/", os.sep)) or os.path.isdir(path)
    target = (path.rstrip("/" + os.sep) or path) if is_dir else path
    folder = physical_folder(target)
    name = os.path.basename(target)
    if name and _size(name) > name_max(folder):
        raise OutputError(f"{path}: file name too long ({_size(name)} bytes, at most {name_max(folder)})")
    # the lock and the resume folder go beside the output; a folder output's images inside it
    for where in [folder, target] if is_dir and os.path.isdir(target) else [folder]:
        probe = _existing_ancestor(where)
        if not os.path.isdir(probe):
            raise OutputError(f"cannot write into {where}: {probe} is a file, not a folder")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write into {probe}: permission denied")
    if not is_dir and not has_pattern(name) and os.path.lexists(path) and not overwrite:
        raise OutputError(f"{path}: already exists (use --overwrite to replace it)")


def prepare_folder(folder: str) -> list[str]:
    """Make sure ``folder`` exists and is writable; returns the folders we created."""
    folder = folder or "."
    created: list[str] = []
    probe = folder
    missing = []
    while probe and not os.path.exists(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if probe and os.path.exists(probe) and not os.path.isdir(probe):
        raise OutputError(f"cannot write into {folder}: {probe} is a file, not a folder")
    for d in reversed(missing):
        try:
            os.mkdir(d)
            created.append(d)
        except FileExistsError:
            if not os.path.isdir(d):
                raise OutputError(f"cannot write into {folder}: {d} is not a folder") from None
        except OSError as exc:
            remove_dirs(created)
            raise OutputError(f"cannot create folder {d}: {exc.strerror or one_line(exc)}") from None
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write into {folder}: not a folder")
    return created


def remove_dirs(created: list[str]) -> None:
    """Remove the folders ``prepare_folder`` created (deepest first), where still empty."""
    for d in reversed(created):
        try:
            os.rmdir(d)
        except OSError:
            pass
