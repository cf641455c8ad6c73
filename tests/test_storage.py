"""Buckets for Loki and Velero: encrypted, versioned, private, TLS-only, expiring, one principal each."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth

from environments.model.config import EXPIRY_MARGIN_DAYS
from platform_constructs import contract


def res(synth: Synth, env: str, rtype: str) -> dict[str, Any]:
    return synth.resources(f"{env}-platform", rtype)


DATA_BUCKETS = ("loki-chunks", "loki-ruler", "velero")


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_buckets_are_named_as_the_contract_says(synth: Synth, environments: Any, env_name: str) -> None:
    env = environments[env_name]
    buckets = res(synth, env_name, "aws_s3_bucket")
    for purpose in (*DATA_BUCKETS, "access-logs"):
        assert buckets[f"storage_{purpose}_bucket"]["bucket"] == env.bucket_name(purpose)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_data_buckets_are_kms_encrypted_versioned_and_private(synth: Synth, env_name: str) -> None:
    for purpose in DATA_BUCKETS:
        sse = res(synth, env_name, "aws_s3_bucket_server_side_encryption_configuration")[f"storage_{purpose}_encryption"]
        rule = sse["rule"][0]["apply_server_side_encryption_by_default"]
        assert rule == {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.storage_key.arn}"}
        versioning = res(synth, env_name, "aws_s3_bucket_versioning")[f"storage_{purpose}_versioning"]
        assert versioning["versioning_configuration"]["status"] == "Enabled"
        pab = res(synth, env_name, "aws_s3_bucket_public_access_block")[f"storage_{purpose}_public-access-block"]
        assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_loki_chunks_and_backups_expire_a_margin_after_their_retention(synth: Synth, environments: Any, env_name: str) -> None:
    storage = environments[env_name].storage
    lifecycles = res(synth, env_name, "aws_s3_bucket_lifecycle_configuration")
    chunks = lifecycles["storage_loki-chunks_lifecycle"]["rule"][0]["expiration"]
    backups = lifecycles["storage_velero_lifecycle"]["rule"][0]["expiration"]
    assert chunks == [{"days": storage.log_retention_days + EXPIRY_MARGIN_DAYS}]
    assert backups == [{"days": storage.longest_backup_retention_days + EXPIRY_MARGIN_DAYS}]
    assert lifecycles["storage_loki-ruler_lifecycle"]["rule"][0].get("expiration") is None, "ruler data never expires"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_only_the_workload_role_may_touch_objects_and_only_over_tls(synth: Synth, environments: Any, env_name: str) -> None:
    env = environments[env_name]
    owners = {"loki-chunks": contract.LOKI, "loki-ruler": contract.LOKI, "velero": contract.VELERO}
    for purpose, identity in owners.items():
        body = res(synth, env_name, "aws_s3_bucket_policy")[f"storage_{purpose}_policy"]
        statements = {s["Sid"]: s for s in json.loads(body["policy"])["Statement"]}
        assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        only = statements["OnlyTheWorkloadTouchesObjects"]
        assert only["Effect"] == "Deny"
        # The backup bucket also admits Vault's snapshot job (it writes only its prefix: its IAM policy).
        allowed = [identity, contract.VAULT_SNAPSHOT] if identity is contract.VELERO else [identity]
        assert only["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [
            contract.workload_role_arn(env.partition, env.account_id, env.name_prefix, i) for i in allowed
        ]


def test_the_role_the_bucket_policy_names_is_the_role_the_cluster_creates(synth: Synth, environments: Any) -> None:
    env = environments["prod"]
    role = res(synth, "prod", "aws_iam_role")["workload-identity_loki-role"]
    assert f"arn:aws:iam::{env.account_id}:role/{role['name']}" == contract.workload_role_arn(
        "aws", env.account_id, env.name_prefix, contract.LOKI
    )


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_data_buckets_log_access_to_the_access_log_bucket(synth: Synth, env_name: str) -> None:
    logging = res(synth, env_name, "aws_s3_bucket_logging")
    for purpose in DATA_BUCKETS:
        assert logging[f"storage_{purpose}_access-logging"]["target_bucket"] == "${aws_s3_bucket.storage_access-logs_bucket.bucket}"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_access_logging_waits_for_the_policy_that_lets_s3_write_logs(synth: Synth, env_name: str) -> None:
    for purpose in DATA_BUCKETS:
        logging = res(synth, env_name, "aws_s3_bucket_logging")[f"storage_{purpose}_access-logging"]
        assert logging["depends_on"] == ["aws_s3_bucket_policy.storage_access-logs_policy"]
