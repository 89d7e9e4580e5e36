"""A plain (non-editable) build carries the shipped weights and the sample clip."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_weights_and_sample(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    if r.returncode != 0 and "No module named" in r.stderr and "setuptools" in r.stderr:
        pytest.skip("setuptools not installed in this environment")
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next(tmp_path.glob("vidstyle-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "vidstyle/samples/city_pan.mp4" in names
    shipped = sorted(p.name for p in (REPO / "weights").glob("*.safetensors"))
    assert shipped, "no trained style in weights/"
    for name in shipped:
        assert f"vidstyle/weights/{name}" in names
        assert f"vidstyle/weights/{name[: -len('.safetensors')]}.json" in names


def _console(*args: str) -> subprocess.CompletedProcess:
    """The ``vidstyle`` console entry point (``vidstyle.cli:run``) in a fresh interpreter."""
    code = "import sys; from vidstyle.cli import run; sys.argv = ['vidstyle', *sys.argv[1:]]; run()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_console_entry_point_keeps_output_and_exit_codes(tmp_path):
    ok = _console("styles")
    assert ok.returncode == 0 and "starry_night" in ok.stdout  # buffered output flushed before the fast exit
    bad = _console("stylize", str(tmp_path / "missing.mp4"), "-s", "starry_night", "-o", str(tmp_path / "o.mp4"))
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing.mp4'}: no such file"]
    usage = _console("stylize")
    assert usage.returncode == 2 and "Missing argument" in usage.stderr


def test_console_script_is_the_fast_exit_entry_point():
    text = (REPO / "pyproject.toml").read_text()
    assert 'vidstyle = "vidstyle.cli:run"' in text


def test_every_subpackage_is_listed_for_the_wheel():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "vidstyle").rglob("__init__.py")}
    assert found - listed == set()
