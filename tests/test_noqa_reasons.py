"""Every ``# noqa`` says why the rule does not apply there (``# noqa: BLE001 - a finalizer must not
raise``): a bare one hides a decision nobody can review."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE = re.compile(r"#\s*noqa(:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*)?\s*$")


def test_every_noqa_says_why():
    files = [p for d in ("vidstyle", "tests", "benchmarks") for p in (ROOT / d).rglob("*.py") if "out" not in p.parts]
    bare = [f"{p.relative_to(ROOT)}:{n}" for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if BARE.search(line)]
    assert not bare, "noqa without a reason:\n" + "\n".join(bare)
