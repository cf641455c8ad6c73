"""What Terraform and the GitOps tree must agree on, in one typed object.

The platform stack builds one :class:`PlatformContract` from its constructs. From it are
derived, and from nowhere else:

- the platform stack's Terraform outputs (:meth:`PlatformContract.terraform_outputs`);
- the ``flux-system/platform-outputs`` ConfigMap the bootstrap stack writes, whose keys Flux
  substitutes into the GitOps tree as ``${KEY}`` (:meth:`PlatformContract.config_map`);
- the tests' stand-in for that ConfigMap (:func:`placeholder_contract`), built by the same
  derivation from the environment's configuration, with plausible values only where AWS
  generates them (ids, ARNs, DNS names).

Values that cross the seam and come from configuration (the ingress node port, the domain,
Loki's retention, each Velero Schedule's TTL) are derived from the same configuration fields
as the AWS resources that must agree with them (the target group's port, the buckets' expiry).

This module imports no cdktf, so the GitOps tests and tools can use it without a synth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from environments.model import EnvironmentConfig
from environments.model.config import KARPENTER_CONTROLLER_REPLICAS


@dataclass(frozen=True)
class WorkloadIdentity:
    """A Kubernetes service account that receives an AWS role through EKS Pod Identity."""

    component: str
    namespace: str
    service_account: str


LOKI = WorkloadIdentity("loki", "monitoring", "loki")
EXTERNAL_DNS = WorkloadIdentity("external-dns", "external-dns", "external-dns")
VELERO = WorkloadIdentity("velero", "velero", "velero-server")
VAULT = WorkloadIdentity("vault", "vault", "vault")
EBS_CSI = WorkloadIdentity("ebs-csi", "kube-system", "ebs-csi-controller-sa")
KARPENTER = WorkloadIdentity("karpenter", "kube-system", "karpenter")
VAULT_SNAPSHOT = WorkloadIdentity("vault-snapshot", "vault", "vault-snapshot")

WORKLOAD_IDENTITIES: tuple[WorkloadIdentity, ...] = (LOKI, EXTERNAL_DNS, VELERO, VAULT, EBS_CSI, KARPENTER, VAULT_SNAPSHOT)

#: Where Vault's raft snapshots go in the backup bucket (next to Velero's ``<cluster>/`` prefix).
VAULT_SNAPSHOT_PREFIX = "vault-snapshots/"

#: The ConfigMap (in ``flux-system``) that carries the contract into the GitOps tree.
OUTPUTS_CONFIGMAP_NAMESPACE = "flux-system"
OUTPUTS_CONFIGMAP_NAME = "platform-outputs"

#: Namespace of the seed's workload.
APP_NAMESPACE = "project-plato"

#: The path the ALB's target group probes on every node's ingress port, which the in-cluster
#: Gateway's proxies answer themselves (a ClientTrafficPolicy of the edge Gateway).
INGRESS_HEALTH_CHECK_PATH = "/healthz"


def workload_role_name(name_prefix: str, identity: WorkloadIdentity) -> str:
    """The IAM role name of a workload identity (``plato-dev-loki``).

    Deterministic, so bucket and key policies can name the role without a Terraform
    reference cycle between the buckets and the roles that use them.
    """
    return f"{name_prefix}-{identity.component}"


def workload_role_arn(partition: str, account_id: str, name_prefix: str, identity: WorkloadIdentity) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{workload_role_name(name_prefix, identity)}"


def hours(days: int) -> str:
    """A duration in days as Go's ``time.Duration`` text (Loki's and Velero's format): ``7`` -> ``168h``."""
    return f"{days * 24}h"


# --- the contract ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """How one contract value leaves the platform stack."""

    output: str | None
    """Name of the platform stack's Terraform output, or ``None``."""
    key: str | None
    """Key of the outputs ConfigMap the GitOps tree substitutes, or ``None``."""
    description: str


def _f(output: str | None, key: str | None, description: str) -> Any:
    from dataclasses import field

    return field(metadata={"contract": Field(output, key, description)})


