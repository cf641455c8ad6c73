"""Typed, frozen configuration of one environment.

Environments differ by the data in these objects, never by code paths that test an
environment's name. Every field is validated when the object is built, and the rules
that span environments (unique names, non-overlapping CIDRs, distinct state buckets)
are checked by :func:`validate_fleet`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from environments.model.delivery import Channel, Track, track
from environments.model.errors import ConfigError

# CloudWatch Logs accepts only these retention periods (days).
CLOUDWATCH_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
_NAME = re.compile(r"^[a-z][a-z0-9]{1,9}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$")
_ROLE_ARN = re.compile(r"^arn:aws(-us-gov|-cn)?:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
_RESERVED_TAG_KEYS = frozenset({"environment", "owner", "managed-by"})


class Tier(StrEnum):
    """How critical an environment is; production-tier rules are data-driven checks on it."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class NatStrategy(StrEnum):
    """How private subnets reach the internet."""

    SINGLE = "single"
    """One NAT gateway shared by every AZ: cheap, but one AZ outage cuts egress everywhere."""
    PER_AZ = "per-az"
    """One NAT gateway in each AZ: egress survives the loss of an AZ."""


def _require(condition: bool, field_name: str, rule: str) -> None:
    if not condition:
        raise ConfigError(field_name, rule)


def _check_retention(value: int, field_name: str) -> None:
    _require(
        value in CLOUDWATCH_RETENTION_DAYS,
        field_name,
        f"{value} is not a CloudWatch Logs retention period (one of {sorted(CLOUDWATCH_RETENTION_DAYS)})",
    )


