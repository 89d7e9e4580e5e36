"""vidstyle.consistency: flow-guided temporal consistency at inference, and scene-cut detection.

Public names load on first use, so ``vidstyle.consistency.params`` (the presets and the
``--consistency`` grammar) is importable without PyTorch.
"""

import importlib as _importlib

_LAZY = {
    "SceneCutDetector": "vidstyle.consistency.scenecut",
    "TemporalConsistency": "vidstyle.consistency.temporal",
    "make_consistency": "vidstyle.consistency.temporal",
    "ConsistencyParams": "vidstyle.consistency.params",
    "MODES": "vidstyle.consistency.params",
    "PRESETS": "vidstyle.consistency.params",
    "parse_consistency": "vidstyle.consistency.params",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vidstyle.consistency' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value