@dataclass(frozen=True, kw_only=True)
class Generated:
    """What only AWS knows once the platform is applied: ids, ARNs, endpoints, DNS names.

    In the platform stack each is a Terraform reference (a token); in tests each is a
    plausible stand-in (:func:`placeholder_generated`)."""

    vpc_id: str
    private_subnet_ids: Sequence[str]
    public_subnet_ids: Sequence[str]
    cluster_name: str
    cluster_arn: str
    cluster_endpoint: str
    cluster_certificate_authority: str
    cluster_oidc_issuer: str
    cluster_security_group_id: str
    cluster_secrets_kms_key_arn: str
    log_kms_key_arn: str
    storage_kms_key_arn: str
    vault_kms_key_id: str
    vault_kms_key_arn: str
    role_arns: Mapping[str, str]
    """Pod Identity role ARN per :data:`WORKLOAD_IDENTITIES` component."""
    hosted_zone_id: str
    hosted_zone_name_servers: Sequence[str]
    certificate_arn: str
    alb_dns_name: str
    ingress_target_group_arn: str
    loki_chunks_bucket: str
    loki_ruler_bucket: str
    velero_bucket: str


@dataclass(frozen=True, kw_only=True)
class PlatformContract:
    """Every value the platform hands on: to the bootstrap stack, to operators (outputs) and
    to the GitOps tree (ConfigMap keys). Field metadata says where each one goes."""

    environment: str = _f(None, "ENVIRONMENT", "Name of the environment")
    aws_region: str = _f(None, "AWS_REGION", "Region of the environment")
    vpc_id: str = _f("vpc_id", None, "VPC of the environment")
    private_subnet_ids: Sequence[str] = _f("private_subnet_ids", None, "Private subnets (nodes)")
    public_subnet_ids: Sequence[str] = _f("public_subnet_ids", None, "Public subnets (ALB, NAT)")
    cluster_name: str = _f("cluster_name", "CLUSTER_NAME", "EKS cluster name")
    cluster_arn: str = _f("cluster_arn", None, "EKS cluster ARN")
    cluster_endpoint: str = _f("cluster_endpoint", None, "Kubernetes API endpoint")
    cluster_certificate_authority: str = _f("cluster_certificate_authority", None, "Base64 CA bundle of the API endpoint")
    cluster_oidc_issuer: str = _f("cluster_oidc_issuer", None, "OIDC issuer of the cluster")
    cluster_security_group_id: str = _f("cluster_security_group_id", None, "Security group EKS created for the cluster")
    cluster_secrets_kms_key_arn: str = _f("cluster_secrets_kms_key_arn", None, "KMS key encrypting Kubernetes Secrets")
    log_kms_key_arn: str = _f("log_kms_key_arn", None, "KMS key of the CloudWatch log groups")
    storage_kms_key_arn: str = _f("storage_kms_key_arn", None, "KMS key of the Loki and Velero buckets")
    vault_kms_key_id: str = _f("vault_kms_key_id", None, "KMS key Vault auto-unseals with")
    vault_kms_key_arn: str = _f("vault_kms_key_arn", None, "ARN of Vault's unseal key")
    role_arns: Mapping[str, str] = _f(None, None, "Pod Identity role ARN per component (outputs <component>_role_arn)")
    domain: str = _f("domain", "DOMAIN", "The environment's domain")
    hosted_zone_id: str = _f("hosted_zone_id", "HOSTED_ZONE_ID", "Route53 zone of the domain")
    hosted_zone_name_servers: Sequence[str] = _f("hosted_zone_name_servers", None, "Name servers to delegate the zone to")
    certificate_arn: str = _f("certificate_arn", None, "ACM certificate of the domain and its wildcard")
    alb_dns_name: str = _f("alb_dns_name", "ALB_DNS_NAME", "DNS name of the ALB")
    ingress_target_group_arn: str = _f("ingress_target_group_arn", None, "Target group the ALB forwards to")
    ingress_node_port: int = _f(
        "ingress_node_port", "INGRESS_NODE_PORT", "NodePort the Gateway's proxies listen on; the ALB forwards to it"
    )
    ingress_health_check_path: str = _f(
        None, "INGRESS_HEALTH_CHECK_PATH", "Path the ALB's target group probes on the node port; the Gateway's proxies answer it"
    )
    loki_chunks_bucket: str = _f("loki_chunks_bucket", "LOKI_CHUNKS_BUCKET", "Loki chunks bucket")
    loki_ruler_bucket: str = _f("loki_ruler_bucket", "LOKI_RULER_BUCKET", "Loki ruler bucket")
    loki_retention: str = _f(None, "LOKI_RETENTION", "Loki's retention_period (the chunks bucket expires objects a margin later)")
    velero_bucket: str = _f("velero_bucket", "VELERO_BUCKET", "Velero backup bucket")
    velero_backup_ttl: str = _f(None, "VELERO_BACKUP_TTL", "TTL of the workload's backups (the bucket expires objects a margin later)")
    velero_cluster_backup_ttl: str | None = _f(
        None, "VELERO_CLUSTER_BACKUP_TTL", "TTL of the weekly whole-cluster backups; absent when the environment takes none"
    )
    developers_group: str = _f("developers_group", "DEVELOPERS_GROUP", "Kubernetes group of the developers")
    git_repository_url: str = _f(None, "GIT_REPOSITORY_URL", "The GitOps repository (the image automation's source)")
    gitlab_project_url: str = _f(None, "GITLAB_PROJECT_URL", "The GitLab project that receives Flux's commit statuses")
    backend_image_repository: str = _f(None, "BACKEND_IMAGE_REPOSITORY", "The backend's image repository that Flux scans")
    image_registry: str = _f(None, "IMAGE_REGISTRY", "The registry host of the pull credentials")
    karpenter_queue: str = _f("karpenter_queue", "KARPENTER_QUEUE", "Karpenter's interruption queue")
    karpenter_node_role: str = _f("karpenter_node_role", "KARPENTER_NODE_ROLE", "IAM role of the nodes Karpenter launches")
    karpenter_replicas: str = _f(
        None, "KARPENTER_REPLICAS", "Karpenter's controller replicas (the node groups keep at least as many nodes)"
    )
    karpenter_ami_alias: str = _f(None, "KARPENTER_AMI_ALIAS", "The node AMI release as Karpenter's alias (the node groups' release)")
    karpenter_capacity_types: str = _f(None, "KARPENTER_CAPACITY_TYPES", "JSON list of the capacity types Karpenter may buy")
    karpenter_cpu_limit: str = _f(None, "KARPENTER_CPU_LIMIT", "vCPUs of all Karpenter nodes together, at most")
    karpenter_memory_limit: str = _f(None, "KARPENTER_MEMORY_LIMIT", "Memory of all Karpenter nodes together, at most")
    karpenter_disruption_budget: str = _f(None, "KARPENTER_DISRUPTION_BUDGET", "Share of Karpenter's nodes it may disrupt at once")
    system_node_groups: str = _f(None, "SYSTEM_NODE_GROUPS", "JSON list of the managed node groups, where Karpenter itself runs")
    vault_snapshot_prefix: str = _f(None, "VAULT_SNAPSHOT_PREFIX", "Key prefix of Vault's raft snapshots in the backup bucket")
    node_tags: str = _f(None, "NODE_TAGS", "JSON map of the tags of every node and volume (the provider's default_tags)")

    @classmethod
    def build(cls, env: EnvironmentConfig, generated: Generated) -> PlatformContract:
        """The contract of ``env``: configuration-derived values plus what AWS generates."""
        storage, karpenter = env.storage, env.cluster.karpenter
        values = {f.name: getattr(generated, f.name) for f in fields(Generated)}
        return cls(
            environment=env.name,
            aws_region=env.region,
            domain=env.domain,
            ingress_node_port=env.edge.ingress_node_port,
            ingress_health_check_path=INGRESS_HEALTH_CHECK_PATH,
            loki_retention=hours(storage.log_retention_days),
            velero_backup_ttl=hours(storage.backup_retention_days),
            vault_snapshot_prefix=VAULT_SNAPSHOT_PREFIX,
            velero_cluster_backup_ttl=hours(storage.cluster_backup_retention_days) if storage.cluster_backup_retention_days else None,
            developers_group=env.cluster.developers_group,
            git_repository_url=env.gitops.repository_url,
            gitlab_project_url=env.gitops.project_url,
            backend_image_repository=env.gitops.image_repository,
            image_registry=env.gitops.image_registry,
            karpenter_queue=env.karpenter_queue_name,
            karpenter_node_role=env.karpenter_node_role_name,
            karpenter_replicas=str(KARPENTER_CONTROLLER_REPLICAS),
            karpenter_ami_alias=env.cluster.karpenter_ami_alias,
            karpenter_capacity_types=json.dumps([c.karpenter for c in karpenter.capacity_types]),
            karpenter_cpu_limit=str(karpenter.cpu_limit),
            karpenter_memory_limit=f"{karpenter.memory_limit_gib}Gi",
            karpenter_disruption_budget=f"{karpenter.max_disrupted_percent}%",
            system_node_groups=json.dumps([g.name for g in env.cluster.node_groups]),
            node_tags=json.dumps(dict(sorted(env.default_tags.items()))),
            **values,
        )

    def config_map(self) -> dict[str, str]:
        """The ``platform-outputs`` ConfigMap: every key whose value is set, as text."""
        data: dict[str, str] = {}
        for f in fields(self):
            spec: Field = f.metadata["contract"]
            value = getattr(self, f.name)
            if spec.key is not None and value is not None:
                data[spec.key] = str(value)
        return data

    def terraform_outputs(self) -> list[tuple[str, Any, str]]:
        """``(name, value, description)`` of every Terraform output of the platform stack."""
        found: list[tuple[str, Any, str]] = []
        for f in fields(self):
            spec: Field = f.metadata["contract"]
            if spec.output is not None:
                found.append((spec.output, getattr(self, f.name), spec.description))
        for identity in WORKLOAD_IDENTITIES:
            found.append(
                (
                    f"{identity.component.replace('-', '_')}_role_arn",
                    self.role_arns[identity.component],
                    f"Pod Identity role of {identity.component}",
                )
            )
        return found


