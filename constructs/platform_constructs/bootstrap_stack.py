"""``<env>-bootstrap``: what runs inside the cluster from Terraform: Flux and Vault.

Its providers are configured from the platform stack through cdktf cross-stack references
(a ``terraform_remote_state`` of ``<env>-platform``), so the platform is applied first and
destroyed last; the README says the same.
"""

from __future__ import annotations

from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from environments.config import EnvironmentConfig
from platform_constructs import contract
from platform_constructs.cluster_access import ClusterAccessProps, cluster_providers
from platform_constructs.environment_stack import EnvironmentStack
from platform_constructs.flux import Flux, FluxProps
from platform_constructs.platform_stack import PlatformStack
from platform_constructs.remote_state import use_environment_state
from platform_constructs.vault import Vault, VaultProps

#: Pod Security Standards per namespace the bootstrap creates.
NAMESPACES = {"flux-system": "restricted", "cert-manager": "restricted", contract.VAULT.namespace: "baseline"}


def platform_output_values(env: EnvironmentConfig, platform: PlatformStack) -> dict[str, str]:
    """The outputs ConfigMap: every key of ``contract.OUTPUT_KEYS``, from the platform stack."""
    values = {
        "ENVIRONMENT": env.name,
        "CLUSTER_NAME": platform.cluster.name,
        "AWS_REGION": env.region,
        "AWS_ACCOUNT_ID": env.account_id,
        "DOMAIN": env.domain,
        "HOSTED_ZONE_ID": platform.zone.zone_id,
        "CERTIFICATE_ARN": str(platform.edge.validation.certificate_arn),
        "ALB_DNS_NAME": str(platform.edge.alb.dns_name),
        "INGRESS_NODE_PORT": str(contract.INGRESS_NODE_PORT),
        "INGRESS_TARGET_GROUP_ARN": str(platform.edge.target_group.arn),
        "LOKI_CHUNKS_BUCKET": platform.storage.loki_chunks.name,
        "LOKI_RULER_BUCKET": platform.storage.loki_ruler.name,
        "VELERO_BUCKET": platform.storage.velero.name,
        "VAULT_KMS_KEY_ID": str(platform.identities.vault_unseal_key.key_id),
        "DEVELOPERS_GROUP": env.cluster.developers_group,
    }
    missing = set(contract.OUTPUT_KEYS) ^ set(values)
    if missing:
        raise ValueError(f"outputs ConfigMap and contract.OUTPUT_KEYS disagree on {sorted(missing)}")
    return values


class BootstrapStack(EnvironmentStack):
    """The cluster bootstrap of one environment, in a state of its own."""

    def __init__(self, scope: Construct, env: EnvironmentConfig, platform: PlatformStack) -> None:
        super().__init__(scope, f"{env.name}-bootstrap")
        self.env = env
        use_environment_state(self, env, "bootstrap")
        self.kubernetes, self.helm = cluster_providers(
            self,
            ClusterAccessProps(
                cluster_name=platform.cluster.name,
                endpoint=platform.cluster.endpoint,
                certificate_authority=platform.cluster.certificate_authority,
                region=env.region,
                role_arn=env.deploy_role_arn,
            ),
        )
        self.namespaces = {
            name: NamespaceV1(
                self,
                f"namespace-{name}",
                metadata=NamespaceV1Metadata(
                    name=name,
                    labels={"pod-security.kubernetes.io/enforce": level, "app.kubernetes.io/managed-by": "terraform"},
                ),
            )
            for name, level in NAMESPACES.items()
        }
        self.outputs_config_map = ConfigMapV1(
            self,
            "platform-outputs",
            metadata=ConfigMapV1Metadata(
                name=contract.OUTPUTS_CONFIGMAP_NAME,
                namespace=self.namespaces[contract.OUTPUTS_CONFIGMAP_NAMESPACE].metadata.name,
                labels={"app.kubernetes.io/managed-by": "terraform"},
            ),
            data=platform_output_values(env, platform),
        )
        self.flux = Flux(
            self,
            "flux",
            props=FluxProps(
                repository_url=env.gitops.repository_url,
                tracks=env.gitops.tracks,
                path=f"./gitops/clusters/{env.name}",
            ),
            depends_on=[self.namespaces["flux-system"], self.outputs_config_map],
        )
        self.vault = Vault(
            self,
            "vault",
            props=VaultProps(
                region=env.region,
                kms_key_id=str(platform.identities.vault_unseal_key.key_id),
                service_account=contract.VAULT.service_account,
                namespace=contract.VAULT.namespace,
            ),
            depends_on=[self.namespaces["cert-manager"], self.namespaces[contract.VAULT.namespace]],
        )
