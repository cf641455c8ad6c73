"""``<env>-platform``: every AWS resource of an environment, in one state."""

from __future__ import annotations

from cdktf import TerraformOutput

from constructs import Construct
from environments.config import EnvironmentConfig
from platform_constructs.aws_provider import environment_aws_provider
from platform_constructs.environment_stack import EnvironmentStack
from platform_constructs.log_encryption import LogEncryptionKey, LogEncryptionKeyProps
from platform_constructs.network import Network, NetworkProps
from platform_constructs.remote_state import use_environment_state


class PlatformStack(EnvironmentStack):
    """The AWS side of one environment."""

    def __init__(self, scope: Construct, env: EnvironmentConfig) -> None:
        super().__init__(scope, f"{env.name}-platform")
        self.env = env
        use_environment_state(self, env, "platform")
        environment_aws_provider(self, env, "platform")

        self.log_key = LogEncryptionKey(
            self,
            "log-key",
            props=LogEncryptionKeyProps(
                name_prefix=env.name_prefix,
                account_id=env.account_id,
                region=env.region,
                partition=env.partition,
                prevent_destroy=env.prevent_destroy,
            ),
        )
        net = env.network
        self.network = Network(
            self,
            "network",
            props=NetworkProps(
                name_prefix=env.name_prefix,
                vpc_cidr=net.vpc_cidr,
                availability_zones=net.zones(env.region),
                private_subnet_cidrs=net.private_subnet_cidrs,
                public_subnet_cidrs=net.public_subnet_cidrs,
                nat_gateway_count=net.nat_gateway_count,
                cluster_name=env.cluster_name,
                flow_log_retention_days=net.flow_log_retention_days,
                log_kms_key_arn=self.log_key.key_arn,
                account_id=env.account_id,
                partition=env.partition,
            ),
        )
        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)
        TerraformOutput(self, "private_subnet_ids", value=self.network.private_subnet_ids)
        TerraformOutput(self, "public_subnet_ids", value=self.network.public_subnet_ids)
