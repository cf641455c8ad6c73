"""Flux, installed by the Flux Operator, syncing the environment's folder of the GitOps tree.

Three releases, in order: the operator (its CRDs carry ``helm.sh/resource-policy: keep``),
a ``FluxInstance`` (the Flux controllers, with Flux's network policies on), and the sync
objects — a ``GitRepository`` and the root ``Kustomization`` (path ``gitops/clusters/<env>``,
prune on) — through the local ``raw-manifests`` chart, so that the sync names its read-only
credentials Secret and its ref exactly (a branch, or the tag the deploy job deployed).
See docs/decisions/0015-flux-operator.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from platform_constructs import contract
from platform_constructs.bootstrap.charts import FLUX_DISTRIBUTION, FLUX_INSTANCE, FLUX_OPERATOR, pinned_release
from platform_constructs.bootstrap.raw_manifests import raw_manifests_release

SYNC_NAME = "flux-system"


@dataclass(frozen=True, kw_only=True)
class FluxProps:
    """Props of :class:`Flux`."""

    repository_url: str
    """The GitLab repository Flux reads."""
    git_ref: Mapping[str, str]
    """``GitRepository.spec.ref``: ``{"branch": "main"}`` or ``{"tag": "<tag>"}`` (derived from
    the environment's delivery channel)."""
    path: str
    """Folder of the GitOps tree the root Kustomization applies (``./gitops/clusters/dev``)."""
    namespace: str = "flux-system"
    """Namespace of Flux. Default: ``flux-system``."""
    git_secret_name: str = "flux-system-git"
    """Secret with read-only credentials (``username``/``password`` of a GitLab deploy token with
    ``read_repository``), created outside Terraform so it never lands in state (README)."""
    interval: str = "1m"
    """How often Flux polls the repository. Default: one minute."""

    def __post_init__(self) -> None:
        if len(self.git_ref) != 1 or not set(self.git_ref) <= {"branch", "tag"}:
            raise ValueError(f"git_ref {dict(self.git_ref)} must name one branch or tag")
        if not self.path.startswith("./"):
            raise ValueError(f"path '{self.path}' must be relative to the repository root ('./...')")


def flux_operator_values() -> dict[str, Any]:
    return {
        "installCRDs": True,
        "web": {"enabled": False},
        "serviceMonitor": {"create": False},
        "priorityClassName": "system-cluster-critical",
    }


def flux_instance_values() -> dict[str, Any]:
    return {
        "instance": {
            "distribution": {"version": FLUX_DISTRIBUTION, "registry": "ghcr.io/fluxcd"},
            # The image controllers reflect the backend's registry and write the newest tag of the
            # environment's channel into Git (docs/decisions/0024).
            "components": [
                "source-controller",
                "kustomize-controller",
                "helm-controller",
                "notification-controller",
                "image-reflector-controller",
                "image-automation-controller",
            ],
            "cluster": {"type": "aws", "networkPolicy": True, "multitenant": False, "domain": "cluster.local"},
        }
    }


def sync_objects(p: FluxProps) -> list[dict[str, Any]]:
    """The GitRepository and the root Kustomization."""
    meta = {"name": SYNC_NAME, "namespace": p.namespace}
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": meta,
            "spec": {"interval": p.interval, "url": p.repository_url, "ref": dict(p.git_ref), "secretRef": {"name": p.git_secret_name}},
        },
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": meta,
            "spec": {
                "interval": "10m",
                "retryInterval": "1m",
                "timeout": "5m",
                "path": p.path,
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": SYNC_NAME},
                # The cluster folder's layers name their overlays with ${ENVIRONMENT}.
                "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": contract.OUTPUTS_CONFIGMAP_NAME}]},
            },
        },
    ]


class Flux(Construct):
    """The Flux Operator, a FluxInstance and the root sync of the environment."""

    def __init__(self, scope: Construct, id: str, *, props: FluxProps, depends_on: list[Any]) -> None:
        super().__init__(scope, id)
        p = props
        self.props = p
        self.operator = pinned_release(
            self,
            "operator",
            chart=FLUX_OPERATOR,
            name="flux-operator",
            namespace=p.namespace,
            values=flux_operator_values(),
            depends_on=depends_on,
        )
        self.instance = pinned_release(
            self,
            "instance",
            chart=FLUX_INSTANCE,
            name="flux",
            namespace=p.namespace,
            values=flux_instance_values(),
            depends_on=[self.operator],
        )
        self.sync = raw_manifests_release(
            self, "sync", name="flux-sync", namespace=p.namespace, objects=sync_objects(p), depends_on=[self.instance]
        )
