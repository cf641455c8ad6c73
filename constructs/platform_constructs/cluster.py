"""The EKS cluster: control plane, managed nodes, add-ons and access entries.

Secure defaults in the spirit of terraform-aws-modules/eks: private endpoint (public only
to allow-listed CIDRs), Secrets envelope-encrypted with a rotating customer-managed key,
all control-plane logs, API-only authentication with no implicit creator admin, IMDSv2
with hop limit 1 and encrypted root volumes on Amazon Linux 2023 nodes in private subnets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from cdktf_cdktf_provider_aws.eks_addon import EksAddon, EksAddonPodIdentityAssociation
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
)
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupScalingConfig,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from environments.config import CLOUDWATCH_RETENTION_DAYS, NodeGroupConfig
from environments.eks_versions import EKS_ADDON_VERSIONS
from environments.errors import ConfigError
from platform_constructs.checkov import skip_check
from platform_constructs.kms import customer_managed_key

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
CLUSTER_ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
#: The only managed policies the node role carries: join the cluster, pull images, run the VPC CNI.
NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy")


@dataclass(frozen=True, kw_only=True)
class ClusterProps:
    """Props of :class:`Cluster`."""

    cluster_name: str
    """Name of the EKS cluster."""
    kubernetes_version: str
    """Kubernetes minor version; its add-on versions come from ``EKS_ADDON_VERSIONS``."""
    vpc_id: str
    """VPC of the cluster."""
    private_subnet_ids: Sequence[str]
    """Subnets of the control-plane ENIs and of every node."""
    account_id: str
    """Account of the cluster (scopes trust policies)."""
    partition: str = "aws"
    """AWS partition. Default: the commercial partition."""
    node_groups: Sequence[NodeGroupConfig]
    """Managed node groups."""
    platform_admin_role_arns: Sequence[str]
    """Roles with cluster admin (AmazonEKSClusterAdminPolicy, cluster scope)."""
    developer_role_arns: Sequence[str] = ()
    """Roles mapped to ``developers_group`` with no EKS access policy; RBAC in the GitOps tree
    grants the group its namespace-scoped rights. Default: none."""
    developers_group: str = "plato-developers"
    """Kubernetes group of the developers."""
    viewer_role_arns: Sequence[str] = ()
    """Roles with cluster-wide read access (AmazonEKSAdminViewPolicy). Default: none."""
    endpoint_public_access: bool = False
    """Public API endpoint (only to ``public_access_cidrs``). Default: private only."""
    public_access_cidrs: Sequence[str] = ()
    """Allow-listed networks of a public endpoint."""
    log_retention_days: int = 365
    """Retention of the control-plane log group. Default: one year."""
    log_kms_key_arn: str
    """KMS key of the control-plane log group."""
    ebs_csi_role_arn: str = ""
    """Pod Identity role of the EBS CSI controller. Default: the add-on gets no AWS role."""
    ebs_csi_service_account: str = "ebs-csi-controller-sa"
    """Service account of the EBS CSI controller."""
    node_security_group_ids: Sequence[str] = ()
    """Extra security groups on every node (e.g. the one the ALB may reach). Default: none."""
    prevent_destroy: bool = True
    """Guard the cluster and its Secrets key from ``terraform destroy``. Default: guarded."""
    extra_node_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every node, in addition to each group's own. Default: none."""

    def __post_init__(self) -> None:
        if self.kubernetes_version not in EKS_ADDON_VERSIONS:
            raise ConfigError("cluster.kubernetes_version", f"'{self.kubernetes_version}' has no pinned add-on versions")
        if not self.node_groups:
            raise ConfigError("cluster.node_groups", "at least one node group is required")
        if not self.platform_admin_role_arns:
            raise ConfigError("cluster.platform_admin_role_arns", "at least one admin role is required")
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ConfigError("cluster.public_access_cidrs", "a public endpoint needs at least one allow-listed CIDR")
        if self.log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
            raise ConfigError("cluster.log_retention_days", "is not a CloudWatch Logs retention period")


