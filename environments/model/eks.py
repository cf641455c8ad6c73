"""EKS facts the project keeps itself, and the versions it pins from them.

Facts (``environments/model/facts/*.tsv``, every row with its source):

- ``eks-kubernetes-versions.tsv``: each Kubernetes minor's EKS support window;
- ``eks-addon-versions.tsv``: the add-on versions published for each Kubernetes version;
- ``eks-ami-releases.tsv``: the EKS-optimized AL2023 node AMI releases.

Pins (this module): for each Kubernetes version an environment may run, one version of every
add-on (:data:`EKS_ADDON_VERSIONS`) and one node AMI release (:data:`NODE_AMI_RELEASES`).
``make test`` proves every pin is in the facts, and the facts in the upstream catalog where
one is at hand; the ``pins:registries`` CI job asks AWS itself. Renovate proposes bumps
(``renovate.json``). The upgrade runbook is docs/upgrades.md.
"""

from __future__ import annotations

import csv
import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from environments.model.errors import ConfigError

FACTS = Path(__file__).resolve().parent / "facts"
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver")
#: Within this many days of the end of standard support, the synth warns.
SUPPORT_WARNING_DAYS = 90

# renovate: the add-on pins (customManagers "eks-addons" in renovate.json)
EKS_ADDON_VERSIONS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "1.35": MappingProxyType(
            {
                "vpc-cni": "v1.21.1-eksbuild.7",
                "kube-proxy": "v1.35.3-eksbuild.13",
                "coredns": "v1.14.3-eksbuild.3",
                "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
                "aws-ebs-csi-driver": "v1.66.0-eksbuild.1",
            }
        ),
        "1.36": MappingProxyType(
            {
                "vpc-cni": "v1.21.1-eksbuild.7",
                "kube-proxy": "v1.36.0-eksbuild.14",
                "coredns": "v1.14.3-eksbuild.3",
                "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
                "aws-ebs-csi-driver": "v1.66.0-eksbuild.1",
            }
        ),
    }
)

# renovate: the node AMI release of each Kubernetes version (customManagers "eks-ami" in renovate.json)
NODE_AMI_RELEASES: Mapping[str, str] = MappingProxyType(
    {
        "1.35": "1.35.6-20260714",
        "1.36": "1.36.2-20260714",
    }
)

SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = tuple(EKS_ADDON_VERSIONS)


@dataclass(frozen=True)
class SupportWindow:
    """When EKS supports a Kubernetes minor: standard support, then paid extended support."""

    version: str
    end_of_standard_support: datetime.date
    end_of_extended_support: datetime.date | None
    source: str


@dataclass(frozen=True)
class AddonFact:
    addon: str
    kubernetes_version: str
    """A minor version, or ``*`` for every version."""
    addon_version: str
    status: str
    """``published`` (a source lists the pair) or ``assumed`` (decision 0018)."""
    source: str


def _rows(name: str) -> list[dict[str, str]]:
    with (FACTS / name).open(newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


@cache
def support_windows() -> Mapping[str, SupportWindow]:
    windows: dict[str, SupportWindow] = {}
    for row in _rows("eks-kubernetes-versions.tsv"):
        extended = row["end_of_extended_support"]
        windows[row["version"]] = SupportWindow(
            version=row["version"],
            end_of_standard_support=datetime.date.fromisoformat(row["end_of_standard_support"]),
            end_of_extended_support=datetime.date.fromisoformat(extended) if extended else None,
            source=row["source"],
        )
    return MappingProxyType(windows)


@cache
def addon_facts() -> tuple[AddonFact, ...]:
    return tuple(AddonFact(**row) for row in _rows("eks-addon-versions.tsv"))


@cache
def ami_releases() -> Mapping[str, str]:
    """Kubernetes version -> the AL2023 release versions the facts table lists."""
    found: dict[str, str] = {}
    for row in _rows("eks-ami-releases.tsv"):
        found.setdefault(row["kubernetes_version"], row["release_version"])
    return MappingProxyType(found)


def addon_fact(addon: str, kubernetes_version: str, addon_version: str) -> AddonFact | None:
    """The fact that says ``addon_version`` of ``addon`` is offered for ``kubernetes_version``."""
    for fact in addon_facts():
        if fact.addon == addon and fact.addon_version == addon_version and fact.kubernetes_version in (kubernetes_version, "*"):
            return fact
    return None


def today() -> datetime.date:
    """Today in UTC, as EKS bills support (``PLATFORM_TODAY=YYYY-MM-DD`` pins it for tests and rehearsals)."""
    pinned = os.environ.get("PLATFORM_TODAY", "")
    if not pinned:
        return datetime.datetime.now(datetime.UTC).date()
    try:
        return datetime.date.fromisoformat(pinned)
    except ValueError:
        raise ConfigError("PLATFORM_TODAY", f"'{pinned}' is not a date (YYYY-MM-DD)") from None
