"""The AWS provider of an environment stack: the environment's role, region and tags."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
)
from constructs import Construct

from environments.model import EnvironmentConfig

#: The alias of the provider in ``storage.replica_region``.
REPLICA_ALIAS = "replica"


def environment_aws_provider(scope: Construct, env: EnvironmentConfig, session: str) -> AwsProvider:
    """An AWS provider that assumes ``env.deploy_role_arn`` and refuses any other account."""
    return _provider(scope, "aws", env, session, env.region)


def replica_aws_provider(scope: Construct, env: EnvironmentConfig, session: str) -> AwsProvider:
    """The same role, account and tags in ``storage.replica_region``, as the alias ``replica``."""
    return _provider(scope, "aws-replica", env, f"{session}-replica", env.storage.replica_region, alias=REPLICA_ALIAS)


def _provider(scope: Construct, id: str, env: EnvironmentConfig, session: str, region: str, alias: str | None = None) -> AwsProvider:
    return AwsProvider(
        scope,
        id,
        alias=alias,
        region=region,
        allowed_account_ids=[env.account_id],
        assume_role=[AwsProviderAssumeRole(role_arn=env.deploy_role_arn, session_name=f"{env.name_prefix}-{session}")],
        default_tags=[AwsProviderDefaultTags(tags=env.default_tags)],
    )
