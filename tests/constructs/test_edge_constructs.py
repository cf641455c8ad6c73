"""The edge (platform_constructs/edge): zone, certificate, ALB, target group, the path's security groups."""

from __future__ import annotations

from typing import Any

import pytest
from scope import DEPLOYMENT, UNGUARDED, synth

from platform_constructs.edge.dns import HostedZone, HostedZoneProps
from platform_constructs.edge.edge import Edge, EdgeProps
from platform_constructs.edge.load_balancer import LoadBalancerProps, RetiringTarget

WAF = "arn:aws:wafv2:eu-west-1:444455556666:regional/webacl/unit/0123"


def edge(**changes: object) -> EdgeProps:
    fields: dict[str, object] = {
        "domain": "unit.example.com",
        "alb_name": "unit-edge",
        "target_group_name": "unit-ingress",
        "hosted_zone_id": "Z0UNIT",
        "vpc_id": "vpc-unit",
        "public_subnet_ids": ["subnet-a", "subnet-b"],
        "ingress_node_port": 31234,
        "health_check_path": "/unit-health",
        "access_log_bucket": "unit-access-logs",
    }
    fields.update(changes)
    return EdgeProps(**fields)  # type: ignore[arg-type]


def test_a_waf_web_acl_is_associated_when_one_is_configured_and_the_skips_go_away() -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge(waf_web_acl_arn=WAF)))
    association = out.resource("aws_wafv2_web_acl_association", "edge_waf")
    assert association == {**association, "web_acl_arn": WAF, "resource_arn": "${aws_lb.edge_alb.arn}"}
    assert not out.skips("aws_lb", "edge_alb") & {"CKV2_AWS_28", "CKV2_AWS_76"}


def test_without_a_waf_nothing_is_associated_and_the_alb_says_why() -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge()))
    assert out.resources("aws_wafv2_web_acl_association") == {}
    assert {"CKV2_AWS_28", "CKV2_AWS_76"} <= out.skips("aws_lb", "edge_alb")


def test_the_target_group_and_both_security_group_rules_use_the_given_node_port() -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge()))
    tg = out.resource("aws_lb_target_group", "edge_gateway")
    assert (tg["port"], tg["target_type"], tg["health_check"]["port"]) == (31234, "instance", "traffic-port")
    assert tg["health_check"]["path"] == "/unit-health"
    rule = out.resource("aws_vpc_security_group_ingress_rule", "edge_nodes-in-from-alb")
    assert (rule["from_port"], rule["to_port"], rule["referenced_security_group_id"]) == (
        31234,
        31234,
        "${aws_security_group.edge_alb-sg.id}",
    )
    egress = out.resource("aws_vpc_security_group_egress_rule", "edge_alb-out-nodes")
    assert (egress["from_port"], egress["referenced_security_group_id"]) == (31234, "${aws_security_group.edge_node-ingress-sg.id}")


def test_https_uses_the_validated_certificate_and_http_only_redirects() -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge(ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06")))
    https = out.resource("aws_lb_listener", "edge_https")
    assert https["certificate_arn"] == "${aws_acm_certificate_validation.edge_certificate-validation.certificate_arn}"
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"
    (redirect,) = out.resource("aws_lb_listener", "edge_http-redirect")["default_action"]
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
    cert = out.resource("aws_acm_certificate", "edge_certificate")
    assert (cert["domain_name"], cert["subject_alternative_names"]) == ("unit.example.com", ["*.unit.example.com"])


@pytest.mark.parametrize(("protected", "skipped"), [(True, False), (False, True)])
def test_an_unprotected_alb_is_excused_to_checkov_only_when_unprotected(protected: bool, skipped: bool) -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge(deletion_protection=protected)))
    assert out.resource("aws_lb", "edge_alb")["enable_deletion_protection"] is protected
    assert ("CKV_AWS_150" in out.skips("aws_lb", "edge_alb")) is skipped


