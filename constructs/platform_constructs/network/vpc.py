"""The VPC of an environment: subnets, gateways, routes, flow logs, a locked default SG."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from platform_constructs.cluster.karpenter import DISCOVERY_TAG
from platform_constructs.context import Deployment
from platform_constructs.network.endpoints import Endpoints, EndpointsProps
from platform_constructs.network.flow_logs import FlowLogs


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """Props of :class:`Network`. Subnet CIDRs are given, not computed here, so they read in review."""

    vpc_cidr: str
    """IPv4 block of the VPC."""
    availability_zones: tuple[str, ...]
    """The AZs, in subnet order; literal names keep the plan deterministic and reviewable."""
    private_subnet_cidrs: tuple[str, ...]
    """One private subnet per AZ (nodes, pods); no public IPs are ever assigned there."""
    public_subnet_cidrs: tuple[str, ...]
    """One public subnet per AZ (the ALB, NAT gateways)."""
    nat_gateway_count: int
    """1 (one shared NAT gateway) or one per AZ."""
    cluster_name: str
    """EKS cluster whose discovery tags the subnets carry."""
    flow_log_retention_days: int = 365
    """Retention of the flow-log group. Default: one year."""
    log_kms_key_arn: str
    """KMS key that encrypts the flow-log group."""
    extra_subnet_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags added to every subnet. Default: none beyond the discovery tags."""
    interface_endpoints: Sequence[str] = ()
    """Services with an interface endpoint in the private subnets (``ecr.api``, ...); S3 always
    has a gateway endpoint. Default: none."""

    def __post_init__(self) -> None:
        azs = len(self.availability_zones)
        if azs < 2 or len(self.private_subnet_cidrs) != azs or len(self.public_subnet_cidrs) != azs:
            raise ValueError("a Network needs one private and one public subnet in each of at least 2 AZs")
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        subnets = [ipaddress.IPv4Network(c) for c in (*self.private_subnet_cidrs, *self.public_subnet_cidrs)]
        for i, a in enumerate(subnets):
            if not a.subnet_of(vpc):
                raise ValueError(f"subnet {a} is not inside the VPC {vpc}")
            if any(a.overlaps(b) for b in subnets[i + 1 :]):
                raise ValueError(f"subnet {a} overlaps another subnet")
        if self.nat_gateway_count not in (1, azs):
            raise ValueError(f"{self.nat_gateway_count} NAT gateways: use 1 (shared) or {azs} (one per AZ)")


class Network(Construct):
    """A VPC across N AZs with public and private subnets.

    - private subnets route to a NAT gateway (their AZ's, or the single shared one) and
      never map public IPs; they carry ``kubernetes.io/role/internal-elb``;
    - public subnets route to the internet gateway and carry ``kubernetes.io/role/elb``;
      they do not map public IPs on launch either (only the ALB and NAT live there);
    - every flow (accepted and rejected) is logged to a KMS-encrypted log group;
    - the default security group is adopted and emptied (no ingress, no egress), so
      nothing can use it by accident.
    """

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: NetworkProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self._prefix = prefix = deployment.name_prefix
        self.vpc = Vpc(self, "vpc", cidr_block=p.vpc_cidr, enable_dns_support=True, enable_dns_hostnames=True, tags={"Name": prefix})
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, ingress=[], egress=[], tags={"Name": f"{prefix}-default-locked"})
        self.internet_gateway = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": prefix})
        self.public_subnets = [self._subnet("public", i, cidr, "kubernetes.io/role/elb") for i, cidr in enumerate(p.public_subnet_cidrs)]
        self.private_subnets = [
            self._subnet("private", i, cidr, "kubernetes.io/role/internal-elb", {DISCOVERY_TAG: p.cluster_name})
            for i, cidr in enumerate(p.private_subnet_cidrs)
        ]
        self._public_routes()
        self.nat_gateways = [self._nat_gateway(i) for i in range(p.nat_gateway_count)]
        self._private_routes()
        self.endpoints = Endpoints(
            self,
            "endpoints",
            deployment=deployment,
            props=EndpointsProps(
                vpc_id=self.vpc.id,
                vpc_cidr=p.vpc_cidr,
                route_table_ids=[t.id for t in self.private_route_tables],
                subnet_ids=self.private_subnet_ids,
                interface_services=p.interface_endpoints,
            ),
        )
        self.flow_logs = FlowLogs(
            self, deployment=deployment, vpc_id=self.vpc.id, retention_days=p.flow_log_retention_days, kms_key_arn=p.log_kms_key_arn
        )

    def _subnet(self, tier: str, index: int, cidr: str, role_tag: str, extra: Mapping[str, str] | None = None) -> Subnet:
        p = self.props
        return Subnet(
            self,
            f"{tier}-{index}",
            vpc_id=self.vpc.id,
            cidr_block=cidr,
            availability_zone=p.availability_zones[index],
            map_public_ip_on_launch=False,
            tags={
                **p.extra_subnet_tags,
                f"kubernetes.io/cluster/{p.cluster_name}": "shared",
                "Name": f"{self._prefix}-{tier}-{index}",
                "tier": tier,
                role_tag: "1",
                **(extra or {}),
            },
        )

    def _public_routes(self) -> None:
        table = RouteTable(self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{self._prefix}-public"})
        Route(self, "public-default", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", gateway_id=self.internet_gateway.id)
        for i, subnet in enumerate(self.public_subnets):
            RouteTableAssociation(self, f"public-rta-{i}", subnet_id=subnet.id, route_table_id=table.id)

    def _nat_gateway(self, index: int) -> NatGateway:
        name = {"Name": f"{self._prefix}-nat-{index}"}
        eip = Eip(self, f"nat-eip-{index}", domain="vpc", tags=name, depends_on=[self.internet_gateway])
        return NatGateway(
            self,
            f"nat-{index}",
            allocation_id=eip.allocation_id,
            subnet_id=self.public_subnets[index].id,
            tags=name,
            depends_on=[self.internet_gateway],
        )

    def _private_routes(self) -> None:
        self.private_route_tables: list[RouteTable] = []
        for i, subnet in enumerate(self.private_subnets):
            table = RouteTable(self, f"private-rt-{i}", vpc_id=self.vpc.id, tags={"Name": f"{self._prefix}-private-{i}"})
            nat = self.nat_gateways[i % len(self.nat_gateways)]
            Route(self, f"private-default-{i}", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-rta-{i}", subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)

    @property
    def vpc_id(self) -> str:
        return str(self.vpc.id)

    @property
    def private_subnet_ids(self) -> list[str]:
        return [s.id for s in self.private_subnets]

    @property
    def public_subnet_ids(self) -> list[str]:
        return [s.id for s in self.public_subnets]
