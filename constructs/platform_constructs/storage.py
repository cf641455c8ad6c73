"""S3 storage of the platform: Loki's chunks and ruler data, Velero's backups, access logs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from constructs import Construct

from environments.errors import ConfigError
from platform_constructs.kms import customer_managed_key
from platform_constructs.secure_bucket import SecureBucket, SecureBucketProps

_NO_REPLICA = "a replica in a second region is not worth its cost for {what}; versioning protects against deletion"
_NO_EVENTS = "nothing consumes object notifications of {what}"


@dataclass(frozen=True, kw_only=True)
class StorageProps:
    """Props of :class:`Storage`."""

    name_prefix: str
    """Prefix of the KMS alias."""
    account_id: str
    """Account of the buckets."""
    partition: str = "aws"
    """AWS partition. Default: the commercial partition."""
    loki_chunks_bucket: str
    """Name of Loki's chunks bucket."""
    loki_ruler_bucket: str
    """Name of Loki's ruler bucket."""
    velero_bucket: str
    """Name of Velero's backup bucket."""
    access_log_bucket: str
    """Name of the bucket for ALB and S3 access logs."""
    loki_role_arn: str
    """The only principal that may touch Loki's objects."""
    velero_role_arn: str
    """The only principal that may touch Velero's objects."""
    log_retention_days: int
    """Days Loki's chunks live (the bucket expires them)."""
    backup_retention_days: int
    """Days Velero's backups live; the bucket expires objects a week later as a safety net."""
    access_log_retention_days: int = 90
    """Days access logs live. Default: 90."""
    prevent_destroy: bool = True
    """Guard buckets and key from ``terraform destroy``. Default: guarded."""

    def __post_init__(self) -> None:
        if not 1 <= self.log_retention_days <= 3650:
            raise ConfigError("storage.log_retention_days", f"{self.log_retention_days} is out of range: 1 to 3650 days")
        if not 1 <= self.backup_retention_days <= 3650:
            raise ConfigError("storage.backup_retention_days", f"{self.backup_retention_days} is out of range: 1 to 3650 days")


class Storage(Construct):
    """One KMS key and four buckets.

    Loki's and Velero's buckets are SSE-KMS with the storage key and deny object access to
    everyone but their workload role. The access-log bucket is SSE-S3 because ALB and S3
    log delivery cannot write with a customer-managed key.
    """

    def __init__(self, scope: Construct, id: str, *, props: StorageProps) -> None:
        super().__init__(scope, id)
        p = props
        self.key = customer_managed_key(
            self,
            "key",
            alias=f"{p.name_prefix}-storage",
            description=f"{p.name_prefix}: Loki and Velero buckets",
            partition=p.partition,
            account_id=p.account_id,
            prevent_destroy=p.prevent_destroy,
        )
        elb = DataAwsElbServiceAccount(self, "elb-account")
        self.access_logs = SecureBucket(
            self,
            "access-logs",
            props=SecureBucketProps(
                bucket_name=p.access_log_bucket,
                expire_after_days=p.access_log_retention_days,
                prevent_destroy=p.prevent_destroy,
                extra_policy_statements=[
                    {
                        "Sid": "AlbWritesAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb.arn},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:{p.partition}:s3:::{p.access_log_bucket}/alb/AWSLogs/{p.account_id}/*",
                    },
                    {
                        "Sid": "S3WritesServerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:{p.partition}:s3:::{p.access_log_bucket}/s3/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": p.account_id}},
                    },
                ],
                checkov_skips={
                    "CKV_AWS_145": "ALB access-log and S3 server-access-log delivery only write to SSE-S3 buckets, not SSE-KMS",
                    "CKV_AWS_18": "this is the access-log sink; logging it into itself would loop",
                    "CKV_AWS_144": _NO_REPLICA.format(what="access logs"),
                    "CKV2_AWS_62": _NO_EVENTS.format(what="access logs"),
                },
            ),
        )

        def data_bucket(id: str, name: str, role_arn: str, expire: int, what: str) -> SecureBucket:
            bucket = SecureBucket(
                self,
                id,
                props=SecureBucketProps(
                    bucket_name=name,
                    kms_key_arn=self.key.arn,
                    expire_after_days=expire,
                    data_access_principal_arns=[role_arn],
                    access_log_bucket=self.access_logs.name,
                    # S3 must be allowed to write into the log bucket before logging points there.
                    access_log_ready=[self.access_logs.policy],
                    prevent_destroy=p.prevent_destroy,
                    checkov_skips={"CKV_AWS_144": _NO_REPLICA.format(what=what), "CKV2_AWS_62": _NO_EVENTS.format(what=what)},
                ),
            )
            return bucket

        self.loki_chunks = data_bucket("loki-chunks", p.loki_chunks_bucket, p.loki_role_arn, p.log_retention_days, "log chunks")
        self.loki_ruler = data_bucket("loki-ruler", p.loki_ruler_bucket, p.loki_role_arn, 0, "ruler data")
        self.velero = data_bucket("velero", p.velero_bucket, p.velero_role_arn, p.backup_retention_days + 7, "backups")

    @property
    def key_arn(self) -> str:
        return str(self.key.arn)
