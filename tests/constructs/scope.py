"""Build one construct from its own props in a small stack, and read what it synthesizes.

The construct-level tier: every test here builds a construct in a fresh stack (readable
addresses, as in the app) with literal props, so branches no environment takes today are
synthesized too. The whole-app tier (tests/test_*.py) stays the integration tier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdktf import Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from platform_constructs.context import Deployment
from platform_constructs.stacks.base import EnvironmentStack

DEPLOYMENT = Deployment(name_prefix="plato-unit", account_id="444455556666", region="eu-west-1")
UNGUARDED = Deployment(name_prefix="plato-unit", account_id="444455556666", region="eu-west-1", prevent_destroy=False)


class Synthesized:
    """The JSON of a small stack, with lookups by resource type and address."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resources(self, rtype: str) -> dict[str, Any]:
        found: dict[str, Any] = self.document.get("resource", {}).get(rtype, {})
        return found

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        resources = self.resources(rtype)
        assert name in resources, f"no {rtype}.{name}; have {sorted(resources)}"
        return dict(resources[name])

    def data(self, rtype: str) -> dict[str, Any]:
        found: dict[str, Any] = self.document.get("data", {}).get(rtype, {})
        return found

    def skips(self, rtype: str, name: str) -> set[str]:
        """The checkov checks a resource skips (platform_constructs/checkov.py)."""
        return set(self.resource(rtype, name).get("//", {}).get("checkov", {}))


def synth(build: Callable[[Construct], object]) -> Synthesized:
    """Synthesize the stack ``build`` fills (an AWS provider is already in it)."""
    app = Testing.app()
    stack = EnvironmentStack(app, "unit")
    AwsProvider(stack, "aws", region=DEPLOYMENT.region)
    build(stack)
    # full_synth keeps the "//" metadata (checkov skips) that Testing.synth strips.
    outdir = Path(Testing.full_synth(stack))
    return Synthesized(json.loads((outdir / "stacks" / "unit" / "cdk.tf.json").read_text()))


def policy(document: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(document)
    return parsed
