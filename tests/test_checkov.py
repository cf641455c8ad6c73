"""checkov over every synthesized stack: zero failed checks, every skip written in code."""

from __future__ import annotations

import pytest
from conftest import ENVIRONMENTS, Synth
from scan import ScanResult, declared_skips, scan

STACKS = [f"{env}-{kind}" for env in ENVIRONMENTS for kind in ("platform", "state", "bootstrap")]


@pytest.fixture(scope="module")
def results(synth: Synth) -> dict[str, ScanResult]:
    return {r.stack: r for r in scan([synth.stack_dir(s) for s in STACKS])}


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_no_failed_check(results: dict[str, ScanResult], stack: str) -> None:
    result = results[stack]
    assert result.passed > 0
    assert result.failed == [], f"unjustified checkov failures in {stack}: {result.failed}"


def test_every_skip_carries_a_written_reason(synth: Synth) -> None:
    for stack in STACKS:
        for (address, check_id), reason in declared_skips(synth.stack(stack)).items():
            assert len(reason) > 20, f"{stack}: skip of {check_id} on {address} needs a real reason"


def test_a_skip_only_excuses_the_resource_that_declares_it(synth: Synth) -> None:
    # prod keeps flow logs for a year, so nothing there may be excused for CKV_AWS_338
    skips = declared_skips(synth.stack("prod-platform"))
    assert not any(check_id == "CKV_AWS_338" for _, check_id in skips)
