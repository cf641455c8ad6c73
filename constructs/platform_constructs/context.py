"""Who and where a construct builds: one account/naming context, passed once.

Every construct that names, scopes or guards resources takes the stack's :class:`Deployment`
instead of copies of its fields; its props then carry only what is particular to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from environments.model import EnvironmentConfig


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """The account, region and naming of the stack being built."""

    name_prefix: str
    """Prefix of every resource name (``plato-dev``)."""
    account_id: str
    """The 12-digit AWS account."""
    region: str
    """The AWS region."""
    partition: str = "aws"
    """The AWS partition of the region. Default: the commercial partition."""
    prevent_destroy: bool = True
    """Guard stateful resources (keys, buckets, zone, cluster) with ``prevent_destroy``.
    Default: guarded."""

    @classmethod
    def of(cls, env: EnvironmentConfig) -> Deployment:
        return cls(
            name_prefix=env.name_prefix,
            account_id=env.account_id,
            region=env.region,
            partition=env.partition,
            prevent_destroy=env.prevent_destroy,
        )

    def managed_policy_arn(self, name: str) -> str:
        """An AWS managed IAM policy: ``AmazonEKSClusterPolicy`` -> ``arn:aws:iam::aws:policy/AmazonEKSClusterPolicy``."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def service_trust(self, service: str, *, tag_session: bool = False) -> dict[str, object]:
        """A trust policy admitting ``service`` acting for this account only."""
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": self.account_id}},
                }
            ],
        }
