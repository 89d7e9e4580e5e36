"""Every core dependency in pyproject.toml is imported somewhere in vidstyle (an unused one only
costs every install time and disk)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

REPO = Path(__file__).resolve().parent.parent
IMPORT_NAME = {"opencv-python-headless": "cv2", "opencv-python": "cv2"}


def imported_top_levels() -> set[str]:
    names = set()
    for path in (REPO / "vidstyle").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_core_dependency_is_used():
    if tomllib is None:
        import pytest

        pytest.skip("tomllib needs Python 3.11")
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    used = imported_top_levels()
    unused = []
    for spec in deps:
        dist = re.match(r"[A-Za-z0-9_.-]+", spec).group(0)
        module = IMPORT_NAME.get(dist, dist.replace("-", "_").lower())
        if module not in used:
            unused.append(dist)
    assert not unused, f"declared but never imported: {unused}"
