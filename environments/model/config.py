"""Typed, frozen configuration of one environment: pydantic models in strict mode.

Environments differ by the data in these objects, never by code paths that test an
environment's name. Every model is strict (no string where a number or a boolean is meant,
no number where a string is), frozen, and refuses unknown fields, so a misspelt keyword is
an error instead of a silently ignored default. On top of the types, each model checks the
limits AWS and Kubernetes enforce on what it holds and on the names derived from it
(:mod:`environments.model.rules`), and :func:`validate_fleet` the rules that span
environments.

Every failure is a :class:`ConfigError`: one line naming the field path and the rule.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from environments.model import aws, rules
from environments.model.delivery import Channel, Track, track
from environments.model.errors import ConfigError, describe, key_path, rule_of

CLOUDWATCH_RETENTION_DAYS = aws.CLOUDWATCH_RETENTION_DAYS
_NAME = re.compile(r"^[a-z][a-z0-9]{1,9}$")
_PROJECT = re.compile(r"^[a-z][a-z0-9]{1,11}$")
_NODE_GROUP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_STATE_KEY_PREFIX = re.compile(r"^[a-z0-9][a-z0-9/_-]*[a-z0-9]$")
_REPOSITORY_URL = re.compile(r"^(https://|ssh://git@)[a-z0-9.-]+(:[0-9]+)?/[\w./-]+$", re.ASCII)
_IMAGE_REPOSITORY = re.compile(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+", re.ASCII)
_WAF_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):wafv2:([a-z0-9-]+):([0-9]{12}):regional/webacl/[\w-]{1,128}/[0-9a-f-]{36}$", re.ASCII)
#: Keys the project sets on every resource from the environment's own fields (any case).
_RESERVED_TAG_KEYS = frozenset({"environment", "owner", "managed-by"})
#: Keys the project sets per resource, which would override the same key in ``tags``.
_RESOURCE_TAG_KEYS = frozenset({"Name", "tier"})
#: The most tags the project adds to any one resource besides ``tags`` and the reserved three:
#: a subnet has four (Name, tier, the cluster's and the load balancer role's discovery tags),
#: and one more is kept free for a node autoscaler's discovery tag. tests/test_stacks.py
#: checks every synthesized resource against it.
PROJECT_RESOURCE_TAGS = 5
#: The tags Karpenter adds to every instance, volume and launch template it creates besides the
#: EC2NodeClass's ``tags`` (the default tags): Name, karpenter.sh/nodeclaim, karpenter.sh/nodepool,
#: karpenter.k8s.aws/ec2nodeclass, kubernetes.io/cluster/<cluster>, eks:eks-cluster-name
#: (aws/karpenter-provider-aws v1.14.1, website/content/en/docs/concepts/nodeclasses.md, spec.tags).
KARPENTER_INSTANCE_TAGS = 6
#: Tag key prefixes Karpenter and EKS set on the nodes themselves; the EC2NodeClass refuses them
#: in its ``tags`` and a discovery tag in the default tags would select every subnet and group.
#: Karpenter controller replicas (gitops/infrastructure/controllers/base/karpenter/release.yaml);
#: the chart spreads them one per node, never on a node Karpenter launched.
KARPENTER_CONTROLLER_REPLICAS = 2
_NODE_TAG_PREFIXES = ("karpenter.sh/", "karpenter.k8s.aws/", "kubernetes.io/", "eks:")
#: Labels the node groups set themselves.
_RESERVED_NODE_LABELS = frozenset({"node-group", "capacity"})
#: The AMI every managed node group runs (AL2023, x86_64, standard: no accelerator drivers).
NODE_AMI_ARCHITECTURE = "x86_64"


def _as_tuple(value: Any) -> Any:
    """Lists are accepted where a tuple is meant; everything else is left to strict validation."""
    return tuple(value) if isinstance(value, list) else value


Strings = Annotated[tuple[str, ...], BeforeValidator(_as_tuple)]


class Model(BaseModel):
    """Strict, frozen, no unknown fields; a failure is one :class:`ConfigError` line."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", revalidate_instances="never")
    #: Where this model sits inside an environment (``network``); the error paths start there.
    path: ClassVar[str] = ""

    def __init__(self, *args: Any, **data: Any) -> None:
        prefix = self.prefix_for(data)
        if args:
            raise ConfigError(prefix or type(self).__name__, f"{type(self).__name__} takes keyword arguments only (name=value)")
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            cause = (first.get("ctx") or {}).get("error")
            if first["type"] in ("value_error", "assertion_error") and isinstance(cause, Exception):
                # Every rule raises ConfigError, which pydantic lets through: a ValueError
                # from a validator is a bug in the project, and keeps its traceback.
                raise cause from None
            raise error_of(exc, type(self), prefix, data) from None
        except ConfigError as err:
            environment = self.environment_of(data)
            raise (err.within(environment) if environment else err) from None

    @classmethod
    def prefix_for(cls, data: Mapping[str, Any]) -> str:
        return cls.path

    @classmethod
    def environment_of(cls, data: Mapping[str, Any]) -> str | None:
        """The environment a failure belongs to, where the model knows it (only the environment does)."""
        return None

    def where(self, field: str) -> str:
        prefix = self.prefix_for(self.__dict__)
        return f"{prefix}.{field}" if prefix else field