def config_map_keys() -> tuple[str, ...]:
    """Every key the ConfigMap can carry (some only in some environments)."""
    return tuple(f.metadata["contract"].key for f in fields(PlatformContract) if f.metadata["contract"].key)


# --- plausible stand-ins for tests and docs -------------------------------------------------


def placeholder_generated(env: EnvironmentConfig) -> Generated:
    """What AWS would report for ``env``: names exactly as the platform stack sets them,
    made-up ids and ARNs of the right shape where AWS chooses them."""
    account, region, prefix = env.account_id, env.region, env.name_prefix
    digits = account[-4:]
    return Generated(
        vpc_id=f"vpc-0{digits}aaaabbbbcccc",
        private_subnet_ids=[f"subnet-0{digits}{i:04d}private" for i in range(env.network.az_count)],
        public_subnet_ids=[f"subnet-0{digits}{i:04d}public" for i in range(env.network.az_count)],
        cluster_name=env.cluster_name,
        cluster_arn=f"arn:{env.partition}:eks:{region}:{account}:cluster/{env.cluster_name}",
        cluster_endpoint=f"https://{digits}ABCDEF0123456789.gr7.{region}.eks.amazonaws.com",
        cluster_certificate_authority="LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
        cluster_oidc_issuer=f"https://oidc.eks.{region}.amazonaws.com/id/{digits}ABCDEF0123456789",
        cluster_security_group_id=f"sg-0{digits}cluster0000",
        cluster_secrets_kms_key_arn=f"arn:{env.partition}:kms:{region}:{account}:key/0000{digits}-0000-4000-8000-000000000001",
        log_kms_key_arn=f"arn:{env.partition}:kms:{region}:{account}:key/0000{digits}-0000-4000-8000-000000000002",
        storage_kms_key_arn=f"arn:{env.partition}:kms:{region}:{account}:key/0000{digits}-0000-4000-8000-000000000003",
        vault_kms_key_id=f"0000{digits}-0000-4000-8000-000000000004",
        vault_kms_key_arn=f"arn:{env.partition}:kms:{region}:{account}:key/0000{digits}-0000-4000-8000-000000000004",
        role_arns={i.component: workload_role_arn(env.partition, account, prefix, i) for i in WORKLOAD_IDENTITIES},
        hosted_zone_id=f"Z0{digits}{env.name.upper():A<14}"[:21],
        hosted_zone_name_servers=["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"],
        certificate_arn=f"arn:{env.partition}:acm:{region}:{account}:certificate/0f6d1c2e-5b7a-4c1d-9e8f-00000000{digits}",
        alb_dns_name=f"{env.alb_name}-1234567890.{region}.elb.amazonaws.com",
        ingress_target_group_arn=f"arn:{env.partition}:elasticloadbalancing:{region}:{account}:targetgroup/{env.target_group_name}/73e2d6bc24d8a067",
        loki_chunks_bucket=env.bucket_name("loki-chunks"),
        loki_ruler_bucket=env.bucket_name("loki-ruler"),
        velero_bucket=env.bucket_name("velero"),
    )


def placeholder_contract(env: EnvironmentConfig) -> PlatformContract:
    """The contract ``env``'s platform stack would hand on once applied."""
    return PlatformContract.build(env, placeholder_generated(env))
