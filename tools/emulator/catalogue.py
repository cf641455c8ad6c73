"""What the emulator cannot model: the resource types left out of apply, and moto's quirks.

This is the one place that says what emulator mode leaves out or reads differently from AWS;
``docs/emulator.md`` explains each entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Exclusion:
    """A resource type left out of apply/destroy in emulator mode (it is still planned)."""

    resource_type: str
    stack_kinds: tuple[str, ...]
    """The kinds of stack (``platform``, ``state``) the exclusion applies to."""
    reason: str
    """Why the emulator cannot apply it: what moto lacks or does differently."""


EXCLUDED_RESOURCE_TYPES: Final[tuple[Exclusion, ...]] = (
    Exclusion(
        "aws_eks_addon",
        ("platform",),
        "moto does not model EKS add-ons (no /clusters/<name>/addons API): vpc-cni, kube-proxy, coredns, "
        "eks-pod-identity-agent and aws-ebs-csi-driver are planned only",
    ),
    Exclusion(
        "aws_eks_access_entry",
        ("platform",),
        "moto does not model EKS access entries (nor the cluster's access_config they need)",
    ),
    Exclusion(
        "aws_eks_access_policy_association",
        ("platform",),
        "moto does not model EKS access policy associations",
    ),
    Exclusion(
        "aws_eks_pod_identity_association",
        ("platform",),
        "moto does not model EKS Pod Identity associations",
    ),
    Exclusion(
        "aws_autoscaling_attachment",
        ("platform",),
        "moto's EKS node groups report an Auto Scaling group name (eks-<uuid>) but create no Auto Scaling group, "
        "so attaching the ALB target group to it fails with HTTP 500",
    ),
    Exclusion(
        "aws_ec2_tag",
        ("platform",),
        "moto's EKS clusters have no cluster security group (cluster_security_group_id is empty), so there is nothing "
        "to put Karpenter's discovery tag on",
    ),
    Exclusion(
        "aws_s3_bucket_logging",
        ("platform",),
        "moto checks the target bucket's policy for the S3 logging service and crashes (HTTP 500, AttributeError) "
        'on any statement whose Principal is the string "*" - every bucket here starts with a TLS-only Deny for "*"',
    ),
    Exclusion(
        "aws_s3_bucket_policy",
        ("state",),
        "moto evaluates bucket policies on object requests but ignores their Condition blocks, so the state bucket's "
        "TLS-only Deny (aws:SecureTransport=false) would deny every object request, Terraform's own state reads and "
        "writes included; the platform buckets' policies are applied",
    ),
    Exclusion(
        "aws_s3_bucket_lifecycle_configuration",
        ("state",),
        "moto drops NoncurrentVersionExpiration.NewerNoncurrentVersions, which the state bucket's rule sets, so the "
        "provider's wait for the rule to read back as written times out (3 min); the platform buckets' rules are applied",
    ),
)
"""The one switch. In emulator mode every resource of these types (in the listed kinds of
stack) is planned with everything else, then left out of apply, destroy and re-plans with
``count = 0`` in ``emulator_exclusions_override.tf.json``; the tooling prints each excluded
address. Nothing else is left out. (Terraform has no "exclude" option, and ``-target`` cannot
be used: it always pulls in a target's dependencies, and the node group ``depends_on`` three
of the add-ons.)"""


@dataclass(frozen=True)
class Quirk:
    """An attribute moto reports differently from AWS, so a re-plan after apply shows a change."""

    resource_type: str
    attribute: str
    reason: str


EMULATOR_QUIRKS: Final[tuple[Quirk, ...]] = (
    Quirk(
        "aws_eks_node_group",
        "remote_access",
        'moto invents remote_access {ec2_ssh_key = "eksKeypair"} for every node group, even one with a launch '
        "template (AWS returns none); remote_access forces replacement",
    ),
    Quirk(
        "aws_eks_node_group",
        "update_config",
        "moto's CreateNodegroup ignores updateConfig (max_unavailable_percentage), so DescribeNodegroup returns none",
    ),
    Quirk(
        "aws_eks_cluster",
        "access_config",
        "moto does not model access_config (authentication_mode = API, bootstrap_cluster_creator_admin_permissions): "
        "DescribeCluster returns none, and bootstrap_cluster_creator_admin_permissions forces replacement",
    ),
    Quirk(
        "aws_eks_cluster",
        "upgrade_policy",
        "moto does not model upgrade_policy (support_type = STANDARD): DescribeCluster returns none",
    ),
    Quirk(
        "aws_acm_certificate",
        "key_algorithm",
        "moto ignores KeyAlgorithm and reports every certificate as RSA_2048 (the product asks for EC_prime256v1); "
        "key_algorithm forces replacement",
    ),
    Quirk(
        "aws_launch_template",
        "vpc_security_group_ids",
        "moto's EKS clusters have no cluster security group (cluster_security_group_id is empty), so the template's "
        "first security group is an empty string that moto drops",
    ),
    Quirk(
        "aws_launch_template",
        "tag_specifications",
        "moto reports the template's own tags (the provider's default_tags) back as a tag specification of type \"launch-template\"",
    ),
    Quirk(
        "aws_s3_bucket_replication_configuration",
        "rule",
        "moto stores a replication rule without its SourceSelectionCriteria (sse_kms_encrypted_objects) and reports "
        "DeleteMarkerReplication as Disabled; it replicates no object either",
    ),
    Quirk(
        "aws_vpc_security_group_ingress_rule",
        "description",
        "moto returns a rule's description only for CIDR rules, not for rules that reference another security group",
    ),
    Quirk(
        "aws_vpc_security_group_egress_rule",
        "description",
        "moto returns a rule's description only for CIDR rules, not for rules that reference another security group",
    ),
)
"""Differences a re-plan after apply shows that come from moto, not from the product.
They are reported, never hidden in the product: the tier asserts that the re-plan changes
exactly these attributes (plus what is replaced because of them), then re-plans with
``ignore_changes`` on them - only in the emulator copy - and requires no changes at all."""


def stack_kind(stack_name: str) -> str:
    """``dev-platform`` -> ``platform``."""
    return stack_name.rsplit("-", 1)[-1]


def excluded_types(kind: str) -> dict[str, str]:
    """Resource type -> reason, for one kind of stack."""
    return {e.resource_type: e.reason for e in EXCLUDED_RESOURCE_TYPES if kind in e.stack_kinds}


def quirks_by_type() -> dict[str, list[Quirk]]:
    found: dict[str, list[Quirk]] = {}
    for quirk in EMULATOR_QUIRKS:
        found.setdefault(quirk.resource_type, []).append(quirk)
    return found
