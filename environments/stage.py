"""stage: tracks the newest release-candidate tag (vX.Y-rc.N); production-like, smaller."""

from environments.model import (
    Channel,
    ClusterConfig,
    EnvironmentConfig,
    GitOpsConfig,
    InterfaceEndpoint,
    KarpenterConfig,
    NatStrategy,
    NetworkConfig,
    NodeGroupConfig,
    StateConfig,
    StorageConfig,
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
        interface_endpoints=tuple(InterfaceEndpoint),  # every one the project offers
    ),
    cluster=ClusterConfig(
        kubernetes_version="1.36",
        node_groups=(NodeGroupConfig(name="general", instance_types=("m6i.large",), min_size=3, max_size=6, desired_size=3),),
        platform_admin_role_arns=("arn:aws:iam::222222222222:role/plato-platform-admin",),
        developer_role_arns=("arn:aws:iam::222222222222:role/plato-developer",),
        # The read-only CI role that plans the bootstrap stack (docs/ci.md).
        viewer_role_arns=("arn:aws:iam::222222222222:role/plato-gitlab-plan",),
        endpoint_public_access=True,
        public_access_cidrs=("203.0.113.0/24",),
        log_retention_days=90,
        karpenter=KarpenterConfig(cpu_limit=32, memory_limit_gib=128),
    ),
    # Newest tag, release candidates included (vX.Y-rc.N); see gitops/README.md.
    gitops=GitOpsConfig(repository_url="https://gitlab.com/plato/platform.git", channel=Channel.RELEASE_CANDIDATES),
    storage=StorageConfig(log_retention_days=14, backup_retention_days=14),
    tags={"project": "plato", "cost-center": "platform-stage"},
)
