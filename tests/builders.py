"""Valid configuration objects to vary one field at a time (tests of the configuration model)."""

from __future__ import annotations

from typing import Any

from environments.model import Channel
from environments.model.config import (
    ClusterConfig,
    EnvironmentConfig,
    GitOpsConfig,
    InterfaceEndpoint,
    NetworkConfig,
    NodeGroupConfig,
    StateConfig,
    StorageConfig,
    Tier,
)

ACCOUNT = "444444444444"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"


def group(**changes: Any) -> NodeGroupConfig:
    fields: dict[str, Any] = {"name": "general", "instance_types": ("m6i.large",), "min_size": 2, "max_size": 4, "desired_size": 2}
    return NodeGroupConfig(**{**fields, **changes})


def cluster(**changes: Any) -> ClusterConfig:
    fields: dict[str, Any] = {"kubernetes_version": "1.36", "node_groups": (group(),), "platform_admin_role_arns": (ADMIN,)}
    return ClusterConfig(**{**fields, **changes})


def base(**changes: Any) -> dict[str, Any]:
    """The fields of a valid staging-tier environment ``qa`` in eu-west-1, with ``changes``."""
    fields: dict[str, Any] = {
        "name": "qa",
        "tier": Tier.STAGING,
        "account_id": ACCOUNT,
        "region": "eu-west-1",
        "deploy_role_arn": f"arn:aws:iam::{ACCOUNT}:role/deploy",
        "owner": "platform-team",
        "domain": "qa.plato.example.com",
        "state": StateConfig(bucket="plato-tfstate-qa"),
        "network": NetworkConfig(
            vpc_cidr="10.40.0.0/16", az_count=3, interface_endpoints=(InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR)
        ),
        "cluster": cluster(),
        "storage": StorageConfig(replica_region="eu-north-1"),
        "gitops": GitOpsConfig(repository_url="https://gitlab.com/plato/platform.git", channel=Channel.MAIN),
    }
    return {**fields, **changes}


def environment(**changes: Any) -> EnvironmentConfig:
    return EnvironmentConfig(**base(**changes))
