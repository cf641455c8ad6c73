"""An S3 bucket with the protections every bucket of this platform needs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from platform_constructs.checkov import skip_check

_DATA_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion"]


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    """Props of :class:`SecureBucket`."""

    bucket_name: str
    """Globally unique bucket name."""
    kms_key_arn: str = ""
    """KMS key for SSE-KMS. Default: SSE-S3 (only for log sinks, which AWS log delivery requires)."""
    expire_after_days: int = 0
    """Delete current objects after this many days. Default: never."""
    noncurrent_expire_after_days: int = 30
    """Delete overwritten/deleted versions after this many days. Default: 30."""
    keep_noncurrent_versions: int = 0
    """Keep at least this many old versions regardless of age. Default: none kept."""
    prefix_expirations: Mapping[str, int] = field(default_factory=dict)
    """Key prefix -> days after which its current objects expire (sooner than
    ``expire_after_days``: S3 applies the shortest matching rule). Default: none."""
    data_access_principal_arns: Sequence[str] = ()
    """If set, only these IAM principals may read, write or delete objects (management
    actions stay with the account's administrators and the deploy role). Default: IAM decides."""
    access_log_bucket: str = ""
    """Bucket receiving S3 server access logs (prefix ``s3/<bucket>/``). Default: none."""
    access_log_ready: Sequence[Any] = ()
    """Resources that must exist before logging points at ``access_log_bucket`` (its policy
    that lets S3 write there). Default: none."""
    extra_policy_statements: Sequence[dict[str, Any]] = ()
    """More bucket-policy statements (e.g. log delivery). Default: none."""
    prevent_destroy: bool = True
    """Refuse ``terraform destroy`` of the bucket. Default: refused."""
    checkov_skips: dict[str, str] = field(default_factory=dict)
    """checkov check id -> written reason, for checks this bucket deliberately fails."""
    provider: TerraformProvider | None = None
    """The AWS provider (region) of every resource of the bucket. Default: the stack's."""
    object_lock: tuple[str, int] | None = None
    """S3 Object Lock default retention as (mode, days); only at creation. Default: none."""

    def __post_init__(self) -> None:
        if self.object_lock is not None:
            mode, days = self.object_lock
            if mode not in ("GOVERNANCE", "COMPLIANCE") or days < 1:
                raise ValueError(f"object_lock {self.object_lock!r}: mode GOVERNANCE or COMPLIANCE, at least 1 day")
        for prefix, days in self.prefix_expirations.items():
            if not prefix.endswith("/") or days < 1:
                raise ValueError(f"prefix_expirations {prefix!r}: a prefix ending in '/', expiring after at least 1 day")


class SecureBucket(Construct):
    """A versioned, encrypted, private, TLS-only bucket with lifecycle rules.

    Public access is blocked on all four switches, ACLs are disabled (bucket owner
    enforced), every request without TLS is denied, and when ``data_access_principal_arns``
    is given, object reads and writes by anyone else are denied in the bucket policy too.
    """

    def __init__(self, scope: Construct, id: str, *, props: SecureBucketProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self.provider = provider = p.provider
        self.bucket = S3Bucket(
            self,
            "bucket",
            provider=provider,
            bucket=p.bucket_name,
            object_lock_enabled=True if p.object_lock else None,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=p.prevent_destroy),
        )
        for check_id, reason in sorted(p.checkov_skips.items()):
            skip_check(self.bucket, check_id, reason)
        S3BucketOwnershipControls(
            self,
            "ownership",
            provider=provider,
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            provider=provider,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            provider=provider,
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        if p.object_lock:
            mode, days = p.object_lock
            S3BucketObjectLockConfigurationA(
                self,
                "object-lock",
                provider=provider,
                bucket=self.bucket.id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(mode=mode, days=days)
                ),
                depends_on=[self.versioning],
            )
        self._encryption(p)
        self._lifecycle(p)
        self.logging: S3BucketLoggingA | None = None
        if p.access_log_bucket:
            self.logging = S3BucketLoggingA(
                self,
                "access-logging",
                provider=provider,
                bucket=self.bucket.id,
                target_bucket=p.access_log_bucket,
                target_prefix=f"s3/{p.bucket_name}/",
                depends_on=list(p.access_log_ready) or None,
            )
        self._policy(p)

    def _encryption(self, p: SecureBucketProps) -> None:
        default = (
            S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=p.kms_key_arn
            )
            if p.kms_key_arn
            else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(sse_algorithm="AES256")
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            provider=self.provider,
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=default, bucket_key_enabled=bool(p.kms_key_arn)
                )
            ],
        )

    def _lifecycle(self, p: SecureBucketProps) -> None:
        rule = S3BucketLifecycleConfigurationRule(
            id="retention",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=p.expire_after_days)] if p.expire_after_days else None,
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=p.noncurrent_expire_after_days, newer_noncurrent_versions=p.keep_noncurrent_versions or None
                )
            ],
            abort_incomplete_multipart_upload=[S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)],
        )
        self.lifecycle_rule = rule
        rules = [rule]
        for prefix, days in sorted(p.prefix_expirations.items()):
            rules.append(
                S3BucketLifecycleConfigurationRule(
                    id=f"expire-{prefix.strip('/').replace('/', '-')}",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=prefix)],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=days)],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=p.noncurrent_expire_after_days)
                    ],
                )
            )
        S3BucketLifecycleConfiguration(self, "lifecycle", provider=self.provider, bucket=self.bucket.id, rule=rules)

    def _policy(self, p: SecureBucketProps) -> None:
        statements: list[dict[str, Any]] = [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
        if p.data_access_principal_arns:
            statements.append(
                {
                    "Sid": "OnlyTheWorkloadTouchesObjects",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": _DATA_ACTIONS,
                    "Resource": f"{self.bucket.arn}/*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(p.data_access_principal_arns)}},
                }
            )
        statements.extend(p.extra_policy_statements)
        self.policy_document = {"Version": "2012-10-17", "Statement": statements}
        self.policy = S3BucketPolicy(
            self, "policy", provider=self.provider, bucket=self.bucket.id, policy=json.dumps(self.policy_document, sort_keys=True)
        )

    @property
    def name(self) -> str:
        return str(self.bucket.bucket)

    @property
    def arn(self) -> str:
        return str(self.bucket.arn)
