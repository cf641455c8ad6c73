"""The edge: ACM certificate, internet-facing ALB, and the path to the Gateway's proxies on the nodes.

Traffic path (tests/test_edge.py follows it hop by hop):

    internet ─443─▶ ALB (TLS, ACM cert) ─HTTP:node port─▶ instance target group
             ─80──▶ ALB: redirect to 443                   (every node group's ASG)
                                                              │
    node security group: only the ALB's security group, only the node port ◀┘

The node port is the configuration's ``edge.ingress_node_port``; the GitOps tree receives it
through the platform contract. The target group is attached to the node groups' Auto
Scaling groups, so nodes register themselves as they come and go: no controller and no
manual step. See docs/decisions/0009 (the ALB in front) and 0023 (Envoy Gateway behind it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.autoscaling_attachment import AutoscalingAttachment
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from platform_constructs.checkov import skip_check
from platform_constructs.context import Deployment
from platform_constructs.edge.certificate import DnsValidatedCertificate
from platform_constructs.edge.load_balancer import LoadBalancer, LoadBalancerProps, RetiringTarget
from platform_constructs.edge.security_groups import EdgeSecurityGroups


@dataclass(frozen=True, kw_only=True)
class EdgeProps:
    """Props of :class:`Edge`."""

    domain: str
    """The environment's domain; the certificate covers it and ``*.<domain>``."""
    alb_name: str
    """Name of the ALB (the configuration derives it and checks AWS's limits)."""
    target_group_name: str
    """Name of the ALB's target group (derived and checked like ``alb_name``)."""
    hosted_zone_id: str
    """Zone of the validation and alias records."""
    vpc_id: str
    """VPC of the ALB and the nodes."""
    public_subnet_ids: Sequence[str]
    """Subnets of the internet-facing ALB."""
    ingress_node_port: int
    """NodePort of the Gateway proxies' HTTP listener on every node."""
    health_check_path: str
    """Path the target groups probe on the node port; the proxies answer it themselves."""
    access_log_bucket: str
    """Bucket for ALB access logs (prefix ``alb/``)."""
    deletion_protection: bool = True
    """Refuse to delete the ALB. Default: on."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener. Default: TLS 1.3 and 1.2."""
    waf_web_acl_arn: str = ""
    """WAFv2 web ACL to associate. Default: none."""
    node_discovery: str = ""
    """The cluster whose Karpenter nodes find the nodes' group by its discovery tag, so they are
    reachable on the node port like the managed nodes. Default: no tag."""
    retiring: RetiringTarget | None = None
    """During a controller migration: the target group kept for the retiring controller and its
    share of the requests (docs/runbooks/edge-migration.md). Default: none."""


class Edge(Construct):
    """Certificate, ALB, listeners, target group, the two security groups of the path and the
    domain's alias records."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: EdgeProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self.certificate = DnsValidatedCertificate(self, domain=p.domain, hosted_zone_id=p.hosted_zone_id)
        self.security_groups = EdgeSecurityGroups(
            self,
            name_prefix=deployment.name_prefix,
            vpc_id=p.vpc_id,
            node_port=p.ingress_node_port,
            retiring_node_port=p.retiring.node_port if p.retiring else None,
            discovery=p.node_discovery,
        )
        self.load_balancer = LoadBalancer(
            self,
            props=LoadBalancerProps(
                alb_name=p.alb_name,
                target_group_name=p.target_group_name,
                vpc_id=p.vpc_id,
                public_subnet_ids=p.public_subnet_ids,
                security_group_id=self.security_groups.alb.id,
                certificate_arn=self.certificate.validated_arn,
                node_port=p.ingress_node_port,
                health_check_path=p.health_check_path,
                access_log_bucket=p.access_log_bucket,
                deletion_protection=p.deletion_protection,
                ssl_policy=p.ssl_policy,
                waf_web_acl_arn=p.waf_web_acl_arn,
                retiring=p.retiring,
            ),
        )
        alb = self.load_balancer.alb
        for name in (p.domain, f"*.{p.domain}"):
            Route53Record(
                self,
                "alias-wildcard" if name.startswith("*") else "alias-apex",
                zone_id=p.hosted_zone_id,
                name=name,
                type="A",
                alias=Route53RecordAlias(name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True),
            )

    def attach_to(self, autoscaling_group_names: Sequence[str]) -> None:
        """Register every node of these Auto Scaling groups in the target groups (the retiring one too)."""
        groups = [("node-group", self.load_balancer.target_group)]
        if self.load_balancer.retiring_target_group is not None:
            groups.append(("retiring-node-group", self.load_balancer.retiring_target_group))
        for prefix, target_group in groups:
            for i, name in enumerate(autoscaling_group_names):
                attachment = AutoscalingAttachment(self, f"{prefix}-{i}", autoscaling_group_name=name, lb_target_group_arn=target_group.arn)
                skip_check(
                    attachment,
                    "CKV2_AWS_15",
                    "the Auto Scaling group belongs to an EKS managed node group, which owns its health checks; the target group's own check gates traffic",
                )

    @property
    def node_security_group_id(self) -> str:
        return str(self.security_groups.nodes.id)

    @property
    def certificate_arn(self) -> str:
        return self.certificate.validated_arn

    @property
    def alb_dns_name(self) -> str:
        return str(self.load_balancer.alb.dns_name)

    @property
    def target_group_arn(self) -> str:
        return str(self.load_balancer.target_group.arn)
