"""``<env>-platform``: every AWS resource of an environment, in one state."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from environments.config import EnvironmentConfig
from platform_constructs import contract
from platform_constructs.aws_provider import environment_aws_provider
from platform_constructs.cluster import Cluster, ClusterProps
from platform_constructs.dns import HostedZone, HostedZoneProps
from platform_constructs.edge import Edge, EdgeProps
from platform_constructs.environment_stack import EnvironmentStack
from platform_constructs.log_encryption import LogEncryptionKey, LogEncryptionKeyProps
from platform_constructs.network import Network, NetworkProps
from platform_constructs.remote_state import use_environment_state
from platform_constructs.storage import Storage, StorageProps
from platform_constructs.workload_identity import WorkloadIdentities, WorkloadIdentitiesProps


class PlatformStack(EnvironmentStack):
    """The AWS side of one environment: network, DNS, storage, edge, cluster, workload roles."""

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
        self.zone = HostedZone(
            self,
            "dns",
            props=HostedZoneProps(zone_name=env.hosted_zone, create=env.edge.create_hosted_zone, prevent_destroy=env.prevent_destroy),
        )

        def role_arn(identity: contract.WorkloadIdentity) -> str:
            return contract.workload_role_arn(env.partition, env.account_id, env.name_prefix, identity)

        self.storage = Storage(
            self,
            "storage",
            props=StorageProps(
                name_prefix=env.name_prefix,
                account_id=env.account_id,
                partition=env.partition,
                loki_chunks_bucket=env.bucket_name("loki-chunks"),
                loki_ruler_bucket=env.bucket_name("loki-ruler"),
                velero_bucket=env.bucket_name("velero"),
                access_log_bucket=env.bucket_name("access-logs"),
                loki_role_arn=role_arn(contract.LOKI),
                velero_role_arn=role_arn(contract.VELERO),
                log_retention_days=env.storage.log_retention_days,
                backup_retention_days=env.storage.backup_retention_days,
                access_log_retention_days=env.edge.access_log_retention_days,
                prevent_destroy=env.prevent_destroy,
            ),
        )
        self.edge = Edge(
            self,
            "edge",
            props=EdgeProps(
                name_prefix=env.name_prefix,
                domain=env.domain,
                hosted_zone_id=self.zone.zone_id,
                vpc_id=self.network.vpc_id,
                public_subnet_ids=self.network.public_subnet_ids,
                ingress_node_port=contract.INGRESS_NODE_PORT,
                access_log_bucket=self.storage.access_logs.name,
                deletion_protection=env.edge.alb_deletion_protection,
                ssl_policy=env.edge.ssl_policy,
                waf_web_acl_arn=env.edge.waf_web_acl_arn,
            ),
        )
        c = env.cluster
        self.cluster = Cluster(
            self,
            "eks",
            props=ClusterProps(
                cluster_name=env.cluster_name,
                kubernetes_version=c.kubernetes_version,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                account_id=env.account_id,
                partition=env.partition,
                node_groups=c.node_groups,
                # The deploy role installs the bootstrap (helm/kubernetes providers), so it is an
                # admin too: with creator admin off, nobody else would be.
                platform_admin_role_arns=tuple(dict.fromkeys((env.deploy_role_arn, *c.platform_admin_role_arns))),
                viewer_role_arns=c.viewer_role_arns,
                developer_role_arns=c.developer_role_arns,
                developers_group=c.developers_group,
                endpoint_public_access=c.endpoint_public_access,
                public_access_cidrs=c.public_access_cidrs,
                log_retention_days=c.log_retention_days,
                log_kms_key_arn=self.log_key.key_arn,
                ebs_csi_role_arn=role_arn(contract.EBS_CSI),
                ebs_csi_service_account=contract.EBS_CSI.service_account,
                node_security_group_ids=[self.edge.node_security_group_id],
                prevent_destroy=env.prevent_destroy,
            ),
        )
        self.edge.attach_to(self.cluster.autoscaling_group_names)
        self.identities = WorkloadIdentities(
            self,
            "workload-identity",
            props=WorkloadIdentitiesProps(
                name_prefix=env.name_prefix,
                cluster_name=self.cluster.name,
                region=env.region,
                account_id=env.account_id,
                partition=env.partition,
                loki_bucket_arns=(self.storage.loki_chunks.arn, self.storage.loki_ruler.arn),
                velero_bucket_arn=self.storage.velero.arn,
                storage_key_arn=self.storage.key_arn,
                hosted_zone_arn=self.zone.zone_arn,
                prevent_destroy=env.prevent_destroy,
            ),
        )
        self._outputs()

    def _outputs(self) -> None:
        """What the bootstrap stack and the GitOps tree read (README, "Outputs")."""
        env, cluster, edge, storage, ids = self.env, self.cluster, self.edge, self.storage, self.identities
        self.outputs: dict[str, TerraformOutput] = {}

        def out(name: str, value: object, description: str, sensitive: bool = False) -> None:
            self.outputs[name] = TerraformOutput(self, name, value=value, description=description, sensitive=sensitive)

        out("vpc_id", self.network.vpc_id, "VPC of the environment")
        out("private_subnet_ids", self.network.private_subnet_ids, "Private subnets (nodes)")
        out("public_subnet_ids", self.network.public_subnet_ids, "Public subnets (ALB, NAT)")
        out("cluster_name", cluster.name, "EKS cluster name")
        out("cluster_arn", cluster.arn, "EKS cluster ARN")
        out("cluster_endpoint", cluster.endpoint, "Kubernetes API endpoint")
        out("cluster_certificate_authority", cluster.certificate_authority, "Base64 CA bundle of the API endpoint")
        out("cluster_oidc_issuer", cluster.oidc_issuer, "OIDC issuer of the cluster")
        out("cluster_security_group_id", cluster.cluster_security_group_id, "Security group EKS created for the cluster")
        out("cluster_secrets_kms_key_arn", cluster.secrets_key.arn, "KMS key encrypting Kubernetes Secrets")
        out("log_kms_key_arn", self.log_key.key_arn, "KMS key of the CloudWatch log groups")
        out("storage_kms_key_arn", storage.key_arn, "KMS key of the Loki and Velero buckets")
        out("vault_kms_key_id", ids.vault_unseal_key.key_id, "KMS key Vault auto-unseals with")
        out("vault_kms_key_arn", ids.vault_unseal_key.arn, "ARN of Vault's unseal key")
        for identity in contract.WORKLOAD_IDENTITIES:
            out(f"{identity.component.replace('-', '_')}_role_arn", ids.role_arn(identity), f"Pod Identity role of {identity.component}")
        out("domain", env.domain, "The environment's domain")
        out("hosted_zone_id", self.zone.zone_id, "Route53 zone of the domain")
        out("hosted_zone_name_servers", self.zone.name_servers, "Name servers to delegate the zone to")
        out("certificate_arn", edge.validation.certificate_arn, "ACM certificate of the domain and its wildcard")
        out("alb_dns_name", edge.alb.dns_name, "DNS name of the ALB")
        out("ingress_target_group_arn", edge.target_group.arn, "Target group the ALB forwards to")
        out("ingress_node_port", contract.INGRESS_NODE_PORT, "NodePort ingress-nginx must listen on")
        out("loki_chunks_bucket", storage.loki_chunks.name, "Loki chunks bucket")
        out("loki_ruler_bucket", storage.loki_ruler.name, "Loki ruler bucket")
        out("velero_bucket", storage.velero.name, "Velero backup bucket")
        out("developers_group", env.cluster.developers_group, "Kubernetes group of the developers")