def parse_cidr(value: str, field_name: str) -> ipaddress.IPv4Network:
    """An IPv4 network from ``value``, or a ConfigError naming ``field_name``."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ConfigError(field_name, f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None
    return network


def validate_domain(value: str, field_name: str) -> None:
    """A DNS name: lower-case labels of letters, digits and hyphens, at least two labels."""
    labels = value.split(".")
    ok = len(value) <= 253 and len(labels) >= 2 and all(_DOMAIN_LABEL.match(label) for label in labels) and not labels[-1].isdigit()
    _require(ok, field_name, f"'{value}' is not a valid lower-case DNS domain name")


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """The VPC of an environment."""

    vpc_cidr: str
    """IPv4 block of the VPC, /16 to /20. Private subnets take the lower half, public the upper."""
    az_count: int = 3
    """Availability zones to span (2-4). EKS needs at least two."""
    nat: NatStrategy = NatStrategy.PER_AZ
    """NAT strategy. Default: one NAT gateway per AZ."""
    flow_log_retention_days: int = 365
    """Retention of the VPC flow log group. Default: one year."""
    availability_zones: tuple[str, ...] = ()
    """The AZ names, pinned so the set never changes under us. Default: the region's
    first ``az_count`` zones (``<region>a``, ``<region>b``, ...)."""

    def __post_init__(self) -> None:
        network = parse_cidr(self.vpc_cidr, "network.vpc_cidr")
        _require(
            16 <= network.prefixlen <= 20,
            "network.vpc_cidr",
            f"prefix /{network.prefixlen} is out of range: use /16 to /20 so the subnets can hold EKS pod IPs",
        )
        _require(
            network.is_private,
            "network.vpc_cidr",
            f"'{self.vpc_cidr}' must be a private (RFC 1918) range",
        )
        _require(
            isinstance(self.az_count, int) and 2 <= self.az_count <= 4,
            "network.az_count",
            f"{self.az_count} is out of range: must be between 2 and 4",
        )
        _require(
            isinstance(self.nat, NatStrategy),
            "network.nat",
            f"must be one of {[s.value for s in NatStrategy]}",
        )
        _check_retention(self.flow_log_retention_days, "network.flow_log_retention_days")
        if self.availability_zones:
            _require(
                len(self.availability_zones) == self.az_count,
                "network.availability_zones",
                f"lists {len(self.availability_zones)} zones but az_count is {self.az_count}",
            )
            _require(
                len(set(self.availability_zones)) == len(self.availability_zones),
                "network.availability_zones",
                "lists a zone twice",
            )

    def zones(self, region: str) -> tuple[str, ...]:
        """The AZ names in ``region``: the pinned ones, or the first ``az_count`` letters."""
        if self.availability_zones:
            return self.availability_zones
        return tuple(f"{region}{letter}" for letter in "abcdef"[: self.az_count])

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.vpc_cidr)

    @property
    def private_subnet_cidrs(self) -> tuple[str, ...]:
        """One private subnet per AZ, carved from the lower half of the VPC (room for pod IPs)."""
        bits = math.ceil(math.log2(self.az_count)) + 1
        blocks = self.network.subnets(prefixlen_diff=bits)
        return tuple(str(next(blocks)) for _ in range(self.az_count))

    @property
    def public_subnet_cidrs(self) -> tuple[str, ...]:
        """One public subnet per AZ, carved from the upper half of the VPC (load balancers, NAT)."""
        upper = list(self.network.subnets(prefixlen_diff=1))[1]
        bits = math.ceil(math.log2(self.az_count)) + 2
        blocks = upper.subnets(prefixlen_diff=bits)
        return tuple(str(next(blocks)) for _ in range(self.az_count))

    @property
    def nat_gateway_count(self) -> int:
        return self.az_count if self.nat is NatStrategy.PER_AZ else 1


@dataclass(frozen=True, kw_only=True)
class StateConfig:
    """Where the environment's Terraform states live."""

    bucket: str
    """S3 bucket that holds this environment's states (one bucket per environment)."""
    key_prefix: str = ""
    """Prefix of every state key in the bucket. Default: the environment's name."""

    def __post_init__(self) -> None:
        ok = bool(_BUCKET.match(self.bucket)) and ".." not in self.bucket and not self.bucket.startswith("xn--")
        _require(ok, "state.bucket", f"'{self.bucket}' is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")
        _require(
            "." not in self.bucket,
            "state.bucket",
            f"'{self.bucket}' contains a dot: virtual-hosted TLS to S3 breaks on dotted bucket names",
        )
        _require(
            self.key_prefix == "" or re.match(r"^[a-z0-9][a-z0-9/_-]*[a-z0-9]$", self.key_prefix) is not None,
            "state.key_prefix",
            f"'{self.key_prefix}' must be lower-case letters, digits, '/', '_' or '-', without leading or trailing '/'",
        )


