"""vidstyle.consistency: flow-guided temporal consistency at inference, and scene-cut detection."""

from .scenecut import SceneCutDetector
from .temporal import MODES, PRESETS, ConsistencyParams, TemporalConsistency, make_consistency

__all__ = ["MODES", "PRESETS", "ConsistencyParams", "SceneCutDetector", "TemporalConsistency", "make_consistency"]
