"""The two security groups of the edge path: internet -> ALB (80/443) -> nodes (node port only)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from platform_constructs.checkov import skip_check


class EdgeSecurityGroups:
    """Adds the ALB's group (80 and 443 from anywhere, out only to the node port) and the nodes'
    group (in only from the ALB's group, only on the node port) to ``scope``."""

    def __init__(self, scope: Construct, *, name_prefix: str, vpc_id: str, node_port: int) -> None:
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
            description="On every node: admits the ALB, on the ingress-nginx node port only",
            vpc_id=vpc_id,
            tags={"Name": f"{name_prefix}-node-ingress"},
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
        VpcSecurityGroupEgressRule(
            scope,
            "alb-out-nodes",
            security_group_id=self.alb.id,
            description="To ingress-nginx's node port on the nodes",
            referenced_security_group_id=self.nodes.id,
            ip_protocol="tcp",
            from_port=node_port,
            to_port=node_port,
        )
        self.node_ingress_rule = VpcSecurityGroupIngressRule(
            scope,
            "nodes-in-from-alb",
            security_group_id=self.nodes.id,
            description="From the ALB to ingress-nginx's node port",
            referenced_security_group_id=self.alb.id,
            ip_protocol="tcp",
            from_port=node_port,
            to_port=node_port,
        )
