"""Lazy provider imports change nothing in the output, and make the synth fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, Synth, tool_env


@pytest.mark.slow
def test_the_optimized_synth_is_byte_identical_to_the_naive_one(synth: Synth, naive_synth: Path) -> None:
    naive_stacks = sorted(p.name for p in (naive_synth / "stacks").iterdir())
    assert naive_stacks == synth.stacks
    for stack in synth.stacks:
        optimized = (synth.stack_dir(stack) / "cdk.tf.json").read_bytes()
        naive = (naive_synth / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert optimized == naive, f"{stack} differs between lazy and eager provider imports"
    assert (synth.outdir / "manifest.json").read_bytes() == (naive_synth / "manifest.json").read_bytes()


def test_a_synth_loads_only_the_provider_modules_it_uses() -> None:
    probe = (
        "import sys; sys.path.insert(0, 'constructs'); "
        "import platform_constructs.app, json; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=tool_env(), capture_output=True, text=True, check=True, timeout=300)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "cdktf_cdktf_provider_aws._jsii" in loaded
    assert 10 < len(loaded) < 200, f"{len(loaded)} AWS modules loaded; the package has ~2,200"


def test_the_full_synth_takes_seconds_not_half_a_minute(synth: Synth) -> None:
    # Generous bound for a loaded CI machine; `make bench` measures it properly.
    assert synth.seconds < 20, f"synth took {synth.seconds:.1f} s"
