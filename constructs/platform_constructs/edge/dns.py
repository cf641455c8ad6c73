"""The environment's Route53 hosted zone: created here and delegated, or looked up."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from platform_constructs.checkov import skip_check
from platform_constructs.context import Deployment


@dataclass(frozen=True, kw_only=True)
class HostedZoneProps:
    """Props of :class:`HostedZone`."""

    zone_name: str
    """DNS name of the zone (``dev.plato.example.com``)."""
    create: bool = True
    """Create a public zone (whose NS records the parent zone must delegate to), or look up an
    existing public zone of that name. Default: create."""


class HostedZone(Construct):
    """A public hosted zone, created or looked up; exposes ``zone_id``, ``zone_arn``, ``name_servers``."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: HostedZoneProps) -> None:
        super().__init__(scope, id)
        self.props = props
        if props.create:
            zone = Route53Zone(
                self,
                "zone",
                name=props.zone_name,
                comment=f"{props.zone_name}: managed by cdktf; delegate from the parent zone",
                lifecycle=TerraformResourceLifecycle(prevent_destroy=deployment.prevent_destroy),
            )
            skip_check(
                zone,
                "CKV2_AWS_38",
                "DNSSEC signing needs an asymmetric KMS key in us-east-1 and a DS record in the parent zone; planned with the delegation",
            )
            skip_check(
                zone,
                "CKV2_AWS_39",
                "query logging must write to a log group in us-east-1; records here are public and changed only by external-dns",
            )
            self.zone_id: str = str(zone.zone_id)
            self.zone_arn: str = str(zone.arn)
            self.name_servers: list[str] = zone.name_servers
        else:
            found = DataAwsRoute53Zone(self, "zone", name=props.zone_name, private_zone=False)
            self.zone_id = str(found.zone_id)
            self.zone_arn = str(found.arn)
            self.name_servers = found.name_servers
