"""The AWS provider of an environment stack: the environment's role, region and tags."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
)
from constructs import Construct

from environments.model import EnvironmentConfig


def environment_aws_provider(scope: Construct, env: EnvironmentConfig, session: str) -> AwsProvider:
    """An AWS provider that assumes ``env.deploy_role_arn`` and refuses any other account."""
    return AwsProvider(
        scope,
        "aws",
        region=env.region,
        allowed_account_ids=[env.account_id],
        assume_role=[AwsProviderAssumeRole(role_arn=env.deploy_role_arn, session_name=f"{env.name_prefix}-{session}")],
        default_tags=[AwsProviderDefaultTags(tags=env.default_tags)],
    )
