"""The README's figures are the ones the results files give, and what it and docs/ link to exists."""

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


def local_links(path: Path) -> list[str]:
    """The relative link and picture targets of a Markdown file (no URLs, no #anchors)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", path.read_text())
    return [t.split("#")[0] for t in targets if "://" not in t and not t.startswith("#")]


def test_readme_pictures_and_links_exist():
    local = local_links(REPO / "README.md")
    assert local, "no local links found"
    missing = [t for t in local if not (REPO / t).exists()]
    assert not missing, missing


def test_docs_links_exist():
    # the README points to these pages for everything a first-time user can skip
    pages = sorted((REPO / "docs").glob("*.md"))
    assert pages
    missing = [f"{p.name}: {t}" for p in pages for t in local_links(p) if not (p.parent / t).exists()]
    assert not missing, missing
