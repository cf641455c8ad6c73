"""``<env>-bootstrap``: what runs inside the cluster from Terraform (helm, kubernetes)."""

from __future__ import annotations

from cdktf_cdktf_provider_helm.provider import HelmProvider
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider
from constructs import Construct

from environments.config import EnvironmentConfig
from platform_constructs.environment_stack import EnvironmentStack
from platform_constructs.remote_state import use_environment_state


class BootstrapStack(EnvironmentStack):
    """The cluster bootstrap of one environment, in a state of its own."""

    def __init__(self, scope: Construct, env: EnvironmentConfig) -> None:
        super().__init__(scope, f"{env.name}-bootstrap")
        self.env = env
        use_environment_state(self, env, "bootstrap")
        self.kubernetes = KubernetesProvider(self, "kubernetes")
        self.helm = HelmProvider(self, "helm")
