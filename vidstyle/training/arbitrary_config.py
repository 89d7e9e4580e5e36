"""Settings of an arbitrary-style decoder training run, without PyTorch (the CLI reads their
defaults for ``--help``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["DEFAULT_HOLDOUT", "ArbitraryConfig", "ArbitraryLossWeights"]

#: Paintings kept out of training by default: those with fully trained per-style nets shipped, so
#: the arbitrary model can be compared against them on styles it never saw.
DEFAULT_HOLDOUT = ("munch_the_scream", "kandinsky_composition_vii", "hokusai_great_wave", "van_gogh_starry_night")


@dataclass
class ArbitraryLossWeights:
    """Weights of the loss terms (feature terms are relative errors; pixels in 0..1)."""

    content: float = 1.0
    style: float = 2.0
    recon: float = 1.0
    recon_pixel: float = 10.0


@dataclass
class ArbitraryConfig:
    """Everything that defines a run (saved in checkpoints and the sidecar)."""

    content_dir: str
    style_dir: str
    out: str
    holdout: tuple[str, ...] = DEFAULT_HOLDOUT
    size: int = 128
    style_side: int = 512
    steps: int = 20000
    batch_size: int = 2
    lr: float = 3e-4
    seed: int = 0
    width: int = 32
    checkpoint_every: int = 50
    weights: ArbitraryLossWeights = field(default_factory=ArbitraryLossWeights)
    preview_image: str | None = None
    preview_style: str | None = None
    device: str = "cpu"
    init: str | None = None  # a decoder .safetensors a fresh run starts from (new settings, new optimizer)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["holdout"] = list(self.holdout)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ArbitraryConfig":
        d = dict(d)
        d["weights"] = ArbitraryLossWeights(**d.get("weights", {}))
        d["holdout"] = tuple(d.get("holdout", ()))
        return cls(**d)
