"""Customer-managed KMS keys: rotation on, administered by the account, guarded from destroy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from platform_constructs.context import Deployment


def account_admin_statement(deployment: Deployment) -> dict[str, Any]:
    """The key-policy statement that lets the account's IAM policies govern the key."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": deployment.account_root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }


def customer_managed_key(
    scope: Construct,
    id: str,
    *,
    deployment: Deployment,
    alias: str,
    description: str,
    extra_statements: Sequence[dict[str, Any]] = (),
    provider: TerraformProvider | None = None,
) -> KmsKey:
    """A symmetric key with yearly rotation, a 30-day deletion window and an alias (in the
    region of ``provider``; default: the stack's provider)."""
    key = KmsKey(
        scope,
        id,
        provider=provider,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=json.dumps({"Version": "2012-10-17", "Statement": [account_admin_statement(deployment), *extra_statements]}, sort_keys=True),
        lifecycle=TerraformResourceLifecycle(prevent_destroy=deployment.prevent_destroy),
    )
    KmsAlias(scope, f"{id}-alias", provider=provider, name=f"alias/{alias}", target_key_id=key.key_id)
    return key
