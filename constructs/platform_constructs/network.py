"""The VPC of an environment: subnets, gateways, routes, flow logs, a locked default SG."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from environments.config import CLOUDWATCH_RETENTION_DAYS, parse_cidr
from environments.errors import ConfigError
from platform_constructs.checkov import skip_check


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """Props of :class:`Network`. Subnet CIDRs are given, not computed here, so they read in review."""

    name_prefix: str
    """Prefix of every ``Name`` tag (``plato-dev``)."""
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
    account_id: str
    """Account of the VPC (scopes the flow-log role's trust)."""
    partition: str = "aws"
    """AWS partition. Default: the commercial partition."""
    extra_subnet_tags: dict[str, str] = field(default_factory=dict)
    """Tags added to every subnet. Default: none beyond the discovery tags."""

    def __post_init__(self) -> None:
        vpc = parse_cidr(self.vpc_cidr, "network.vpc_cidr")
        azs = len(self.private_subnet_cidrs)
        if azs < 2 or len(self.public_subnet_cidrs) != azs or len(self.availability_zones) != azs:
            raise ConfigError("network.subnets", "needs one private and one public subnet in each of at least 2 AZs")
        subnets = [parse_cidr(c, "network.subnets") for c in (*self.private_subnet_cidrs, *self.public_subnet_cidrs)]
        for i, a in enumerate(subnets):
            if not a.subnet_of(vpc):
                raise ConfigError("network.subnets", f"{a} is not inside the VPC {vpc}")
            for b in subnets[i + 1 :]:
                if a.overlaps(b):
                    raise ConfigError("network.subnets", f"{a} overlaps {b}")
        if self.nat_gateway_count not in (1, azs):
            raise ConfigError("network.nat", f"{self.nat_gateway_count} NAT gateways: use 1 (shared) or {azs} (one per AZ)")
        if self.flow_log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
            raise ConfigError("network.flow_log_retention_days", "is not a CloudWatch Logs retention period")


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

    def __init__(self, scope: Construct, id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, id)
        p = props
        self.props = p
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=p.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": p.name_prefix},
        )
        DefaultSecurityGroup(
            self, "default-sg", vpc_id=self.vpc.id, ingress=[], egress=[], tags={"Name": f"{p.name_prefix}-default-locked"}
        )
        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": p.name_prefix})

        cluster_tag = {f"kubernetes.io/cluster/{p.cluster_name}": "shared"}
        self.public_subnets: list[Subnet] = []
        self.private_subnets: list[Subnet] = []
        for i, cidr in enumerate(p.public_subnet_cidrs):
            self.public_subnets.append(
                Subnet(
                    self,
                    f"public-{i}",
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=p.availability_zones[i],
                    map_public_ip_on_launch=False,
                    tags={
                        **p.extra_subnet_tags,
                        **cluster_tag,
                        "Name": f"{p.name_prefix}-public-{i}",
                        "tier": "public",
                        "kubernetes.io/role/elb": "1",
                    },
                )
            )
        for i, cidr in enumerate(p.private_subnet_cidrs):
            self.private_subnets.append(
                Subnet(
                    self,
                    f"private-{i}",
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=p.availability_zones[i],
                    map_public_ip_on_launch=False,
                    tags={
                        **p.extra_subnet_tags,
                        **cluster_tag,
                        "Name": f"{p.name_prefix}-private-{i}",
                        "tier": "private",
                        "kubernetes.io/role/internal-elb": "1",
                    },
                )
            )

        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{p.name_prefix}-public"})
        Route(self, "public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)
        for i, subnet in enumerate(self.public_subnets):
            RouteTableAssociation(self, f"public-rta-{i}", subnet_id=subnet.id, route_table_id=public_rt.id)

        self.nat_gateways: list[NatGateway] = []
        for i in range(p.nat_gateway_count):
            eip = Eip(self, f"nat-eip-{i}", domain="vpc", tags={"Name": f"{p.name_prefix}-nat-{i}"}, depends_on=[igw])
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.public_subnets[i].id,
                    tags={"Name": f"{p.name_prefix}-nat-{i}"},
                    depends_on=[igw],
                )
            )
        for i, subnet in enumerate(self.private_subnets):
            rt = RouteTable(self, f"private-rt-{i}", vpc_id=self.vpc.id, tags={"Name": f"{p.name_prefix}-private-{i}"})
            nat = self.nat_gateways[i % len(self.nat_gateways)]
            Route(self, f"private-default-{i}", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-rta-{i}", subnet_id=subnet.id, route_table_id=rt.id)

        self._flow_logs(p)

    def _flow_logs(self, p: NetworkProps) -> None:
        log_group = CloudwatchLogGroup(
            self,
            "flow-log-group",
            name=f"/aws/vpc/{p.name_prefix}/flow-logs",
            retention_in_days=p.flow_log_retention_days,
            kms_key_id=p.log_kms_key_arn,
        )
        if p.flow_log_retention_days < 365:
            skip_check(
                log_group,
                "CKV_AWS_338",
                f"retention is {p.flow_log_retention_days} days by this environment's configuration "
                "(network.flow_log_retention_days): a cost choice for a non-production tier",
            )
        role = IamRole(
            self,
            "flow-log-role",
            name=f"{p.name_prefix}-vpc-flow-logs",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": p.account_id}},
                        }
                    ],
                },
                sort_keys=True,
            ),
        )
        IamRolePolicy(
            self,
            "flow-log-policy",
            name="write-flow-logs",
            role=role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                            "Resource": [log_group.arn, f"{log_group.arn}:*"],
                        }
                    ],
                },
                sort_keys=True,
            ),
        )
        self.flow_log = FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{p.name_prefix}-flow-logs"},
        )

    @property
    def vpc_id(self) -> str:
        return str(self.vpc.id)

    @property
    def private_subnet_ids(self) -> list[str]:
        return [s.id for s in self.private_subnets]

    @property
    def public_subnet_ids(self) -> list[str]:
        return [s.id for s in self.public_subnets]