class CapacityType(StrEnum):
    """How a managed node group buys its instances."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


_NODE_GROUP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, kw_only=True)
class NodeGroupConfig:
    """One EKS managed node group (Amazon Linux 2023, private subnets only)."""

    name: str
    """Name of the node group within the cluster."""
    instance_types: tuple[str, ...]
    """EC2 instance types, most preferred first."""
    min_size: int
    """Fewest nodes."""
    max_size: int
    """Most nodes."""
    desired_size: int
    """Nodes at creation."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """On-demand or spot. Default: on-demand."""
    disk_size_gib: int = 50
    """Encrypted gp3 root volume size. Default: 50 GiB."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels on the nodes. Default: none."""

    def __post_init__(self) -> None:
        where = f"cluster.node_groups.{self.name}"
        _require(
            bool(_NODE_GROUP_NAME.match(self.name)),
            "cluster.node_groups",
            f"'{self.name}' must be 2-32 lower-case letters, digits or hyphens",
        )
        _require(len(self.instance_types) > 0, f"{where}.instance_types", "must name at least one instance type")
        for itype in self.instance_types:
            _require(
                bool(_INSTANCE_TYPE.match(itype)), f"{where}.instance_types", f"'{itype}' is not an EC2 instance type like 'm6i.large'"
            )
        _require(self.min_size >= 0, f"{where}.min_size", f"{self.min_size} must not be negative")
        _require(self.max_size >= 1, f"{where}.max_size", f"{self.max_size} must be at least 1")
        _require(self.max_size >= self.min_size, f"{where}.max_size", f"{self.max_size} is less than min_size {self.min_size}")
        _require(
            self.min_size <= self.desired_size <= self.max_size,
            f"{where}.desired_size",
            f"{self.desired_size} is outside min_size..max_size ({self.min_size}..{self.max_size})",
        )
        _require(isinstance(self.capacity_type, CapacityType), f"{where}.capacity_type", "must be ON_DEMAND or SPOT")
        _require(20 <= self.disk_size_gib <= 1000, f"{where}.disk_size_gib", f"{self.disk_size_gib} is out of range: 20 to 1000 GiB")


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    """The EKS cluster of an environment."""

    kubernetes_version: str
    """Kubernetes minor version; one of ``SUPPORTED_KUBERNETES_VERSIONS`` (add-ons are pinned per version)."""
    node_groups: tuple[NodeGroupConfig, ...]
    """Managed node groups; at least one."""
    platform_admin_role_arns: tuple[str, ...]
    """IAM roles granted cluster admin through an access entry (no creator admin exists)."""
    developer_role_arns: tuple[str, ...] = ()
    """IAM roles mapped to ``developers_group``; the GitOps tree binds that group to
    namespace-scoped rights. Default: none."""
    developers_group: str = "plato-developers"
    """Kubernetes group of the developers. Default: ``plato-developers``."""
    viewer_role_arns: tuple[str, ...] = ()
    """IAM roles with cluster-wide read access (AmazonEKSAdminViewPolicy), e.g. the CI role
    that plans the bootstrap stack. Default: none."""
    endpoint_public_access: bool = False
    """Expose the API endpoint publicly (only to ``public_access_cidrs``). Default: private only."""
    public_access_cidrs: tuple[str, ...] = ()
    """The only networks that reach a public endpoint."""
    log_retention_days: int = 365
    """Retention of the control-plane log group. Default: one year."""
    extended_support: bool = False
    """Keep the cluster on its version after EKS standard support ends, in extended support,
    which AWS charges per cluster hour on top of the standard price. Default: off: a version
    past standard support is refused (and AWS would upgrade the cluster itself)."""

    def __post_init__(self) -> None:
        from environments.model.eks import SUPPORTED_KUBERNETES_VERSIONS

        _require(
            self.kubernetes_version in SUPPORTED_KUBERNETES_VERSIONS,
            "cluster.kubernetes_version",
            f"'{self.kubernetes_version}' is not supported; use one of {list(SUPPORTED_KUBERNETES_VERSIONS)}",
        )
        _require(isinstance(self.extended_support, bool), "cluster.extended_support", "must be True or False")
        self._check_support_window()
        _require(len(self.node_groups) > 0, "cluster.node_groups", "at least one node group is required")
        names = [g.name for g in self.node_groups]
        _require(len(set(names)) == len(names), "cluster.node_groups", "node group names must be unique")
        _require(
            len(self.platform_admin_role_arns) > 0,
            "cluster.platform_admin_role_arns",
            "at least one admin role is required (creator admin is off)",
        )
        for field_name, arns in (
            ("platform_admin_role_arns", self.platform_admin_role_arns),
            ("developer_role_arns", self.developer_role_arns),
        ):
            for arn in arns:
                _require(
                    bool(_ROLE_ARN.match(arn)),
                    f"cluster.{field_name}",
                    f"'{arn}' is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)",
                )
        _require(
            bool(_K8S_NAME.match(self.developers_group)),
            "cluster.developers_group",
            f"'{self.developers_group}' is not a valid Kubernetes group name",
        )
        _require(
            not self.developers_group.startswith("system:"),
            "cluster.developers_group",
            "must not be a reserved 'system:' group",
        )
        if self.endpoint_public_access:
            _require(
                len(self.public_access_cidrs) > 0, "cluster.public_access_cidrs", "a public endpoint needs at least one allow-listed CIDR"
            )
        else:
            _require(len(self.public_access_cidrs) == 0, "cluster.public_access_cidrs", "is set but the public endpoint is off")
        for cidr in self.public_access_cidrs:
            parse_cidr(cidr, "cluster.public_access_cidrs")
        _check_retention(self.log_retention_days, "cluster.log_retention_days")

    def _check_support_window(self) -> None:
        from environments.model.eks import support_windows, today

        window = support_windows().get(self.kubernetes_version)
        _require(
            window is not None,
            "cluster.kubernetes_version",
            f"'{self.kubernetes_version}' has no EKS support dates in environments/model/facts",
        )
        assert window is not None
        now, version = today(), self.kubernetes_version
        if now > window.end_of_standard_support:
            extended_end = window.end_of_extended_support
            if extended_end is not None and now > extended_end:
                raise ConfigError(
                    "cluster.kubernetes_version",
                    f"'{version}' left EKS extended support on {extended_end}; upgrade the cluster (docs/upgrades.md)",
                )
            _require(
                self.extended_support,
                "cluster.kubernetes_version",
                f"'{version}' left EKS standard support on {window.end_of_standard_support}; upgrade (docs/upgrades.md), or set "
                "cluster.extended_support = True to stay in extended support at an extra charge per cluster hour"
                + (f" until {extended_end}" if extended_end else ""),
            )

    def support_warnings(self) -> list[str]:
        """``field: text`` lines for what is not wrong yet but soon will be."""
        from environments.model.eks import SUPPORT_WARNING_DAYS, support_windows, today

        window = support_windows()[self.kubernetes_version]
        left = (window.end_of_standard_support - today()).days
        if 0 <= left <= SUPPORT_WARNING_DAYS:
            return [
                f"cluster.kubernetes_version: '{self.kubernetes_version}' leaves EKS standard support on {window.end_of_standard_support} "
                f"(in {left} days); upgrade before then (docs/upgrades.md)"
            ]
        return []

    @property
    def support_type(self) -> str:
        """``upgrade_policy.support_type``: ``EXTENDED`` only when the environment opts in."""
        return "EXTENDED" if self.extended_support else "STANDARD"

    @property
    def node_ami_release(self) -> str:
        """The pinned AL2023 node AMI release (``aws_eks_node_group.release_version``)."""
        from environments.model.eks import NODE_AMI_RELEASES

        return NODE_AMI_RELEASES[self.kubernetes_version]

    @property
    def addon_versions(self) -> Mapping[str, str]:
        """The pinned version of every EKS add-on for this cluster's Kubernetes version."""
        from environments.model.eks import EKS_ADDON_VERSIONS

        return EKS_ADDON_VERSIONS[self.kubernetes_version]

    @property
    def internet_open(self) -> bool:
        """Whether the public endpoint admits the whole internet."""
        return any(ipaddress.IPv4Network(c).prefixlen == 0 for c in self.public_access_cidrs)


