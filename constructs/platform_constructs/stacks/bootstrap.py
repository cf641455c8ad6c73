"""``<env>-bootstrap``: what runs inside the cluster from Terraform: Flux and Vault.

Its providers are configured from the platform stack's contract through cdktf cross-stack
references (a ``terraform_remote_state`` of ``<env>-platform``), so the platform is applied
first and destroyed last; the README says the same.
"""

from __future__ import annotations

from cdktf import Fn, TerraformVariable
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

from environments.model import EnvironmentConfig
from platform_constructs import contract
from platform_constructs.bootstrap.cluster_access import ClusterAccessProps, cluster_providers
from platform_constructs.bootstrap.flux import Flux, FluxProps
from platform_constructs.bootstrap.vault import Vault, VaultProps
from platform_constructs.contract import PlatformContract
from platform_constructs.stacks.backend import use_environment_state
from platform_constructs.stacks.base import EnvironmentStack

#: Pod Security Standards per namespace the bootstrap creates.
NAMESPACES = {"flux-system": "restricted", "cert-manager": "restricted", contract.VAULT.namespace: "baseline"}


#: The Terraform variable a tag channel's bootstrap takes its release tag from; CI sets it
#: (``TF_VAR_release_tag``, tools/ci/stack.py) to the tag the pipeline deploys.
RELEASE_TAG_VARIABLE = "release_tag"


def cluster_path(env: EnvironmentConfig) -> str:
    """The folder of the GitOps tree Flux's root Kustomization applies."""
    return f"./gitops/clusters/{env.name}"


def release_tag_variable(scope: Construct, env: EnvironmentConfig) -> TerraformVariable:
    """The tag a tag channel's cluster follows: exactly the one its deploy job deploys, checked
    against the channel's tag pattern by Terraform itself (RE2 reads the pattern the same way)."""
    track = env.gitops.track
    assert track.tag_pattern is not None
    variable = TerraformVariable(
        scope,
        RELEASE_TAG_VARIABLE,
        type="string",
        description=f"The Git tag {env.name}'s cluster runs (its deploy job sets TF_VAR_{RELEASE_TAG_VARIABLE}); /{track.tag_pattern.pattern}/",
        nullable=False,
    )
    variable.add_validation(
        # The pattern becomes an HCL string literal, in which a backslash must be doubled.
        condition=Fn.can(Fn.regex(track.tag_pattern.pattern.replace("\\", "\\\\"), variable.string_value)),
        error_message=f"{RELEASE_TAG_VARIABLE} must be a tag of {env.name}'s channel, matching /{track.tag_pattern.pattern}/.",
    )
    return variable


class BootstrapStack(EnvironmentStack):
    """The cluster bootstrap of one environment, in a state of its own."""

    def __init__(self, scope: Construct, env: EnvironmentConfig, platform: PlatformContract) -> None:
        super().__init__(scope, f"{env.name}-bootstrap")
        self.env = env
        use_environment_state(self, env, "bootstrap")
        self.kubernetes, self.helm = cluster_providers(
            self,
            ClusterAccessProps(
                cluster_name=platform.cluster_name,
                endpoint=platform.cluster_endpoint,
                certificate_authority=platform.cluster_certificate_authority,
                region=env.region,
                role_arn=env.deploy_role_arn,
            ),
        )
        self.namespaces = {
            name: NamespaceV1(
                self,
                f"namespace-{name}",
                metadata=NamespaceV1Metadata(
                    name=name, labels={"pod-security.kubernetes.io/enforce": level, "app.kubernetes.io/managed-by": "terraform"}
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
            data=platform.config_map(),
        )
        track = env.gitops.track
        git_ref = track.flux_ref() if track.branch is not None else track.flux_ref(release_tag_variable(self, env).string_value)
        self.flux = Flux(
            self,
            "flux",
            props=FluxProps(repository_url=env.gitops.repository_url, git_ref=git_ref, path=cluster_path(env)),
            depends_on=[self.namespaces["flux-system"], self.outputs_config_map],
        )
        self.vault = Vault(
            self,
            "vault",
            props=VaultProps(
                region=env.region,
                kms_key_id=platform.vault_kms_key_id,
                service_account=contract.VAULT.service_account,
                namespace=contract.VAULT.namespace,
            ),
            depends_on=[self.namespaces["cert-manager"], self.namespaces[contract.VAULT.namespace]],
        )