def error_of(exc: ValidationError, model: type[BaseModel], prefix: str, data: Mapping[str, Any]) -> ConfigError:
    """The first error pydantic found, as one line under ``prefix``."""
    error = exc.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    names: dict[int, str] = {}
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data.get(str(loc[0])), Sequence):
        items = data[str(loc[0])]
        names = {
            i: str(getattr(item, "name", None) or (item.get("name") if isinstance(item, Mapping) else None) or i)
            for i, item in enumerate(items)
        }
    path, fields, annotation = describe(model, loc, names)
    field = ".".join(p for p in (prefix, path) if p)
    return ConfigError(field, rule_of(error, fields, annotation), model.environment_of(data) if issubclass(model, Model) else None)


def _cidr(value: str, field: str) -> ipaddress.IPv4Network:
    network = rules.cidr(value)
    if isinstance(network, str):
        raise ConfigError(field, network)
    return network


def _unique(values: Sequence[str], field: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigError(field, f"lists {what} '{value}' twice")
        seen.add(value)


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


class CapacityType(StrEnum):
    """How a managed node group (or Karpenter) buys its instances."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"

    @property
    def karpenter(self) -> str:
        """The value of Karpenter's ``karpenter.sh/capacity-type`` label."""
        return self.value.lower().replace("_", "-")


class InterfaceEndpoint(StrEnum):
    """An AWS service the private subnets reach through an interface VPC endpoint instead of NAT."""

    ECR_API = "ecr.api"
    ECR_DKR = "ecr.dkr"
    STS = "sts"
    EC2 = "ec2"
    SQS = "sqs"
    LOGS = "logs"


# --- network ----------------------------------------------------------------------------------


class NetworkConfig(Model):
    """The VPC of an environment."""

    path: ClassVar[str] = "network"

    vpc_cidr: str
    """IPv4 block of the VPC, /16 to /20, from RFC 1918, in canonical notation. Private subnets
    take the lower half, public the upper."""
    az_count: int = 3
    """Availability zones to span (2-4). EKS needs at least two. Default: 3."""
    nat: NatStrategy = NatStrategy.PER_AZ
    """NAT strategy. Default: one NAT gateway per AZ."""
    flow_log_retention_days: int = 365
    """Retention of the VPC flow log group (a CloudWatch Logs period). Default: one year."""
    availability_zones: Strings = ()
    """The AZ names, pinned so the set never changes under us. Default: the region's first
    ``az_count`` zones."""
    interface_endpoints: Annotated[tuple[InterfaceEndpoint, ...], BeforeValidator(_as_tuple)] = ()
    """Services reached through interface VPC endpoints (private DNS, admitting only the VPC),
    which spares NAT data processing on image pulls, token exchanges and logs; each costs per AZ
    and hour. S3 always has a gateway endpoint (free). Default: none."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        network = _cidr(self.vpc_cidr, self.where("vpc_cidr"))
        if not 16 <= network.prefixlen <= 20:
            raise ConfigError(
                self.where("vpc_cidr"), f"prefix /{network.prefixlen} is out of range: use /16 to /20 so the subnets can hold EKS pod IPs"
            )
        if not rules.rfc1918(network):
            raise ConfigError(
                self.where("vpc_cidr"),
                f"'{self.vpc_cidr}' must be a private (RFC 1918) range: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        if not 2 <= self.az_count <= 4:
            raise ConfigError(self.where("az_count"), f"must be between 2 and 4, not {self.az_count}")
        _retention(self.flow_log_retention_days, self.where("flow_log_retention_days"))
        _unique([e.value for e in self.interface_endpoints], self.where("interface_endpoints"), "the endpoint")
        ecr = {InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR}
        if len(ecr & set(self.interface_endpoints)) == 1:
            raise ConfigError(
                self.where("interface_endpoints"),
                "'ecr.api' and 'ecr.dkr' come together: an image pull uses both, so one alone still pulls through NAT",
            )
        if self.availability_zones:
            if len(self.availability_zones) != self.az_count:
                raise ConfigError(
                    self.where("availability_zones"), f"lists {len(self.availability_zones)} zones but az_count is {self.az_count}"
                )
            _unique(self.availability_zones, self.where("availability_zones"), "the zone")
        return self

    def zones(self, region: str) -> tuple[str, ...]:
        """The AZ names in ``region``: the pinned ones, or the region's first ``az_count``."""
        if self.availability_zones:
            return self.availability_zones
        return aws.regions()[region].zones[: self.az_count]

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


def _retention(value: int, field: str) -> None:
    if value not in CLOUDWATCH_RETENTION_DAYS:
        raise ConfigError(field, f"{value} is not a CloudWatch Logs retention period (one of {sorted(CLOUDWATCH_RETENTION_DAYS)})")


# --- state ------------------------------------------------------------------------------------


class StateConfig(Model):
    """Where the environment's Terraform states live."""

    path: ClassVar[str] = "state"

    bucket: str
    """S3 bucket that holds this environment's states (one bucket per environment)."""
    key_prefix: str = ""
    """Prefix of every state key in the bucket. Default: the environment's name."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        problem = rules.s3_bucket(self.bucket)
        if problem:
            raise ConfigError(self.where("bucket"), problem)
        if self.key_prefix and (len(self.key_prefix) > 512 or not _STATE_KEY_PREFIX.fullmatch(self.key_prefix)):
            raise ConfigError(
                self.where("key_prefix"),
                f"'{self.key_prefix}' must be lower-case letters, digits, '/', '_' or '-', without leading or trailing '/'",
            )
        return self


# --- cluster ----------------------------------------------------------------------------------


class NodeGroupConfig(Model):
    """One EKS managed node group (Amazon Linux 2023 x86_64, private subnets only)."""

    path: ClassVar[str] = "cluster.node_groups"

    name: str
    """Name of the node group within the cluster (2-32 lower-case letters, digits, hyphens)."""
    instance_types: Strings
    """EC2 instance types, most preferred first: x86_64, no accelerators (the AMI is AL2023 standard)."""
    min_size: int
    """Fewest nodes (0 or more)."""
    max_size: int
    """Most nodes (1 to 1000)."""
    desired_size: int
    """Nodes at creation (between min_size and max_size)."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """On-demand or spot. Default: on-demand."""
    disk_size_gib: int = 50
    """Encrypted gp3 root volume size, 20 to 1000 GiB. Default: 50 GiB."""
    labels: dict[str, str] = {}
    """Kubernetes labels on the nodes. Default: none."""

    @classmethod
    def prefix_for(cls, data: Mapping[str, Any]) -> str:
        name = data.get("name")
        return f"{cls.path}.{name}" if isinstance(name, str) and name else cls.path

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if not _NODE_GROUP_NAME.fullmatch(self.name):
            raise ConfigError(
                self.where("name"), f"'{self.name}' must be 2-32 lower-case letters, digits or hyphens, starting with a letter"
            )
        self._instance_types()
        if self.min_size < 0:
            raise ConfigError(self.where("min_size"), f"{self.min_size} must not be negative")
        if not 1 <= self.max_size <= 1000:
            raise ConfigError(self.where("max_size"), f"must be between 1 and 1000 (the EKS limit per node group), not {self.max_size}")
        if self.max_size < self.min_size:
            raise ConfigError(self.where("max_size"), f"{self.max_size} is less than min_size {self.min_size}")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ConfigError(
                self.where("desired_size"), f"{self.desired_size} is outside min_size..max_size ({self.min_size}..{self.max_size})"
            )
        if not 20 <= self.disk_size_gib <= 1000:
            raise ConfigError(self.where("disk_size_gib"), f"must be between 20 and 1000 GiB, not {self.disk_size_gib}")
        self._labels()
        return self

    def _instance_types(self) -> None:
        field = self.where("instance_types")
        if not self.instance_types:
            raise ConfigError(field, "must name at least one instance type")
        if len(self.instance_types) > 20:
            raise ConfigError(field, f"names {len(self.instance_types)} instance types; a managed node group takes at most 20")
        _unique(self.instance_types, field, "the instance type")
        for itype in self.instance_types:
            if itype not in aws.instance_types():
                raise ConfigError(field, f"'{itype}' is not an EC2 instance type (environments/model/facts/ec2-instance-types.txt)")
            if aws.architecture(itype) != NODE_AMI_ARCHITECTURE:
                raise ConfigError(
                    field, f"'{itype}' is an {aws.architecture(itype)} instance type; the nodes' AMI (AL2023_x86_64_STANDARD) is x86_64"
                )
            if aws.needs_accelerated_ami(itype) or itype.startswith("mac"):
                raise ConfigError(field, f"'{itype}' needs an accelerated or macOS AMI; the nodes run AL2023_x86_64_STANDARD")

    def _labels(self) -> None:
        if len(self.labels) > 48:
            raise ConfigError(self.where("labels"), f"sets {len(self.labels)} labels; EKS allows 50 per node group and the project sets 2")
        for key, value in self.labels.items():
            problem = rules.k8s_label_key(key) or rules.k8s_label_value(key, value)
            if problem:
                raise ConfigError(self.where(key_path("labels", key)), problem)
            if key in _RESERVED_NODE_LABELS:
                raise ConfigError(
                    self.where(key_path("labels", key)), "is set by the project itself (node-group, capacity); choose another key"
                )


class KarpenterConfig(Model):
    """The capacity Karpenter adds for the workload, on top of the managed node groups (which
    keep the system pods and Karpenter itself)."""

    path: ClassVar[str] = "cluster.karpenter"

    capacity_types: Annotated[tuple[CapacityType, ...], BeforeValidator(_as_tuple)] = (CapacityType.ON_DEMAND,)
    """How the nodes are bought; with both, Karpenter takes the cheaper (spot first). Default: on-demand only."""
    cpu_limit: int = 64
    """The most vCPUs of all Karpenter nodes together (the NodePool's ``limits.cpu``), 1 to 10000. Default: 64."""
    memory_limit_gib: int = 256
    """The most memory of all Karpenter nodes together, in GiB, 1 to 100000. Default: 256."""
    max_disrupted_percent: int = 10
    """How many of its nodes Karpenter may disrupt at once (consolidation, drift, expiry), in
    percent; each eviction still waits for the PodDisruptionBudgets. 1 to 100. Default: 10."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if not self.capacity_types:
            raise ConfigError(self.where("capacity_types"), "must name at least one capacity type")
        _unique([c.value for c in self.capacity_types], self.where("capacity_types"), "the capacity type")
        for name, low, high in (("cpu_limit", 1, 10000), ("memory_limit_gib", 1, 100000), ("max_disrupted_percent", 1, 100)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(self.where(name), f"must be between {low} and {high}, not {value}")
        return self


class ClusterConfig(Model):
    """The EKS cluster of an environment."""

    path: ClassVar[str] = "cluster"

    kubernetes_version: str
    """Kubernetes minor version; one with pinned add-ons and in EKS standard support."""
    node_groups: Annotated[tuple[NodeGroupConfig, ...], BeforeValidator(_as_tuple)]
    """Managed node groups; at least one."""
    platform_admin_role_arns: Strings
    """IAM roles granted cluster admin through an access entry (no creator admin exists)."""
    developer_role_arns: Strings = ()
    """IAM roles mapped to ``developers_group``; the GitOps tree binds that group to
    namespace-scoped rights. Default: none."""
    developers_group: str = "plato-developers"
    """Kubernetes group of the developers. Default: ``plato-developers``."""
    viewer_role_arns: Strings = ()
    """IAM roles with cluster-wide read access (AmazonEKSAdminViewPolicy), e.g. the CI role
    that plans the bootstrap stack. Default: none."""
    endpoint_public_access: bool = False
    """Expose the API endpoint publicly (only to ``public_access_cidrs``). Default: private only."""
    public_access_cidrs: Strings = ()
    """The only networks that reach a public endpoint (at most 40)."""
    log_retention_days: int = 365
    """Retention of the control-plane log group (a CloudWatch Logs period). Default: one year."""
    extended_support: bool = False
    """Keep the cluster on its version after EKS standard support ends, in extended support,
    which AWS charges per cluster hour on top of the standard price. Default: off: a version
    past standard support is refused (and AWS would upgrade the cluster itself)."""
    karpenter: KarpenterConfig = KarpenterConfig()
    """The workload's capacity (Karpenter). Default: on-demand, 64 vCPUs and 256 GiB at most."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        self._version()
        if not self.node_groups:
            raise ConfigError(self.where("node_groups"), "at least one node group is required")
        _unique([g.name for g in self.node_groups], self.where("node_groups"), "the node group")
        floor = sum(g.min_size for g in self.node_groups)
        if floor < KARPENTER_CONTROLLER_REPLICAS:
            raise ConfigError(
                self.where("node_groups"),
                f"the node groups keep {floor} node(s) at their min_size; Karpenter's {KARPENTER_CONTROLLER_REPLICAS} controllers run on "
                f"managed nodes, one per node, so keep at least {KARPENTER_CONTROLLER_REPLICAS}",
            )
        if not self.platform_admin_role_arns:
            raise ConfigError(self.where("platform_admin_role_arns"), "at least one admin role is required (creator admin is off)")
        self._roles()
        self._endpoint()
        _retention(self.log_retention_days, self.where("log_retention_days"))
        return self

    def _version(self) -> None:
        from environments.model.eks import SUPPORTED_KUBERNETES_VERSIONS, support_windows, today

        field = self.where("kubernetes_version")
        if self.kubernetes_version not in SUPPORTED_KUBERNETES_VERSIONS:
            raise ConfigError(field, f"'{self.kubernetes_version}' is not supported; use one of {list(SUPPORTED_KUBERNETES_VERSIONS)}")
        window = support_windows().get(self.kubernetes_version)
        if window is None:
            raise ConfigError(field, f"'{self.kubernetes_version}' has no EKS support dates in environments/model/facts")
        now, version = today(), self.kubernetes_version
        if now <= window.end_of_standard_support:
            return
        extended_end = window.end_of_extended_support
        if extended_end is not None and now > extended_end:
            raise ConfigError(field, f"'{version}' left EKS extended support on {extended_end}; upgrade the cluster (docs/upgrades.md)")
        if not self.extended_support:
            raise ConfigError(
                field,
                f"'{version}' left EKS standard support on {window.end_of_standard_support}; upgrade (docs/upgrades.md), or set "
                "cluster.extended_support = True to stay in extended support at an extra charge per cluster hour"
                + (f" until {extended_end}" if extended_end else ""),
            )

    def _roles(self) -> None:
        owner: dict[str, str] = {}
        for name in ("platform_admin_role_arns", "developer_role_arns", "viewer_role_arns"):
            arns: tuple[str, ...] = getattr(self, name)
            for arn in arns:
                parsed = rules.role_arn(arn)
                if isinstance(parsed, str):
                    raise ConfigError(self.where(name), parsed)
                if arn in owner:
                    raise ConfigError(
                        self.where(name), f"'{arn}' is also in {owner[arn]}: a role gets one access entry, so one kind of access"
                    )
                owner[arn] = name
        if not _NAME_K8S_GROUP.fullmatch(self.developers_group) or self.developers_group.startswith("system:"):
            raise ConfigError(
                self.where("developers_group"),
                f"'{self.developers_group}' is not a valid Kubernetes group name (and 'system:' is reserved)",
            )

    def _endpoint(self) -> None:
        field = self.where("public_access_cidrs")
        networks = [_cidr(c, field) for c in self.public_access_cidrs]
        _unique(self.public_access_cidrs, field, "the CIDR")
        if self.endpoint_public_access and not networks:
            raise ConfigError(field, "a public endpoint needs at least one allow-listed CIDR")
        if not self.endpoint_public_access and networks:
            raise ConfigError(field, "is set but the public endpoint is off")
        if len(networks) > 40:
            raise ConfigError(field, f"lists {len(networks)} CIDRs; EKS allows 40")

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
    def karpenter_ami_alias(self) -> str:
        """The same AL2023 release as the node groups', as Karpenter's alias (``al2023@v20260714``)."""
        return f"al2023@v{self.node_ami_release.rsplit('-', 1)[1]}"

    @property
    def addon_versions(self) -> Mapping[str, str]:
        """The pinned version of every EKS add-on for this cluster's Kubernetes version."""
        from environments.model.eks import EKS_ADDON_VERSIONS

        return EKS_ADDON_VERSIONS[self.kubernetes_version]

    @property
    def internet_open(self) -> bool:
        """Whether the public endpoint admits the whole internet (one CIDR or several together)."""
        return rules.covers_internet(ipaddress.IPv4Network(c) for c in self.public_access_cidrs)


_NAME_K8S_GROUP = re.compile(r"^[a-z0-9]([a-z0-9.:-]{0,61}[a-z0-9])?$")


# --- edge, storage, gitops --------------------------------------------------------------------


class RetiringTargetGroup(Model):
    """A target group the ALB keeps while the requests move to the Gateway's, during an
    ingress controller migration (docs/runbooks/edge-migration.md)."""

    path: ClassVar[str] = "edge.retiring_target_group"

    name: str
    """Name of the existing target group, exactly as AWS shows it."""
    node_port: int
    """The NodePort its targets serve on (the retiring controller's), 30000-32767."""
    weight: int = 100
    """Percent of the HTTPS requests the ALB still sends to it, 0 to 100; the rest go to the
    Gateway's target group. Default: all of them."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        problem = rules.elb_name(self.name, "target group", derived=False)
        if problem:
            raise ConfigError(self.where("name"), problem)
        _node_port(self.node_port, self.where("node_port"))
        if not 0 <= self.weight <= 100:
            raise ConfigError(self.where("weight"), f"is a percentage of the requests, 0 to 100, not {self.weight}")
        return self


def _node_port(port: int, field: str) -> None:
    if not 30000 <= port <= 32767:
        raise ConfigError(field, f"{port} is outside the Kubernetes NodePort range 30000-32767")


class EdgeConfig(Model):
    """Everything between the internet and the in-cluster Gateway."""

    path: ClassVar[str] = "edge"

    create_hosted_zone: bool = True
    """Create the Route53 zone for ``hosted_zone`` (then delegate it), or look up an existing one.
    Default: create."""
    hosted_zone: str = ""
    """The Route53 zone that holds the environment's records; ``domain`` must be it or below it.
    Default: the environment's domain."""
    alb_deletion_protection: bool = True
    """Refuse to delete the ALB. Default: on."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener: TLS 1.3, nothing older than 1.2. Default: TLS 1.3 and 1.2."""
    waf_web_acl_arn: str = ""
    """A regional WAFv2 web ACL of the environment's account and region to associate with the
    ALB. Default: none."""
    access_log_retention_days: int = 90
    """Days ALB access logs are kept, 1 to 3650. Default: 90."""
    ingress_node_port: int = 30080
    """The NodePort the ALB's target group forwards to on every node, and on which the
    Gateway's Envoy proxies listen (it reaches the GitOps tree through the platform
    contract), 30000-32767. Default: 30080."""
    retiring_target_group: RetiringTargetGroup | None = None
    """Only during an ingress controller migration: the old controller's target group, kept
    with its share of the requests until the cut-over is done. Default: none."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        policies = aws.tls_policies()
        if self.ssl_policy not in policies:
            older = self.ssl_policy.startswith(("ELBSecurityPolicy-TLS13-1-0", "ELBSecurityPolicy-TLS13-1-1"))
            reason = "also accepts TLS 1.0/1.1" if older else "is not an ALB policy with TLS 1.3 and nothing older than TLS 1.2"
            raise ConfigError(self.where("ssl_policy"), f"'{self.ssl_policy}' {reason} (environments/model/facts/elb-tls-policies.tsv)")
        if self.waf_web_acl_arn and not _WAF_ARN.fullmatch(self.waf_web_acl_arn):
            raise ConfigError(self.where("waf_web_acl_arn"), f"'{self.waf_web_acl_arn}' is not a regional WAFv2 web ACL ARN")
        if not 1 <= self.access_log_retention_days <= 3650:
            raise ConfigError(
                self.where("access_log_retention_days"), f"must be between 1 and 3650 days, not {self.access_log_retention_days}"
            )
        _node_port(self.ingress_node_port, self.where("ingress_node_port"))
        retiring = self.retiring_target_group
        if retiring is not None and retiring.node_port == self.ingress_node_port:
            raise ConfigError(
                self.where("retiring_target_group.node_port"),
                f"{retiring.node_port} is also ingress_node_port; the two controllers must serve on different node ports side by side",
            )
        if self.hosted_zone:
            problem = rules.dns_name(self.hosted_zone)
            if problem:
                raise ConfigError(self.where("hosted_zone"), problem)
        return self


#: Days a bucket keeps objects after their owner (Loki's compactor, Velero's garbage
#: collection) should have deleted them: the lifecycle rule is a safety net, never the
#: retention itself, so it must not delete what the owner still lists.
EXPIRY_MARGIN_DAYS = 7


class ObjectLockMode(StrEnum):
    """S3 Object Lock retention modes (``GOVERNANCE`` can be lifted with a permission, ``COMPLIANCE`` by nobody)."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class ObjectLockConfig(Model):
    """S3 Object Lock on the backup replica: every replicated version is kept at least ``days``,
    whoever asks for its deletion."""

    path: ClassVar[str] = "storage.object_lock"

    mode: ObjectLockMode = ObjectLockMode.COMPLIANCE
    """The retention mode. Default: ``COMPLIANCE`` (not even the root user can shorten it)."""
    days: int
    """Default retention of each replicated version, in days."""


class StorageConfig(Model):
    """How long the platform keeps logs and backups. Each value is the one source of both the
    in-cluster retention (Loki, Velero Schedules) and the bucket's lifecycle expiry."""

    path: ClassVar[str] = "storage"

    log_retention_days: int = 30
    """Days Loki keeps logs (its compactor deletes older chunks), 1 to 3650. Default: 30."""
    backup_retention_days: int = 30
    """Days Velero keeps each backup of the workload (the Schedule's ``ttl``), 1 to 3650. Default: 30."""
    cluster_backup_retention_days: int = 0
    """Days Velero keeps each weekly whole-cluster backup; 0 means no whole-cluster Schedule.
    Default: none (the cluster is rebuilt from Git; the workload backup covers the volumes)."""
    replica_region: str = ""
    """A second region (same partition) that keeps replicas of the backup bucket and the state
    bucket, each with its own KMS key. Default: none (production tiers must name one)."""
    object_lock: ObjectLockConfig | None = None
    """S3 Object Lock on the backup replica; needs ``replica_region``. Default: none."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        for name in ("log_retention_days", "backup_retention_days"):
            value = getattr(self, name)
            if not 1 <= value <= 3650:
                raise ConfigError(self.where(name), f"must be between 1 and 3650 days, not {value}")
        if not 0 <= self.cluster_backup_retention_days <= 3650:
            raise ConfigError(
                self.where("cluster_backup_retention_days"),
                f"must be between 0 (off) and 3650 days, not {self.cluster_backup_retention_days}",
            )
        lock = self.object_lock
        if lock is not None:
            if not self.replica_region:
                raise ConfigError(self.where("object_lock"), "locks the backup replica, so it needs a replica_region")
            longest = self.longest_backup_retention_days
            if not 1 <= lock.days <= longest:
                raise ConfigError(
                    f"{self.where('object_lock')}.days",
                    f"must be between 1 and the longest backup retention ({longest} days), not {lock.days}: "
                    "a longer lock keeps backups Velero has already deleted",
                )
        return self

    @property
    def replicated(self) -> bool:
        return bool(self.replica_region)

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


class GitOpsConfig(Model):
    """Where Flux reads the GitOps tree from, and which ref it follows."""

    path: ClassVar[str] = "gitops"

    repository_url: str
    """HTTPS (or ``ssh://git@``) URL of the GitLab repository."""
    channel: Channel
    """What the environment follows: ``main``, release candidates or releases
    (:mod:`environments.model.delivery` derives Flux's ref, the CI rules, the IAM patterns and
    the backend image's tag policy)."""
    backend_image: str = ""
    """The backend's image repository in the GitLab container registry, without a tag. Default:
    the repository's own registry path plus ``/backend`` (``registry.gitlab.com/plato/platform/backend``)."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if not _REPOSITORY_URL.fullmatch(self.repository_url):
            raise ConfigError(self.where("repository_url"), f"'{self.repository_url}' is not an https:// or ssh://git@ repository URL")
        if self.backend_image and not _IMAGE_REPOSITORY.fullmatch(self.backend_image):
            raise ConfigError(
                self.where("backend_image"),
                f"'{self.backend_image}' is not an image repository (<registry host>/<lower-case path>, no tag or digest)",
            )
        return self

    @property
    def track(self) -> Track:
        return track(self.channel)

    @property
    def project_url(self) -> str:
        """The GitLab project's web address (``https://gitlab.com/plato/platform``)."""
        match = _REPOSITORY_URL.fullmatch(self.repository_url)
        assert match is not None
        host = self.repository_url.split("://", 1)[1].split("/", 1)[0].removeprefix("git@").split(":", 1)[0]
        path = self.repository_url.split("://", 1)[1].split("/", 1)[1].removesuffix(".git")
        return f"https://{host}/{path}"

    @property
    def image_repository(self) -> str:
        """The backend image repository: ``backend_image``, or the project's registry path."""
        if self.backend_image:
            return self.backend_image
        host, _, path = self.project_url.removeprefix("https://").partition("/")
        return f"registry.{host}/{path.lower()}/backend"

    @property
    def image_registry(self) -> str:
        """The registry host the pull credentials are for."""
        return self.image_repository.split("/", 1)[0]


# --- the environment --------------------------------------------------------------------------


class EnvironmentConfig(Model):
    """Everything that makes one environment different from another."""

    name: str
    """Short lower-case name (2-10 letters or digits); prefixes stacks, states and resources."""
    tier: Tier
    """How critical the environment is; production-tier rules follow from it."""
    account_id: str
    """The 12-digit AWS account the environment lives in."""
    region: str
    """The AWS region, e.g. ``eu-central-1`` (one of environments/model/facts/aws-regions.tsv)."""
    deploy_role_arn: str
    """IAM role in ``account_id`` that Terraform assumes for every AWS call."""
    owner: str
    """Team that owns the environment; becomes the ``owner`` tag."""
    domain: str
    """DNS domain the environment serves (at most 64 characters: ACM's limit for the
    certificate's name), e.g. ``dev.plato.example.com``."""
    state: StateConfig
    """Where this environment's Terraform states are kept."""
    network: NetworkConfig
    """The VPC."""
    cluster: ClusterConfig
    """The EKS cluster."""
    gitops: GitOpsConfig
    """What Flux syncs."""
    edge: EdgeConfig = EdgeConfig()
    """ALB, certificate, DNS. Default: a new zone for ``domain``, deletion-protected ALB."""
    storage: StorageConfig = StorageConfig()
    """Retention of logs and backups. Default: 30 days each, no whole-cluster backup."""
    tags: dict[str, str] = {}
    """Extra tags on every resource. Default: only environment, owner and managed-by."""
    project: str = "plato"
    """Project name; with ``name`` it prefixes resource names (``plato-dev``). Default: ``plato``."""
    prevent_destroy: bool = True
    """Guard stateful resources (KMS keys, buckets, the cluster) with ``prevent_destroy``.
    Default: guarded; a disposable environment may turn it off."""

    @classmethod
    def environment_of(cls, data: Mapping[str, Any]) -> str | None:
        name = data.get("name")
        return name if isinstance(name, str) and _NAME.fullmatch(name) else None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if not _NAME.fullmatch(self.name):
            raise ConfigError("name", f"'{self.name}' must be 2-10 lower-case letters or digits, starting with a letter")
        try:
            self._identity()
            self._names()
            self._tags()
            self._network_in_region()
            self._tier_rules()
        except ConfigError as err:
            raise err.within(self.name) from None
        return self

    def _identity(self) -> None:
        if not rules.ASCII_DIGITS.fullmatch(self.account_id) or len(self.account_id) != 12:
            raise ConfigError("account_id", f"'{self.account_id}' must be exactly 12 digits (0-9)")
        region = aws.regions().get(self.region)
        if region is None:
            raise ConfigError("region", f"'{self.region}' is not an AWS region (environments/model/facts/aws-regions.tsv)")
        self._role("deploy_role_arn", self.deploy_role_arn, same_account=True)
        for name in ("platform_admin_role_arns", "developer_role_arns", "viewer_role_arns"):
            for arn in getattr(self.cluster, name):
                self._role(f"cluster.{name}", arn)
        for name in ("developer_role_arns", "viewer_role_arns"):
            if self.deploy_role_arn in getattr(self.cluster, name):
                raise ConfigError(f"cluster.{name}", f"'{self.deploy_role_arn}' is the deploy role, which is a cluster admin already")
        if not self.owner.strip() or rules.tag_value("owner", self.owner):
            raise ConfigError("owner", rules.tag_value("owner", self.owner) or "must not be empty")
        if not _PROJECT.fullmatch(self.project):
            raise ConfigError("project", f"'{self.project}' must be 2-12 lower-case letters or digits, starting with a letter")
        replica = self.storage.replica_region
        if replica:
            known = aws.regions().get(replica)
            if known is None:
                raise ConfigError("storage.replica_region", f"'{replica}' is not an AWS region (environments/model/facts/aws-regions.tsv)")
            if replica == self.region:
                raise ConfigError(
                    "storage.replica_region", f"'{replica}' is the environment's own region; a replica must survive its outage"
                )
            if known.partition != region.partition:
                raise ConfigError(
                    "storage.replica_region",
                    f"'{replica}' is in partition {known.partition}, but region {self.region} is in {region.partition}",
                )
        waf = _WAF_ARN.fullmatch(self.edge.waf_web_acl_arn) if self.edge.waf_web_acl_arn else None
        if waf and (waf.group(1), waf.group(2), waf.group(3)) != (self.partition, self.region, self.account_id):
            raise ConfigError(
                "edge.waf_web_acl_arn",
                f"must be a web ACL of this environment's partition, region and account ({self.partition}, {self.region}, {self.account_id})",
            )

    def _role(self, field: str, arn: str, *, same_account: bool = False) -> None:
        parsed = rules.role_arn(arn)
        if isinstance(parsed, str):
            raise ConfigError(field, parsed)
        partition, account, _ = parsed
        if partition != self.partition:
            raise ConfigError(field, f"'{arn}' is in partition {partition}, but region {self.region} is in {self.partition}")
        if same_account and account != self.account_id:
            raise ConfigError(field, f"role account {account} differs from account_id {self.account_id}")

    def _names(self) -> None:
        """The names the environment derives must be ones AWS accepts."""
        problem = rules.dns_name(self.domain, max_length=64)
        if problem:
            raise ConfigError("domain", problem.replace("the limit is 64", "ACM allows 64 for a certificate's domain name"))
        zone = self.hosted_zone
        if not (self.domain == zone or self.domain.endswith("." + zone)):
            raise ConfigError("edge.hosted_zone", f"domain '{self.domain}' is not in the hosted zone '{zone}'")
        for what, name in (("load balancer", self.alb_name), ("target group", self.target_group_name)):
            problem = rules.elb_name(name, what)
            if problem:
                raise ConfigError("name", problem)
        retiring = self.edge.retiring_target_group
        if retiring is not None and retiring.name == self.target_group_name:
            raise ConfigError(
                "edge.retiring_target_group.name", f"'{retiring.name}' is the name of the Gateway's own target group; name the old one"
            )
        for purpose in BUCKET_PURPOSES:
            problem = rules.s3_bucket(self.bucket_name(purpose))
            if problem:
                raise ConfigError("name", f"the {purpose} bucket: {problem}")
        if self.storage.replicated:
            for what, name in (("backup replica", self.backup_replica_bucket), ("state replica", self.state_replica_bucket)):
                problem = rules.s3_bucket(name)
                if problem:
                    raise ConfigError("storage.replica_region", f"the {what} bucket: {problem}")

    def _tags(self) -> None:
        for key, value in self.tags.items():
            problem = rules.tag_key(key) or rules.tag_value(key, value)
            if problem:
                raise ConfigError(key_path("tags", key), problem)
            if key.lower() in _RESERVED_TAG_KEYS:
                raise ConfigError(key_path("tags", key), "is set from the environment's own fields; remove it from tags")
            if key in _RESOURCE_TAG_KEYS:
                raise ConfigError(
                    key_path("tags", key), "is set on each resource by the project and would override this value; choose another key"
                )
            if key.lower().startswith(_NODE_TAG_PREFIXES):
                raise ConfigError(
                    key_path("tags", key),
                    f"uses a prefix Karpenter and EKS keep for the nodes they manage ({', '.join(_NODE_TAG_PREFIXES)}); choose another key",
                )
        total = len(self.default_tags) + max(PROJECT_RESOURCE_TAGS, KARPENTER_INSTANCE_TAGS)
        if total > rules.MAX_TAGS_PER_RESOURCE:
            raise ConfigError(
                "tags",
                f"{len(self.tags)} tags, with the {total - len(self.tags)} the project adds, exceed AWS's {rules.MAX_TAGS_PER_RESOURCE} per resource; "
                f"keep at most {rules.MAX_TAGS_PER_RESOURCE - (total - len(self.tags))}",
            )

    def _network_in_region(self) -> None:
        region = aws.regions()[self.region]
        for zone in self.network.availability_zones:
            if zone not in region.zones:
                raise ConfigError(
                    "network.availability_zones", f"'{zone}' is not a zone of region {self.region} (zones: {', '.join(region.zones)})"
                )
        if self.network.az_count > region.per_account:
            raise ConfigError(
                "network.az_count", f"{self.network.az_count} zones, but an account sees {region.per_account} in region {self.region}"
            )
        if not self.network.availability_zones and region.zones_differ_by_account:
            raise ConfigError(
                "network.availability_zones",
                f"must be pinned in region {self.region}: accounts see different {region.per_account} of its zones "
                f"({', '.join(region.zones)}); list the ones 'aws ec2 describe-availability-zones' shows",
            )

    def _tier_rules(self) -> None:
        if self.tier in (Tier.STAGING, Tier.PRODUCTION):
            if self.cluster.internet_open:
                raise ConfigError(
                    "cluster.public_access_cidrs",
                    f"a {self.tier.value}-tier API endpoint must not be open to the whole internet (0.0.0.0/0, alone or in parts)",
                )
            if not self.edge.alb_deletion_protection:
                raise ConfigError("edge.alb_deletion_protection", f"a {self.tier.value}-tier ALB must be deletion-protected")
        if self.tier is Tier.PRODUCTION:
            if self.network.nat is not NatStrategy.PER_AZ:
                raise ConfigError(
                    "network.nat", "a production-tier environment needs one NAT gateway per AZ ('per-az'), not a single shared one"
                )
            if self.network.az_count < 3:
                raise ConfigError("network.az_count", "a production-tier environment must span at least 3 AZs")
            if not self.prevent_destroy:
                raise ConfigError("prevent_destroy", "a production-tier environment must guard its stateful resources")
            if CapacityType.ON_DEMAND not in self.cluster.karpenter.capacity_types:
                raise ConfigError(
                    "cluster.karpenter.capacity_types", "a production-tier environment needs on-demand capacity, not spot alone"
                )
            if not self.storage.replicated:
                raise ConfigError(
                    "storage.replica_region", "a production-tier environment keeps its backups and states in a second region; name one"
                )
            if not {InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR} <= set(self.network.interface_endpoints):
                raise ConfigError(
                    "network.interface_endpoints",
                    "a production-tier environment pulls images through the 'ecr.api' and 'ecr.dkr' endpoints, not through NAT",
                )

    # --- what the stacks derive from it -------------------------------------------------------

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
    def karpenter_queue_name(self) -> str:
        """Karpenter's interruption queue (SQS names: 80 characters at most)."""
        return f"{self.cluster_name}-karpenter"

    @property
    def karpenter_node_role_name(self) -> str:
        """The IAM role of the nodes Karpenter launches (64 characters at most)."""
        return f"{self.cluster_name}-karpenter-node"

    @property
    def alb_name(self) -> str:
        return f"{self.name_prefix}-edge"

    @property
    def target_group_name(self) -> str:
        """The target group of the Gateway's proxies."""
        return f"{self.name_prefix}-gateway"

    @property
    def hosted_zone(self) -> str:
        """The Route53 zone of the environment's records."""
        return self.edge.hosted_zone or self.domain

    def bucket_name(self, purpose: str) -> str:
        """A globally unique bucket name for ``purpose`` (``loki-chunks``, ``velero``, ...)."""
        return f"{self.name_prefix}-{purpose}-{self.account_id}"

    @property
    def backup_replica_bucket(self) -> str:
        """The Velero bucket's replica in ``storage.replica_region``."""
        return self.bucket_name(f"velero-{self.storage.replica_region}")

    @property
    def state_replica_bucket(self) -> str:
        """The state bucket's replica in ``storage.replica_region``."""
        return f"{self.state.bucket}-{self.storage.replica_region}"

    @property
    def partition(self) -> str:
        """The AWS partition of ``region``."""
        known = aws.regions().get(self.region)
        if known is not None:
            return known.partition
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    @property
    def state_key_prefix(self) -> str:
        return self.state.key_prefix or self.name

    def state_key(self, stack: str) -> str:
        """The S3 key of one of this environment's states."""
        return f"{self.state_key_prefix}/{stack}.tfstate"

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags every AWS resource of the environment carries."""
        return {**dict(self.tags), "environment": self.name, "owner": self.owner, "managed-by": "cdktf"}


#: Every bucket the platform names after the environment (EnvironmentConfig.bucket_name).
BUCKET_PURPOSES = ("loki-chunks", "loki-ruler", "velero", "access-logs")


def validate_fleet(environments: Sequence[EnvironmentConfig]) -> None:
    """Rules that span environments: unique names, disjoint VPCs, own state buckets, own domains.

    A conflict is reported against the environment that comes later in the registry's order
    (the one being added), naming the earlier one it collides with.
    """
    if not environments:
        raise ConfigError("environments", "at least one environment is required")
    seen: set[str] = set()
    for env in environments:
        if env.name in seen:
            raise ConfigError("name", "is defined twice; environment names must be unique", env.name)
        seen.add(env.name)
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
            if later.edge.create_hosted_zone and earlier.edge.create_hosted_zone and later.hosted_zone == earlier.hosted_zone:
                raise ConfigError(
                    "edge.hosted_zone",
                    f"environment '{earlier.name}' creates the zone '{later.hosted_zone}' too; share it with "
                    "create_hosted_zone = False in one of them",
                    later.name,
                )
