"""Storage (platform_constructs/storage): the hardened bucket and the platform's buckets."""

from __future__ import annotations

from scope import DEPLOYMENT, policy, synth

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
