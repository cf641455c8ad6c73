"""Network (platform_constructs/network): the VPC, its subnets and routes, flow logs."""

from __future__ import annotations

import pytest
from scope import DEPLOYMENT, synth

from platform_constructs.network.vpc import Network, NetworkProps


def props(**changes: object) -> NetworkProps:
    fields: dict[str, object] = {
        "vpc_cidr": "10.50.0.0/16",
        "availability_zones": ("eu-west-1a", "eu-west-1b"),
        "private_subnet_cidrs": ("10.50.0.0/18", "10.50.64.0/18"),
        "public_subnet_cidrs": ("10.50.128.0/20", "10.50.144.0/20"),
        "nat_gateway_count": 1,
        "cluster_name": "plato-unit",
        "log_kms_key_arn": "arn:aws:kms:eu-west-1:444455556666:key/unit",
    }
    fields.update(changes)
    return NetworkProps(**fields)  # type: ignore[arg-type]


def test_one_shared_nat_gateway_serves_every_private_subnet() -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props()))
    assert list(out.resources("aws_nat_gateway")) == ["network_nat-0"]
    routes = out.resources("aws_route")
    assert {routes[f"network_private-default-{i}"]["nat_gateway_id"] for i in range(2)} == {"${aws_nat_gateway.network_nat-0.id}"}


def test_a_nat_gateway_per_az_routes_each_private_subnet_to_its_own_zone() -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props(nat_gateway_count=2)))
    routes = out.resources("aws_route")
    assert [routes[f"network_private-default-{i}"]["nat_gateway_id"] for i in range(2)] == [
        "${aws_nat_gateway.network_nat-0.id}",
        "${aws_nat_gateway.network_nat-1.id}",
    ]


def test_subnets_never_map_public_ips_and_carry_discovery_and_extra_tags() -> None:
    out = synth(
        lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props(extra_subnet_tags={"karpenter.sh/discovery": "plato-unit"}))
    )
    for name, subnet in out.resources("aws_subnet").items():
        assert subnet["map_public_ip_on_launch"] is False, name
        assert subnet["tags"]["kubernetes.io/cluster/plato-unit"] == "shared"
        assert subnet["tags"]["karpenter.sh/discovery"] == "plato-unit"
    assert out.resource("aws_subnet", "network_public-0")["tags"]["kubernetes.io/role/elb"] == "1"
    assert out.resource("aws_subnet", "network_private-1")["tags"]["kubernetes.io/role/internal-elb"] == "1"


def test_the_default_security_group_is_emptied() -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props()))
    sg = out.resource("aws_default_security_group", "network_default-sg")
    assert sg["ingress"] == [] and sg["egress"] == []


@pytest.mark.parametrize(("days", "skipped"), [(30, True), (365, False)])
def test_flow_logs_keep_the_configured_retention_and_excuse_short_ones(days: int, skipped: bool) -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props(flow_log_retention_days=days)))
    group = out.resource("aws_cloudwatch_log_group", "network_flow-log-group")
    assert group["retention_in_days"] == days
    assert group["kms_key_id"] == "arn:aws:kms:eu-west-1:444455556666:key/unit"
    assert ("CKV_AWS_338" in out.skips("aws_cloudwatch_log_group", "network_flow-log-group")) is skipped
    assert out.resource("aws_flow_log", "network_flow-log")["traffic_type"] == "ALL"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"availability_zones": ("eu-west-1a",), "private_subnet_cidrs": ("10.50.0.0/18",), "public_subnet_cidrs": ("10.50.128.0/20",)},
            "at least 2 AZs",
        ),
        ({"private_subnet_cidrs": ("10.50.0.0/18", "10.60.0.0/18")}, "is not inside the VPC"),
        ({"public_subnet_cidrs": ("10.50.0.0/20", "10.50.144.0/20")}, "overlaps another subnet"),
        ({"nat_gateway_count": 3}, "use 1 (shared) or 2 (one per AZ)"),
    ],
)
def test_props_refuse_subnets_and_nat_gateways_that_cannot_work(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        props(**changes)


def test_only_the_private_subnets_carry_the_karpenter_discovery_tag() -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props()))
    tagged = {name for name, subnet in out.resources("aws_subnet").items() if subnet["tags"].get("karpenter.sh/discovery") == "plato-unit"}
    assert tagged == {"network_private-0", "network_private-1"}


def test_s3_always_has_a_gateway_endpoint_on_the_private_route_tables_and_nothing_else_by_default() -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props(nat_gateway_count=2)))
    (s3,) = out.resources("aws_vpc_endpoint").values()
    assert s3["service_name"] == "com.amazonaws.eu-west-1.s3"
    assert s3["vpc_endpoint_type"] == "Gateway"
    assert s3["route_table_ids"] == ["${aws_route_table.network_private-rt-0.id}", "${aws_route_table.network_private-rt-1.id}"]
    assert "network_endpoints_sg" not in out.resources("aws_security_group")


def test_interface_endpoints_use_private_dns_in_the_private_subnets_behind_a_group_that_admits_only_the_vpc() -> None:
    out = synth(lambda s: Network(s, "network", deployment=DEPLOYMENT, props=props(interface_endpoints=("ecr.api", "ecr.dkr", "sts"))))
    interfaces = {e["service_name"]: e for e in out.resources("aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"}
    assert sorted(interfaces) == ["com.amazonaws.eu-west-1.ecr.api", "com.amazonaws.eu-west-1.ecr.dkr", "com.amazonaws.eu-west-1.sts"]
    for endpoint in interfaces.values():
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["subnet_ids"] == ["${aws_subnet.network_private-0.id}", "${aws_subnet.network_private-1.id}"]
        assert endpoint["security_group_ids"] == ["${aws_security_group.network_endpoints_sg.id}"]
    rules = [
        *out.resources("aws_vpc_security_group_ingress_rule").values(),
        *out.resources("aws_vpc_security_group_egress_rule").values(),
    ]
    mine = [r for r in rules if r["security_group_id"] == "${aws_security_group.network_endpoints_sg.id}"]
    assert len(mine) == 2
    assert all((r["cidr_ipv4"], r["ip_protocol"], r["from_port"], r["to_port"]) == ("10.50.0.0/16", "tcp", 443, 443) for r in mine)
