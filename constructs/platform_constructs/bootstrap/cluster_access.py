"""Kubernetes and helm providers that reach a cluster created in another stack.

The endpoint, CA and cluster name arrive through cdktf cross-stack references (a
``terraform_remote_state`` of the platform stack), so no provider of the bootstrap stack
depends on a resource in its own state, and the token is fetched at plan/apply time with
``aws eks get-token`` as the environment's deploy role: nothing long-lived is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes, HelmProviderKubernetesExec
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from constructs import Construct

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


@dataclass(frozen=True, kw_only=True)
class ClusterAccessProps:
    """Props of :func:`cluster_providers`."""

    cluster_name: str
    """Name of the EKS cluster (a cross-stack reference)."""
    endpoint: str
    """API endpoint (a cross-stack reference)."""
    certificate_authority: str
    """Base64 CA bundle (a cross-stack reference)."""
    region: str
    """Region of the cluster."""
    role_arn: str
    """Role ``aws eks get-token`` assumes; it must have an access entry (the deploy role)."""


def token_args(p: ClusterAccessProps) -> list[str]:
    return ["eks", "get-token", "--cluster-name", p.cluster_name, "--region", p.region, "--role-arn", p.role_arn, "--output", "json"]


def cluster_providers(scope: Construct, props: ClusterAccessProps) -> tuple[KubernetesProvider, HelmProvider]:
    """The kubernetes and helm providers of a bootstrap stack."""
    ca = Fn.base64decode(props.certificate_authority)
    kubernetes = KubernetesProvider(
        scope,
        "kubernetes",
        host=props.endpoint,
        cluster_ca_certificate=ca,
        exec=[KubernetesProviderExec(api_version=EXEC_API_VERSION, command="aws", args=token_args(props))],
    )
    helm = HelmProvider(
        scope,
        "helm",
        kubernetes=HelmProviderKubernetes(
            host=props.endpoint,
            cluster_ca_certificate=ca,
            exec=HelmProviderKubernetesExec(api_version=EXEC_API_VERSION, command="aws", args=token_args(props)),
        ),
    )
    return kubernetes, helm
