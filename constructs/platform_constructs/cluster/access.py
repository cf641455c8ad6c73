"""Who may use the Kubernetes API: EKS access entries (authentication mode API, no aws-auth)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from constructs import Construct

from platform_constructs.cluster.control_plane import ClusterHandle

CLUSTER_ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"


@dataclass(frozen=True, kw_only=True)
class ClusterAccessProps:
    """Props of :class:`ClusterAccess`."""

    admin_role_arns: Sequence[str]
    """Roles with cluster admin (AmazonEKSClusterAdminPolicy, cluster scope)."""
    viewer_role_arns: Sequence[str] = ()
    """Roles with cluster-wide read access (AmazonEKSAdminViewPolicy). Default: none."""
    developer_role_arns: Sequence[str] = ()
    """Roles mapped to ``developers_group`` with no EKS access policy; RBAC in the GitOps tree
    grants the group its namespace-scoped rights. Default: none."""
    developers_group: str = "plato-developers"
    """Kubernetes group of the developers. Default: ``plato-developers``."""

    def __post_init__(self) -> None:
        if not self.admin_role_arns:
            raise ValueError("at least one admin role is required: creator admin is off, so nobody else would be one")


class ClusterAccess:
    """Adds one access entry per role to ``scope``: admins and viewers get an EKS access policy,
    developers only their Kubernetes group."""

    def __init__(self, scope: Construct, *, cluster: ClusterHandle, partition: str, props: ClusterAccessProps) -> None:
        for kind, arns, policy in (("admin", props.admin_role_arns, CLUSTER_ADMIN_POLICY), ("viewer", props.viewer_role_arns, VIEW_POLICY)):
            for i, arn in enumerate(arns):
                entry = EksAccessEntry(scope, f"{kind}-{i}", cluster_name=cluster.name, principal_arn=arn, type="STANDARD")
                EksAccessPolicyAssociation(
                    scope,
                    f"{kind}-{i}-policy",
                    cluster_name=cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=policy.format(partition=partition),
                    access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
                )
        for i, arn in enumerate(props.developer_role_arns):
            EksAccessEntry(
                scope,
                f"developer-{i}",
                cluster_name=cluster.name,
                principal_arn=arn,
                type="STANDARD",
                kubernetes_groups=[props.developers_group],
            )
