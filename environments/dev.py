"""dev: tracks branch main; cheap and disposable (one shared NAT gateway)."""

from environments.config import (
    EnvironmentConfig,
    NatStrategy,
    NetworkConfig,
    StateConfig,
    Tier,
)

CONFIG = EnvironmentConfig(
    name="dev",
    tier=Tier.DEVELOPMENT,
    account_id="111111111111",
    region="eu-central-1",
    deploy_role_arn="arn:aws:iam::111111111111:role/plato-terraform-deploy",
    owner="platform-team",
    domain="dev.plato.example.com",
    state=StateConfig(bucket="plato-tfstate-dev-111111111111"),
    network=NetworkConfig(
        vpc_cidr="10.10.0.0/16",
        az_count=2,
        nat=NatStrategy.SINGLE,
        flow_log_retention_days=30,
    ),
    tags={"project": "plato", "cost-center": "platform-dev"},
    prevent_destroy=False,  # disposable: the emulator tier applies and destroys it
)
