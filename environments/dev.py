"""dev: tracks branch main; cheap and disposable (one shared NAT gateway)."""

from environments.model import (
    CapacityType,
    Channel,
    ClusterConfig,
    EdgeConfig,
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
        # Image pulls (ECR) skip the shared NAT gateway; the rest is cheap enough through it.
        interface_endpoints=(InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR),
    ),
    cluster=ClusterConfig(
        kubernetes_version="1.36",
        node_groups=(
            NodeGroupConfig(
                name="general",
                instance_types=("t3.large", "t3a.large"),
                capacity_type=CapacityType.SPOT,
                min_size=2,
                max_size=4,
                desired_size=2,
            ),
        ),
        platform_admin_role_arns=("arn:aws:iam::111111111111:role/plato-platform-admin",),
        developer_role_arns=("arn:aws:iam::111111111111:role/plato-developer",),
        # The read-only CI role that plans the bootstrap stack (docs/ci.md).
        viewer_role_arns=("arn:aws:iam::111111111111:role/plato-gitlab-plan",),
        # Reachable from the office/VPN egress range only (RFC 5737 documentation range here).
        endpoint_public_access=True,
        public_access_cidrs=("203.0.113.0/24",),
        log_retention_days=30,
        # The workload's nodes: spot first (Karpenter takes the cheaper), on-demand when spot is short.
        karpenter=KarpenterConfig(capacity_types=(CapacityType.SPOT, CapacityType.ON_DEMAND), cpu_limit=16, memory_limit_gib=64),
    ),
    gitops=GitOpsConfig(repository_url="https://gitlab.com/plato/platform.git", channel=Channel.MAIN),
    edge=EdgeConfig(alb_deletion_protection=False, access_log_retention_days=14),
    # The replica is rehearsed in dev before prod relies on it (no Object Lock: dev is disposable).
    storage=StorageConfig(log_retention_days=7, backup_retention_days=3, replica_region="eu-west-1"),
    tags={"project": "plato", "cost-center": "platform-dev"},
    prevent_destroy=False,  # disposable: the emulator tier applies and destroys it
)
