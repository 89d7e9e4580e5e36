"""``vidstyle --help``, ``vidstyle styles`` and every ``vidstyle CMD --help`` start without
importing PyTorch (it takes seconds and hundreds of MB to load): commands load it when they run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from vidstyle.cli import main

HEAVY = ("torch", "torchvision", "cv2", "av", "numpy", "onnxruntime", "openvino")

RUNNER = """
import json, sys
from vidstyle.cli import main
try:
    main(sys.argv[1:], prog_name="vidstyle")
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = sorted(m for m in %r if m in sys.modules)
sys.stderr.write("\\nSTARTUP " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
""" % (HEAVY,)


def startup(*args: str, **extra_env: str) -> dict:
    env = {**os.environ, **extra_env}
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([repo, env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, env=env, timeout=120)
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("STARTUP ")]
    assert line, r.stderr
    return {**json.loads(line[-1][len("STARTUP "):]), "stdout": r.stdout}


def test_help_and_styles_do_not_import_pytorch():
    for args in (["--help"], ["styles"]):
        got = startup(*args)
        assert got["code"] == 0 and got["heavy"] == [], (args, got)
    assert "starry_night" in startup("styles")["stdout"]


def test_styles_reads_the_arch_of_a_file_without_sidecar_from_its_header(tmp_path):
    import torch

    from vidstyle.models.styles import save_style
    from vidstyle.models.transformer import TransformerNet

    torch.manual_seed(0)
    weights = save_style(TransformerNet("light-bilinear"), tmp_path / "mine", {})
    weights.with_suffix(".json").unlink()
    got = startup("styles", VIDSTYLE_WEIGHTS=str(tmp_path))
    assert got["heavy"] == []
    line = next(ln for ln in got["stdout"].splitlines() if ln.startswith("mine "))
    assert "light-bilinear" in line


def test_every_command_help_is_light():
    names = sorted(main.commands)
    assert {"stylize", "live", "styles", "train", "distill", "export", "sample"} <= set(names)
    for name in names:
        got = startup(name, "--help")
        assert got["code"] == 0 and "Usage: vidstyle " + name in got["stdout"], (name, got)
        assert got["heavy"] == [], (name, got["heavy"])
