"""Every Helm chart the bootstrap stack installs, pinned in one place.

Bump: change the version here, read the chart's changelog for value changes, run
``make test`` (the values are validated against the schemas in ../shared/schemas where
upstream publishes one), and review the bootstrap snapshot diff in the merge request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct


@dataclass(frozen=True)
class Chart:
    repository: str
    name: str
    version: str


FLUX_OPERATOR = Chart("oci://ghcr.io/controlplaneio-fluxcd/charts", "flux-operator", "0.58.1")
FLUX_INSTANCE = Chart("oci://ghcr.io/controlplaneio-fluxcd/charts", "flux-instance", "0.58.1")
#: The Flux distribution the operator installs (a semver range within one minor release).
FLUX_DISTRIBUTION = "2.9.x"
CERT_MANAGER = Chart("https://charts.jetstack.io", "cert-manager", "v1.21.1")
VAULT = Chart("https://helm.releases.hashicorp.com", "vault", "0.34.1")

#: The local chart that applies custom resources after their CRDs exist (charts/raw-manifests).
RAW_MANIFESTS_DIR = Path(__file__).resolve().parents[3] / "charts" / "raw-manifests"


def pinned_release(
    scope: Construct,
    id: str,
    *,
    chart: Chart,
    name: str,
    namespace: str,
    values: dict[str, Any],
    depends_on: Sequence[Any],
    wait: bool = True,
) -> Release:
    """A release of a pinned upstream chart; a failed install or upgrade is rolled back when waited on."""
    return Release(
        scope,
        id,
        name=name,
        namespace=namespace,
        repository=chart.repository,
        chart=chart.name,
        version=chart.version,
        values=[yaml.safe_dump(values, sort_keys=False)],
        wait=wait,
        atomic=wait,
        cleanup_on_fail=wait,
        depends_on=list(depends_on),
    )
