"""Lazy provider imports change nothing in the output, and make the synth fast."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Synth


@pytest.mark.slow
def test_the_optimized_synth_is_byte_identical_to_the_naive_one(synth: Synth, naive_synth: Path) -> None:
    naive_stacks = sorted(p.name for p in (naive_synth / "stacks").iterdir())
    assert naive_stacks == synth.stacks
    for stack in synth.stacks:
        optimized = (synth.stack_dir(stack) / "cdk.tf.json").read_bytes()
        naive = (naive_synth / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert optimized == naive, f"{stack} differs between lazy and eager provider imports"
    assert (synth.outdir / "manifest.json").read_bytes() == (naive_synth / "manifest.json").read_bytes()


def test_a_synth_loads_only_the_provider_modules_it_uses(synth: Synth) -> None:
    aws = [m for m in synth.provider_modules if m.startswith("cdktf_cdktf_provider_aws.")]
    assert "cdktf_cdktf_provider_aws._jsii" in aws
    assert 10 < len(aws) < 200, f"{len(aws)} AWS modules loaded; the package has ~2,200"


def test_the_full_synth_takes_seconds_not_half_a_minute(synth: Synth) -> None:
    # Generous bound for a loaded CI machine; `make bench` measures it properly.
    assert synth.seconds < 20, f"synth took {synth.seconds:.1f} s"