@dataclass(frozen=True, kw_only=True)
class EdgeConfig:
    """Everything between the internet and ingress-nginx."""

    create_hosted_zone: bool = True
    """Create the Route53 zone for ``hosted_zone`` (then delegate it), or look up an existing one.
    Default: create."""
    hosted_zone: str = ""
    """The Route53 zone that holds the environment's records; ``domain`` must be it or below it.
    Default: the environment's domain."""
    alb_deletion_protection: bool = True
    """Refuse to delete the ALB. Default: on."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener. Default: TLS 1.3 and 1.2 only."""
    waf_web_acl_arn: str = ""
    """A WAFv2 web ACL to associate with the ALB. Default: none."""
    access_log_retention_days: int = 90
    """Days ALB access logs are kept. Default: 90."""
    ingress_node_port: int = 30080
    """The NodePort the ALB's target group forwards to on every node, and on which the
    in-cluster ingress controller listens (it reaches the GitOps tree through the platform
    contract). Default: 30080."""

    def __post_init__(self) -> None:
        _require(
            30000 <= self.ingress_node_port <= 32767,
            "edge.ingress_node_port",
            f"{self.ingress_node_port} is outside the Kubernetes NodePort range 30000-32767",
        )
        _require(
            self.ssl_policy.startswith("ELBSecurityPolicy-TLS13-"),
            "edge.ssl_policy",
            f"'{self.ssl_policy}' is not a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*)",
        )
        _require(
            self.waf_web_acl_arn == ""
            or re.match(r"^arn:aws[\w-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/.+$", self.waf_web_acl_arn) is not None,
            "edge.waf_web_acl_arn",
            f"'{self.waf_web_acl_arn}' is not a regional WAFv2 web ACL ARN",
        )
        _require(
            1 <= self.access_log_retention_days <= 3650,
            "edge.access_log_retention_days",
            f"{self.access_log_retention_days} is out of range: 1 to 3650",
        )


