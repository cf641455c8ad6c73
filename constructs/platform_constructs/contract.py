"""The names Terraform and the GitOps tree must agree on, in one place.

The platform stack grants AWS rights to Kubernetes service accounts (EKS Pod Identity
associations name a namespace and a service account); the GitOps tree (``gitops/``)
deploys the workloads that run as those service accounts. The bootstrap stack writes the
platform's Terraform outputs into one ConfigMap that Flux substitutes from. Tests read
both sides against this module, so a rename on one side fails the build instead of
silently breaking a permission in a live cluster.
"""

from __future__ import annotations

from dataclasses import dataclass


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

WORKLOAD_IDENTITIES: tuple[WorkloadIdentity, ...] = (LOKI, EXTERNAL_DNS, VELERO, VAULT, EBS_CSI)

#: The ConfigMap (in ``flux-system``) that carries Terraform outputs into the GitOps tree.
OUTPUTS_CONFIGMAP_NAMESPACE = "flux-system"
OUTPUTS_CONFIGMAP_NAME = "platform-outputs"

#: Keys of that ConfigMap; Flux Kustomizations substitute ``${KEY}`` from them.
OUTPUT_KEYS: tuple[str, ...] = (
    "ENVIRONMENT",
    "CLUSTER_NAME",
    "AWS_REGION",
    "AWS_ACCOUNT_ID",
    "DOMAIN",
    "HOSTED_ZONE_ID",
    "CERTIFICATE_ARN",
    "ALB_DNS_NAME",
    "INGRESS_NODE_PORT",
    "INGRESS_TARGET_GROUP_ARN",
    "LOKI_CHUNKS_BUCKET",
    "LOKI_RULER_BUCKET",
    "VELERO_BUCKET",
    "VAULT_KMS_KEY_ID",
    "DEVELOPERS_GROUP",
)

#: Namespace of the seed's workload.
APP_NAMESPACE = "project-plato"

#: Fixed NodePort of ingress-nginx's HTTP port; the ALB target group forwards to it.
INGRESS_NODE_PORT = 30080


def workload_role_name(name_prefix: str, identity: WorkloadIdentity) -> str:
    """The IAM role name of a workload identity (``plato-dev-loki``).

    Deterministic, so bucket and key policies can name the role without a Terraform
    reference cycle between the buckets and the roles that use them.
    """
    return f"{name_prefix}-{identity.component}"


def workload_role_arn(partition: str, account_id: str, name_prefix: str, identity: WorkloadIdentity) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{workload_role_name(name_prefix, identity)}"
