"""A customer-managed KMS key for the environment's CloudWatch log groups."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey

from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class LogEncryptionKeyProps:
    """Props of :class:`LogEncryptionKey`."""

    name_prefix: str
    """Prefix of the alias (``alias/<prefix>-logs``)."""
    account_id: str
    """Account whose root principal administers the key."""
    region: str
    """Region whose CloudWatch Logs service may use the key."""
    partition: str = "aws"
    """AWS partition of the account. Default: the commercial partition."""
    deletion_window_days: int = 30
    """Days a scheduled deletion waits. Default: the maximum, 30."""
    prevent_destroy: bool = True
    """Refuse ``terraform destroy`` of the key. Default: refused."""

    def __post_init__(self) -> None:
        if not 7 <= self.deletion_window_days <= 30:
            raise ValueError("deletion_window_days must be between 7 and 30")


class LogEncryptionKey(Construct):
    """KMS key (rotation on) that CloudWatch Logs may use for this account's log groups only."""

    def __init__(self, scope: Construct, id: str, *, props: LogEncryptionKeyProps) -> None:
        super().__init__(scope, id)
        p = props
        log_group_arns = f"arn:{p.partition}:logs:{p.region}:{p.account_id}:log-group:*"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{p.partition}:iam::{p.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsUsesForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{p.region}.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
                },
            ],
        }
        self.key = KmsKey(
            self,
            "key",
            description=f"{p.name_prefix}: CloudWatch log groups",
            enable_key_rotation=True,
            deletion_window_in_days=p.deletion_window_days,
            policy=json.dumps(policy, sort_keys=True),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=p.prevent_destroy),
        )
        KmsAlias(self, "alias", name=f"alias/{p.name_prefix}-logs", target_key_id=self.key.key_id)

    @property
    def key_arn(self) -> str:
        return str(self.key.arn)
