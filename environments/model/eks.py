"""Kubernetes versions this project supports on EKS, and the add-on versions pinned for each.

Bump procedure (docs/decisions/0003-pinned-versions.md): for a new Kubernetes version, list
the add-on versions EKS offers for it with
``aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name <name>``, add a row,
move an environment's ``cluster.kubernetes_version`` (dev first), and drop the oldest row
once no environment uses it.
"""

from __future__ import annotations

from types import MappingProxyType

ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver")

EKS_ADDON_VERSIONS: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        "1.32": MappingProxyType(
            {
                "vpc-cni": "v1.20.1-eksbuild.3",
                "kube-proxy": "v1.32.9-eksbuild.2",
                "coredns": "v1.11.4-eksbuild.24",
                "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
                "aws-ebs-csi-driver": "v1.48.0-eksbuild.2",
            }
        ),
        "1.33": MappingProxyType(
            {
                "vpc-cni": "v1.20.1-eksbuild.3",
                "kube-proxy": "v1.33.5-eksbuild.2",
                "coredns": "v1.12.4-eksbuild.1",
                "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
                "aws-ebs-csi-driver": "v1.48.0-eksbuild.2",
            }
        ),
        "1.34": MappingProxyType(
            {
                "vpc-cni": "v1.20.1-eksbuild.3",
                "kube-proxy": "v1.34.1-eksbuild.2",
                "coredns": "v1.12.4-eksbuild.1",
                "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
                "aws-ebs-csi-driver": "v1.48.0-eksbuild.2",
            }
        ),
    }
)

SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = tuple(EKS_ADDON_VERSIONS)
