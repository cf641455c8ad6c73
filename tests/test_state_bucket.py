"""The state-bucket stacks: versioned, encrypted, private, TLS-only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_state_bucket_is_versioned_kms_encrypted_private_and_tls_only(synth: Synth, environments: Any, env_name: str) -> None:
    stack = f"{env_name}-state"
    bucket = synth.resources(stack, "aws_s3_bucket")["tfstate_bucket"]
    assert bucket["bucket"] == environments[env_name].state.bucket
    versioning = synth.resources(stack, "aws_s3_bucket_versioning")["tfstate_versioning"]
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    sse = synth.resources(stack, "aws_s3_bucket_server_side_encryption_configuration")["tfstate_encryption"]
    rule = sse["rule"][0]["apply_server_side_encryption_by_default"]
    assert rule["sse_algorithm"] == "aws:kms"
    assert rule["kms_master_key_id"] == "${aws_kms_key.state-key.arn}"
    pab = synth.resources(stack, "aws_s3_bucket_public_access_block")["tfstate_public-access-block"]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    policy = synth.resources(stack, "aws_s3_bucket_policy")["tfstate_policy"]
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_state_bucket_replicates_to_the_second_region_exactly_where_the_environment_names_one(
    synth: Synth, environments: Any, env_name: str
) -> None:
    env, stack = environments[env_name], f"{env_name}-state"
    rules = synth.resources(stack, "aws_s3_bucket_replication_configuration")
    if not env.storage.replicated:
        assert rules == {} and set(synth.resources(stack, "aws_s3_bucket")) == {"tfstate_bucket"}
        return
    replica = synth.resources(stack, "aws_s3_bucket")["tfstate-replica_bucket_bucket"]
    assert (replica["bucket"], replica["provider"]) == (env.state_replica_bucket, "aws.replica")
    (rule,) = rules["tfstate-replica_configuration"]["rule"]
    assert rule["destination"]["bucket"] == "${aws_s3_bucket.tfstate-replica_bucket_bucket.arn}"
    assert rule["destination"]["encryption_configuration"] == {"replica_kms_key_id": "${aws_kms_key.tfstate-replica_key.arn}"}
    assert synth.resources(stack, "aws_kms_key")["tfstate-replica_key"]["provider"] == "aws.replica"
    # The replica keeps old states as long as the source, and nobody but the deploy role reads it.
    (lifecycle,) = synth.resources(stack, "aws_s3_bucket_lifecycle_configuration")["tfstate-replica_bucket_lifecycle"]["rule"]
    assert lifecycle["noncurrent_version_expiration"] == [{"noncurrent_days": 90, "newer_noncurrent_versions": 20}]
    statements = {
        s["Sid"]: s
        for s in json.loads(synth.resources(stack, "aws_s3_bucket_policy")["tfstate-replica_bucket_policy"]["policy"])["Statement"]
    }
    assert statements["OnlyTheWorkloadTouchesObjects"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [env.deploy_role_arn]}}
