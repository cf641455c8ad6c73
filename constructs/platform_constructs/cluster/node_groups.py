"""Managed node groups: their IAM role, a hardened launch template, one group per configuration."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import Token
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

from environments.model import NodeGroupConfig
from platform_constructs.cluster.control_plane import ClusterHandle
from platform_constructs.context import Deployment

#: The only managed policies the node role carries: join the cluster, pull images, run the VPC CNI.
NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy")
AMI_TYPE = "AL2023_x86_64_STANDARD"


@dataclass(frozen=True, kw_only=True)
class NodeGroupsProps:
    """Props of :class:`NodeGroups`."""

    cluster_name: str
    """Name of the cluster, as the prefix of the role and launch template names."""
    private_subnet_ids: Sequence[str]
    """Subnets of every node."""
    groups: Sequence[NodeGroupConfig]
    """One managed node group each."""
    ami_release_version: str
    """The EKS-optimized AL2023 release every group runs (``1.36.2-20260714``): pinned, so
    nodes change only in a reviewed diff, and never ahead of the control plane."""
    security_group_ids: Sequence[str] = ()
    """Security groups of every node besides the cluster's own (e.g. the one the ALB may
    reach). Default: the cluster security group only."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every node, in addition to each group's own. Default: none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the instances, their volumes and network interfaces, which the provider's
    default_tags do not reach (the environment's cost-allocation tags). Default: ``Name`` only."""

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError("at least one node group is required")


class NodeGroups:
    """Adds the node role, the launch template and the managed node groups to ``scope``.

    Nodes run Amazon Linux 2023 in private subnets with IMDSv2 (hop limit 1) and an encrypted
    gp3 root volume; ``depends_on`` orders them after what must run first (the networking
    add-ons).
    """

    def __init__(
        self, scope: Construct, *, deployment: Deployment, cluster: ClusterHandle, props: NodeGroupsProps, depends_on: Sequence[object] = ()
    ) -> None:
        self.props = p = props
        self.cluster = cluster
        self.role = IamRole(
            scope,
            "node-role",
            name=f"{p.cluster_name}-node",
            assume_role_policy=json.dumps(deployment.service_trust("ec2.amazonaws.com"), sort_keys=True),
        )
        self.role_policies = [
            IamRolePolicyAttachment(scope, f"node-role-{name}", role=self.role.name, policy_arn=deployment.managed_policy_arn(name))
            for name in NODE_MANAGED_POLICIES
        ]
        self.launch_template = self._launch_template(scope)
        self.groups: dict[str, EksNodeGroup] = {
            g.name: self._group(scope, g, depends_on=[*self.role_policies, *depends_on]) for g in p.groups
        }

    def _launch_template(self, scope: Construct) -> LaunchTemplate:
        p = self.props
        name = f"{p.cluster_name}-node"
        return LaunchTemplate(
            scope,
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
                        volume_size=max(g.disk_size_gib for g in p.groups),
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=LaunchTemplateMonitoring(enabled=True),
            vpc_security_group_ids=[self.cluster.security_group_id, *p.security_group_ids] if p.security_group_ids else None,
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={**p.tags, "Name": name})
                for kind in ("instance", "volume", "network-interface")
            ],
        )

    def _group(self, scope: Construct, group: NodeGroupConfig, depends_on: list[object]) -> EksNodeGroup:
        p = self.props
        return EksNodeGroup(
            scope,
            f"node-group-{group.name}",
            cluster_name=self.cluster.name,
            node_group_name=group.name,
            # The control plane's version (a reference): nodes follow an upgrade once it is done.
            version=self.cluster.version,
            release_version=p.ami_release_version,
            node_role_arn=self.role.arn,
            subnet_ids=list(p.private_subnet_ids),
            ami_type=AMI_TYPE,
            capacity_type=group.capacity_type.value,
            instance_types=list(group.instance_types),
            scaling_config=EksNodeGroupScalingConfig(min_size=group.min_size, max_size=group.max_size, desired_size=group.desired_size),
            update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=33),
            launch_template=EksNodeGroupLaunchTemplate(
                id=self.launch_template.id, version=Token.as_string(self.launch_template.latest_version)
            ),
            labels={**p.extra_labels, **dict(group.labels), "node-group": group.name, "capacity": group.capacity_type.value.lower()},
            depends_on=depends_on,
        )

    @property
    def autoscaling_group_names(self) -> list[str]:
        """One ASG per managed node group, for attaching load-balancer target groups."""
        return [str(g.resources.get(0).autoscaling_groups.get(0).name) for g in self.groups.values()]
