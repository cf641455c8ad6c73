"""stage: tracks the newest release-candidate tag (vX.Y-rc.N); production-like, smaller."""

from environments.config import (
    EnvironmentConfig,
    NatStrategy,
    NetworkConfig,
    StateConfig,
    Tier,
)

CONFIG = EnvironmentConfig(
    name="stage",
    tier=Tier.STAGING,
    account_id="222222222222",
    region="eu-central-1",
    deploy_role_arn="arn:aws:iam::222222222222:role/plato-terraform-deploy",
    owner="platform-team",
    domain="stage.plato.example.com",
    state=StateConfig(bucket="plato-tfstate-stage-222222222222"),
    network=NetworkConfig(
        vpc_cidr="10.20.0.0/16",
        az_count=3,
        nat=NatStrategy.PER_AZ,
        flow_log_retention_days=90,
    ),
    tags={"project": "plato", "cost-center": "platform-stage"},
)
