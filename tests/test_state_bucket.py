"""The state-bucket stacks: versioned, encrypted, private, TLS-only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_state_bucket_is_versioned_kms_encrypted_private_and_tls_only(synth: Synth, environments: Any, env_name: str) -> None:
    stack = f"{env_name}-state"
    (bucket,) = synth.resources(stack, "aws_s3_bucket").values()
    assert bucket["bucket"] == environments[env_name].state.bucket
    (versioning,) = synth.resources(stack, "aws_s3_bucket_versioning").values()
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    (sse,) = synth.resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
    rule = sse["rule"][0]["apply_server_side_encryption_by_default"]
    assert rule["sse_algorithm"] == "aws:kms"
    assert rule["kms_master_key_id"] == "${aws_kms_key.state-key.arn}"
    (pab,) = synth.resources(stack, "aws_s3_bucket_public_access_block").values()
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    (policy,) = synth.resources(stack, "aws_s3_bucket_policy").values()
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
