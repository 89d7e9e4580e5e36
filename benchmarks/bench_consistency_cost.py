"""CPU cost per frame of the default temporal consistency and the runner's conversion back to an image.

    python benchmarks/bench_consistency_cost.py [--frames 40] [--repeats 3] [--style standin|NAME]
        [--baseline DIR] [--mode default] [--results consistency_cost]

Times ``TemporalConsistency.step`` (with its DIS flows, as ``stylize`` builds them) and
``FrameCodec.to_image`` frame by frame on the bundled 640x360 sample clip, with one PyTorch and one
OpenCV thread as ``stylize`` gives them beside an exported net. The stylized frames are the style's
net output (``--style NAME``) or, by default, a deterministic stand-in (a fixed colour mix of the
frame plus a fixed texture), made once and shared by every run.

``--baseline DIR``: a vidstyle source tree (e.g. ``git archive REF | tar -x -C DIR``) timed in the
same way, alternating with this checkout run by run (each in its own process), so that a busy spell
on a shared machine hits both; the table also gives the largest difference between the two trees'
uint8 output frames (the optimized code must stay within 1/255 of the old one). Figures are medians
over the steady-state frames (the first frame, which only starts the history, is left out) and
over repeats, wall clock and the timing thread's CPU time (less disturbed by other processes on a
busy machine); they go to ``benchmarks/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parent.parent


def stand_in(content: np.ndarray) -> np.ndarray:
    """``[N, 3, H, W]`` float32 in [0, 1] from ``N x H x W x 3`` uint8: a fixed colour mix of each
    frame plus a fixed texture, so the blend sees both moving content and net-like high frequencies."""
    rng = np.random.default_rng(0)
    mix = rng.random((3, 3), dtype=np.float32)
    mix /= mix.sum(1, keepdims=True)
    texture = rng.random(content.shape[1:3], dtype=np.float32)[None, None] * 0.2 - 0.1
    x = content.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return np.clip(np.einsum("ij,njhw->nihw", mix, x) + texture, 0.0, 1.0).astype(np.float32)


def make_inputs(frames: int, style: str, path: Path) -> None:
    """Decode the sample clip and stylize it once; save ``content`` (uint8 NHWC) and ``styled``."""
    from vidstyle.io.reader import open_source
    from vidstyle.samples import sample_clip_path

    with open_source(str(sample_clip_path())) as src:
        content = np.stack([f.image[..., :3] for _, f in zip(range(frames), src)])
    if style == "standin":
        styled = stand_in(content)
    else:
        import torch

        from vidstyle import Stylizer

        net = Stylizer(style, device="cpu")
        styled = np.stack([net(torch.from_numpy(c).permute(2, 0, 1)[None].float() / 255.0)[0].numpy()
                           for c in content]).astype(np.float32)
    np.savez(path, content=content, styled=styled)


def child(inputs: Path, out: Path, mode: str) -> None:
    """Time step and to_image per frame with the vidstyle on ``sys.path``; save times and frames."""
    import cv2
    import torch

    from vidstyle.consistency.build import build_consistency
    from vidstyle.pipeline.color import FrameCodec

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    data = np.load(inputs)
    content, styled = data["content"], data["styled"]
    codec = FrameCodec()
    cons, _ = build_consistency(mode, "dis", torch.device("cpu"), None)
    times, images = [], []  # per frame: step wall, step CPU, to_image wall, to_image CPU (s)
    for img, s in zip(content, styled):
        c = codec.to_tensor(img)
        y = torch.from_numpy(s).unsqueeze(0)
        t0, c0 = time.perf_counter(), time.thread_time()
        y = cons.step(c, y)
        t1, c1 = time.perf_counter(), time.thread_time()
        images.append(codec.to_image(y, img))
        times.append((t1 - t0, c1 - c0, time.perf_counter() - t1, time.thread_time() - c1))
    np.savez(out, times=np.array(times), frames=np.stack(images))


def run_tree(tree: Path, inputs: Path, mode: str, tmp: Path) -> dict:
    """One timed run in a fresh process importing vidstyle from ``tree``."""
    out = tmp / f"out-{os.getpid()}-{time.monotonic_ns()}.npz"
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run([sys.executable, __file__, "--child", str(inputs), "--out", str(out), "--mode", mode],
                   env=env, check=True)
    r = np.load(out)
    res = {"times": r["times"][1:], "frames": r["frames"]}
    out.unlink()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--style", default="standin", help="'standin' (default) or a style whose net makes the frames")
    ap.add_argument("--mode", default="default", help="--consistency mode to time")
    ap.add_argument("--baseline", type=Path, default=None, help="a vidstyle source tree to compare against")
    ap.add_argument("--results", default="consistency_cost", help="name of the results file in benchmarks/results/")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.out, args.mode)
        return
    from _results import write_result

    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-cost-"))
    inputs = tmp / "inputs.npz"
    make_inputs(args.frames, args.style, inputs)
    trees = {"current": REPO}
    if args.baseline is not None:
        trees = {"baseline": args.baseline.resolve(), **trees}
    runs: dict[str, list[dict]] = {k: [] for k in trees}
    for _ in range(args.repeats):  # interleaved: a busy spell on a shared machine hits every tree
        for name, tree in trees.items():
            runs[name].append(run_tree(tree, inputs, args.mode, tmp))
    figures = {"clip": "sample", "size": "640x360", "style": args.style, "mode": args.mode,
               "frames": args.frames, "repeats": args.repeats, "trees": {}}
    print(f"{'tree':<9} {'step ms':>8} {'step CPU':>9} {'to_image ms':>12} {'to_image CPU':>13} {'max |diff|':>11}")
    for name, rs in runs.items():
        ms = [statistics.median(float(np.median(r["times"][:, k])) for r in rs) * 1000 for k in range(4)]
        diff = None
        if "baseline" in runs:
            base = runs["baseline"][0]["frames"].astype(np.int16)
            diff = max(int(np.abs(r["frames"].astype(np.int16) - base).max()) for r in rs)
        figures["trees"][name] = {"step_ms_per_frame": ms[0], "step_cpu_ms_per_frame": ms[1],
                                  "to_image_ms_per_frame": ms[2], "to_image_cpu_ms_per_frame": ms[3],
                                  "max_abs_diff_u8": diff}
        print(f"{name:<9} {ms[0]:8.2f} {ms[1]:9.2f} {ms[2]:12.2f} {ms[3]:13.2f} {'-' if diff is None else diff:>11}")
    write_result(args.results, figures)


if __name__ == "__main__":
    main()
