"""Storage (platform_constructs/storage): the hardened bucket and the platform's buckets."""

from __future__ import annotations

import json

import pytest
from constructs import Construct
from scope import DEPLOYMENT, Synthesized, policy, synth

from platform_constructs.storage.secure_bucket import SecureBucket, SecureBucketProps
from platform_constructs.storage.storage import Storage, StorageProps


def test_a_log_sink_bucket_without_a_key_uses_sse_s3_and_never_expires_by_default() -> None:
    out = synth(lambda s: SecureBucket(s, "logs", props=SecureBucketProps(bucket_name="unit-logs")))
    (rule,) = out.resource("aws_s3_bucket_server_side_encryption_configuration", "logs_encryption")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert rule["bucket_key_enabled"] is False
    (lifecycle,) = out.resource("aws_s3_bucket_lifecycle_configuration", "logs_lifecycle")["rule"]
    assert "expiration" not in lifecycle
    assert out.resources("aws_s3_bucket_logging") == {}


def test_a_data_bucket_denies_object_access_to_everyone_but_its_principals_and_insecure_transport() -> None:
    props = SecureBucketProps(
        bucket_name="unit-data",
        kms_key_arn="arn:aws:kms:eu-west-1:444455556666:key/k",
        expire_after_days=10,
        data_access_principal_arns=["arn:aws:iam::444455556666:role/app"],
        access_log_bucket="unit-logs",
        checkov_skips={"CKV2_AWS_62": "nothing listens"},
    )
    out = synth(lambda s: SecureBucket(s, "data", props=props))
    statements = {st["Sid"]: st for st in policy(out.resource("aws_s3_bucket_policy", "data_policy")["policy"])["Statement"]}
    assert statements["OnlyTheWorkloadTouchesObjects"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::444455556666:role/app"]}
    }
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (lifecycle,) = out.resource("aws_s3_bucket_lifecycle_configuration", "data_lifecycle")["rule"]
    assert lifecycle["expiration"] == [{"days": 10}]
    assert out.resource("aws_s3_bucket_logging", "data_access-logging")["target_prefix"] == "s3/unit-data/"
    assert out.skips("aws_s3_bucket", "data_bucket") == {"CKV2_AWS_62"}


def test_the_platform_buckets_expire_as_configured_and_the_ruler_data_never() -> None:
    props = StorageProps(
        loki_chunks_bucket="unit-chunks",
        loki_ruler_bucket="unit-ruler",
        velero_bucket="unit-velero",
        access_log_bucket="unit-access",
        loki_role_arn="arn:aws:iam::444455556666:role/loki",
        velero_role_arn="arn:aws:iam::444455556666:role/velero",
        vault_snapshot_role_arn="arn:aws:iam::444455556666:role/vault-snapshot",
        vault_snapshot_prefix="vault-snapshots/",
        vault_snapshot_expiry_days=30,
        log_expiry_days=21,
        backup_expiry_days=97,
        access_log_retention_days=30,
    )
    out = synth(lambda s: Storage(s, "storage", deployment=DEPLOYMENT, props=props))
    expiry = {name: rule["rule"][0].get("expiration") for name, rule in out.resources("aws_s3_bucket_lifecycle_configuration").items()}
    assert expiry == {
        "storage_access-logs_lifecycle": [{"days": 30}],
        "storage_loki-chunks_lifecycle": [{"days": 21}],
        "storage_loki-ruler_lifecycle": None,
        "storage_velero_lifecycle": [{"days": 97}],
    }


def _replicated(object_lock: tuple[str, int] | None = None) -> Synthesized:
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from platform_constructs.storage.replication import BucketReplica, ReplicaProps

    def build(scope: Construct) -> None:
        replica_provider = AwsProvider(scope, "aws-replica", alias="replica", region="eu-north-1")
        source = SecureBucket(
            scope, "src", props=SecureBucketProps(bucket_name="unit-src", kms_key_arn="arn:aws:kms:eu-west-1:444455556666:key/src")
        )
        BucketReplica(
            scope,
            "copy",
            deployment=DEPLOYMENT,
            props=ReplicaProps(
                source=source,
                source_key_arn="arn:aws:kms:eu-west-1:444455556666:key/src",
                replica_bucket_name="unit-src-eu-north-1",
                replica_region="eu-north-1",
                replica_provider=replica_provider,
                purpose="backups",
                expire_after_days=40,
                reader_arns=["arn:aws:iam::444455556666:role/velero"],
                object_lock=object_lock,
            ),
        )

    return synth(build)


