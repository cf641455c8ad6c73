"""A customer-managed KMS key for the environment's CloudWatch log groups."""

from __future__ import annotations

from constructs import Construct

from platform_constructs.context import Deployment
from platform_constructs.encryption.kms import customer_managed_key


class LogEncryptionKey(Construct):
    """KMS key (rotation on) that CloudWatch Logs may use for this account's log groups only."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment) -> None:
        super().__init__(scope, id)
        d = deployment
        log_group_arns = f"arn:{d.partition}:logs:{d.region}:{d.account_id}:log-group:*"
        self.key = customer_managed_key(
            self,
            "key",
            deployment=d,
            alias=f"{d.name_prefix}-logs",
            description=f"{d.name_prefix}: CloudWatch log groups",
            extra_statements=[
                {
                    "Sid": "CloudWatchLogsUsesForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{d.region}.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
                }
            ],
        )

    @property
    def key_arn(self) -> str:
        return str(self.key.arn)
