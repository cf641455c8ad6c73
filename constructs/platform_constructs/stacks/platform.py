"""``<env>-platform``: every AWS resource of an environment, in one state."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from environments.model import EnvironmentConfig
from platform_constructs import contract
from platform_constructs.cluster.access import ClusterAccessProps
from platform_constructs.cluster.control_plane import ControlPlaneProps
from platform_constructs.cluster.eks_cluster import Cluster, ClusterProps
from platform_constructs.cluster.karpenter import KarpenterProps
from platform_constructs.cluster.workload_identity import WorkloadIdentities, WorkloadIdentitiesProps
from platform_constructs.context import Deployment
from platform_constructs.contract import Generated, PlatformContract
from platform_constructs.edge.dns import HostedZone, HostedZoneProps
from platform_constructs.edge.edge import Edge, EdgeProps
from platform_constructs.edge.load_balancer import RetiringTarget
from platform_constructs.encryption.log_key import LogEncryptionKey
from platform_constructs.network.vpc import Network, NetworkProps
from platform_constructs.stacks.aws_provider import environment_aws_provider, replica_aws_provider
from platform_constructs.stacks.backend import use_environment_state
from platform_constructs.stacks.base import EnvironmentStack
from platform_constructs.storage.storage import BackupReplicaProps, Storage, StorageProps


class PlatformStack(EnvironmentStack):
    """The AWS side of one environment: network, DNS, storage, edge, cluster, workload roles.

    What it hands on is :attr:`contract`, built once here: the bootstrap stack, the Terraform
    outputs and the GitOps tree's ConfigMap all derive from it.
    """

    def __init__(self, scope: Construct, env: EnvironmentConfig) -> None:
        super().__init__(scope, f"{env.name}-platform")
        self.env = env
        self.deployment = d = Deployment.of(env)
        use_environment_state(self, env, "platform")
        environment_aws_provider(self, env, "platform")
        self.replica_provider = replica_aws_provider(self, env, "platform") if env.storage.replicated else None
        self.log_key = LogEncryptionKey(self, "log-key", deployment=d)
        self.network = Network(self, "network", deployment=d, props=self._network_props())
        self.zone = HostedZone(
            self, "dns", deployment=d, props=HostedZoneProps(zone_name=env.hosted_zone, create=env.edge.create_hosted_zone)
        )
        self.storage = Storage(self, "storage", deployment=d, props=self._storage_props())
        self.edge = Edge(self, "edge", deployment=d, props=self._edge_props())
        self.cluster = Cluster(self, "eks", deployment=d, props=self._cluster_props())
        self.edge.attach_to(self.cluster.autoscaling_group_names)
        self.identities = WorkloadIdentities(
            self,
            "workload-identity",
            deployment=d,
            props=WorkloadIdentitiesProps(
                cluster_name=self.cluster.handle.name,
                loki_bucket_arns=(self.storage.loki_chunks.arn, self.storage.loki_ruler.arn),
                velero_bucket_arn=self.storage.velero.arn,
                backup_replica=self.storage.velero_replica.handle if self.storage.velero_replica else None,
                storage_key_arn=self.storage.key_arn,
                hosted_zone_arn=self.zone.zone_arn,
                karpenter_queue_arn=self.cluster.karpenter.queue.arn,
                karpenter_node_role_arn=self.cluster.karpenter.node_role.arn,
            ),
        )
        self.contract = PlatformContract.build(env, self._generated())
        self.outputs = {
            name: TerraformOutput(self, name, value=value, description=description, sensitive=False)
            for name, value, description in self.contract.terraform_outputs()
        }

    def _role_arn(self, identity: contract.WorkloadIdentity) -> str:
        d = self.deployment
        return contract.workload_role_arn(d.partition, d.account_id, d.name_prefix, identity)

    def _network_props(self) -> NetworkProps:
        env, net = self.env, self.env.network
        return NetworkProps(
            vpc_cidr=net.vpc_cidr,
            availability_zones=net.zones(env.region),
            private_subnet_cidrs=net.private_subnet_cidrs,
            public_subnet_cidrs=net.public_subnet_cidrs,
            nat_gateway_count=net.nat_gateway_count,
            cluster_name=env.cluster_name,
            interface_endpoints=[e.value for e in net.interface_endpoints],
            flow_log_retention_days=net.flow_log_retention_days,
            log_kms_key_arn=self.log_key.key_arn,
        )

    def _storage_props(self) -> StorageProps:
        env = self.env
        return StorageProps(
            loki_chunks_bucket=env.bucket_name("loki-chunks"),
            loki_ruler_bucket=env.bucket_name("loki-ruler"),
            velero_bucket=env.bucket_name("velero"),
            access_log_bucket=env.bucket_name("access-logs"),
            loki_role_arn=self._role_arn(contract.LOKI),
            velero_role_arn=self._role_arn(contract.VELERO),
            vault_snapshot_role_arn=self._role_arn(contract.VAULT_SNAPSHOT),
            vault_snapshot_prefix=contract.VAULT_SNAPSHOT_PREFIX,
            vault_snapshot_expiry_days=env.storage.backup_retention_days,
            log_expiry_days=env.storage.log_bucket_expiry_days,
            backup_expiry_days=env.storage.backup_bucket_expiry_days,
            access_log_retention_days=env.edge.access_log_retention_days,
            backup_replica=None
            if self.replica_provider is None
            else BackupReplicaProps(
                bucket_name=env.backup_replica_bucket,
                region=env.storage.replica_region,
                provider=self.replica_provider,
                object_lock=None if env.storage.object_lock is None else (env.storage.object_lock.mode.value, env.storage.object_lock.days),
            ),
        )

    def _edge_props(self) -> EdgeProps:
        env = self.env
        return EdgeProps(
            domain=env.domain,
            alb_name=env.alb_name,
            target_group_name=env.target_group_name,
            hosted_zone_id=self.zone.zone_id,
            vpc_id=self.network.vpc_id,
            public_subnet_ids=self.network.public_subnet_ids,
            ingress_node_port=env.edge.ingress_node_port,
            health_check_path=contract.INGRESS_HEALTH_CHECK_PATH,
            node_discovery=env.cluster_name,
            retiring=self._retiring_target(),
            access_log_bucket=self.storage.access_logs.name,
            deletion_protection=env.edge.alb_deletion_protection,
            ssl_policy=env.edge.ssl_policy,
            waf_web_acl_arn=env.edge.waf_web_acl_arn,
        )

    def _retiring_target(self) -> RetiringTarget | None:
        retiring = self.env.edge.retiring_target_group
        if retiring is None:
            return None
        return RetiringTarget(name=retiring.name, node_port=retiring.node_port, weight=retiring.weight)

    def _cluster_props(self) -> ClusterProps:
        env, c = self.env, self.env.cluster
        return ClusterProps(
            control_plane=ControlPlaneProps(
                cluster_name=env.cluster_name,
                kubernetes_version=c.kubernetes_version,
                support_type=c.support_type,
                private_subnet_ids=self.network.private_subnet_ids,
                endpoint_public_access=c.endpoint_public_access,
                public_access_cidrs=c.public_access_cidrs,
                log_retention_days=c.log_retention_days,
                log_kms_key_arn=self.log_key.key_arn,
            ),
            node_groups=c.node_groups,
            node_ami_release=c.node_ami_release,
            node_security_group_ids=[self.edge.node_security_group_id],
            addon_versions=c.addon_versions,
            access=ClusterAccessProps(
                # The deploy role installs the bootstrap (helm/kubernetes providers), so it is an
                # admin too: with creator admin off, nobody else would be.
                admin_role_arns=tuple(dict.fromkeys((env.deploy_role_arn, *c.platform_admin_role_arns))),
                viewer_role_arns=c.viewer_role_arns,
                developer_role_arns=c.developer_role_arns,
                developers_group=c.developers_group,
            ),
            ebs_csi_role_arn=self._role_arn(contract.EBS_CSI),
            ebs_csi_service_account=contract.EBS_CSI.service_account,
            node_tags=env.default_tags,
            karpenter=KarpenterProps(queue_name=env.karpenter_queue_name, node_role_name=env.karpenter_node_role_name),
        )

    def _generated(self) -> Generated:
        """The values only AWS knows, as references to this stack's resources."""
        cluster, storage, ids = self.cluster.handle, self.storage, self.identities
        return Generated(
            vpc_id=self.network.vpc_id,
            private_subnet_ids=self.network.private_subnet_ids,
            public_subnet_ids=self.network.public_subnet_ids,
            cluster_name=cluster.name,
            cluster_arn=cluster.arn,
            cluster_endpoint=cluster.endpoint,
            cluster_certificate_authority=cluster.certificate_authority,
            cluster_oidc_issuer=cluster.oidc_issuer,
            cluster_security_group_id=cluster.security_group_id,
            cluster_secrets_kms_key_arn=self.cluster.secrets_key_arn,
            log_kms_key_arn=self.log_key.key_arn,
            storage_kms_key_arn=storage.key_arn,
            vault_kms_key_id=str(ids.vault_unseal_key.key_id),
            vault_kms_key_arn=str(ids.vault_unseal_key.arn),
            role_arns={i.component: ids.role_arn(i) for i in contract.WORKLOAD_IDENTITIES},
            hosted_zone_id=self.zone.zone_id,
            hosted_zone_name_servers=self.zone.name_servers,
            certificate_arn=self.edge.certificate_arn,
            alb_dns_name=self.edge.alb_dns_name,
            ingress_target_group_arn=self.edge.target_group_arn,
            loki_chunks_bucket=storage.loki_chunks.name,
            loki_ruler_bucket=storage.loki_ruler.name,
            velero_bucket=storage.velero.name,
        )
