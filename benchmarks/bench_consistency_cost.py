"""CPU cost per frame of the default temporal consistency and the runner's conversion back to an image.

    python benchmarks/bench_consistency_cost.py [--frames 40] [--repeats 3] [--style standin|NAME]
        [--baseline REF] [--mode default] [--system-malloc] [--results consistency_cost]

Times ``TemporalConsistency.step`` (with its DIS flows, as ``stylize`` builds them) and
``FrameCodec.to_image`` frame by frame on the bundled 640x360 sample clip, with one PyTorch and one
OpenCV thread as ``stylize`` gives them beside an exported net. The stylized frames are the style's
net output (``--style NAME``) or, by default, a deterministic stand-in (a fixed colour mix of the
frame plus a fixed texture), made once and shared by every run.

``--baseline REF``: a git commit of this repository (or a folder holding a ``vidstyle`` source
tree), imported in the same process under another name and timed in turns with this checkout, frame by
frame, so that a slow spell of the CPU hits both; the table also gives the largest
difference between the two trees' uint8 output frames (a faster step must stay within 1/255 of
the old one). Figures are medians over the steady-state frames (the first frame, which only starts
the history, is left out) and over repeats, wall clock and the timing thread's CPU time (less
disturbed by other processes), and the minor page faults per frame; they go to
``benchmarks/results/NAME.json``. The run raises malloc's thresholds as ``stylize`` does
(:mod:`vidstyle.ops.allocator`) unless ``--system-malloc``; the setting holds for the whole
process, so it helps both trees alike: compare a run with and one without it for its effect.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result


def stand_in(content: np.ndarray) -> np.ndarray:
    """``[N, 3, H, W]`` float32 in [0, 1] from ``N x H x W x 3`` uint8: a fixed colour mix of each
    frame plus a fixed texture, so the blend sees both moving content and net-like high frequencies."""
    rng = np.random.default_rng(0)
    mix = rng.random((3, 3), dtype=np.float32)
    mix /= mix.sum(1, keepdims=True)
    texture = rng.random(content.shape[1:3], dtype=np.float32)[None, None] * 0.2 - 0.1
    x = content.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return np.clip(np.einsum("ij,njhw->nihw", mix, x) + texture, 0.0, 1.0).astype(np.float32)


def make_inputs(frames: int, style: str) -> dict[str, np.ndarray]:
    """The sample clip's first ``frames`` frames (``content``, uint8 NHWC) and their stylization
    (``styled``, float32 NCHW)."""
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
    return {"content": content, "styled": styled}


def baseline_tree(ref: str) -> tuple[Path, str]:
    """``(folder holding vidstyle/, label)`` for ``--baseline``: a folder as it is, else the
    commit ``ref`` of this repository exported to a temporary folder (label: its full hash)."""
    if Path(ref).is_dir():
        return Path(ref).resolve(), str(Path(ref).resolve())
    git = ["git", "-C", str(Path(__file__).resolve().parent.parent)]
    commit = subprocess.run([*git, "rev-parse", "--verify", f"{ref}^{{commit}}"], capture_output=True, text=True,
                            check=True).stdout.strip()
    tar = subprocess.run([*git, "archive", "--format=tar", commit, "vidstyle"], capture_output=True, check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="vidstyle-baseline-"))
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(folder, filter="data")
    return folder, commit


def load_tree(tree: Path | None) -> tuple[Callable, type]:
    """``(build_consistency, FrameCodec)`` of this checkout (``tree`` None) or of the vidstyle source
    tree ``tree``, imported under another package name so both run in one process."""
    if tree is None:
        from vidstyle.consistency.build import build_consistency
        from vidstyle.pipeline.color import FrameCodec

        return build_consistency, FrameCodec
    name = "vidstyle_baseline"
    spec = importlib.util.spec_from_file_location(name, tree / "vidstyle" / "__init__.py",
                                                  submodule_search_locations=[str(tree / "vidstyle")])
    sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[name])
    build = importlib.import_module(f"{name}.consistency.build").build_consistency
    return build, importlib.import_module(f"{name}.pipeline.color").FrameCodec


def _faults() -> int:
    """Minor page faults of the calling thread so far."""
    return resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)).ru_minflt


def run(trees: dict[str, Path | None], inputs: dict[str, np.ndarray], mode: str, repeats: int) -> dict:
    """Per tree: ``times`` ``[repeats, frames, 5]`` (step wall, step CPU, to_image wall, to_image
    CPU, seconds; minor page faults of both) and the uint8 ``frames`` of the last repeat. The trees
    take turns frame by frame (in alternating order), each with its own consistency state."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    impl = {k: load_tree(t) for k, t in trees.items()}
    out = {k: {"times": np.zeros((repeats, len(inputs["content"]), 5)), "frames": []} for k in trees}
    for r in range(repeats):
        state = {k: (build(mode, "dis", torch.device("cpu"), None)[0], codec()) for k, (build, codec) in impl.items()}
        for i, (img, s) in enumerate(zip(inputs["content"], inputs["styled"])):
            order = list(trees) if (i + r) % 2 == 0 else list(trees)[::-1]
            for k in order:
                cons, codec = state[k]
                c, y = codec.to_tensor(img), torch.from_numpy(s).unsqueeze(0)
                t0, c0, f0 = time.perf_counter(), time.thread_time(), _faults()
                y = cons.step(c, y)
                t1, c1 = time.perf_counter(), time.thread_time()
                frame = codec.to_image(y, img)
                out[k]["times"][r, i] = (t1 - t0, c1 - c0, time.perf_counter() - t1, time.thread_time() - c1,
                                         _faults() - f0)
                if r == repeats - 1:
                    out[k]["frames"].append(frame)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--style", default="standin", help="'standin' (default) or a style whose net makes the frames")
    ap.add_argument("--mode", default="default", help="--consistency mode to time")
    ap.add_argument("--baseline", default=None, help="a commit (or a folder with a vidstyle tree) to compare against")
    ap.add_argument("--results", default="consistency_cost", help="name of the results file in benchmarks/results/")
    ap.add_argument("--system-malloc", action="store_true",
                    help="leave malloc's thresholds as they are (stylize raises them, see vidstyle.ops.allocator)")
    args = ap.parse_args()
    if not args.system_malloc:
        from vidstyle.ops.allocator import keep_freed_memory

        keep_freed_memory()

    inputs = make_inputs(args.frames, args.style)
    trees: dict[str, Path | None] = {"current": None}
    label = None
    if args.baseline is not None:
        folder, label = baseline_tree(args.baseline)
        trees = {"baseline": folder, **trees}
    runs = run(trees, inputs, args.mode, args.repeats)
    figures = {"clip": "sample", "size": "640x360", "style": args.style, "mode": args.mode,
               "frames": args.frames, "repeats": args.repeats, "malloc": "system" if args.system_malloc else "kept",
               "baseline": label, "trees": {}}
    print(f"{'tree':<9} {'step ms':>8} {'step CPU':>9} {'to_image ms':>12} {'to_image CPU':>13} {'faults':>7} "
          f"{'max |diff|':>11}")
    for name, r in runs.items():
        # steady state: the first frame only starts the history
        ms = [statistics.median(float(np.median(rep[1:, k])) for rep in r["times"]) * 1000 for k in range(4)]
        faults = statistics.median(float(np.median(rep[1:, 4])) for rep in r["times"])
        diff = None
        if "baseline" in runs:
            diff = max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in zip(r["frames"], runs["baseline"]["frames"]))
        figures["trees"][name] = {"step_ms_per_frame": ms[0], "step_cpu_ms_per_frame": ms[1],
                                  "to_image_ms_per_frame": ms[2], "to_image_cpu_ms_per_frame": ms[3],
                                  "page_faults_per_frame": faults, "max_abs_diff_u8": diff}
        print(f"{name:<9} {ms[0]:8.2f} {ms[1]:9.2f} {ms[2]:12.2f} {ms[3]:13.2f} {faults:7.0f} "
              f"{'-' if diff is None else diff:>11}")
    write_result(args.results, figures)


if __name__ == "__main__":
    main()
