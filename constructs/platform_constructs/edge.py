"""The edge: ACM certificate, internet-facing ALB, and the path to ingress-nginx on the nodes.

Traffic path (tests/test_edge.py follows it hop by hop):

    internet ─443─▶ ALB (TLS, ACM cert) ─HTTP:node port─▶ instance target group
             ─80──▶ ALB: redirect to 443                   (every node group's ASG)
                                                              │
    node security group: only the ALB's security group, only the node port ◀┘
    ingress-nginx: Service type NodePort, http nodePort = contract.INGRESS_NODE_PORT

The target group is attached to the node groups' Auto Scaling groups, so nodes register
themselves as they come and go: no controller and no manual step. See
docs/decisions/0009-alb-to-ingress-nginx.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.autoscaling_attachment import AutoscalingAttachment
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from environments.errors import ConfigError
from platform_constructs.checkov import skip_check


@dataclass(frozen=True, kw_only=True)
class EdgeProps:
    """Props of :class:`Edge`."""

    name_prefix: str
    """Prefix of resource names (``plato-dev``)."""
    domain: str
    """The environment's domain; the certificate covers it and ``*.<domain>``."""
    hosted_zone_id: str
    """Zone of the validation and alias records."""
    vpc_id: str
    """VPC of the ALB and the nodes."""
    public_subnet_ids: Sequence[str]
    """Subnets of the internet-facing ALB."""
    ingress_node_port: int
    """NodePort of ingress-nginx's HTTP port on every node."""
    access_log_bucket: str
    """Bucket for ALB access logs (prefix ``alb/``)."""
    deletion_protection: bool = True
    """Refuse to delete the ALB. Default: on."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener. Default: TLS 1.3 and 1.2."""
    waf_web_acl_arn: str = ""
    """WAFv2 web ACL to associate. Default: none."""

    def __post_init__(self) -> None:
        if not 30000 <= self.ingress_node_port <= 32767:
            raise ConfigError("edge.ingress_node_port", f"{self.ingress_node_port} is outside the Kubernetes NodePort range 30000-32767")
        if len(self.public_subnet_ids) < 2:
            raise ConfigError("edge.public_subnets", "an ALB needs subnets in at least two AZs")


