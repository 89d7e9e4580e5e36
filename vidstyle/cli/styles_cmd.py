"""``vidstyle styles``: list the installed styles."""

from __future__ import annotations

import click

from ..models.styles import list_styles, search_dirs


@click.command()
@click.option("--paths", is_flag=True, help="Also print each style's weights file.")
def styles(paths: bool) -> None:
    """List available styles (name, arch, size, painting)."""
    found = list_styles()
    if not found:
        dirs = ", ".join(str(d) for d in search_dirs())
        click.echo(f"no styles found (searched: {dirs})")
        return
    width = max(len(s.name) for s in found)
    arch_width = max(6, *(len(s.arch_name) for s in found))
    for s in found:
        size_mb = s.weights.stat().st_size / 1e6
        line = f"{s.name:<{width}}  {s.arch_name:<{arch_width}} {size_mb:5.1f} MB  {s.painting}"
        if isinstance(s.meta.get("cpu_net"), str):
            line += f"  (on a CPU: {s.meta['cpu_net']})"
        if paths:
            line += f"  [{s.weights}]"
        click.echo(line)
