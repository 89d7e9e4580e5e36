"""A style's CPU net: which net runs for a named style on a CPU, and how users opt out."""

from __future__ import annotations

import json

import pytest
import torch

from nets import tiny_net
from vidstyle.api.style_image import load_net
from vidstyle.models.styles import find_style, save_style


@pytest.fixture
def styles(tmp_path, monkeypatch):
    """``teacher`` naming ``teacher_cpu`` as its CPU net, and ``plain`` with none."""
    for name, seed, meta in (("teacher", 0, {"cpu_net": "teacher_cpu"}), ("teacher_cpu", 1, {}), ("plain", 2, {})):
        save_style(tiny_net(seed), tmp_path / name, {"name": name, **meta})
    monkeypatch.setenv("VIDSTYLE_WEIGHTS", str(tmp_path))
    return tmp_path


def _digest(net) -> float:
    return float(sum(p.double().sum() for p in net.state_dict().values()))


def test_named_style_runs_its_cpu_net_on_a_cpu(styles):
    net, label, _, _ = load_net("teacher", None, torch.device("cpu"))
    twin = find_style("teacher_cpu")
    assert "teacher_cpu" in label and label.startswith("teacher as its CPU net")
    assert _digest(net) == pytest.approx(_digest(load_net(str(twin.weights), None, torch.device("cpu"))[0]))


def test_opt_out_files_mixes_and_styles_without_one_run_the_named_net(styles):
    cpu = torch.device("cpu")
    assert "CPU net" not in load_net("teacher", None, cpu, cpu_net=False)[1]
    assert "CPU net" not in load_net(str(styles / "teacher.safetensors"), None, cpu)[1]
    assert "CPU net" not in load_net("teacher:0.5,plain:0.5", None, cpu)[1]
    assert "CPU net" not in load_net("plain", None, cpu)[1]


def test_a_missing_cpu_net_falls_back_to_the_trained_one(styles):
    meta = json.loads((styles / "plain.json").read_text())
    (styles / "plain.json").write_text(json.dumps({**meta, "cpu_net": "not_installed"}))
    assert "CPU net" not in load_net("plain", None, torch.device("cpu"))[1]


def test_cli_offers_the_opt_out():
    from click.testing import CliRunner

    from vidstyle.cli import main

    out = CliRunner().invoke(main, ["stylize", "--help"]).output
    assert "--no-cpu-net" in out