#: Days a bucket keeps objects after their owner (Loki's compactor, Velero's garbage
#: collection) should have deleted them: the lifecycle rule is a safety net, never the
#: retention itself, so it must not delete what the owner still lists.
EXPIRY_MARGIN_DAYS = 7


@dataclass(frozen=True, kw_only=True)
class StorageConfig:
    """How long the platform keeps logs and backups. Each value is the one source of both the
    in-cluster retention (Loki, Velero Schedules) and the bucket's lifecycle expiry."""

    log_retention_days: int = 30
    """Days Loki keeps logs (its compactor deletes older chunks). Default: 30."""
    backup_retention_days: int = 30
    """Days Velero keeps each backup of the workload (the Schedule's ``ttl``). Default: 30."""
    cluster_backup_retention_days: int = 0
    """Days Velero keeps each weekly whole-cluster backup; 0 means no whole-cluster Schedule.
    Default: none (the cluster is rebuilt from Git; the workload backup covers the volumes)."""

    def __post_init__(self) -> None:
        for name in ("log_retention_days", "backup_retention_days"):
            value = getattr(self, name)
            _require(1 <= value <= 3650, f"storage.{name}", f"{value} is out of range: 1 to 3650 days")
        _require(
            0 <= self.cluster_backup_retention_days <= 3650,
            "storage.cluster_backup_retention_days",
            f"{self.cluster_backup_retention_days} is out of range: 0 (off) to 3650 days",
        )

    @property
    def log_bucket_expiry_days(self) -> int:
        """When the Loki chunks bucket expires objects: Loki's retention plus the margin."""
        return self.log_retention_days + EXPIRY_MARGIN_DAYS

    @property
    def longest_backup_retention_days(self) -> int:
        return max(self.backup_retention_days, self.cluster_backup_retention_days)

    @property
    def backup_bucket_expiry_days(self) -> int:
        """When the Velero bucket expires objects: the longest backup retention plus the margin."""
        return self.longest_backup_retention_days + EXPIRY_MARGIN_DAYS


