"""Benchmark figures as files: ``benchmarks/results/NAME.json`` with the machine and command beside them.

A figure in the README is rendered from one of these files (``render_readme.py``), so every number
a user reads names the hardware, the commit and the exact command that produced it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPO = RESULTS.parent.parent


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> list[str]:
    """The vector extensions that decide the nets' CPU speed (AVX2, AVX-512, VNNI), where listed."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), [])
    return [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]


def core_count() -> int:
    """CPUs this process may run on (its affinity; a container's limit, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gpu_name() -> str | None:
    """The first CUDA device's name, or None (torch is imported only when already loaded or cheap)."""
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001  (no torch, or a broken CUDA setup: report no GPU)
        return None


def git_commit() -> str | None:
    """HEAD of the checkout, with ``-dirty`` when the code or weights differ from it (docs don't count)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "vidstyle", "weights", "benchmarks/*.py")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


COMMIT_AT_START = git_commit()  # the code measured: taken when the benchmark starts, not when it ends


def write_result(name: str, figures: dict, command: list[str] | None = None) -> Path:
    """Write ``benchmarks/results/NAME.json`` (figures, date, CPU, cores, GPU, commit, command).

    ``command`` is the command line as run (default: this interpreter's ``sys.argv``, with the
    script path made relative to the repository so the file reads the same on any checkout).
    """
    if command is None:
        command = ["python", *sys.argv]
    command = [_relative(a) for a in command]
    record = {
        "name": name,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": core_count(),
        "gpu": gpu_name(),
        "commit": COMMIT_AT_START,
        "python": platform.python_version(),
        "command": command,
        "figures": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    print(f"figures written to {path}")
    return path


def read_result(name: str) -> dict:
    """The record ``write_result`` wrote for ``name``."""
    return json.loads((RESULTS / f"{name}.json").read_text())


def _relative(arg: str) -> str:
    """``arg`` relative to the repository when it is a path inside it (scripts, weights)."""
    try:
        p = Path(arg)
        if p.is_absolute() and p.exists():
            return str(p.resolve().relative_to(REPO))
    except (ValueError, OSError):
        pass
    return arg
