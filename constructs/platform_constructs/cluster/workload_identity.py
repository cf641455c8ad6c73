"""Least-privilege AWS roles for platform components, bound to service accounts by EKS Pod Identity.

Every platform component that calls AWS gets one role whose trust admits only the EKS Pod
Identity service acting for this account's cluster, and whose policy names only that
component's resources. No IRSA: every component here supports Pod Identity (the EBS CSI
driver through its add-on's ``pod_identity_association``), so no OIDC provider is created.
See docs/decisions/0008-pod-identity.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from platform_constructs.cluster.karpenter import controller_policies
from platform_constructs.context import Deployment
from platform_constructs.contract import (
    EBS_CSI,
    EXTERNAL_DNS,
    KARPENTER,
    LOKI,
    VAULT,
    VAULT_SNAPSHOT,
    VAULT_SNAPSHOT_PREFIX,
    VELERO,
    WorkloadIdentity,
    workload_role_name,
)
from platform_constructs.encryption.kms import customer_managed_key
from platform_constructs.storage.replication import ReplicaHandle


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentitiesProps:
    """Props of :class:`WorkloadIdentities`."""

    cluster_name: str
    """The cluster whose pods may assume the roles."""
    loki_bucket_arns: tuple[str, ...]
    """Loki's chunks and ruler buckets."""
    velero_bucket_arn: str
    """Velero's backup bucket."""
    storage_key_arn: str
    """KMS key of those buckets."""
    backup_replica: ReplicaHandle | None = None
    """The backup bucket's replica, which the snapshot job may read for a restore. Default: none."""
    hosted_zone_arn: str
    """The only zone external-dns may change."""
    karpenter_queue_arn: str
    """Karpenter's interruption queue, the only one it may read."""
    karpenter_node_role_arn: str
    """The role Karpenter passes to the nodes it launches, the only one it may pass."""


