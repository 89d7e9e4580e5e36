"""Helpers for benchmarks that time the `vidstyle` command as a user runs it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def die(msg: str) -> None:
    """Print a one-line error and exit 1."""
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def find_vidstyle() -> str:
    """The `vidstyle` command of this interpreter's environment (else the one on PATH)."""
    exe = Path(sys.executable).parent / "vidstyle"
    if exe.exists():
        return str(exe)
    found = shutil.which("vidstyle")
    if not found:
        die("the `vidstyle` command is not installed (pip install -e . in the benchmark's environment)")
    return found
