"""The edge: certificate, ALB, listeners, and the path from the internet to the Gateway's proxies on the nodes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth

from platform_constructs import contract


def res(synth: Synth, env: str, rtype: str) -> dict[str, Any]:
    return synth.resources(f"{env}-platform", rtype)


def ref(expr: str) -> tuple[str, str, str]:
    """'${aws_lb.edge_alb.arn}' -> ('aws_lb', 'edge_alb', 'arn')."""
    m = re.fullmatch(r"\$\{([a-z0-9_]+)\.([\w-]+)\.([\w\[\]0-9.]+)\}", expr)
    assert m, f"not a plain reference: {expr}"
    return m.group(1), m.group(2), m.group(3)


def resolve(synth: Synth, env: str, expr: str) -> tuple[str, dict[str, Any]]:
    rtype, name, _ = ref(expr)
    return name, res(synth, env, rtype)[name]


def follow_the_path(synth: Synth, env: str, port: int) -> list[str]:
    """Follow the internet's way in, hop by hop, through references in the synthesized JSON.

    Returns one line per hop; each hop is asserted on the way (a broken reference fails here).
    """
    hops: list[str] = []
    listeners = res(synth, env, "aws_lb_listener")
    (https,) = [listener for listener in listeners.values() if listener["port"] == 443]
    # 1. the HTTPS listener belongs to the internet-facing ALB in the public subnets
    alb_name, alb = resolve(synth, env, https["load_balancer_arn"])
    assert alb["internal"] is False
    assert alb["subnets"] and all("network_public" in s for s in alb["subnets"])
    hops.append(f"internet -> 443 -> aws_lb.{alb_name} ({alb['name']}, internet-facing, {len(alb['subnets'])} public subnets)")
    # 2. it forwards to the Gateway's target group ...
    (action,) = https["default_action"]
    assert action["type"] == "forward"
    tg_name, tg = resolve(synth, env, action["target_group_arn"])
    hops.append(
        f"aws_lb_listener.{next(k for k, v in listeners.items() if v is https)} (HTTPS, {https['ssl_policy']}) -> aws_lb_target_group.{tg_name} ({tg['name']})"
    )
    # 3. ... which targets instances on the proxies' node port and probes the path they answer
    assert (tg["target_type"], tg["port"], tg["protocol"]) == ("instance", port, "HTTP")
    check = tg["health_check"]
    assert (check["port"], check["path"], check["matcher"]) == ("traffic-port", contract.INGRESS_HEALTH_CHECK_PATH, "200")
    hops.append(f"aws_lb_target_group.{tg_name} -> instances:{port} (health check HTTP {check['path']} -> 200)")
    # 4. every node group's ASG is registered in that target group
    attachments = res(synth, env, "aws_autoscaling_attachment").values()
    node_groups = res(synth, env, "aws_eks_node_group")
    assert {a["lb_target_group_arn"] for a in attachments} == {f"${{aws_lb_target_group.{tg_name}.arn}}"}
    assert len(list(attachments)) == len(node_groups) >= 1
    assert all(ref(a["autoscaling_group_name"])[0] == "aws_eks_node_group" for a in attachments)
    hops.append(f"aws_autoscaling_attachment x{len(node_groups)} -> the ASG of every node group ({', '.join(sorted(node_groups))})")
    # 5. the nodes carry the Gateway nodes' security group (launch template) ...
    (lt_name, lt), *others = res(synth, env, "aws_launch_template").items()
    assert not others
    node_sgs = lt["vpc_security_group_ids"]
    assert "${aws_eks_cluster.eks_cluster.vpc_config[0].cluster_security_group_id}" in node_sgs
    # 6. ... whose only rule from outside admits the ALB's security group on exactly that port
    (alb_sg_ref,) = alb["security_groups"]
    ingress = [r for r in res(synth, env, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] in node_sgs]
    assert len(ingress) == 1
    (rule,) = ingress
    assert rule["referenced_security_group_id"] == alb_sg_ref
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (port, port, "tcp")
    hops.append(f"aws_launch_template.{lt_name}: {ref(rule['security_group_id'])[1]} admits only {ref(alb_sg_ref)[1]} on tcp/{port}")
    # 7. and the ALB may send only there
    egress = [r for r in res(synth, env, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == alb_sg_ref]
    assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"]) for r in egress] == [(rule["security_group_id"], port, port)]
    hops.append(
        f"{ref(alb_sg_ref)[1]} sends only to {ref(rule['security_group_id'])[1]} on tcp/{port} -> the Envoy proxies' NodePort (gitops: EnvoyProxy edge)"
    )
    return hops


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_path_alb_443_target_group_node_port_node_rule_lines_up(synth: Synth, environments: Any, env_name: str) -> None:
    port = environments[env_name].edge.ingress_node_port
    hops = follow_the_path(synth, env_name, port)
    print(f"\n{env_name}:\n  " + "\n  ".join(hops))
    assert len(hops) == 6


def test_the_gateway_s_target_group_is_named_for_it_and_the_nodes_group_never_replaces_itself(synth: Synth, environments: Any) -> None:
    for env in ENVIRONMENTS:
        (tg,) = res(synth, env, "aws_lb_target_group").values()
        assert tg["name"] == environments[env].target_group_name == f"plato-{env}-gateway"
        nodes = res(synth, env, "aws_security_group")["edge_node-ingress-sg"]
        # A new description would replace the group every node's launch template names.
        assert nodes["lifecycle"] == {"ignore_changes": ["description"]}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_only_the_alb_is_reachable_from_the_internet_and_only_on_80_and_443(synth: Synth, env_name: str) -> None:
    open_rules = [r for r in res(synth, env_name, "aws_vpc_security_group_ingress_rule").values() if r.get("cidr_ipv4") == "0.0.0.0/0"]
    assert sorted(r["from_port"] for r in open_rules) == [80, 443]
    assert {r["security_group_id"] for r in open_rules} == {"${aws_security_group.edge_alb-sg.id}"}
    for sg in res(synth, env_name, "aws_security_group").values():
        assert "ingress" not in sg and "egress" not in sg, "rules live in their own resources"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_https_uses_the_validated_certificate_and_a_tls13_policy_and_http_redirects(synth: Synth, environments: Any, env_name: str) -> None:
    listeners = {listener["port"]: listener for listener in res(synth, env_name, "aws_lb_listener").values()}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["ssl_policy"] == environments[env_name].edge.ssl_policy
    assert listeners[443]["certificate_arn"] == "${aws_acm_certificate_validation.edge_certificate-validation.certificate_arn}"
    (redirect,) = listeners[80]["default_action"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_certificate_covers_the_domain_and_its_wildcard_validated_by_dns(synth: Synth, environments: Any, env_name: str) -> None:
    (cert,) = res(synth, env_name, "aws_acm_certificate").values()
    domain = environments[env_name].domain
    assert cert["domain_name"] == domain
    assert cert["subject_alternative_names"] == [f"*.{domain}"]
    assert cert["validation_method"] == "DNS"
    assert cert["lifecycle"]["create_before_destroy"] is True
    record = res(synth, env_name, "aws_route53_record")["edge_certificate-validation-record"]
    assert "domain_validation_options" in record["for_each"]
    # tolist() of a set with unknown values is wholly unknown at plan time: for_each would refuse it
    assert "tolist" not in record["for_each"]
    assert record["zone_id"] == "${aws_route53_zone.dns_zone.zone_id}"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_alb_drops_invalid_headers_and_logs_access(synth: Synth, env_name: str) -> None:
    alb = res(synth, env_name, "aws_lb")["edge_alb"]
    assert alb["drop_invalid_header_fields"] is True
    assert alb["access_logs"] == {"bucket": "${aws_s3_bucket.storage_access-logs_bucket.bucket}", "prefix": "alb", "enabled": True}


@pytest.mark.parametrize(("env_name", "protected"), [("dev", False), ("stage", True), ("prod", True)])
def test_the_alb_is_deletion_protected_in_stage_and_prod(synth: Synth, env_name: str, protected: bool) -> None:
    assert res(synth, env_name, "aws_lb")["edge_alb"]["enable_deletion_protection"] is protected


def test_a_waf_web_acl_is_associated_only_when_configured(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        assert res(synth, env, "aws_wafv2_web_acl_association") == {}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_domain_and_its_wildcard_point_at_the_alb(synth: Synth, environments: Any, env_name: str) -> None:
    records = res(synth, env_name, "aws_route53_record")
    domain = environments[env_name].domain
    assert records["edge_alias-apex"]["name"] == domain
    assert records["edge_alias-wildcard"]["name"] == f"*.{domain}"
    assert records["edge_alias-apex"]["alias"]["name"] == "${aws_lb.edge_alb.dns_name}"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_hosted_zone_is_the_environments_domain(synth: Synth, environments: Any, env_name: str) -> None:
    (zone,) = res(synth, env_name, "aws_route53_zone").values()
    assert zone["name"] == environments[env_name].hosted_zone
    assert "hosted_zone_name_servers" in synth.stack(f"{env_name}-platform")["output"]
