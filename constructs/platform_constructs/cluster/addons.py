"""EKS-managed add-ons, pinned per Kubernetes version, ordered around the nodes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_aws.eks_addon import EksAddon, EksAddonPodIdentityAssociation
from constructs import Construct

from platform_constructs.cluster.control_plane import ClusterHandle

#: Add-ons the nodes need to become Ready: created (and upgraded) before the node groups.
NODE_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
#: Add-ons that run as Deployments on the nodes: created (and upgraded) after them.
WORKLOAD_ADDONS = ("coredns", "aws-ebs-csi-driver")

#: The VPC CNI enforces NetworkPolicies (the seed's point 3) with its node agent.
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true", "nodeAgent": {"enablePolicyEventLogs": "true"}}


class Addons:
    """Adds the EKS add-ons of one cluster to ``scope``: first :meth:`node_addons`, then, once the
    node groups exist, :meth:`workload_addons`."""

    def __init__(self, scope: Construct, *, cluster: ClusterHandle, versions: Mapping[str, str]) -> None:
        missing = sorted(set(NODE_ADDONS + WORKLOAD_ADDONS) - set(versions))
        if missing:
            raise ValueError(f"no pinned version for the add-ons {missing}")
        self._scope = scope
        self._cluster = cluster
        self._versions = versions
        self.addons: dict[str, EksAddon] = {}

    def node_addons(self) -> list[EksAddon]:
        """vpc-cni (network policies on), kube-proxy and the Pod Identity agent."""
        return [self._addon(name, configuration=VPC_CNI_CONFIGURATION if name == "vpc-cni" else None) for name in NODE_ADDONS]

    def workload_addons(
        self,
        *,
        nodes: Sequence[object],
        ebs_csi_role_arn: str = "",
        ebs_csi_service_account: str = "",
        volume_tags: Mapping[str, str] | None = None,
    ) -> list[EksAddon]:
        """CoreDNS and the EBS CSI driver (bound to its role through Pod Identity when given),
        which tags every volume and snapshot it creates with ``volume_tags`` (the cost tags)."""
        return [
            self._addon("coredns", depends_on=nodes),
            self._addon(
                "aws-ebs-csi-driver",
                configuration={"controller": {"extraVolumeTags": dict(volume_tags)}} if volume_tags else None,
                depends_on=nodes,
                pod_identity_role_arn=ebs_csi_role_arn,
                service_account=ebs_csi_service_account,
            ),
        ]

    def _addon(
        self,
        name: str,
        *,
        configuration: Mapping[str, object] | None = None,
        depends_on: Sequence[object] = (),
        pod_identity_role_arn: str = "",
        service_account: str = "",
    ) -> EksAddon:
        addon = EksAddon(
            self._scope,
            f"addon-{name}",
            cluster_name=self._cluster.name,
            addon_name=name,
            addon_version=self._versions[name],
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
