"""`cdktf synth` (the pinned CLI) produces the same stacks as `python main.py`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import REPO, Synth, tool_env

pytestmark = pytest.mark.cli


def test_cdktf_synth_cli_produces_the_same_nine_stacks_byte_for_byte(synth: Synth, tmp_path: Path) -> None:
    cli = REPO / "node_modules" / ".bin" / "cdktf"
    if not cli.exists():
        pytest.fail("the cdktf CLI is not installed; run `make setup`")
    out = tmp_path / "cdktf.out"
    proc = subprocess.run(
        [str(cli), "synth", "--output", str(out)],
        cwd=REPO,
        env=tool_env(CI="1", FORCE_COLOR="0"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stacks = sorted(p.name for p in (out / "stacks").iterdir())
    assert stacks == synth.stacks
    for stack in stacks:
        assert (out / "stacks" / stack / "cdk.tf.json").read_bytes() == (synth.stack_dir(stack) / "cdk.tf.json").read_bytes(), stack
