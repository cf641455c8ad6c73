"""The Network construct, as synthesized for each environment."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth


def platform(synth: Synth, env: str, rtype: str) -> dict[str, Any]:
    return synth.resources(f"{env}-platform", rtype)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_vpc_uses_the_configured_cidr_with_dns_on(synth: Synth, environments: Any, env_name: str) -> None:
    (vpc,) = platform(synth, env_name, "aws_vpc").values()
    assert vpc["cidr_block"] == environments[env_name].network.vpc_cidr
    assert vpc["enable_dns_hostnames"] is True
    assert vpc["enable_dns_support"] is True


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_public_and_private_subnets_span_every_configured_az_with_discovery_tags(synth: Synth, environments: Any, env_name: str) -> None:
    env = environments[env_name]
    subnets = platform(synth, env_name, "aws_subnet").values()
    private = [s for s in subnets if s["tags"]["tier"] == "private"]
    public = [s for s in subnets if s["tags"]["tier"] == "public"]
    zones = list(env.network.zones(env.region))
    assert [s["availability_zone"] for s in private] == zones
    assert [s["availability_zone"] for s in public] == zones
    assert [s["cidr_block"] for s in private] == list(env.network.private_subnet_cidrs)
    cluster_tag = f"kubernetes.io/cluster/{env.cluster_name}"
    for s in private:
        assert s["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert s["tags"][cluster_tag] == "shared"
    for s in public:
        assert s["tags"]["kubernetes.io/role/elb"] == "1"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_no_subnet_assigns_public_ips(synth: Synth, env_name: str) -> None:
    assert all(s["map_public_ip_on_launch"] is False for s in platform(synth, env_name, "aws_subnet").values())


@pytest.mark.parametrize(("env_name", "expected"), [("dev", 1), ("stage", 3), ("prod", 3)])
def test_nat_gateways_follow_the_environments_strategy(synth: Synth, env_name: str, expected: int) -> None:
    assert len(platform(synth, env_name, "aws_nat_gateway")) == expected
    assert len(platform(synth, env_name, "aws_eip")) == expected


def test_with_one_nat_gateway_every_private_route_table_uses_it(synth: Synth) -> None:
    routes = [r for r in platform(synth, "dev", "aws_route").values() if "nat_gateway_id" in r]
    assert len(routes) == 2
    assert {r["nat_gateway_id"] for r in routes} == {"${aws_nat_gateway.network_nat-0.id}"}


def test_with_a_nat_gateway_per_az_each_private_subnet_egresses_in_its_own_az(synth: Synth) -> None:
    routes = platform(synth, "prod", "aws_route")
    for i in range(3):
        assert routes[f"network_private-default-{i}"]["nat_gateway_id"] == f"${{aws_nat_gateway.network_nat-{i}.id}}"
    nats = platform(synth, "prod", "aws_nat_gateway")
    assert [n["subnet_id"] for n in nats.values()] == [f"${{aws_subnet.network_public-{i}.id}}" for i in range(3)]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_public_subnets_route_to_the_internet_gateway_and_private_ones_never_do(synth: Synth, env_name: str) -> None:
    routes = platform(synth, env_name, "aws_route")
    assert routes["network_public-default"]["gateway_id"] == "${aws_internet_gateway.network_igw.id}"
    assert all("gateway_id" not in r for name, r in routes.items() if "private" in name)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_flow_is_logged_to_a_kms_encrypted_log_group(synth: Synth, environments: Any, env_name: str) -> None:
    (flow,) = platform(synth, env_name, "aws_flow_log").values()
    assert flow["traffic_type"] == "ALL"
    assert flow["vpc_id"] == "${aws_vpc.network_vpc.id}"
    assert flow["log_destination"] == "${aws_cloudwatch_log_group.network_flow-log-group.arn}"
    group = platform(synth, env_name, "aws_cloudwatch_log_group")["network_flow-log-group"]
    assert group["kms_key_id"] == "${aws_kms_key.log-key_key.arn}"
    assert group["retention_in_days"] == environments[env_name].network.flow_log_retention_days


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_default_security_group_is_locked_down(synth: Synth, env_name: str) -> None:
    (sg,) = platform(synth, env_name, "aws_default_security_group").values()
    assert sg["ingress"] == []
    assert sg["egress"] == []


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_log_key_rotates(synth: Synth, env_name: str) -> None:
    key = platform(synth, env_name, "aws_kms_key")["log-key_key"]
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30


def test_stateful_resources_are_protected_from_destroy_except_in_disposable_dev(synth: Synth) -> None:
    assert platform(synth, "prod", "aws_kms_key")["log-key_key"]["lifecycle"]["prevent_destroy"] is True
    assert platform(synth, "stage", "aws_kms_key")["log-key_key"]["lifecycle"]["prevent_destroy"] is True
    assert platform(synth, "dev", "aws_kms_key")["log-key_key"]["lifecycle"]["prevent_destroy"] is False


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_each_environment_gets_the_s3_gateway_and_exactly_the_interface_endpoints_its_tier_asks_for(
    synth: Synth, environments: Any, env_name: str
) -> None:
    env = environments[env_name]
    endpoints = platform(synth, env_name, "aws_vpc_endpoint").values()
    prefix = f"com.amazonaws.{env.region}."
    by_type = {
        kind: sorted(e["service_name"].removeprefix(prefix) for e in endpoints if e["vpc_endpoint_type"] == kind)
        for kind in ("Gateway", "Interface")
    }
    assert by_type == {"Gateway": ["s3"], "Interface": sorted(e.value for e in env.network.interface_endpoints)}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_karpenter_finds_only_the_private_subnets(synth: Synth, environments: Any, env_name: str) -> None:
    env = environments[env_name]
    subnets = platform(synth, env_name, "aws_subnet").values()
    tiers = {s["tags"]["tier"] for s in subnets if s["tags"].get("karpenter.sh/discovery") == env.cluster_name}
    assert tiers == {"private"}
