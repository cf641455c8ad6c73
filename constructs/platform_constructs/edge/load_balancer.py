"""The internet-facing ALB: TLS 1.3 with the ACM certificate, HTTP -> HTTPS, the Gateway's target group.

During an ingress controller migration (docs/runbooks/edge-migration.md) a second, retiring
target group stays attached, and the HTTPS listener splits the requests between the two by
weight, so the cut-over is a change of weights, not a change of targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionForward,
    LbListenerDefaultActionForwardTargetGroup,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from platform_constructs.checkov import skip_check


@dataclass(frozen=True, kw_only=True)
class RetiringTarget:
    """A target group kept while traffic moves to the Gateway's (the configuration's
    ``edge.retiring_target_group``)."""

    name: str
    """Name of the existing target group."""
    node_port: int
    """Port of its instance targets (the retiring controller's NodePort)."""
    weight: int
    """Percent of the HTTPS requests still sent to it (0-100; the configuration checks it)."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:
    """Props of :class:`LoadBalancer`."""

    alb_name: str
    """Name of the ALB (1-32 letters, digits, hyphens; the configuration checks it)."""
    target_group_name: str
    """Name of the target group (same rules as ``alb_name``)."""
    vpc_id: str
    """VPC of the target group."""
    public_subnet_ids: Sequence[str]
    """Subnets of the ALB, one per AZ."""
    security_group_id: str
    """The ALB's security group."""
    certificate_arn: str
    """The validated certificate of the HTTPS listener."""
    node_port: int
    """Port of the instance targets (the Gateway proxies' NodePort)."""
    health_check_path: str
    """Path the target groups probe on the node port (the platform contract's)."""
    access_log_bucket: str
    """Bucket for access logs (prefix ``alb/``)."""
    deletion_protection: bool = True
    """Refuse to delete the ALB. Default: on."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener. Default: TLS 1.3 and 1.2."""
    waf_web_acl_arn: str = ""
    """WAFv2 web ACL to associate. Default: none."""
    retiring: RetiringTarget | None = None
    """A target group to keep, and its share of the requests, during a controller migration.
    Default: none."""

    def __post_init__(self) -> None:
        if len(self.public_subnet_ids) < 2:
            raise ValueError("an ALB needs subnets in at least two AZs")


class LoadBalancer:
    """Adds the ALB, its optional WAF association, the target group and both listeners to ``scope``."""

    def __init__(self, scope: Construct, *, props: LoadBalancerProps) -> None:
        self.props = p = props
        self.alb = Lb(
            scope,
            "alb",
            name=p.alb_name,
            load_balancer_type="application",
            internal=False,
            subnets=list(p.public_subnet_ids),
            security_groups=[p.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=p.deletion_protection,
            access_logs=LbAccessLogs(bucket=p.access_log_bucket, prefix="alb", enabled=True),
            tags={"Name": p.alb_name},
        )
        if not p.deletion_protection:
            skip_check(self.alb, "CKV_AWS_150", "a disposable development-tier environment (edge.alb_deletion_protection = False)")
        self.waf: Wafv2WebAclAssociation | None = None
        if p.waf_web_acl_arn:
            self.waf = Wafv2WebAclAssociation(scope, "waf", resource_arn=self.alb.arn, web_acl_arn=p.waf_web_acl_arn)
        else:
            reason = "no WAF web ACL is configured for this environment (edge.waf_web_acl_arn); set one to associate it"
            skip_check(self.alb, "CKV2_AWS_28", reason)
            skip_check(self.alb, "CKV2_AWS_76", reason)
        self.target_group = self._target_group(scope, "gateway", name=p.target_group_name, port=p.node_port)
        self.retiring_target_group: LbTargetGroup | None = None
        if p.retiring is not None:
            self.retiring_target_group = self._target_group(scope, "retiring", name=p.retiring.name, port=p.retiring.node_port)
        self._listeners(scope)

    def _target_group(self, scope: Construct, id: str, *, name: str, port: int) -> LbTargetGroup:
        p = self.props
        target_group = LbTargetGroup(
            scope,
            id,
            name=name,
            port=port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=p.vpc_id,
            deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol="HTTP",
                port="traffic-port",
                path=p.health_check_path,
                matcher="200",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags={"Name": name},
        )
        skip_check(
            target_group,
            "CKV_AWS_378",
            "TLS terminates at the ALB; the hop to the in-cluster proxies stays inside the VPC, admitted only from the ALB's security group",
        )
        return target_group

    def _forward(self) -> LbListenerDefaultAction:
        retiring, target = self.props.retiring, self.retiring_target_group
        if retiring is None or target is None:
            return LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
        return LbListenerDefaultAction(
            type="forward",
            forward=LbListenerDefaultActionForward(
                target_group=[
                    LbListenerDefaultActionForwardTargetGroup(arn=self.target_group.arn, weight=100 - retiring.weight),
                    LbListenerDefaultActionForwardTargetGroup(arn=target.arn, weight=retiring.weight),
                ]
            ),
        )

    def _listeners(self, scope: Construct) -> None:
        p = self.props
        self.https_listener = LbListener(
            scope,
            "https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=p.ssl_policy,
            certificate_arn=p.certificate_arn,
            default_action=[self._forward()],
        )
        self.http_listener = LbListener(
            scope,
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