class Edge(Construct):
    """Certificate, ALB, listeners, target group and the two security groups of the path."""

    def __init__(self, scope: Construct, id: str, *, props: EdgeProps) -> None:
        super().__init__(scope, id)
        p = props
        self.props = p

        # --- certificate: apex and wildcard, DNS-validated, replaced before destroyed ---------
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=p.domain,
            subject_alternative_names=[f"*.{p.domain}"],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        skip_check(
            self.certificate,
            "CKV2_AWS_71",
            "the wildcard is required: every application host under the environment's domain is served by this one ALB",
        )
        # Iterate the set itself, keyed by domain: `tolist()` of a set that still holds unknown
        # values (a new certificate) is wholly unknown at plan time, and for_each refuses it.
        options = TerraformIterator.from_map(
            Token.as_any_map(f"${{{{ for dvo in {self.certificate.fqn}.domain_validation_options : dvo.domain_name => dvo }}}}")
        )
        validation_records = Route53Record(
            self,
            "certificate-validation-record",
            for_each=options,
            zone_id=p.hosted_zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
            allow_overwrite=True,  # apex and wildcard share one validation record
        )
        self.validation = AcmCertificateValidation(
            self,
            "certificate-validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(f"${{[for record in {validation_records.fqn} : record.fqdn]}}"),
        )

        # --- security groups: internet -> ALB (80/443) -> nodes (node port only) --------------
        self.alb_sg = SecurityGroup(
            self,
            "alb-sg",
            name=f"{p.name_prefix}-alb",
            description="Internet-facing ALB: HTTPS and the HTTP redirect in, the ingress node port out",
            vpc_id=p.vpc_id,
            tags={"Name": f"{p.name_prefix}-alb"},
        )
        self.node_sg = SecurityGroup(
            self,
            "node-ingress-sg",
            name=f"{p.name_prefix}-node-ingress",
            description="On every node: admits the ALB, on the ingress-nginx node port only",
            vpc_id=p.vpc_id,
            tags={"Name": f"{p.name_prefix}-node-ingress"},
        )
        VpcSecurityGroupIngressRule(
            self,
            "alb-in-https",
            security_group_id=self.alb_sg.id,
            description="HTTPS from the internet",
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
        )
        http_in = VpcSecurityGroupIngressRule(
            self,
            "alb-in-http",
            security_group_id=self.alb_sg.id,
            description="HTTP from the internet, answered only with a redirect to HTTPS",
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=80,
            to_port=80,
        )
        skip_check(http_in, "CKV_AWS_260", "port 80 only answers with a permanent redirect to HTTPS (listener http-redirect)")
        VpcSecurityGroupEgressRule(
            self,
            "alb-out-nodes",
            security_group_id=self.alb_sg.id,
            description="To ingress-nginx's node port on the nodes",
            referenced_security_group_id=self.node_sg.id,
            ip_protocol="tcp",
            from_port=p.ingress_node_port,
            to_port=p.ingress_node_port,
        )
        self.node_ingress_rule = VpcSecurityGroupIngressRule(
            self,
            "nodes-in-from-alb",
            security_group_id=self.node_sg.id,
            description="From the ALB to ingress-nginx's node port",
            referenced_security_group_id=self.alb_sg.id,
            ip_protocol="tcp",
            from_port=p.ingress_node_port,
            to_port=p.ingress_node_port,
        )

        # --- the load balancer ----------------------------------------------------------------
        self.alb = Lb(
            self,
            "alb",
            name=f"{p.name_prefix}-edge",
            load_balancer_type="application",
            internal=False,
            subnets=list(p.public_subnet_ids),
            security_groups=[self.alb_sg.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=p.deletion_protection,
            access_logs=LbAccessLogs(bucket=p.access_log_bucket, prefix="alb", enabled=True),
            tags={"Name": f"{p.name_prefix}-edge"},
        )
        if not p.deletion_protection:
            skip_check(self.alb, "CKV_AWS_150", "a disposable development-tier environment (edge.alb_deletion_protection = False)")
        if p.waf_web_acl_arn:
            Wafv2WebAclAssociation(self, "waf", resource_arn=self.alb.arn, web_acl_arn=p.waf_web_acl_arn)
        else:
            reason = "no WAF web ACL is configured for this environment (edge.waf_web_acl_arn); set one to associate it"
            skip_check(self.alb, "CKV2_AWS_28", reason)
            skip_check(self.alb, "CKV2_AWS_76", reason)

        self.target_group = LbTargetGroup(
            self,
            "ingress-nginx",
            name=f"{p.name_prefix}-ingress",
            port=p.ingress_node_port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=p.vpc_id,
            deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol="HTTP",
                port="traffic-port",
                path="/healthz",
                matcher="200",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags={"Name": f"{p.name_prefix}-ingress"},
        )
        skip_check(
            self.target_group,
            "CKV_AWS_378",
            "TLS terminates at the ALB; the hop to ingress-nginx stays inside the VPC, admitted only from the ALB's security group",
        )
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=p.ssl_policy,
            certificate_arn=self.validation.certificate_arn,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)],
        )
        self.http_listener = LbListener(
            self,
            "http-redirect",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect", redirect=LbListenerDefaultActionRedirect(protocol="HTTPS", port="443", status_code="HTTP_301")
                )
            ],
        )
        for name in (p.domain, f"*.{p.domain}"):
            Route53Record(
                self,
                "alias-wildcard" if name.startswith("*") else "alias-apex",
                zone_id=p.hosted_zone_id,
                name=name,
                type="A",
                alias=Route53RecordAlias(name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True),
            )

    def attach_to(self, autoscaling_group_names: Sequence[str]) -> None:
        """Register every node of these Auto Scaling groups in the ingress target group."""
        for i, name in enumerate(autoscaling_group_names):
            attachment = AutoscalingAttachment(
                self, f"node-group-{i}", autoscaling_group_name=name, lb_target_group_arn=self.target_group.arn
            )
            skip_check(
                attachment,
                "CKV2_AWS_15",
                "the Auto Scaling group belongs to an EKS managed node group, which owns its health checks; the target group's own check gates traffic",
            )

    @property
    def node_security_group_id(self) -> str:
        return str(self.node_sg.id)
