"""prod: tracks the newest release tag (vX.Y); highly available and protected."""

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
    ObjectLockConfig,
    ObjectLockMode,
    StateConfig,
    StorageConfig,
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
        interface_endpoints=tuple(InterfaceEndpoint),  # every one the project offers
    ),
    cluster=ClusterConfig(
        kubernetes_version="1.36",
        node_groups=(
            NodeGroupConfig(name="general", instance_types=("m6i.xlarge",), min_size=3, max_size=9, desired_size=3, disk_size_gib=100),
        ),
        platform_admin_role_arns=("arn:aws:iam::333333333333:role/plato-platform-admin",),
        developer_role_arns=("arn:aws:iam::333333333333:role/plato-developer",),
        # The read-only CI role that plans the bootstrap stack (docs/ci.md).
        viewer_role_arns=("arn:aws:iam::333333333333:role/plato-gitlab-plan",),
        # Private endpoint only: operators come in through the VPN.
        endpoint_public_access=False,
        log_retention_days=365,
        # On-demand only; room for the backend's HPA maximum and the platform's growth.
        karpenter=KarpenterConfig(cpu_limit=128, memory_limit_gib=512, max_disrupted_percent=10),
    ),
    # Newest release tag (vX.Y); release candidates are excluded by the range.
    gitops=GitOpsConfig(repository_url="https://gitlab.com/plato/platform.git", channel=Channel.RELEASES),
    # The workload every six hours, kept 30 days; a weekly whole-cluster backup kept a quarter.
    storage=StorageConfig(
        log_retention_days=90,
        backup_retention_days=30,
        cluster_backup_retention_days=90,
        # Backups and states survive the region, and a deleted or compromised account role:
        # the backup replica keeps each version 30 days whatever anyone asks.
        replica_region="eu-west-1",
        object_lock=ObjectLockConfig(mode=ObjectLockMode.COMPLIANCE, days=30),
    ),
    tags={"project": "plato", "cost-center": "platform-prod"},
)
