"""`vidstyle sample`: the bundled clip (or a synthetic one) written to OUTPUT, never half-written."""

from __future__ import annotations

import shutil

import av
from click.testing import CliRunner

from vidstyle.cli import main


def run(*args):
    return CliRunner().invoke(main, ["sample", *map(str, args)])


def test_writes_the_bundled_clip(tmp_path):
    out = tmp_path / "clip.mp4"
    r = run(out)
    assert r.exit_code == 0, r.output
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert (s.width, s.height) == (640, 360)
        assert sum(1 for _ in c.decode(video=0)) > 24
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no partial file left


def test_refuses_to_overwrite_and_names_missing_folders(tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"keep")
    r = run(out)
    assert r.exit_code != 0 and "exists" in r.output and out.read_bytes() == b"keep"
    r = run(tmp_path / "nope" / "clip.mp4")
    assert r.exit_code != 0 and "does not exist" in r.output and "Traceback" not in r.output


def test_a_second_run_keeps_an_identical_clip(tmp_path):
    out = tmp_path / "clip.mp4"
    assert run(out).exit_code == 0
    before = out.stat().st_mtime_ns
    r = run(out)  # the README's quick start run twice
    assert r.exit_code == 0 and "already the sample clip" in r.output, r.output
    assert out.stat().st_mtime_ns == before
    r = run(out, "--synthetic")  # another clip would replace it: refused as before
    assert r.exit_code != 0 and "exists" in r.output


def test_a_failed_copy_keeps_the_old_output(tmp_path, monkeypatch):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"keep")

    def half_copy(src, dst):
        with open(dst, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", half_copy)
    r = run(out, "--overwrite")
    assert r.exit_code != 0 and "No space left on device" in r.output and "Traceback" not in r.output
    assert out.read_bytes() == b"keep"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]
