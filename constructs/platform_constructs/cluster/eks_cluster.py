"""The EKS cluster: control plane, managed nodes, add-ons and access, in upgrade order.

The order is the one an upgrade must follow, and Terraform follows it because each step
references or depends on the previous one: the control plane (its ``version``), then the
add-ons the nodes need, then the node groups (whose ``version`` is the control plane's),
then the add-ons that run on the nodes. docs/upgrades.md is the runbook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from environments.model import NodeGroupConfig
from platform_constructs.cluster.access import ClusterAccess, ClusterAccessProps
from platform_constructs.cluster.addons import Addons
from platform_constructs.cluster.control_plane import ClusterHandle, ControlPlane, ControlPlaneProps
from platform_constructs.cluster.karpenter import Karpenter, KarpenterProps
from platform_constructs.cluster.node_groups import NodeGroups, NodeGroupsProps
from platform_constructs.context import Deployment


@dataclass(frozen=True, kw_only=True)
class ClusterProps:
    """Props of :class:`Cluster`."""

    control_plane: ControlPlaneProps
    """The control plane: version, endpoint exposure, logs."""
    node_groups: Sequence[NodeGroupConfig]
    """Managed node groups."""
    node_ami_release: str
    """The AL2023 node AMI release of every group, for the control plane's version."""
    node_security_group_ids: Sequence[str] = ()
    """Extra security groups on every node (e.g. the one the ALB may reach). Default: none."""
    addon_versions: Mapping[str, str]
    """The pinned version of every add-on, for the control plane's Kubernetes version."""
    access: ClusterAccessProps
    """Who may use the Kubernetes API."""
    ebs_csi_role_arn: str = ""
    """Pod Identity role of the EBS CSI controller. Default: the add-on gets no AWS role."""
    ebs_csi_service_account: str = "ebs-csi-controller-sa"
    """Service account of the EBS CSI controller. Default: the add-on's own."""
    node_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the nodes' instances and volumes (the environment's default tags). Default: none."""
    karpenter: KarpenterProps
    """Karpenter's queue and node role."""


class Cluster(Construct):
    """An EKS cluster with managed node groups, pinned add-ons and access entries."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: ClusterProps) -> None:
        super().__init__(scope, id)
        p = props
        self.control_plane = ControlPlane(self, deployment=deployment, props=p.control_plane)
        self.handle: ClusterHandle = self.control_plane.handle
        self.addons = Addons(self, cluster=self.handle, versions=p.addon_versions)
        node_addons = self.addons.node_addons()
        self.nodes = NodeGroups(
            self,
            deployment=deployment,
            cluster=self.handle,
            props=NodeGroupsProps(
                cluster_name=p.control_plane.cluster_name,
                private_subnet_ids=p.control_plane.private_subnet_ids,
                groups=p.node_groups,
                ami_release_version=p.node_ami_release,
                security_group_ids=p.node_security_group_ids,
                tags=p.node_tags,
            ),
            depends_on=node_addons,
        )
        self.karpenter = Karpenter(self, "karpenter", deployment=deployment, cluster=self.handle, props=p.karpenter)
        self.addons.workload_addons(
            nodes=list(self.nodes.groups.values()),
            ebs_csi_role_arn=p.ebs_csi_role_arn,
            ebs_csi_service_account=p.ebs_csi_service_account,
            volume_tags=p.node_tags,
        )
        ClusterAccess(self, cluster=self.handle, partition=deployment.partition, props=p.access)

    @property
    def secrets_key_arn(self) -> str:
        return str(self.control_plane.secrets_key.arn)

    @property
    def autoscaling_group_names(self) -> list[str]:
        return self.nodes.autoscaling_group_names