def _statement(actions: list[str], resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


class WorkloadIdentities(Construct):
    """Roles for Loki, Vault, external-dns, Velero and the EBS CSI driver; Vault's unseal key."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, props: WorkloadIdentitiesProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self.deployment = d = deployment
        self.roles: dict[str, IamRole] = {}
        self._trust = self._pod_identity_trust()
        self.vault_unseal_key = customer_managed_key(
            self, "vault-unseal-key", deployment=d, alias=f"{d.name_prefix}-vault-unseal", description=f"{d.name_prefix}: Vault auto-unseal"
        )
        self._storage_roles()
        self._role(VAULT, [_statement(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], self.vault_unseal_key.arn)])
        self._role(
            EXTERNAL_DNS,
            [
                _statement(
                    ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResource"], p.hosted_zone_arn
                ),
                # ListHostedZones cannot be scoped to a zone (AWS: no resource-level permissions).
                _statement(["route53:ListHostedZones"], "*"),
            ],
        )
        ebs = self._role(EBS_CSI, [], associate=False)  # bound through the add-on's pod_identity_association
        IamRolePolicyAttachment(
            self, "ebs-csi-managed-policy", role=ebs.name, policy_arn=d.managed_policy_arn("service-role/AmazonEBSCSIDriverPolicy")
        )
        self._karpenter_role()

    def _karpenter_role(self) -> None:
        """Karpenter's controller: six customer-managed policies (together they pass the size limit
        of inline policies), each scoped to this cluster's tags, queue and node role."""
        p, d = self.props, self.deployment
        role = self._role(KARPENTER, [])
        documents = controller_policies(
            deployment=d, cluster_name=p.cluster_name, queue_arn=p.karpenter_queue_arn, node_role_arn=p.karpenter_node_role_arn
        )
        for name, document in documents.items():
            policy = IamPolicy(
                self,
                f"karpenter-{name}-policy",
                name=f"{p.cluster_name}-karpenter-{name}",
                description=f"Karpenter in {p.cluster_name}: {name.replace('-', ' ')}",
                policy=json.dumps(document, sort_keys=True),
            )
            IamRolePolicyAttachment(self, f"karpenter-{name}-attachment", role=role.name, policy_arn=policy.arn)

    def _pod_identity_trust(self) -> str:
        p, d = self.props, self.deployment
        cluster_arn = f"arn:{d.partition}:eks:{d.region}:{d.account_id}:cluster/{p.cluster_name}"
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "EksPodIdentityForThisCluster",
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": d.account_id},
                            "ArnEquals": {"aws:SourceArn": cluster_arn},
                        },
                    }
                ],
            },
            sort_keys=True,
        )

    def _storage_roles(self) -> None:
        p, d = self.props, self.deployment
        kms_data = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        object_rw = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        self._role(
            LOKI,
            [
                _statement(["s3:ListBucket"], list(p.loki_bucket_arns)),
                _statement(object_rw, [f"{arn}/*" for arn in p.loki_bucket_arns]),
                _statement(kms_data, p.storage_key_arn),
            ],
        )
        ec2 = f"arn:{d.partition}:ec2:{d.region}"
        self._role(
            VELERO,
            [
                _statement(["s3:ListBucket"], p.velero_bucket_arn),
                _statement([*object_rw, "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], f"{p.velero_bucket_arn}/*"),
                _statement(kms_data, p.storage_key_arn),
                # Describe* calls cannot be scoped to resources (AWS: no resource-level permissions).
                _statement(["ec2:DescribeVolumes", "ec2:DescribeSnapshots"], "*"),
                _statement(
                    ["ec2:CreateSnapshot", "ec2:CreateVolume", "ec2:CreateTags"], [f"{ec2}:{d.account_id}:volume/*", f"{ec2}::snapshot/*"]
                ),
                _statement(
                    ["ec2:DeleteSnapshot"],
                    f"{ec2}::snapshot/*",
                    Condition={"StringLike": {"aws:ResourceTag/velero.io/backup": "*"}},
                ),
            ],
        )

        replica = p.backup_replica
        # Vault's snapshot job: write and read back its own prefix, never delete (expiry is the
        # bucket's lifecycle), and use the storage key only through S3.
        self._role(
            VAULT_SNAPSHOT,
            [
                _statement(["s3:PutObject", "s3:GetObject"], f"{p.velero_bucket_arn}/{VAULT_SNAPSHOT_PREFIX}*"),
                # A restore lists and reads the snapshots, in the replica too where there is one.
                _statement(
                    ["s3:ListBucket"],
                    [p.velero_bucket_arn, *([replica.bucket_arn] if replica else [])],
                    Condition={"StringLike": {"s3:prefix": f"{VAULT_SNAPSHOT_PREFIX}*"}},
                ),
                *(
                    [
                        _statement(["s3:GetObject"], f"{replica.bucket_arn}/{VAULT_SNAPSHOT_PREFIX}*"),
                        _statement(
                            ["kms:Decrypt"],
                            replica.key_arn,
                            Condition={"StringEquals": {"kms:ViaService": f"s3.{replica.region}.amazonaws.com"}},
                        ),
                    ]
                    if replica
                    else []
                ),
                _statement(
                    ["kms:GenerateDataKey", "kms:Decrypt"],
                    p.storage_key_arn,
                    Condition={"StringEquals": {"kms:ViaService": f"s3.{d.region}.amazonaws.com"}},
                ),
            ],
        )

    def _role(self, identity: WorkloadIdentity, statements: list[dict[str, Any]], *, associate: bool = True) -> IamRole:
        p = self.props
        role = IamRole(
            self,
            f"{identity.component}-role",
            name=workload_role_name(self.deployment.name_prefix, identity),
            description=f"{identity.component} in {p.cluster_name} ({identity.namespace}/{identity.service_account}), via EKS Pod Identity",
            assume_role_policy=self._trust,
        )
        if statements:
            IamRolePolicy(
                self,
                f"{identity.component}-policy",
                name=f"{identity.component}-least-privilege",
                role=role.id,
                policy=json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True),
            )
        if associate:
            EksPodIdentityAssociation(
                self,
                f"{identity.component}-association",
                cluster_name=p.cluster_name,
                namespace=identity.namespace,
                service_account=identity.service_account,
                role_arn=role.arn,
            )
        self.roles[identity.component] = role
        return role

    def role_arn(self, identity: WorkloadIdentity) -> str:
        return str(self.roles[identity.component].arn)
