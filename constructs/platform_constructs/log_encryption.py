"""A customer-managed KMS key for the environment's CloudWatch log groups."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from platform_constructs.kms import customer_managed_key


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
    prevent_destroy: bool = True
    """Refuse ``terraform destroy`` of the key. Default: refused."""


class LogEncryptionKey(Construct):
    """KMS key (rotation on) that CloudWatch Logs may use for this account's log groups only."""

    def __init__(self, scope: Construct, id: str, *, props: LogEncryptionKeyProps) -> None:
        super().__init__(scope, id)
        p = props
        log_group_arns = f"arn:{p.partition}:logs:{p.region}:{p.account_id}:log-group:*"
        self.key = customer_managed_key(
            self,
            "key",
            alias=f"{p.name_prefix}-logs",
            description=f"{p.name_prefix}: CloudWatch log groups",
            partition=p.partition,
            account_id=p.account_id,
            prevent_destroy=p.prevent_destroy,
            extra_statements=[
                {
                    "Sid": "CloudWatchLogsUsesForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{p.region}.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
                }
            ],
        )

    @property
    def key_arn(self) -> str:
        return str(self.key.arn)
