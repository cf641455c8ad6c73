"""prod: tracks the newest release tag (vX.Y); highly available and protected."""

from environments.config import (
    EnvironmentConfig,
    NatStrategy,
    NetworkConfig,
    StateConfig,
    Tier,
)

CONFIG = EnvironmentConfig(
    name="prod",
    tier=Tier.PRODUCTION,
    account_id="333333333333",
    region="eu-central-1",
    deploy_role_arn="arn:aws:iam::333333333333:role/plato-terraform-deploy",
    owner="platform-team",
    domain="plato.example.com",
    state=StateConfig(bucket="plato-tfstate-prod-333333333333"),
    network=NetworkConfig(
        vpc_cidr="10.30.0.0/16",
        az_count=3,
        nat=NatStrategy.PER_AZ,
        flow_log_retention_days=365,
    ),
    tags={"project": "plato", "cost-center": "platform-prod"},
)
