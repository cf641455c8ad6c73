"""VPC endpoints: S3 through a gateway endpoint everywhere, and the interface endpoints the
environment asks for, so the private subnets reach those services without the NAT gateways.

Interface endpoints sit in the private subnets with private DNS on (the services' usual names
resolve to them) behind one security group that admits HTTPS from the VPC only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from platform_constructs.context import Deployment


@dataclass(frozen=True, kw_only=True)
class EndpointsProps:
    """Props of :class:`Endpoints`."""

    vpc_id: str
    """The VPC."""
    vpc_cidr: str
    """The only network the interface endpoints admit."""
    route_table_ids: Sequence[str]
    """Route tables that get the S3 gateway endpoint's route (the private ones)."""
    subnet_ids: Sequence[str]
    """Subnets of the interface endpoints' network interfaces, one per AZ (the private ones)."""
    interface_services: Sequence[str] = ()
    """Services with an interface endpoint (``ecr.api``, ``sts``, ...). Default: none."""


class Endpoints(Construct):
    """The S3 gateway endpoint and one interface endpoint per service."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: EndpointsProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        prefix = f"com.amazonaws.{deployment.region}"
        self.s3 = VpcEndpoint(
            self,
            "s3",
            vpc_id=p.vpc_id,
            service_name=f"{prefix}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=list(p.route_table_ids),
            tags={"Name": f"{deployment.name_prefix}-s3"},
        )
        self.interfaces: dict[str, VpcEndpoint] = {}
        if not p.interface_services:
            return
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=f"{deployment.name_prefix}-vpc-endpoints",
            description="Interface VPC endpoints: HTTPS from the VPC only",
            vpc_id=p.vpc_id,
            tags={"Name": f"{deployment.name_prefix}-vpc-endpoints"},
        )
        # HTTPS in from the VPC; endpoints only answer, so nothing leaves the VPC either.
        for rule, direction, description in (
            (VpcSecurityGroupIngressRule, "in", "HTTPS from inside the VPC"),
            (VpcSecurityGroupEgressRule, "out", "Replies stay in the VPC"),
        ):
            rule(
                self,
                f"sg-{direction}-https",
                security_group_id=self.security_group.id,
                description=description,
                cidr_ipv4=p.vpc_cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
            )
        for service in p.interface_services:
            self.interfaces[service] = VpcEndpoint(
                self,
                service.replace(".", "-"),
                vpc_id=p.vpc_id,
                service_name=f"{prefix}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(p.subnet_ids),
                security_group_ids=[self.security_group.id],
                tags={"Name": f"{deployment.name_prefix}-{service}"},
            )
