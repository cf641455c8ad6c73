"""A bucket's copy in a second region: the replica bucket with its own KMS key, the
replication role, and the source's replication rule (docs/decisions/0026).

Every version written to the source, and every delete marker, is copied to the replica;
a permanent version deletion on the source is not (S3 never replicates those), so the replica
keeps what an accident or a compromised role deletes in the source, until its own lifecycle
(or Object Lock) says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from constructs import Construct

from platform_constructs.context import Deployment
from platform_constructs.encryption.kms import customer_managed_key
from platform_constructs.storage.secure_bucket import SecureBucket, SecureBucketProps

#: The checkov checks a replica fails by being one (no access-log bucket and no event
#: consumer in its region; checkov counts the replication rule that targets it as its own).
REPLICA_SKIPS = {
    "CKV_AWS_18": "only S3 replication writes here; the source bucket's access log and CloudTrail record who wrote what",
    "CKV2_AWS_62": "nothing consumes notifications of the replica",
}


@dataclass(frozen=True, kw_only=True)
class ReplicaHandle:
    """What others need of a replica: its bucket, its key and its region."""

    bucket_arn: str
    key_arn: str
    region: str


@dataclass(frozen=True, kw_only=True)
class ReplicaProps:
    """Props of :class:`BucketReplica`."""

    source: SecureBucket
    """The bucket to copy (versioned, SSE-KMS)."""
    source_key_arn: str
    """The KMS key of the source's objects, which the replication role decrypts with."""
    replica_bucket_name: str
    """Globally unique name of the replica."""
    replica_region: str
    """The region of ``replica_provider``."""
    replica_provider: TerraformProvider
    """The AWS provider (alias) in ``replica_region``."""
    purpose: str
    """What the bucket holds, for descriptions and names (``backups``, ``Terraform state``)."""
    expire_after_days: int = 0
    """Delete current objects of the replica after this many days. Default: never."""
    noncurrent_expire_after_days: int = 30
    """Delete noncurrent versions of the replica after this many days. Default: 30."""
    keep_noncurrent_versions: int = 0
    """Keep at least this many noncurrent versions regardless of age. Default: none kept."""
    prefix_expirations: Mapping[str, int] = field(default_factory=dict)
    """Key prefix -> days, as on the source. Default: none."""
    reader_arns: Sequence[str] = ()
    """The only principals that may read the replica's objects (a restore). Default: IAM decides."""
    object_lock: tuple[str, int] | None = None
    """Object Lock default retention (mode, days) of the replica. Default: none."""

    def __post_init__(self) -> None:
        if not self.replica_region:
            raise ValueError("a replica needs a region")


class BucketReplica(Construct):
    """The replica bucket, its key, the replication role and the source's replication rule."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: ReplicaProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self.deployment = d = deployment
        self.key = customer_managed_key(
            self,
            "key",
            deployment=d,
            alias=p.replica_bucket_name,
            description=f"{d.name_prefix}: replica of the {p.purpose} in {p.replica_region}",
            provider=p.replica_provider,
        )
        self.role = IamRole(
            self,
            "role",
            name=f"{p.source.props.bucket_name[:52]}-replication",  # IAM's 64 characters
            description=f"S3 replication of the {p.purpose} to {p.replica_region}",
            assume_role_policy=json.dumps(d.service_trust("s3.amazonaws.com"), sort_keys=True),
        )
        self.replica = SecureBucket(
            self,
            "bucket",
            props=SecureBucketProps(
                bucket_name=p.replica_bucket_name,
                kms_key_arn=self.key.arn,
                expire_after_days=p.expire_after_days,
                noncurrent_expire_after_days=p.noncurrent_expire_after_days,
                keep_noncurrent_versions=p.keep_noncurrent_versions,
                prefix_expirations=p.prefix_expirations,
                data_access_principal_arns=list(p.reader_arns),
                prevent_destroy=d.prevent_destroy,
                checkov_skips=dict(REPLICA_SKIPS),
                provider=p.replica_provider,
                object_lock=p.object_lock,
            ),
        )
        IamRolePolicy(self, "policy", role=self.role.id, name="replicate", policy=json.dumps(self.policy_document(), sort_keys=True))
        self.configuration = S3BucketReplicationConfigurationA(
            self,
            "configuration",
            bucket=p.source.bucket.id,
            role=self.role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="second-region",
                    status="Enabled",
                    priority=1,
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(status="Enabled"),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=self.replica.arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=self.key.arn
                        ),
                    ),
                )
            ],
            # S3 refuses a replication rule before both buckets are versioned.
            depends_on=[p.source.versioning, self.replica.versioning],
        )

    def policy_document(self) -> dict[str, Any]:
        """Least privilege for S3 replication with SSE-KMS on both sides (the S3 User Guide's
        "Setting up permissions" and "Replicating encrypted objects"): read this source's
        versions and configuration, write replicas only into this replica, decrypt only through
        S3 in the source's region and encrypt only through S3 in the replica's."""
        p, d = self.props, self.deployment
        source, replica = p.source.arn, self.replica.arn

        def via_s3(region: str, bucket: str) -> dict[str, Any]:
            # With S3 Bucket Keys the encryption context is the bucket's ARN, else the object's.
            return {
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/*"]},
            }

        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadTheSourceConfiguration",
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": source,
                },
                {
                    "Sid": "ReadTheSourceVersions",
                    "Effect": "Allow",
                    "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                    "Resource": f"{source}/*",
                },
                {
                    "Sid": "WriteTheReplica",
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": f"{replica}/*",
                },
                {
                    "Sid": "DecryptTheSource",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": p.source_key_arn,
                    "Condition": via_s3(d.region, source),
                },
                {
                    "Sid": "EncryptTheReplica",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": self.key.arn,
                    "Condition": via_s3(p.replica_region, replica),
                },
            ],
        }

    @property
    def name(self) -> str:
        return self.replica.name

    @property
    def handle(self) -> ReplicaHandle:
        return ReplicaHandle(bucket_arn=self.replica.arn, key_arn=str(self.key.arn), region=self.props.replica_region)