def _trust(service: str, account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": ["sts:AssumeRole", "sts:TagSession"] if service == "eks.amazonaws.com" else "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        },
        sort_keys=True,
    )


class Cluster(Construct):
    """An EKS cluster with managed node groups, pinned add-ons and access entries."""

    def __init__(self, scope: Construct, id: str, *, props: ClusterProps) -> None:
        super().__init__(scope, id)
        p = props
        self.props = p
        policy_arn = f"arn:{p.partition}:iam::aws:policy/{{}}"

        # --- control plane ------------------------------------------------------------
        self.secrets_key = customer_managed_key(
            self,
            "secrets-key",
            alias=f"{p.cluster_name}-eks-secrets",
            description=f"{p.cluster_name}: envelope encryption of Kubernetes Secrets",
            partition=p.partition,
            account_id=p.account_id,
            prevent_destroy=p.prevent_destroy,
        )
        self.log_group = CloudwatchLogGroup(
            self,
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
        self.cluster_role = IamRole(
            self, "cluster-role", name=f"{p.cluster_name}-cluster", assume_role_policy=_trust("eks.amazonaws.com", p.account_id)
        )
        cluster_policy = IamRolePolicyAttachment(
            self, "cluster-role-policy", role=self.cluster_role.name, policy_arn=policy_arn.format("AmazonEKSClusterPolicy")
        )

        self.cluster = EksCluster(
            self,
            "cluster",
            name=p.cluster_name,
            version=p.kubernetes_version,
            role_arn=self.cluster_role.arn,
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
            # The add-ons below are EKS-managed and pinned; none is installed unmanaged first.
            bootstrap_self_managed_addons=False,
            upgrade_policy=EksClusterUpgradePolicy(support_type="STANDARD"),
            depends_on=[self.log_group, cluster_policy],
            lifecycle=TerraformResourceLifecycle(prevent_destroy=p.prevent_destroy),
        )
        if p.endpoint_public_access:
            reason = (
                f"the public endpoint admits only {', '.join(p.public_access_cidrs)} (cluster.public_access_cidrs); "
                "the private endpoint serves the nodes"
            )
            skip_check(self.cluster, "CKV_AWS_39", reason)
            skip_check(self.cluster, "CKV_AWS_38", reason)

        # --- nodes ----------------------------------------------------------------------
        self.node_role = IamRole(
            self, "node-role", name=f"{p.cluster_name}-node", assume_role_policy=_trust("ec2.amazonaws.com", p.account_id)
        )
        node_policies = [
            IamRolePolicyAttachment(self, f"node-role-{name}", role=self.node_role.name, policy_arn=policy_arn.format(name))
            for name in NODE_MANAGED_POLICIES
        ]
        self.launch_template = LaunchTemplate(
            self,
            "node-launch-template",
            name=f"{p.cluster_name}-nodes",
            description="EKS managed nodes: IMDSv2 only, hop limit 1, encrypted gp3 root volume",
            update_default_version=True,
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1, instance_metadata_tags="disabled"
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=max(g.disk_size_gib for g in p.node_groups),
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=LaunchTemplateMonitoring(enabled=True),
            vpc_security_group_ids=[self.cluster.vpc_config.cluster_security_group_id, *p.node_security_group_ids]
            if p.node_security_group_ids
            else None,
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type="instance", tags={"Name": f"{p.cluster_name}-node"}),
                LaunchTemplateTagSpecifications(resource_type="volume", tags={"Name": f"{p.cluster_name}-node"}),
            ],
        )

        # Add-ons that nodes need to become Ready are created before the nodes.
        versions = EKS_ADDON_VERSIONS[p.kubernetes_version]
        self.addons: dict[str, EksAddon] = {}
        self._addon(
            "vpc-cni",
            versions,
            configuration={"enableNetworkPolicy": "true", "nodeAgent": {"enablePolicyEventLogs": "true"}},
        )
        self._addon("kube-proxy", versions)
        self._addon("eks-pod-identity-agent", versions)

        self.node_groups: dict[str, EksNodeGroup] = {}
        for group in p.node_groups:
            self.node_groups[group.name] = EksNodeGroup(
                self,
                f"node-group-{group.name}",
                cluster_name=self.cluster.name,
                node_group_name=group.name,
                node_role_arn=self.node_role.arn,
                subnet_ids=list(p.private_subnet_ids),
                ami_type="AL2023_x86_64_STANDARD",
                capacity_type=group.capacity_type.value,
                instance_types=list(group.instance_types),
                scaling_config=EksNodeGroupScalingConfig(min_size=group.min_size, max_size=group.max_size, desired_size=group.desired_size),
                update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=33),
                launch_template=EksNodeGroupLaunchTemplate(
                    id=self.launch_template.id, version=Token.as_string(self.launch_template.latest_version)
                ),
                labels={
                    **p.extra_node_labels,
                    **dict(group.labels),
                    "node-group": group.name,
                    "capacity": group.capacity_type.value.lower(),
                },
                depends_on=[*node_policies, *self.addons.values()],
            )

        # Add-ons that run as Deployments need nodes.
        nodes = list(self.node_groups.values())
        self._addon("coredns", versions, depends_on=nodes)
        self._addon(
            "aws-ebs-csi-driver",
            versions,
            depends_on=nodes,
            pod_identity_role_arn=p.ebs_csi_role_arn,
            service_account=p.ebs_csi_service_account,
        )

        # --- access ---------------------------------------------------------------------
        for kind, arns, policy in (
            ("admin", p.platform_admin_role_arns, CLUSTER_ADMIN_POLICY),
            ("viewer", p.viewer_role_arns, VIEW_POLICY),
        ):
            for i, arn in enumerate(arns):
                entry = EksAccessEntry(self, f"{kind}-{i}", cluster_name=self.cluster.name, principal_arn=arn, type="STANDARD")
                EksAccessPolicyAssociation(
                    self,
                    f"{kind}-{i}-policy",
                    cluster_name=self.cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=policy.format(partition=p.partition),
                    access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
                )
        for i, arn in enumerate(p.developer_role_arns):
            EksAccessEntry(
                self,
                f"developer-{i}",
                cluster_name=self.cluster.name,
                principal_arn=arn,
                type="STANDARD",
                kubernetes_groups=[p.developers_group],
            )

    def _addon(
        self,
        name: str,
        versions: Mapping[str, str],
        *,
        configuration: dict[str, object] | None = None,
        depends_on: Sequence[object] = (),
        pod_identity_role_arn: str = "",
        service_account: str = "",
    ) -> EksAddon:
        addon = EksAddon(
            self,
            f"addon-{name}",
            cluster_name=self.cluster.name,
            addon_name=name,
            addon_version=versions[name],
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
            pod_identity_association=[EksAddonPodIdentityAssociation(role_arn=pod_identity_role_arn, service_account=service_account)]
            if pod_identity_role_arn
            else None,
            depends_on=list(depends_on) or None,
        )
        self.addons[name] = addon
        return addon

    # --- what the next constructs and stacks take -----------------------------------------
    @property
    def name(self) -> str:
        return str(self.cluster.name)

    @property
    def arn(self) -> str:
        return str(self.cluster.arn)

    @property
    def endpoint(self) -> str:
        return str(self.cluster.endpoint)

    @property
    def certificate_authority(self) -> str:
        return str(self.cluster.certificate_authority.get(0).data)

    @property
    def oidc_issuer(self) -> str:
        return str(self.cluster.identity.get(0).oidc.get(0).issuer)

    @property
    def cluster_security_group_id(self) -> str:
        return str(self.cluster.vpc_config.cluster_security_group_id)

    @property
    def autoscaling_group_names(self) -> list[str]:
        """One ASG per managed node group, for attaching load-balancer target groups."""
        return [str(g.resources.get(0).autoscaling_groups.get(0).name) for g in self.node_groups.values()]
