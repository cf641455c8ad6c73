"""The EKS control plane: API endpoint, Secrets encryption, control-plane logs, authentication."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from platform_constructs.checkov import skip_check
from platform_constructs.context import Deployment
from platform_constructs.encryption.kms import customer_managed_key

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True, kw_only=True)
class ClusterHandle:
    """What the node groups, add-ons, access entries and other stacks take of a cluster."""

    name: str
    """The cluster's name (a reference: whatever takes it waits for the cluster)."""
    version: str
    """The control plane's Kubernetes version (a reference: node groups follow upgrades)."""
    arn: str
    endpoint: str
    certificate_authority: str
    """Base64 CA bundle of the API endpoint."""
    oidc_issuer: str
    security_group_id: str
    """The cluster security group EKS creates."""


@dataclass(frozen=True, kw_only=True)
class ControlPlaneProps:
    """Props of :class:`ControlPlane`."""

    cluster_name: str
    """Name of the EKS cluster."""
    kubernetes_version: str
    """Kubernetes minor version of the control plane."""
    support_type: str = "STANDARD"
    """``upgrade_policy.support_type``: ``STANDARD`` (upgraded by AWS at the end of standard
    support) or ``EXTENDED`` (extended support, charged). Default: standard."""
    private_subnet_ids: Sequence[str]
    """Subnets of the control-plane ENIs."""
    endpoint_public_access: bool = False
    """Public API endpoint (only to ``public_access_cidrs``). Default: private only."""
    public_access_cidrs: Sequence[str] = ()
    """Allow-listed networks of a public endpoint."""
    log_retention_days: int = 365
    """Retention of the control-plane log group. Default: one year."""
    log_kms_key_arn: str
    """KMS key of the control-plane log group."""

    def __post_init__(self) -> None:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError("a public endpoint needs at least one allow-listed CIDR")


class ControlPlane:
    """Adds the control plane (cluster, its role, its Secrets key and log group) to ``scope``.

    Secure defaults in the spirit of terraform-aws-modules/eks: private endpoint (public only
    to allow-listed CIDRs), Secrets envelope-encrypted with a rotating customer-managed key,
    all control-plane logs, API-only authentication with no implicit creator admin.
    """

    def __init__(self, scope: Construct, *, deployment: Deployment, props: ControlPlaneProps) -> None:
        p, d = props, deployment
        self.secrets_key = customer_managed_key(
            scope,
            "secrets-key",
            deployment=d,
            alias=f"{p.cluster_name}-eks-secrets",
            description=f"{p.cluster_name}: envelope encryption of Kubernetes Secrets",
        )
        self.log_group = CloudwatchLogGroup(
            scope,
            "control-plane-logs",
            name=f"/aws/eks/{p.cluster_name}/cluster",
            retention_in_days=p.log_retention_days,
            kms_key_id=p.log_kms_key_arn,
        )
        if p.log_retention_days < 365:
            skip_check(
                self.log_group,
                "CKV_AWS_338",
                f"retention is {p.log_retention_days} days by this environment's configuration (cluster.log_retention_days): a cost choice for a non-production tier",
            )
        self.role = IamRole(
            scope,
            "cluster-role",
            name=f"{p.cluster_name}-cluster",
            assume_role_policy=json.dumps(d.service_trust("eks.amazonaws.com", tag_session=True), sort_keys=True),
        )
        policy = IamRolePolicyAttachment(
            scope, "cluster-role-policy", role=self.role.name, policy_arn=d.managed_policy_arn("AmazonEKSClusterPolicy")
        )
        self.cluster = self._cluster(scope, p, d, depends_on=[self.log_group, policy])
        c = self.cluster
        self.handle = ClusterHandle(
            name=c.name,
            version=c.version,
            arn=c.arn,
            endpoint=c.endpoint,
            certificate_authority=str(c.certificate_authority.get(0).data),
            oidc_issuer=str(c.identity.get(0).oidc.get(0).issuer),
            security_group_id=str(c.vpc_config.cluster_security_group_id),
        )

    def _cluster(self, scope: Construct, p: ControlPlaneProps, d: Deployment, depends_on: list[object]) -> EksCluster:
        cluster = EksCluster(
            scope,
            "cluster",
            name=p.cluster_name,
            version=p.kubernetes_version,
            role_arn=self.role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=list(p.private_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=p.endpoint_public_access,
                public_access_cidrs=list(p.public_access_cidrs) if p.endpoint_public_access else None,
            ),
            encryption_config=EksClusterEncryptionConfig(
                provider=EksClusterEncryptionConfigProvider(key_arn=self.secrets_key.arn), resources=["secrets"]
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config=EksClusterAccessConfig(authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False),
            # The add-ons are EKS-managed and pinned; none is installed unmanaged first.
            bootstrap_self_managed_addons=False,
            upgrade_policy=EksClusterUpgradePolicy(support_type=p.support_type),
            depends_on=depends_on,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=d.prevent_destroy),
        )
        skip_check(
            cluster,
            "CKV_AWS_339",
            "support is enforced with EKS's own dates instead: the configuration refuses a version past standard support "
            "(environments/model/eks.py and its facts table); checkov's fixed list of versions lags EKS releases",
        )
        if p.endpoint_public_access:
            reason = (
                f"the public endpoint admits only {', '.join(p.public_access_cidrs)} (cluster.public_access_cidrs); "
                "the private endpoint serves the nodes"
            )
            skip_check(cluster, "CKV_AWS_39", reason)
            skip_check(cluster, "CKV_AWS_38", reason)
        return cluster