def test_a_replica_lives_in_the_second_region_with_its_own_key_and_the_same_protections() -> None:
    out = _replicated()
    in_replica_region = {
        rtype
        for rtype in ("aws_s3_bucket", "aws_kms_key", "aws_kms_alias", "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block")
        for name, r in out.resources(rtype).items()
        if name.startswith("copy_") and r.get("provider") == "aws.replica"
    }
    assert in_replica_region == {
        "aws_s3_bucket",
        "aws_kms_key",
        "aws_kms_alias",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
    }
    assert "provider" not in out.resource("aws_iam_role", "copy_role"), "IAM is global: the role stays with the home provider"
    (sse,) = out.resource("aws_s3_bucket_server_side_encryption_configuration", "copy_bucket_encryption")["rule"]
    assert sse["apply_server_side_encryption_by_default"]["kms_master_key_id"] == "${aws_kms_key.copy_key.arn}"
    assert out.resource("aws_s3_bucket_versioning", "copy_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    (lifecycle,) = out.resource("aws_s3_bucket_lifecycle_configuration", "copy_bucket_lifecycle")["rule"]
    assert lifecycle["expiration"] == [{"days": 40}]
    statements = {st["Sid"]: st for st in policy(out.resource("aws_s3_bucket_policy", "copy_bucket_policy")["policy"])["Statement"]}
    assert {"DenyInsecureTransport", "OnlyTheWorkloadTouchesObjects"} <= set(statements)
    assert out.skips("aws_s3_bucket", "copy_bucket_bucket") == {"CKV_AWS_18", "CKV2_AWS_62"}
    assert out.resources("aws_s3_bucket_object_lock_configuration") == {}


def test_the_source_replicates_every_version_and_delete_marker_re_encrypted_with_the_replica_key() -> None:
    out = _replicated()
    configuration = out.resource("aws_s3_bucket_replication_configuration", "copy_configuration")
    assert configuration["bucket"] == "${aws_s3_bucket.src_bucket.id}"
    assert set(configuration["depends_on"]) == {
        "aws_s3_bucket_versioning.src_versioning",
        "aws_s3_bucket_versioning.copy_bucket_versioning",
    }
    (rule,) = configuration["rule"]
    assert rule["filter"] == {"prefix": ""} and rule["status"] == "Enabled"
    assert rule["delete_marker_replication"] == {"status": "Enabled"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == "${aws_s3_bucket.copy_bucket_bucket.arn}"
    assert rule["destination"]["encryption_configuration"] == {"replica_kms_key_id": "${aws_kms_key.copy_key.arn}"}


def test_the_replication_role_reads_only_the_source_writes_only_the_replica_and_uses_each_key_only_through_s3() -> None:
    out = _replicated()
    trust = policy(out.resource("aws_iam_role", "copy_role")["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "444455556666"}}
    statements = {st["Sid"]: st for st in policy(out.resource("aws_iam_role_policy", "copy_policy")["policy"])["Statement"]}
    assert all(st["Effect"] == "Allow" and "*" not in json.dumps(st["Action"]) for st in statements.values())
    assert statements["ReadTheSourceConfiguration"]["Resource"] == "${aws_s3_bucket.src_bucket.arn}"
    assert statements["ReadTheSourceVersions"]["Resource"] == "${aws_s3_bucket.src_bucket.arn}/*"
    assert statements["WriteTheReplica"]["Resource"] == "${aws_s3_bucket.copy_bucket_bucket.arn}/*"
    assert statements["WriteTheReplica"]["Action"] == ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    decrypt, encrypt = statements["DecryptTheSource"], statements["EncryptTheReplica"]
    assert (decrypt["Action"], decrypt["Resource"]) == ("kms:Decrypt", "arn:aws:kms:eu-west-1:444455556666:key/src")
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    assert encrypt["Resource"] == "${aws_kms_key.copy_key.arn}"
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-north-1.amazonaws.com"}
    assert encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [
        "${aws_s3_bucket.copy_bucket_bucket.arn}",
        "${aws_s3_bucket.copy_bucket_bucket.arn}/*",
    ]


def test_object_lock_is_enabled_at_creation_and_sets_the_default_retention() -> None:
    out = _replicated(object_lock=("COMPLIANCE", 30))
    assert out.resource("aws_s3_bucket", "copy_bucket_bucket")["object_lock_enabled"] is True
    lock = out.resource("aws_s3_bucket_object_lock_configuration", "copy_bucket_object-lock")
    assert lock["rule"] == {"default_retention": {"days": 30, "mode": "COMPLIANCE"}}
    assert lock["provider"] == "aws.replica"


def test_a_bucket_refuses_an_object_lock_mode_s3_does_not_know() -> None:
    with pytest.raises(ValueError, match="mode GOVERNANCE or COMPLIANCE"):
        SecureBucketProps(bucket_name="unit", object_lock=("LEGAL", 3))