@dataclass(frozen=True, kw_only=True)
class GitOpsConfig:
    """Where Flux reads the GitOps tree from, and which ref it follows."""

    repository_url: str
    """HTTPS URL of the GitLab repository."""
    channel: Channel
    """What the environment follows: ``main``, release candidates or releases
    (:mod:`environments.model.delivery` derives Flux's ref, the CI rules and the IAM patterns)."""

    def __post_init__(self) -> None:
        _require(
            re.match(r"^(https://|ssh://git@)[a-z0-9.-]+(:\d+)?/[\w./-]+$", self.repository_url) is not None,
            "gitops.repository_url",
            f"'{self.repository_url}' is not an https:// or ssh://git@ repository URL",
        )
        _require(isinstance(self.channel, Channel), "gitops.channel", f"must be one of {[c.value for c in Channel]}")

    @property
    def track(self) -> Track:
        return track(self.channel)


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """Everything that makes one environment different from another."""

    name: str
    """Short lower-case name (2-10 letters or digits); prefixes stacks, states and resources."""
    tier: Tier
    """How critical the environment is; production-tier rules follow from it."""
    account_id: str
    """The 12-digit AWS account the environment lives in."""
    region: str
    """The AWS region, e.g. ``eu-central-1``."""
    deploy_role_arn: str
    """IAM role in ``account_id`` that Terraform assumes for every AWS call."""
    owner: str
    """Team that owns the environment; becomes the ``owner`` tag."""
    domain: str
    """DNS domain the environment serves, e.g. ``dev.plato.example.com``."""
    state: StateConfig
    """Where this environment's Terraform states are kept."""
    network: NetworkConfig
    """The VPC."""
    cluster: ClusterConfig
    """The EKS cluster."""
    gitops: GitOpsConfig
    """What Flux syncs."""
    edge: EdgeConfig = field(default_factory=EdgeConfig)
    """ALB, certificate, DNS. Default: a new zone for ``domain``, deletion-protected ALB."""
    storage: StorageConfig = field(default_factory=StorageConfig)
    """Retention of logs and backups. Default: 30 days each, no whole-cluster backup."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on every resource. Default: only environment, owner and managed-by."""
    project: str = "plato"
    """Project name; with ``name`` it prefixes resource names (``plato-dev``). Default: ``plato``."""
    prevent_destroy: bool = True
    """Guard stateful resources (KMS keys, buckets, the cluster) with ``prevent_destroy``.
    Default: guarded; a disposable environment may turn it off."""

    def __post_init__(self) -> None:
        _require(
            isinstance(self.name, str) and bool(_NAME.match(self.name)),
            "name",
            f"'{self.name}' must be 2-10 lower-case letters or digits, starting with a letter",
        )
        try:
            self._validate()
        except ConfigError as err:
            raise err.within(self.name) from None

    def _validate(self) -> None:
        _require(isinstance(self.tier, Tier), "tier", f"must be one of {[t.value for t in Tier]}")
        _require(
            isinstance(self.account_id, str) and bool(_ACCOUNT_ID.match(self.account_id)),
            "account_id",
            f"'{self.account_id}' must be exactly 12 digits",
        )
        _require(
            isinstance(self.region, str) and bool(_REGION.match(self.region)),
            "region",
            f"'{self.region}' is not an AWS region name like 'eu-central-1'",
        )
        match = _ROLE_ARN.match(self.deploy_role_arn)
        _require(match is not None, "deploy_role_arn", f"'{self.deploy_role_arn}' is not an IAM role ARN")
        assert match is not None
        _require(
            match.group(2) == self.account_id,
            "deploy_role_arn",
            f"role account {match.group(2)} differs from account_id {self.account_id}",
        )
        _require(bool(self.owner.strip()), "owner", "must not be empty")
        _require(
            bool(re.match(r"^[a-z][a-z0-9]{1,11}$", self.project)),
            "project",
            f"'{self.project}' must be 2-12 lower-case letters or digits, starting with a letter",
        )
        validate_domain(self.domain, "domain")
        for key, value in self.tags.items():
            _require(bool(_TAG_KEY.match(key)) and not key.startswith("aws:"), f"tags.{key}", "is not a valid AWS tag key")
            _require(len(value) <= 256, f"tags.{key}", "value is longer than 256 characters")
            _require(
                key.lower() not in _RESERVED_TAG_KEYS,
                f"tags.{key}",
                "is set from the environment's own fields; remove it from tags",
            )
        for zone in self.network.availability_zones:
            _require(
                re.match(rf"^{re.escape(self.region)}[a-z]$", zone) is not None,
                "network.availability_zones",
                f"'{zone}' is not a zone of region {self.region}",
            )
        zone = self.hosted_zone
        validate_domain(zone, "edge.hosted_zone")
        _require(
            self.domain == zone or self.domain.endswith("." + zone),
            "edge.hosted_zone",
            f"domain '{self.domain}' is not in the hosted zone '{zone}'",
        )
        if self.tier in (Tier.STAGING, Tier.PRODUCTION):
            _require(
                not self.cluster.internet_open,
                "cluster.public_access_cidrs",
                f"a {self.tier.value}-tier API endpoint must not be open to 0.0.0.0/0",
            )
            _require(
                self.edge.alb_deletion_protection,
                "edge.alb_deletion_protection",
                f"a {self.tier.value}-tier ALB must be deletion-protected",
            )
        if self.tier is Tier.PRODUCTION:
            _require(
                self.network.nat is NatStrategy.PER_AZ,
                "network.nat",
                "a production-tier environment needs one NAT gateway per AZ ('per-az'), not a single shared one",
            )
            _require(
                self.network.az_count >= 3,
                "network.az_count",
                "a production-tier environment must span at least 3 AZs",
            )

    def warnings(self) -> list[str]:
        """One line per warning, attributed like errors: ``environment '<name>': <field>: <text>``."""
        return [f"environment '{self.name}': {line}" for line in self.cluster.support_warnings()]

    @property
    def deploys_need_approval(self) -> bool:
        """Production-tier deploys wait for a person's approval (a manual CI job)."""
        return self.tier is Tier.PRODUCTION

    @property
    def name_prefix(self) -> str:
        """Prefix of the environment's resource names, e.g. ``plato-dev``."""
        return f"{self.project}-{self.name}"

    @property
    def cluster_name(self) -> str:
        return self.name_prefix

    @property
    def hosted_zone(self) -> str:
        """The Route53 zone of the environment's records."""
        return self.edge.hosted_zone or self.domain

    def bucket_name(self, purpose: str) -> str:
        """A globally unique bucket name for ``purpose`` (``loki-chunks``, ``velero``, ...)."""
        return f"{self.name_prefix}-{purpose}-{self.account_id}"

    @property
    def partition(self) -> str:
        """The AWS partition of ``region``."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def state_key_prefix(self) -> str:
        return self.state.key_prefix or self.name

    def state_key(self, stack: str) -> str:
        """The S3 key of one of this environment's states."""
        return f"{self.state_key_prefix}/{stack}.tfstate"

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags every AWS resource of the environment carries."""
        return {
            **dict(self.tags),
            "environment": self.name,
            "owner": self.owner,
            "managed-by": "cdktf",
        }


def validate_fleet(environments: Sequence[EnvironmentConfig]) -> None:
    """Rules that span environments: unique names, disjoint VPCs, own state buckets, own domains.

    A conflict is reported against the environment that comes later in the registry's order
    (the one being added), naming the earlier one it collides with.
    """
    _require(len(environments) > 0, "environments", "at least one environment is required")
    seen: dict[str, EnvironmentConfig] = {}
    for env in environments:
        if env.name in seen:
            raise ConfigError("name", "is defined twice; environment names must be unique", env.name)
        seen[env.name] = env
    ordered = list(environments)
    for i, later in enumerate(ordered):
        for earlier in ordered[:i]:
            if later.network.network.overlaps(earlier.network.network):
                raise ConfigError(
                    "network.vpc_cidr",
                    f"{later.network.vpc_cidr} overlaps {earlier.network.vpc_cidr} of environment '{earlier.name}'; VPCs must not overlap",
                    later.name,
                )
            if later.state.bucket == earlier.state.bucket:
                raise ConfigError(
                    "state.bucket",
                    f"'{later.state.bucket}' is also used by environment '{earlier.name}'; each environment keeps its state in its own bucket",
                    later.name,
                )
            if later.domain == earlier.domain:
                raise ConfigError("domain", f"'{later.domain}' is also used by environment '{earlier.name}'", later.name)
