"""S3 storage of the platform: Loki's chunks and ruler data, Velero's backups, access logs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from constructs import Construct

from platform_constructs.context import Deployment
from platform_constructs.encryption.kms import customer_managed_key
from platform_constructs.storage.replication import BucketReplica, ReplicaProps
from platform_constructs.storage.secure_bucket import SecureBucket, SecureBucketProps

_NO_REPLICA = "a replica in a second region is not worth its cost for {what}; versioning protects against deletion"
_NO_EVENTS = "nothing consumes object notifications of {what}"


@dataclass(frozen=True, kw_only=True)
class BackupReplicaProps:
    """Where the backup bucket is copied to."""

    bucket_name: str
    """Globally unique name of the replica."""
    region: str
    """The second region."""
    provider: TerraformProvider
    """The AWS provider in ``region``."""
    object_lock: tuple[str, int] | None = None
    """Object Lock default retention (mode, days) of the replica. Default: none."""


@dataclass(frozen=True, kw_only=True)
class StorageProps:
    """Props of :class:`Storage`."""

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
    """Velero's role: with ``vault_snapshot_role_arn`` the only principals that may touch the
    backup bucket's objects."""
    vault_snapshot_role_arn: str
    """The role of Vault's snapshot job (it writes under ``vault_snapshot_prefix``)."""
    vault_snapshot_prefix: str
    """Where Vault's raft snapshots go in the backup bucket."""
    vault_snapshot_expiry_days: int
    """Days Vault's snapshots are kept (the same as Velero's workload backups)."""
    log_expiry_days: int
    """Days after which the chunks bucket expires objects (a safety net behind Loki's own
    retention: ``StorageConfig.log_bucket_expiry_days``)."""
    backup_expiry_days: int
    """Days after which the backup bucket expires objects (a safety net behind the longest
    Velero TTL: ``StorageConfig.backup_bucket_expiry_days``)."""
    access_log_retention_days: int = 90
    """Days access logs live. Default: 90."""
    backup_replica: BackupReplicaProps | None = None
    """A copy of the backup bucket in a second region. Default: none."""


class Storage(Construct):
    """One KMS key and four buckets.

    Loki's and Velero's buckets are SSE-KMS with the storage key and deny object access to
    everyone but their workload role. The access-log bucket is SSE-S3 because ALB and S3
    log delivery cannot write with a customer-managed key.
    """

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: StorageProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self.deployment = d = deployment
        self.key = customer_managed_key(
            self, "key", deployment=d, alias=f"{d.name_prefix}-storage", description=f"{d.name_prefix}: Loki and Velero buckets"
        )
        self.access_logs = self._access_log_bucket()
        self.loki_chunks = self._data_bucket("loki-chunks", p.loki_chunks_bucket, [p.loki_role_arn], p.log_expiry_days, "log chunks")
        self.loki_ruler = self._data_bucket("loki-ruler", p.loki_ruler_bucket, [p.loki_role_arn], 0, "ruler data")
        replica = p.backup_replica
        snapshots = {p.vault_snapshot_prefix: p.vault_snapshot_expiry_days}
        self.velero = self._data_bucket(
            "velero",
            p.velero_bucket,
            [p.velero_role_arn, p.vault_snapshot_role_arn],
            p.backup_expiry_days,
            "backups",
            # Where the environment names a second region, the bucket is replicated (below).
            no_replica=None
            if replica is not None
            else "this environment names no storage.replica_region; versioning protects against deletion",
            prefix_expirations=snapshots,
        )
        self.velero_replica: BucketReplica | None = None
        if replica is not None:
            self.velero_replica = BucketReplica(
                self,
                "velero-replica",
                deployment=d,
                props=ReplicaProps(
                    source=self.velero,
                    source_key_arn=self.key.arn,
                    replica_bucket_name=replica.bucket_name,
                    replica_region=replica.region,
                    replica_provider=replica.provider,
                    purpose="backups",
                    # The same safety net behind Velero's TTLs as the source's.
                    expire_after_days=p.backup_expiry_days,
                    prefix_expirations=snapshots,
                    reader_arns=[p.velero_role_arn, p.vault_snapshot_role_arn],
                    object_lock=replica.object_lock,
                ),
            )

    def _access_log_bucket(self) -> SecureBucket:
        p, d = self.props, self.deployment
        elb = DataAwsElbServiceAccount(self, "elb-account")
        return SecureBucket(
            self,
            "access-logs",
            props=SecureBucketProps(
                bucket_name=p.access_log_bucket,
                expire_after_days=p.access_log_retention_days,
                prevent_destroy=d.prevent_destroy,
                extra_policy_statements=[
                    {
                        "Sid": "AlbWritesAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb.arn},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:{d.partition}:s3:::{p.access_log_bucket}/alb/AWSLogs/{d.account_id}/*",
                    },
                    {
                        "Sid": "S3WritesServerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:{d.partition}:s3:::{p.access_log_bucket}/s3/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": d.account_id}},
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

    def _data_bucket(
        self,
        id: str,
        name: str,
        role_arns: list[str],
        expire: int,
        what: str,
        *,
        no_replica: str | None = "",
        prefix_expirations: dict[str, int] | None = None,
    ) -> SecureBucket:
        """``no_replica``: why the bucket has no replica (default: not worth its cost), ``None`` when it has one."""
        skips = {"CKV2_AWS_62": _NO_EVENTS.format(what=what)}
        if no_replica is not None:
            skips["CKV_AWS_144"] = no_replica or _NO_REPLICA.format(what=what)
        return SecureBucket(
            self,
            id,
            props=SecureBucketProps(
                bucket_name=name,
                kms_key_arn=self.key.arn,
                expire_after_days=expire,
                data_access_principal_arns=role_arns,
                prefix_expirations=prefix_expirations or {},
                access_log_bucket=self.access_logs.name,
                # S3 must be allowed to write into the log bucket before logging points there.
                access_log_ready=[self.access_logs.policy],
                prevent_destroy=self.deployment.prevent_destroy,
                checkov_skips=skips,
            ),
        )

    @property
    def key_arn(self) -> str:
        return str(self.key.arn)
