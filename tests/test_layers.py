"""The package layout is the architecture: a module imports only its own layer or layers below.

Every ``vidstyle`` module's imports are parsed (``ast``; imports inside functions count too, so a
lazy import cannot hide an upward dependency: lazy imports keep start-up light, nothing more).
Packages in one layer must not import each other in a cycle either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vidstyle

#: Layer of each top-level part of ``vidstyle`` (0 = lowest). A module may import its own layer
#: and every layer below, never one above.
LAYERS: dict[str, int] = {
    "errors": 0,    # user-facing error types
    "ops": 0,       # shared tensor operations: colour, blends, feathering, resampling
    "samples": 0,   # bundled media (a path, no code)
    "hub": 0,       # tensor-only reading of downloaded weight files
    "io": 1,        # decoding, encoding, checkpoints, atomic files, cache folder
    "flow": 1,      # optical flow, warping, occlusion
    "models": 1,    # nets, style files, mixing, export
    "pipeline": 2,  # stylizers, engines, artist controls, the frame loop
    "consistency": 2,  # flow-guided temporal consistency
    "training": 2,  # training and distillation
    "metrics": 2,   # warping error
    "api": 3,       # the Python API
    "live": 4,      # real-time sessions
    "distributed": 4,  # rendering on a Ray cluster
    "cli": 5,       # the command line
}
ROOT = Path(vidstyle.__file__).parent


def part_of(module: str) -> str:
    """``vidstyle.io.reader`` → ``io``; ``vidstyle`` itself and its top-level modules → their name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``vidstyle`` import in ``path`` (module ``name``, by default
    from its place in the package), relative ones resolved."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: x is a module of that package
                    out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
                    continue
            else:
                target = node.module or ""
            out.append((node.lineno, target))
    return [(line, m) for line, m in out if m == "vidstyle" or m.startswith("vidstyle.")]


def all_modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def layer_of(part: str) -> int:
    """``""`` is ``vidstyle/__init__.py``: the public facade that re-exports the API."""
    if part == "":
        return LAYERS["api"]
    return 0 if part == "__main__" else LAYERS[part]


def test_every_package_has_a_layer():
    parts = {part_of(module_name(p)) for p in all_modules()} - {""}
    parts = {p.removesuffix(".py") for p in parts}
    assert parts <= set(LAYERS), f"add {sorted(parts - set(LAYERS))} to LAYERS"


def test_no_module_imports_a_layer_above_it():
    bad = []
    for path in all_modules():
        mine = part_of(module_name(path))
        for line, target in imported_modules(path):
            theirs = part_of(target)
            if theirs and layer_of(theirs) > layer_of(mine):
                bad.append(f"{path.relative_to(ROOT.parent)}:{line}: {mine} (layer {layer_of(mine)}) imports "
                           f"{target} (layer {layer_of(theirs)})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_packages_do_not_import_each_other_in_a_cycle():
    edges: dict[str, set[str]] = {}
    for path in all_modules():
        mine = part_of(module_name(path))
        for _, target in imported_modules(path):
            theirs = part_of(target)
            if theirs and mine and theirs != mine:
                edges.setdefault(mine, set()).add(theirs)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(p for p in edges if reaches(p, p, {p}))
    assert not cycles, f"packages in an import cycle: {cycles}"


def test_modules_within_a_package_do_not_import_each_other_in_a_cycle():
    edges: dict[str, set[str]] = {}
    names = {module_name(p) for p in all_modules()}
    for path in all_modules():
        mine = module_name(path)
        if path.name == "__init__.py":
            continue  # a package's __init__ re-exports its modules by design
        for _, target in imported_modules(path):
            if target in names and target != mine and target.rsplit(".", 1)[0] == mine.rsplit(".", 1)[0]:
                edges.setdefault(mine, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(m for m in edges if reaches(m, m, {m}))
    assert not cycles, f"modules in an import cycle: {cycles}"


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text("import os\nfrom . import mattes\n\ndef f():\n    from ..cli import main\n"
                 "    import vidstyle.live.engine\n")
    found = [m for _, m in imported_modules(f, "vidstyle.pipeline.probe")]
    assert found == ["vidstyle.pipeline.mattes", "vidstyle.cli", "vidstyle.live.engine"] or \
        sorted(found) == sorted(["vidstyle.pipeline.mattes", "vidstyle.cli", "vidstyle.live.engine"])
