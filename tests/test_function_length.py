"""Functions stay short enough to read at once, or say why not.

Every function and method in ``vidstyle/`` is parsed (``ast``); one longer than :data:`LIMIT`
lines (``def`` to its last line, docstring included) fails unless its docstring has a line
starting with :data:`REASON` that says why one flow is clearer kept together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vidstyle

LIMIT = 60
REASON = "Long because"

#: Long functions skipped for now, as ``module:qualified.name``: for one that concurrent work is
#: changing, where splitting it at the same time would collide; empty it once that work is in.
ALLOWLIST: set[str] = set()

ROOT = Path(vidstyle.__file__).parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def functions() -> list[tuple[str, int, ast.FunctionDef | ast.AsyncFunctionDef, Path]]:
    """``(module:qualified.name, length in lines, node, path)`` of every function in ``vidstyle``."""
    found = []

    def visit(node: ast.AST, prefix: str, module: str, path: Path) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append((f"{module}:{name}", child.end_lineno - child.lineno + 1, child, path))
                visit(child, f"{name}.", module, path)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", module, path)
            else:
                visit(child, prefix, module, path)

    for path in sorted(ROOT.rglob("*.py")):
        visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), "", _module(path), path)
    return found


def _has_reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(REASON) and len(line.strip()) > len(REASON) + 10
               for line in doc.splitlines())


def test_long_functions_say_why():
    long = [f"{path.relative_to(ROOT.parent)}:{node.lineno} {name} ({n} lines)"
            for name, n, node, path in functions()
            if n > LIMIT and name not in ALLOWLIST and not _has_reason(node)]
    assert not long, (f"functions over {LIMIT} lines: split them into named parts, or add a docstring "
                      f"line starting with {REASON!r} that says why they are one piece:\n  " + "\n  ".join(long))


def test_allowlist_is_current():
    """An entry that no longer names a long function is dropped, so the list only shrinks."""
    lengths = {name: n for name, n, _node, _path in functions()}
    stale = sorted(name for name in ALLOWLIST if lengths.get(name, 0) <= LIMIT)
    assert not stale, f"no longer long (or gone): remove from ALLOWLIST: {stale}"


def test_checker_sees_methods_and_nested_functions():
    names = {name for name, *_ in functions()}
    assert "vidstyle.io.writer:open_sink" in names
    assert "vidstyle.io.video_sink:VideoSink._setup" in names
    assert any(name.count(".") >= 1 and ":" in name for name in names)