def test_every_auto_scaling_group_attached_is_registered_in_the_target_group() -> None:
    def build(s: object) -> None:
        Edge(s, "edge", deployment=DEPLOYMENT, props=edge()).attach_to(["asg-one", "asg-two"])  # type: ignore[arg-type]

    attachments = synth(build).resources("aws_autoscaling_attachment")
    assert [a["autoscaling_group_name"] for a in attachments.values()] == ["asg-one", "asg-two"]


def test_the_alb_and_target_group_take_the_names_the_configuration_derived() -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge(alb_name="given-alb", target_group_name="given-tg")))
    assert out.resource("aws_lb", "edge_alb")["name"] == "given-alb"
    (target_group,) = out.resources("aws_lb_target_group").values()
    assert target_group["name"] == "given-tg"


def test_without_a_retiring_target_group_https_forwards_to_the_gateway_only() -> None:
    out = synth(lambda s: Edge(s, "edge", deployment=DEPLOYMENT, props=edge()))
    (action,) = out.resource("aws_lb_listener", "edge_https")["default_action"]
    assert action == {"type": "forward", "target_group_arn": "${aws_lb_target_group.edge_gateway.arn}"}
    assert list(out.resources("aws_lb_target_group")) == ["edge_gateway"]


def test_a_retiring_target_group_stays_attached_and_receives_its_share_of_the_requests() -> None:
    retiring = RetiringTarget(name="unit-ingress", node_port=30080, weight=25)

    def build(s: Any) -> None:
        Edge(s, "edge", deployment=DEPLOYMENT, props=edge(retiring=retiring)).attach_to(["asg-one", "asg-two"])

    out = synth(build)
    old = out.resource("aws_lb_target_group", "edge_retiring")
    assert (old["name"], old["port"], old["health_check"]["path"]) == ("unit-ingress", 30080, "/unit-health")
    (action,) = out.resource("aws_lb_listener", "edge_https")["default_action"]
    assert action["forward"]["target_group"] == [
        {"arn": "${aws_lb_target_group.edge_gateway.arn}", "weight": 75},
        {"arn": "${aws_lb_target_group.edge_retiring.arn}", "weight": 25},
    ]
    attached = sorted((a["autoscaling_group_name"], a["lb_target_group_arn"]) for a in out.resources("aws_autoscaling_attachment").values())
    assert attached == sorted(
        (asg, f"${{aws_lb_target_group.{tg}.arn}}") for asg in ("asg-one", "asg-two") for tg in ("edge_gateway", "edge_retiring")
    )
    ports = {
        (r["from_port"], r["to_port"])
        for r in out.resources("aws_vpc_security_group_ingress_rule").values()
        if "node-ingress" in r["security_group_id"]
    }
    assert ports == {(31234, 31234), (30080, 30080)}, "both controllers stay reachable until the old one is gone"
    egress = {r["from_port"] for r in out.resources("aws_vpc_security_group_egress_rule").values()}
    assert egress == {31234, 30080}


def test_an_alb_in_one_subnet_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two AZs"):
        LoadBalancerProps(
            alb_name="u",
            target_group_name="u",
            health_check_path="/healthz",
            vpc_id="v",
            public_subnet_ids=["a"],
            security_group_id="sg",
            certificate_arn="c",
            node_port=30080,
            access_log_bucket="b",
        )


def test_an_existing_zone_is_looked_up_instead_of_created() -> None:
    out = synth(lambda s: HostedZone(s, "dns", deployment=DEPLOYMENT, props=HostedZoneProps(zone_name="example.com", create=False)))
    assert out.resources("aws_route53_zone") == {}
    assert out.data("aws_route53_zone")["dns_zone"] == {
        **out.data("aws_route53_zone")["dns_zone"],
        "name": "example.com",
        "private_zone": False,
    }


@pytest.mark.parametrize("deployment", [DEPLOYMENT, UNGUARDED])
def test_a_created_zone_is_guarded_as_the_deployment_says(deployment: object) -> None:
    out = synth(lambda s: HostedZone(s, "dns", deployment=deployment, props=HostedZoneProps(zone_name="unit.example.com")))  # type: ignore[arg-type]
    zone = out.resource("aws_route53_zone", "dns_zone")
    assert zone["lifecycle"]["prevent_destroy"] is deployment.prevent_destroy  # type: ignore[attr-defined]
