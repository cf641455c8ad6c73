"""The two security groups of the edge path: internet -> ALB (80/443) -> nodes (node ports only)."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from platform_constructs.checkov import skip_check
from platform_constructs.cluster.karpenter import DISCOVERY_TAG

# AWS cannot change a security group's description in place: Terraform would replace the
# group, and with it every node (the launch template names it) while the ALB's way to them is
# rebuilt. The description is set when the group is created and never forces a replacement.
_DESCRIPTION_AT_CREATION = TerraformResourceLifecycle(ignore_changes=["description"])


class EdgeSecurityGroups:
    """Adds the ALB's group (80 and 443 from anywhere, out only to the node ports) and the nodes'
    group (in only from the ALB's group, only on the node ports) to ``scope``.

    ``node_port`` is the Gateway proxies' port; ``retiring_node_port``, while a controller
    migration keeps a second target group, the retiring controller's.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        name_prefix: str,
        vpc_id: str,
        node_port: int,
        retiring_node_port: int | None = None,
        discovery: str = "",
    ) -> None:
        self.alb = SecurityGroup(
            scope,
            "alb-sg",
            name=f"{name_prefix}-alb",
            description="Internet-facing ALB: HTTPS and the HTTP redirect in, the ingress node port out",
            vpc_id=vpc_id,
            tags={"Name": f"{name_prefix}-alb"},
        )
        self.nodes = SecurityGroup(
            scope,
            "node-ingress-sg",
            name=f"{name_prefix}-node-ingress",
            description="On every node: admits the ALB, on the ingress node ports only",
            vpc_id=vpc_id,
            tags={"Name": f"{name_prefix}-node-ingress", **({DISCOVERY_TAG: discovery} if discovery else {})},
            lifecycle=_DESCRIPTION_AT_CREATION,
        )
        VpcSecurityGroupIngressRule(
            scope,
            "alb-in-https",
            security_group_id=self.alb.id,
            description="HTTPS from the internet",
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
        )
        http_in = VpcSecurityGroupIngressRule(
            scope,
            "alb-in-http",
            security_group_id=self.alb.id,
            description="HTTP from the internet, answered only with a redirect to HTTPS",
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=80,
            to_port=80,
        )
        skip_check(http_in, "CKV_AWS_260", "port 80 only answers with a permanent redirect to HTTPS (listener http-redirect)")
        self.node_ingress_rules = [self._node_port(scope, "", node_port, "the Gateway's node port")]
        if retiring_node_port is not None:
            self.node_ingress_rules.append(self._node_port(scope, "-retiring", retiring_node_port, "the retiring controller's node port"))

    def _node_port(self, scope: Construct, suffix: str, port: int, what: str) -> VpcSecurityGroupIngressRule:
        VpcSecurityGroupEgressRule(
            scope,
            f"alb-out-nodes{suffix}",
            security_group_id=self.alb.id,
            description=f"To {what} on the nodes",
            referenced_security_group_id=self.nodes.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
        )
        return VpcSecurityGroupIngressRule(
            scope,
            f"nodes-in-from-alb{suffix}",
            security_group_id=self.nodes.id,
            description=f"From the ALB to {what}",
            referenced_security_group_id=self.alb.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
        )
