"""Click's usage errors (bad or missing options, unknown commands) print one ``error: ...`` line
and exit with status 2, the same for every subcommand."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from vidstyle.cli import main


@pytest.mark.parametrize("args, needle", [
    (["live", "--frames", "0"], "--frames"),
    (["live", "--bogus"], "--bogus"),
    (["stylize", "in.mp4"], "--output"),
    (["stylize", "in.mp4", "-s", "x", "-o", "y.mp4", "--crf", "99"], "--crf"),
    (["eval"], "INPUT"),
    (["export", "starry_night"], "--onnx"),
    (["train", "--nope"], "--nope"),
    (["styles", "extra"], "extra"),
    (["bogus"], "bogus"),
    (["--bogus"], "--bogus"),
])
def test_usage_errors_are_one_error_line_with_status_2(args, needle):
    r = CliRunner().invoke(main, args, prog_name="vidstyle")
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert needle in lines[0] and "Usage:" not in r.output and "Error:" not in r.output
    assert "--help" in lines[0]  # where to look


def test_help_still_works():
    r = CliRunner().invoke(main, ["live", "--help"], prog_name="vidstyle")
    assert r.exit_code == 0 and "Usage: vidstyle live" in r.output
