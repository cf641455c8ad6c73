"""``<env>-state``: the S3 bucket that holds the environment's other states.

It cannot keep its own state in the bucket it creates, so it uses a local state file
(``state/<env>-state.tfstate``, git-ignored) that can be migrated into the bucket once it
exists (README, "Deploying for real"). Apply it once per environment, before anything else.
"""

from __future__ import annotations

import json
from pathlib import Path

from cdktf import LocalBackend, TerraformOutput, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import (
    S3BucketPublicAccessBlock,
)
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

from environments.config import EnvironmentConfig
from platform_constructs.aws_provider import environment_aws_provider
from platform_constructs.checkov import skip_check
from platform_constructs.environment_stack import EnvironmentStack

#: Where the state-bucket stacks keep their local state, relative to the repository root.
LOCAL_STATE_DIR = "state"
_REPO_ROOT = Path(__file__).resolve().parents[2]


class StateBucketStack(EnvironmentStack):
    """A versioned, KMS-encrypted, private, TLS-only bucket for one environment's states."""

    def __init__(self, scope: Construct, env: EnvironmentConfig) -> None:
        super().__init__(scope, f"{env.name}-state")
        LocalBackend(self, path=str(_REPO_ROOT / LOCAL_STATE_DIR / f"{env.name}-state.tfstate"))
        environment_aws_provider(self, env, "state")
        protect = TerraformResourceLifecycle(prevent_destroy=env.prevent_destroy)

        key = KmsKey(
            self,
            "state-key",
            description=f"{env.name_prefix}: Terraform state",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministers",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{env.partition}:iam::{env.account_id}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
                sort_keys=True,
            ),
            lifecycle=protect,
        )
        KmsAlias(self, "state-key-alias", name=f"alias/{env.name_prefix}-tfstate", target_key_id=key.key_id)

        bucket = S3Bucket(self, "bucket", bucket=env.state.bucket, lifecycle=protect)
        skip_check(
            bucket,
            "CKV_AWS_144",
            "versioning keeps every revision of every state; a replica bucket in a second region would need a state of its own",
        )
        skip_check(
            bucket,
            "CKV_AWS_18",
            "only the deploy role reaches this bucket and every write is a new version; an access-log bucket would need a state of its own",
        )
        skip_check(bucket, "CKV2_AWS_62", "nothing consumes notifications of state writes")
        S3BucketOwnershipControls(
            self, "ownership", bucket=bucket.id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketVersioningA(
            self, "versioning", bucket=bucket.id, versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled")
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-state-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=90, newer_noncurrent_versions=20)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
        S3BucketPolicy(
            self,
            "tls-only",
            bucket=bucket.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket.arn, f"{bucket.arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
                sort_keys=True,
            ),
        )
        TerraformOutput(self, "state_bucket", value=bucket.bucket)
        TerraformOutput(self, "state_kms_key_arn", value=key.arn)
