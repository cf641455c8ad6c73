"""The CRDs the tests validate custom resources against: those the pinned versions install.

Each entry names what installs the CRDs (a chart at its pinned version, or the Flux
distribution the FluxInstance asks for) and the pinned upstream files of exactly that
version (:mod:`tools.pins.upstream`). ``make test`` fails when a pin moves and its entry does
not, so a custom resource is never checked against an API the cluster would not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tools.pins.upstream import files_under, materialize


@dataclass(frozen=True)
class CrdSource:
    installer: str
    """A chart name, or ``flux`` for the Flux distribution."""
    version: str
    """The pinned version of the installer this entry's files belong to."""
    prefixes: tuple[str, ...]
    """Paths below ``shared/`` whose pinned files are the installer's CRDs."""
    repository: str = ""
    """For CRDs Flux applies straight from upstream (gitops/clusters/base/crds.yaml): the Git
    repository; ``version`` is then its tag."""
    path: str = ""
    """The directory of that repository Flux applies."""
    commit: str = ""
    """The commit the tag points at; the pinned files are read from it."""


CRD_SOURCES: tuple[CrdSource, ...] = (
    CrdSource("kube-prometheus-stack", "88.5.3", ("catalog/charts/kube-prometheus-stack/88.5.3/crds/",)),
    CrdSource("velero", "12.1.0", ("catalog/charts/velero/12.1.0/crds/",)),
    CrdSource("flagger", "1.44.0", ("catalog/charts/flagger/1.44.0/crds/",)),
    CrdSource("external-dns", "1.21.1", ("catalog/charts/external-dns/1.21.1/crds/",)),
    CrdSource("karpenter", "1.14.1", ("schemas/crds/karpenter.sh/", "schemas/crds/karpenter.k8s.aws/")),
    # Applied by Flux from upstream at these tags (gitops/clusters/base/crds.yaml).
    CrdSource(
        "gateway-api",
        "v1.6.1",
        ("schemas/crds/gateway.networking.k8s.io/",),
        repository="https://github.com/kubernetes-sigs/gateway-api",
        path="config/crd/standard",
        commit="8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3",
    ),
    CrdSource(
        "envoy-gateway",
        "v1.9.0",
        ("catalog/charts/gateway-helm/v1.9.0/crds/generated/",),
        repository="https://github.com/envoyproxy/gateway",
        path="charts/gateway-helm/charts/crds/crds/generated",
        commit="39763b1c07ec30a5526fe70434a2cfe4181de642",
    ),
    CrdSource("external-secrets", "2.9.0", ("schemas/crds/external-secrets.io/",)),
    CrdSource("cert-manager", "v1.21.1", ("schemas/crds/cert-manager.io/", "schemas/crds/acme.cert-manager.io/")),
    CrdSource("flux-operator", "0.58.1", ("schemas/crds/fluxcd.controlplane.io/",)),
    # Flux 2.9.x (the FluxInstance's distribution): source v1.9, kustomize v1.9, helm v1.6,
    # notification v1.9 controllers.
    CrdSource(
        "flux",
        "2.9.x",
        (
            "schemas/crds/source.toolkit.fluxcd.io/",
            "schemas/crds/kustomize.toolkit.fluxcd.io/",
            "schemas/crds/helm.toolkit.fluxcd.io/",
            "schemas/crds/notification.toolkit.fluxcd.io/",
            # image-reflector v1.2 and image-automation v1.2, which the FluxInstance enables.
            "schemas/crds/image.toolkit.fluxcd.io/",
        ),
    ),
)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.1 reads a bare ``=`` (an enum value in the Prometheus CRDs) as the ``value`` tag;
    it is the string ``=``."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def crd_paths() -> list[str]:
    paths = [p for source in CRD_SOURCES for prefix in source.prefixes for p in files_under(prefix)]
    return [p for p in paths if p.endswith((".yaml", ".yml"))]


def crd_files() -> list[Path]:
    """Local, verified copies of every CRD file (see :func:`tools.pins.upstream.materialize`)."""
    return [materialize(p) for p in crd_paths()]


@cache
def served_schemas() -> dict[tuple[str, str], dict[str, Mapping[str, Any]]]:
    """openAPIV3Schema of every served version: (group, kind) -> version -> schema."""
    found: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {}
    for path in crd_files():
        for doc in yaml.load_all(path.read_text(), Loader=_Loader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            versions = found.setdefault((spec["group"], spec["names"]["kind"]), {})
            for version in spec["versions"]:
                if version.get("served"):
                    versions[version["name"]] = version["schema"]["openAPIV3Schema"]
    return found
