"""Vault from the official chart: HA on integrated raft, AWS KMS auto-unseal, TLS everywhere.

TLS: cert-manager issues Vault's certificate from a private CA that lives only in the
cluster (a self-signed root Issuer signs the ``vault-ca`` CA, whose Issuer signs
``vault-tls``); the key never passes through Terraform state.
See docs/decisions/0016-vault-tls-and-unseal.md and docs/vault.md (initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Construct

from platform_constructs.bootstrap.charts import CERT_MANAGER, VAULT, pinned_release
from platform_constructs.bootstrap.raw_manifests import raw_manifests_release

TLS_SECRET = "vault-tls"
CA_SECRET = "vault-ca"
TLS_DIR = f"/vault/userconfig/{TLS_SECRET}"


@dataclass(frozen=True, kw_only=True)
class VaultProps:
    """Props of :class:`Vault`."""

    region: str
    """Region of the unseal key."""
    kms_key_id: str
    """KMS key Vault auto-unseals with (a cross-stack reference)."""
    service_account: str
    """Service account of the Vault servers (bound to the unseal role by Pod Identity)."""
    namespace: str = "vault"
    """Namespace of Vault. Default: ``vault``."""
    cert_manager_namespace: str = "cert-manager"
    """Namespace of cert-manager. Default: ``cert-manager``."""
    replicas: int = 3
    """Raft voters. Default: 3 (survives the loss of one)."""
    data_storage_size: str = "10Gi"
    """Raft volume per replica. Default: 10Gi."""
    audit_storage_size: str = "10Gi"
    """Audit-log volume per replica. Default: 10Gi."""

    def __post_init__(self) -> None:
        if self.replicas < 3 or self.replicas % 2 == 0:
            raise ValueError(f"vault replicas {self.replicas}: raft needs an odd number of at least 3 voters")

    @property
    def service_dns_names(self) -> list[str]:
        ns = self.namespace
        names = ["vault", f"vault.{ns}", f"vault.{ns}.svc", f"vault.{ns}.svc.cluster.local", "vault-active", f"vault-active.{ns}.svc"]
        names += ["*.vault-internal", f"*.vault-internal.{ns}.svc", f"*.vault-internal.{ns}.svc.cluster.local"]
        return names


def cert_manager_values() -> dict[str, Any]:
    return {"crds": {"enabled": True, "keep": True}, "replicaCount": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}}


def tls_objects(p: VaultProps) -> list[dict[str, Any]]:
    ns = p.namespace

    def obj(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "cert-manager.io/v1", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}

    key = {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    return [
        obj("Issuer", "vault-selfsigned", {"selfSigned": {}}),
        obj(
            "Certificate",
            CA_SECRET,
            {
                "isCA": True,
                "commonName": f"vault-ca.{ns}",
                "secretName": CA_SECRET,
                "duration": "87600h",
                "privateKey": key,
                "issuerRef": {"name": "vault-selfsigned", "kind": "Issuer"},
            },
        ),
        obj("Issuer", "vault-ca", {"ca": {"secretName": CA_SECRET}}),
        obj(
            "Certificate",
            TLS_SECRET,
            {
                "secretName": TLS_SECRET,
                "commonName": f"vault.{ns}.svc",
                "dnsNames": p.service_dns_names,
                "ipAddresses": ["127.0.0.1"],
                "duration": "2160h",
                "renewBefore": "360h",
                "privateKey": key,
                "usages": ["server auth", "client auth", "digital signature", "key encipherment"],
                "issuerRef": {"name": "vault-ca", "kind": "Issuer"},
            },
        ),
    ]


def server_config(p: VaultProps) -> str:
    joins = "\n".join(
        f'  retry_join {{\n    leader_api_addr = "https://vault-{i}.vault-internal:8200"\n'
        f'    leader_ca_cert_file = "{TLS_DIR}/ca.crt"\n  }}'
        for i in range(p.replicas)
    )
    return (
        'ui = true\ndisable_mlock = true\n\nlistener "tcp" {\n  address = "[::]:8200"\n  cluster_address = "[::]:8201"\n'
        f'  tls_cert_file = "{TLS_DIR}/tls.crt"\n  tls_key_file = "{TLS_DIR}/tls.key"\n  tls_client_ca_file = "{TLS_DIR}/ca.crt"\n'
        '  tls_min_version = "tls12"\n}\n\n'
        f'storage "raft" {{\n  path = "/vault/data"\n{joins}\n}}\n\n'
        f'seal "awskms" {{\n  region = "{p.region}"\n  kms_key_id = "{p.kms_key_id}"\n}}\n\n'
        'service_registration "kubernetes" {}\n'
    )


def vault_values(p: VaultProps) -> dict[str, Any]:
    return {
        "global": {"enabled": True, "tlsDisable": False},
        "injector": {"enabled": True, "replicas": 2},
        "server": {
            "serviceAccount": {"create": True, "name": p.service_account},
            "extraEnvironmentVars": {"VAULT_CACERT": f"{TLS_DIR}/ca.crt", "VAULT_ADDR": "https://127.0.0.1:8200"},
            "volumes": [{"name": TLS_SECRET, "secret": {"secretName": TLS_SECRET, "defaultMode": 0o440}}],
            "volumeMounts": [{"name": TLS_SECRET, "mountPath": TLS_DIR, "readOnly": True}],
            "dataStorage": {"enabled": True, "size": p.data_storage_size},
            "auditStorage": {"enabled": True, "size": p.audit_storage_size},
            "affinity": {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "vault", "component": "server"}},
                            "topologyKey": "kubernetes.io/hostname",
                        }
                    ]
                }
            },
            "ha": {
                "enabled": True,
                "replicas": p.replicas,
                "raft": {"enabled": True, "setNodeId": True, "config": server_config(p)},
                "disruptionBudget": {"enabled": True, "maxUnavailable": 1},
            },
        },
        # The UI is served inside the cluster only: reach it with `kubectl port-forward`.
        "ui": {"enabled": True, "serviceType": "ClusterIP"},
    }


class Vault(Construct):
    """cert-manager, Vault's certificate, and Vault itself."""

    def __init__(self, scope: Construct, id: str, *, props: VaultProps, depends_on: list[Any]) -> None:
        super().__init__(scope, id)
        p = props
        self.props = p
        self.cert_manager = pinned_release(
            self,
            "cert-manager",
            chart=CERT_MANAGER,
            name="cert-manager",
            namespace=p.cert_manager_namespace,
            values=cert_manager_values(),
            depends_on=depends_on,
        )
        self.tls = raw_manifests_release(
            self, "tls", name="vault-tls", namespace=p.namespace, objects=tls_objects(p), depends_on=[self.cert_manager]
        )
        # Servers stay unready until `vault operator init` (docs/vault.md): do not wait on them.
        self.release = pinned_release(
            self,
            "vault",
            chart=VAULT,
            name="vault",
            namespace=p.namespace,
            values=vault_values(p),
            depends_on=[self.tls],
            wait=False,
        )
