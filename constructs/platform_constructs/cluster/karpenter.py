"""Karpenter's AWS side: the nodes' role and access entry, the interruption queue and its rules,
and the controller's least-privilege policies (docs/decisions/0025).

The controller itself and its NodePools are in the GitOps tree (infrastructure/*/karpenter);
its Pod Identity role is one of the workload identities, which attach :func:`controller_policies`.
The policies are those of Karpenter v1.14.1's getting-started CloudFormation template
(aws/karpenter-provider-aws, website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml),
scoped to this cluster's tags and this queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.ec2_tag import Ec2Tag
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from platform_constructs.cluster.control_plane import ClusterHandle
from platform_constructs.context import Deployment

#: The tag the EC2NodeClass finds its subnets and security groups by.
DISCOVERY_TAG = "karpenter.sh/discovery"
#: The managed policies of a Karpenter node: join the cluster, run the VPC CNI, pull images,
#: and SSM (Karpenter's template includes it for node access without SSH).
NODE_MANAGED_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
#: The events Karpenter acts on before AWS takes a node away (source, detail-type).
INTERRUPTION_EVENTS: tuple[tuple[str, str, str], ...] = (
    ("health", "aws.health", "AWS Health Event"),
    ("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("state-change", "aws.ec2", "EC2 Instance State-change Notification"),
    ("capacity-reservation", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


@dataclass(frozen=True, kw_only=True)
class KarpenterProps:
    """Props of :class:`Karpenter`."""

    queue_name: str
    """Name of the interruption queue (the controller's ``settings.interruptionQueue``)."""
    node_role_name: str
    """Name of the nodes' IAM role (the EC2NodeClass's ``role``)."""


class Karpenter(Construct):
    """The node role with an EC2_LINUX access entry, the interruption queue (SQS-managed
    encryption, TLS only, only EventBridge and SQS may send) with its five EventBridge rules,
    and the discovery tag on the cluster's security group."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, cluster: ClusterHandle, props: KarpenterProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self.deployment = d = deployment
        self.node_role = IamRole(
            self,
            "node-role",
            name=p.node_role_name,
            description=f"Nodes Karpenter launches for {cluster.name}",
            assume_role_policy=json.dumps(d.service_trust("ec2.amazonaws.com"), sort_keys=True),
        )
        for name in NODE_MANAGED_POLICIES:
            IamRolePolicyAttachment(self, f"node-role-{name}", role=self.node_role.name, policy_arn=d.managed_policy_arn(name))
        # EC2_LINUX: EKS maps the role to the nodes' group itself; no access policy may be associated.
        EksAccessEntry(self, "node-access-entry", cluster_name=cluster.name, principal_arn=self.node_role.arn, type="EC2_LINUX")
        self.queue = SqsQueue(self, "interruption-queue", name=p.queue_name, message_retention_seconds=300, sqs_managed_sse_enabled=True)
        SqsQueuePolicy(self, "interruption-queue-policy", queue_url=self.queue.url, policy=self._queue_policy())
        for key, source, detail_type in INTERRUPTION_EVENTS:
            rule = CloudwatchEventRule(
                self,
                f"{key}-rule",
                name=f"{p.queue_name}-{key}",
                description=f"{detail_type} -> Karpenter ({cluster.name})",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}),
            )
            CloudwatchEventTarget(self, f"{key}-target", rule=rule.name, target_id="KarpenterInterruptionQueueTarget", arn=self.queue.arn)
        # The security group EKS creates for the cluster (its nodes and control plane talk through it).
        Ec2Tag(self, "cluster-sg-discovery", resource_id=cluster.security_group_id, key=DISCOVERY_TAG, value=cluster.name)

    def _queue_policy(self) -> str:
        arn = self.queue.arn
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Id": "EC2InterruptionPolicy",
                "Statement": [
                    {
                        "Sid": "EventBridgeAndSqs",
                        "Effect": "Allow",
                        "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                        "Action": "sqs:SendMessage",
                        "Resource": arn,
                    },
                    {
                        "Sid": "DenyHTTP",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sqs:*",
                        "Resource": arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            }
        )


def controller_policies(*, deployment: Deployment, cluster_name: str, queue_arn: str, node_role_arn: str) -> dict[str, dict[str, Any]]:
    """Karpenter v1.14's controller policies, by name, as IAM policy documents."""
    d, c = deployment, cluster_name
    ec2 = f"arn:{d.partition}:ec2:{d.region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{c}": "owned"}
    requested = {f"aws:RequestTag/kubernetes.io/cluster/{c}": "owned", "aws:RequestTag/eks:eks-cluster-name": c}
    tagged = [
        f"{ec2}:*:{kind}/*" for kind in ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")
    ]
    profile = f"arn:{d.partition}:iam::{d.account_id}:instance-profile/*"
    region = {"aws:RequestTag/topology.kubernetes.io/region": d.region}

    def doc(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(statements)}

    def allow(sid: str, actions: list[str], resources: list[str] | str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **({"Condition": condition} if condition else {})}

    return {
        "node-lifecycle": doc(
            allow(
                "AllowScopedEC2InstanceAccessActions",
                ["ec2:RunInstances", "ec2:CreateFleet"],
                [
                    f"{ec2}::image/*",
                    f"{ec2}::snapshot/*",
                    f"{ec2}:*:security-group/*",
                    f"{ec2}:*:subnet/*",
                    f"{ec2}:*:capacity-reservation/*",
                    f"{ec2}:*:placement-group/*",
                ],
            ),
            allow(
                "AllowScopedEC2LaunchTemplateAccessActions",
                ["ec2:RunInstances", "ec2:CreateFleet"],
                f"{ec2}:*:launch-template/*",
                {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
            ),
            allow(
                "AllowScopedEC2InstanceActionsWithTags",
                ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                tagged,
                {"StringEquals": requested, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}},
            ),
            allow(
                "AllowScopedResourceCreationTagging",
                ["ec2:CreateTags"],
                tagged,
                {
                    "StringEquals": {**requested, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            ),
            allow(
                "AllowScopedResourceTagging",
                ["ec2:CreateTags"],
                f"{ec2}:*:instance/*",
                {
                    "StringEquals": owned,
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                    "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": c},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]},
                },
            ),
            allow(
                "AllowScopedDeletion",
                ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
                {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
            ),
        ),
        "iam-integration": doc(
            allow(
                "AllowPassingInstanceRole",
                ["iam:PassRole"],
                node_role_arn,
                {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
            ),
            allow(
                "AllowScopedInstanceProfileCreationActions",
                ["iam:CreateInstanceProfile"],
                profile,
                {"StringEquals": {**requested, **region}, "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}},
            ),
            allow(
                "AllowScopedInstanceProfileTagActions",
                ["iam:TagInstanceProfile"],
                profile,
                {
                    "StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": d.region, **requested, **region},
                    "StringLike": {
                        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    },
                },
            ),
            allow(
                "AllowScopedInstanceProfileActions",
                ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
                profile,
                {
                    "StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": d.region},
                    "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                },
            ),
        ),
        "eks-integration": doc(
            allow(
                "AllowAPIServerEndpointDiscovery", ["eks:DescribeCluster"], f"arn:{d.partition}:eks:{d.region}:{d.account_id}:cluster/{c}"
            )
        ),
        "interruption": doc(
            allow("AllowInterruptionQueueActions", ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], queue_arn)
        ),
        "zonal-shift": doc(
            allow(
                "AllowZonalShiftStatusReadOnly",
                ["arc-zonal-shift:GetManagedResource"],
                "*",
                {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": f"arn:{d.partition}:eks:{d.region}:{d.account_id}:cluster/{c}"}},
            )
        ),
        "resource-discovery": doc(
            allow(
                "AllowRegionalReadActions",
                [
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribePlacementGroups",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets",
                ],
                "*",
                {"StringEquals": {"aws:RequestedRegion": d.region}},
            ),
            allow("AllowSSMReadActions", ["ssm:GetParameter"], f"arn:{d.partition}:ssm:{d.region}::parameter/aws/service/*"),
            allow("AllowPricingReadActions", ["pricing:GetProducts"], "*"),
            allow("AllowUnscopedInstanceProfileListAction", ["iam:ListInstanceProfiles"], "*"),
            allow("AllowInstanceProfileReadActions", ["iam:GetInstanceProfile"], profile),
        ),
    }
