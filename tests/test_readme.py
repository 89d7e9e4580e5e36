"""The README's figures are the ones the results files give, and what it shows exists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def load_renderer():
    spec = importlib.util.spec_from_file_location("render_readme", REPO / "benchmarks" / "render_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_figures_are_rendered_from_the_results_files():
    # a figure edited by hand, or a results file updated without re-rendering, fails here:
    # run `python benchmarks/render_readme.py`
    text = (REPO / "README.md").read_text()
    assert load_renderer().render(text) == text


def test_readme_pictures_and_links_exist():
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t for t in targets if "://" not in t and not t.startswith("#")]
    assert local, "no local links found"
    missing = [t for t in local if not (REPO / t).exists()]
    assert not missing, missing
