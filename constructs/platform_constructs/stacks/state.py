"""``<env>-state``: the S3 bucket that holds the environment's other states.

It cannot keep its own state in the bucket it creates, so it uses a local state file
(``state/<env>-state.tfstate``, git-ignored) that can be migrated into the bucket once it
exists (README, "Deploying for real"). Apply it once per environment, before anything else.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, TerraformOutput
from constructs import Construct

from environments.model import EnvironmentConfig
from platform_constructs.context import Deployment
from platform_constructs.encryption.kms import customer_managed_key
from platform_constructs.stacks.aws_provider import environment_aws_provider, replica_aws_provider
from platform_constructs.stacks.base import EnvironmentStack
from platform_constructs.storage.replication import BucketReplica, ReplicaProps
from platform_constructs.storage.secure_bucket import SecureBucket, SecureBucketProps

#: Where the state-bucket stacks keep their local state, relative to the repository root.
LOCAL_STATE_DIR = "state"
_REPO_ROOT = Path(__file__).resolve().parents[3]


class StateBucketStack(EnvironmentStack):
    """A versioned, KMS-encrypted, private, TLS-only bucket for one environment's states."""

    def __init__(self, scope: Construct, env: EnvironmentConfig) -> None:
        super().__init__(scope, f"{env.name}-state")
        LocalBackend(self, path=str(_REPO_ROOT / LOCAL_STATE_DIR / f"{env.name}-state.tfstate"))
        environment_aws_provider(self, env, "state")
        deployment = Deployment.of(env)
        key = customer_managed_key(
            self,
            "state-key",
            deployment=deployment,
            alias=f"{env.name_prefix}-tfstate",
            description=f"{env.name_prefix}: Terraform state",
        )
        bucket = SecureBucket(
            self,
            "tfstate",
            props=SecureBucketProps(
                bucket_name=env.state.bucket,
                kms_key_arn=key.arn,
                noncurrent_expire_after_days=90,
                keep_noncurrent_versions=20,
                prevent_destroy=env.prevent_destroy,
                checkov_skips={
                    **(
                        {}
                        if env.storage.replicated
                        else {"CKV_AWS_144": "versioning keeps every revision of every state; this environment names no replica_region"}
                    ),
                    "CKV_AWS_18": "only the deploy role reaches this bucket and every write is a new version; an access-log bucket would need a state of its own",
                    "CKV2_AWS_62": "nothing consumes notifications of state writes",
                },
            ),
        )
        TerraformOutput(self, "state_bucket", value=bucket.name)
        TerraformOutput(self, "state_kms_key_arn", value=key.arn)
        if env.storage.replicated:
            replica = BucketReplica(
                self,
                "tfstate-replica",
                deployment=deployment,
                props=ReplicaProps(
                    source=bucket,
                    source_key_arn=key.arn,
                    replica_bucket_name=env.state_replica_bucket,
                    replica_region=env.storage.replica_region,
                    replica_provider=replica_aws_provider(self, env, "state"),
                    purpose="Terraform state",
                    noncurrent_expire_after_days=90,
                    keep_noncurrent_versions=20,
                    reader_arns=[env.deploy_role_arn],
                ),
            )
            TerraformOutput(self, "state_replica_bucket", value=replica.name)
