"""``vidstyle sample``: write the bundled sample clip (or a synthetic one) to try vidstyle on."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import click

from ..errors import OutputError
from ..io.atomic import atomic_path


@click.command()
@click.argument("output", default="sample.mp4")
@click.option("--synthetic", is_flag=True, help="Generate a moving test pattern with a sine-wave audio track instead.")
@click.option("--overwrite", is_flag=True)
def sample(output: str, synthetic: bool, overwrite: bool) -> None:
    """Write a short sample clip to OUTPUT (a 3 s, 640x360 city pan, CC0)."""
    out = Path(output)
    if out.exists() and not overwrite:
        if not synthetic and _same_file(out):  # a second run of a quick start: nothing to do
            click.echo(f"{output} is already the sample clip")
            return
        raise OutputError(f"{output} exists (use --overwrite)")
    if not out.parent.exists():
        raise OutputError(f"output folder does not exist: {out.parent}")
    try:
        with atomic_path(out) as tmp:  # OUTPUT appears only when complete
            if synthetic:
                from ..io.synthetic import make_test_clip

                make_test_clip(str(tmp), width=640, height=360, frames=72, fps=24, audio=True)
            else:
                from ..samples import sample_clip_path

                shutil.copyfile(sample_clip_path(), tmp)
    except OSError as e:
        raise OutputError(f"cannot write {output}: {e.strerror or e}") from None
    click.echo(f"wrote {output}")


def _same_file(path: Path) -> bool:
    """Whether ``path`` is a regular file with the bundled sample clip's bytes."""
    from ..samples import sample_clip_path

    try:
        return path.is_file() and filecmp.cmp(path, sample_clip_path(), shallow=False)
    except OSError:
        return False
