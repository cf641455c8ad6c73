"""The S3 backend every environment stack uses: its own bucket, its own key, native locking."""

from __future__ import annotations

from cdktf import S3Backend, S3BackendAssumeRoleConfig, TerraformStack

from environments.model import EnvironmentConfig


def use_environment_state(stack: TerraformStack, env: EnvironmentConfig, state_name: str) -> S3Backend:
    """Keep ``stack``'s state at ``s3://<env bucket>/<env>/<state_name>.tfstate``.

    The state is encrypted at rest and locked with S3-native lock files
    (``use_lockfile``, Terraform >= 1.10), so no DynamoDB table is needed. cdktf 0.21's
    ``S3Backend`` has no field for ``use_lockfile``; an override adds it.
    """
    backend = S3Backend(
        stack,
        bucket=env.state.bucket,
        key=env.state_key(state_name),
        region=env.region,
        encrypt=True,
        allowed_account_ids=[env.account_id],
        assume_role=S3BackendAssumeRoleConfig(role_arn=env.deploy_role_arn, session_name=f"{env.name_prefix}-state"),
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
