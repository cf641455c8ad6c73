"""The cluster (platform_constructs/cluster): control plane, node groups, add-ons, access, identities."""

from __future__ import annotations

import pytest
from scope import DEPLOYMENT, UNGUARDED, policy, synth

from environments.model import CapacityType, NodeGroupConfig
from platform_constructs.cluster.access import ClusterAccess, ClusterAccessProps
from platform_constructs.cluster.addons import NODE_ADDONS, WORKLOAD_ADDONS, Addons
from platform_constructs.cluster.control_plane import ClusterHandle, ControlPlane, ControlPlaneProps
from platform_constructs.cluster.eks_cluster import Cluster, ClusterProps
from platform_constructs.cluster.karpenter import (
    DISCOVERY_TAG,
    INTERRUPTION_EVENTS,
    NODE_MANAGED_POLICIES,
    Karpenter,
    KarpenterProps,
    controller_policies,
)
from platform_constructs.cluster.node_groups import NodeGroups, NodeGroupsProps
from platform_constructs.cluster.workload_identity import WorkloadIdentities, WorkloadIdentitiesProps

HANDLE = ClusterHandle(
    name="plato-unit",
    version="1.35",
    arn="arn:aws:eks:eu-west-1:444455556666:cluster/plato-unit",
    endpoint="https://unit.eks.amazonaws.com",
    certificate_authority="Q0E=",
    oidc_issuer="https://oidc.eks.eu-west-1.amazonaws.com/id/UNIT",
    security_group_id="sg-cluster",
)
VERSIONS = {name: f"v1.0.0-eksbuild.{i}" for i, name in enumerate(NODE_ADDONS + WORKLOAD_ADDONS)}
GROUP = NodeGroupConfig(name="general", instance_types=("m6i.large",), min_size=1, max_size=3, desired_size=1)
ADMIN = "arn:aws:iam::444455556666:role/admin"
KARPENTER = KarpenterProps(queue_name="plato-unit-karpenter", node_role_name="plato-unit-karpenter-node")
QUEUE_ARN = "arn:aws:sqs:eu-west-1:444455556666:plato-unit-karpenter"
NODE_ROLE_ARN = "arn:aws:iam::444455556666:role/plato-unit-karpenter-node"


def control_plane(**changes: object) -> ControlPlaneProps:
    fields: dict[str, object] = {
        "cluster_name": "plato-unit",
        "kubernetes_version": "1.35",
        "private_subnet_ids": ["subnet-a", "subnet-b"],
        "log_kms_key_arn": "arn:aws:kms:eu-west-1:444455556666:key/logs",
    }
    fields.update(changes)
    return ControlPlaneProps(**fields)  # type: ignore[arg-type]


def test_a_private_control_plane_exposes_no_public_endpoint_and_needs_no_skip() -> None:
    out = synth(lambda s: ControlPlane(s, deployment=DEPLOYMENT, props=control_plane()))
    cluster = out.resource("aws_eks_cluster", "cluster")
    assert cluster["vpc_config"]["endpoint_public_access"] is False
    assert "public_access_cidrs" not in cluster["vpc_config"]
    assert out.skips("aws_eks_cluster", "cluster") == {"CKV_AWS_339"}
    assert cluster["lifecycle"]["prevent_destroy"] is True
    assert cluster["access_config"] == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}


def test_a_public_endpoint_admits_only_its_allow_list_and_says_so_to_checkov() -> None:
    out = synth(
        lambda s: ControlPlane(
            s, deployment=UNGUARDED, props=control_plane(endpoint_public_access=True, public_access_cidrs=["198.51.100.0/24"])
        )
    )
    cluster = out.resource("aws_eks_cluster", "cluster")
    assert cluster["vpc_config"]["public_access_cidrs"] == ["198.51.100.0/24"]
    assert out.skips("aws_eks_cluster", "cluster") == {"CKV_AWS_38", "CKV_AWS_39", "CKV_AWS_339"}
    assert cluster["lifecycle"]["prevent_destroy"] is False


def test_extended_support_is_passed_to_the_upgrade_policy() -> None:
    out = synth(lambda s: ControlPlane(s, deployment=DEPLOYMENT, props=control_plane(support_type="EXTENDED")))
    assert out.resource("aws_eks_cluster", "cluster")["upgrade_policy"] == {"support_type": "EXTENDED"}


def test_a_public_endpoint_without_an_allow_list_is_refused() -> None:
    with pytest.raises(ValueError, match="allow-listed CIDR"):
        control_plane(endpoint_public_access=True)


def test_nodes_keep_the_default_security_groups_unless_extra_ones_are_given() -> None:
    def build(extra: list[str]) -> object:
        return synth(
            lambda s: NodeGroups(
                s,
                deployment=DEPLOYMENT,
                cluster=HANDLE,
                props=NodeGroupsProps(
                    cluster_name="plato-unit",
                    private_subnet_ids=["subnet-a"],
                    groups=[GROUP],
                    ami_release_version="1.35.6-20260714",
                    security_group_ids=extra,
                ),
            )
        )

    plain = build([]).resource("aws_launch_template", "node-launch-template")  # type: ignore[attr-defined]
    assert "vpc_security_group_ids" not in plain
    extra = build(["sg-alb-path"]).resource("aws_launch_template", "node-launch-template")  # type: ignore[attr-defined]
    assert extra["vpc_security_group_ids"] == ["sg-cluster", "sg-alb-path"]


def test_node_groups_label_their_nodes_and_size_the_template_for_the_largest_disk() -> None:
    spot = NodeGroupConfig(
        name="batch",
        instance_types=("m6a.large",),
        capacity_type=CapacityType.SPOT,
        min_size=0,
        max_size=5,
        desired_size=0,
        disk_size_gib=200,
        labels={"team": "data"},
    )
    out = synth(
        lambda s: NodeGroups(
            s,
            deployment=DEPLOYMENT,
            cluster=HANDLE,
            props=NodeGroupsProps(
                cluster_name="plato-unit", private_subnet_ids=["subnet-a"], groups=[GROUP, spot], ami_release_version="1.35.6-20260714"
            ),
        )
    )
    batch = out.resource("aws_eks_node_group", "node-group-batch")
    assert batch["labels"] == {"team": "data", "node-group": "batch", "capacity": "spot"}
    assert batch["capacity_type"] == "SPOT" and batch["cluster_name"] == "plato-unit"
    (device,) = out.resource("aws_launch_template", "node-launch-template")["block_device_mappings"]
    assert device["ebs"]["volume_size"] == 200 and device["ebs"]["encrypted"] == "true"
    assert len(out.resources("aws_iam_role_policy_attachment")) == 3


def test_add_ons_without_a_pinned_version_are_refused() -> None:
    with pytest.raises(ValueError, match="no pinned version for the add-ons"):
        Addons(object(), cluster=HANDLE, versions={"vpc-cni": "v1"})  # type: ignore[arg-type]


def test_the_ebs_csi_driver_gets_a_role_only_when_one_is_given() -> None:
    def build(role: str) -> dict[str, object]:
        def make(s: object) -> None:
            addons = Addons(s, cluster=HANDLE, versions=VERSIONS)  # type: ignore[arg-type]
            addons.node_addons()
            addons.workload_addons(nodes=[], ebs_csi_role_arn=role, ebs_csi_service_account="ebs-csi-controller-sa" if role else "")

        return synth(make).resource("aws_eks_addon", "addon-aws-ebs-csi-driver")

    assert "pod_identity_association" not in build("")
    assert build("arn:aws:iam::444455556666:role/ebs")["pod_identity_association"] == [
        {"role_arn": "arn:aws:iam::444455556666:role/ebs", "service_account": "ebs-csi-controller-sa"}
    ]


def test_admins_and_viewers_get_access_policies_and_developers_only_a_group() -> None:
    props = ClusterAccessProps(
        admin_role_arns=[ADMIN],
        viewer_role_arns=["arn:aws:iam::444455556666:role/viewer"],
        developer_role_arns=["arn:aws:iam::444455556666:role/dev"],
        developers_group="unit-devs",
    )
    out = synth(lambda s: ClusterAccess(s, cluster=HANDLE, partition="aws-us-gov", props=props))
    policies = {name: a["policy_arn"] for name, a in out.resources("aws_eks_access_policy_association").items()}
    assert policies == {
        "admin-0-policy": "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        "viewer-0-policy": "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy",
    }
    assert out.resource("aws_eks_access_entry", "developer-0")["kubernetes_groups"] == ["unit-devs"]


def test_a_cluster_without_an_admin_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one admin role"):
        ClusterAccessProps(admin_role_arns=[])


def test_the_cluster_orders_node_add_ons_before_the_nodes_and_workload_add_ons_after() -> None:
    props = ClusterProps(
        control_plane=control_plane(),
        node_groups=[GROUP],
        node_ami_release="1.35.6-20260714",
        addon_versions=VERSIONS,
        access=ClusterAccessProps(admin_role_arns=[ADMIN]),
        karpenter=KARPENTER,
    )
    out = synth(lambda s: Cluster(s, "eks", deployment=DEPLOYMENT, props=props))
    group = out.resource("aws_eks_node_group", "eks_node-group-general")
    assert {f"aws_eks_addon.eks_addon-{name}" for name in NODE_ADDONS} <= set(group["depends_on"])
    for name in WORKLOAD_ADDONS:
        assert out.resource("aws_eks_addon", f"eks_addon-{name}")["depends_on"] == ["aws_eks_node_group.eks_node-group-general"]


def test_workload_roles_trust_only_pod_identity_for_this_cluster() -> None:
    props = WorkloadIdentitiesProps(
        cluster_name="plato-unit",
        loki_bucket_arns=("arn:aws:s3:::chunks", "arn:aws:s3:::ruler"),
        velero_bucket_arn="arn:aws:s3:::velero",
        storage_key_arn="arn:aws:kms:eu-west-1:444455556666:key/storage",
        hosted_zone_arn="arn:aws:route53:::hostedzone/Z1",
        karpenter_queue_arn=QUEUE_ARN,
        karpenter_node_role_arn=NODE_ROLE_ARN,
    )
    out = synth(lambda s: WorkloadIdentities(s, "ids", deployment=DEPLOYMENT, props=props))
    for name, role in out.resources("aws_iam_role").items():
        (statement,) = policy(role["assume_role_policy"])["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}, name
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:eks:eu-west-1:444455556666:cluster/plato-unit", name
    assert set(out.resources("aws_eks_pod_identity_association")) == {
        f"ids_{c}-association" for c in ("loki", "vault", "external-dns", "velero", "karpenter", "vault-snapshot")
    }


def test_node_groups_follow_the_control_planes_version_on_the_pinned_ami_release() -> None:
    out = synth(
        lambda s: NodeGroups(
            s,
            deployment=DEPLOYMENT,
            cluster=HANDLE,
            props=NodeGroupsProps(
                cluster_name="plato-unit", private_subnet_ids=["subnet-a"], groups=[GROUP], ami_release_version="1.35.6-20260714"
            ),
        )
    )
    group = out.resource("aws_eks_node_group", "node-group-general")
    assert (group["version"], group["release_version"]) == ("1.35", "1.35.6-20260714")


# --- Karpenter -----------------------------------------------------------------------------------


def test_karpenter_nodes_get_their_own_role_an_ec2_linux_access_entry_and_only_node_policies() -> None:
    out = synth(lambda s: Karpenter(s, "karpenter", deployment=DEPLOYMENT, cluster=HANDLE, props=KARPENTER))
    (role,) = out.resources("aws_iam_role").values()
    assert role["name"] == "plato-unit-karpenter-node"
    assert policy(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = sorted(a["policy_arn"] for a in out.resources("aws_iam_role_policy_attachment").values())
    assert attached == sorted(f"arn:aws:iam::aws:policy/{name}" for name in NODE_MANAGED_POLICIES)
    (entry,) = out.resources("aws_eks_access_entry").values()
    assert entry["type"] == "EC2_LINUX" and entry["cluster_name"] == "plato-unit"
    assert out.resources("aws_eks_access_policy_association") == {}, "EKS refuses access policies on EC2_LINUX entries"
    (tag,) = out.resources("aws_ec2_tag").values()
    assert (tag["resource_id"], tag["key"], tag["value"]) == ("sg-cluster", DISCOVERY_TAG, "plato-unit")


def test_the_interruption_queue_is_encrypted_tls_only_and_fed_by_five_rules() -> None:
    out = synth(lambda s: Karpenter(s, "karpenter", deployment=DEPLOYMENT, cluster=HANDLE, props=KARPENTER))
    (queue,) = out.resources("aws_sqs_queue").values()
    assert (queue["name"], queue["message_retention_seconds"], queue["sqs_managed_sse_enabled"]) == ("plato-unit-karpenter", 300, True)
    (queue_policy,) = out.resources("aws_sqs_queue_policy").values()
    allow, deny = policy(queue_policy["policy"])["Statement"]
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]} and allow["Action"] == "sqs:SendMessage"
    assert deny == {**deny, "Effect": "Deny", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    patterns = sorted(policy(r["event_pattern"])["detail-type"][0] for r in out.resources("aws_cloudwatch_event_rule").values())
    assert patterns == sorted(detail for _, _, detail in INTERRUPTION_EVENTS) and len(patterns) == 5
    targets = out.resources("aws_cloudwatch_event_target").values()
    assert {t["arn"] for t in targets} == {"${aws_sqs_queue.karpenter_interruption-queue.arn}"} and len(targets) == 5


def test_the_controller_may_act_only_on_this_cluster_s_tagged_resources_queue_and_node_role() -> None:
    docs = controller_policies(deployment=DEPLOYMENT, cluster_name="plato-unit", queue_arn=QUEUE_ARN, node_role_arn=NODE_ROLE_ARN)
    statements = {s["Sid"]: s for document in docs.values() for s in document["Statement"]}
    for sid, statement in statements.items():
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        writes = any(
            a.split(":")[1].startswith(("Run", "Create", "Terminate", "Delete", "Tag", "Add", "Remove")) for a in statement["Action"]
        )
        if writes and any("*" in r for r in resources) and sid != "AllowScopedEC2InstanceAccessActions":
            # Wildcard resources may only be changed when they carry this cluster's tags.
            assert "plato-unit" in str(statement.get("Condition", {})), f"{sid} is not scoped to the cluster's tags"
    assert statements["AllowPassingInstanceRole"]["Resource"] == NODE_ROLE_ARN
    assert statements["AllowInterruptionQueueActions"]["Resource"] == QUEUE_ARN
    assert statements["AllowAPIServerEndpointDiscovery"]["Resource"] == "arn:aws:eks:eu-west-1:444455556666:cluster/plato-unit"
    # The one unconditioned statement: launching from images, snapshots, subnets and security groups.
    assert all(":launch-template/" not in r for r in statements["AllowScopedEC2InstanceAccessActions"]["Resource"])
    assert statements["AllowRegionalReadActions"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert all(len(str(document)) < 6144 for document in docs.values()), "each fits a managed policy"


def test_node_instances_volumes_and_interfaces_carry_the_cost_tags() -> None:
    tags = {"environment": "unit", "cost-center": "platform-unit"}
    out = synth(
        lambda s: NodeGroups(
            s,
            deployment=DEPLOYMENT,
            cluster=HANDLE,
            props=NodeGroupsProps(
                cluster_name="plato-unit", private_subnet_ids=["subnet-a"], groups=[GROUP], ami_release_version="1.35.6-20260714", tags=tags
            ),
        )
    )
    (template,) = out.resources("aws_launch_template").values()
    specs = {spec["resource_type"]: spec["tags"] for spec in template["tag_specifications"]}
    assert set(specs) == {"instance", "volume", "network-interface"}
    assert all(spec == {**tags, "Name": "plato-unit-node"} for spec in specs.values())


def test_the_vault_snapshot_role_reads_the_replica_only_when_there_is_one() -> None:
    base = {
        "cluster_name": "plato-unit",
        "loki_bucket_arns": ("arn:aws:s3:::chunks", "arn:aws:s3:::ruler"),
        "velero_bucket_arn": "arn:aws:s3:::velero",
        "storage_key_arn": "arn:aws:kms:eu-west-1:444455556666:key/storage",
        "hosted_zone_arn": "arn:aws:route53:::hostedzone/Z1",
        "karpenter_queue_arn": QUEUE_ARN,
        "karpenter_node_role_arn": NODE_ROLE_ARN,
    }

    from platform_constructs.storage.replication import ReplicaHandle

    def snapshot_policy(**changes: object) -> list[dict[str, object]]:
        props = WorkloadIdentitiesProps(**{**base, **changes})  # type: ignore[arg-type]
        out = synth(lambda s: WorkloadIdentities(s, "ids", deployment=DEPLOYMENT, props=props))
        (document,) = [
            policy(p["policy"])
            for p in out.resources("aws_iam_role_policy").values()
            if p["role"] == "${aws_iam_role.ids_vault-snapshot-role.id}"
        ]
        statements: list[dict[str, object]] = document["Statement"]
        return statements

    alone = snapshot_policy()
    assert [s["Resource"] for s in alone] == [
        "arn:aws:s3:::velero/vault-snapshots/*",
        ["arn:aws:s3:::velero"],
        "arn:aws:kms:eu-west-1:444455556666:key/storage",
    ]
    replicated = snapshot_policy(
        backup_replica=ReplicaHandle(
            bucket_arn="arn:aws:s3:::velero-copy", key_arn="arn:aws:kms:eu-north-1:444455556666:key/copy", region="eu-north-1"
        )
    )
    assert [s["Resource"] for s in replicated] == [
        "arn:aws:s3:::velero/vault-snapshots/*",
        ["arn:aws:s3:::velero", "arn:aws:s3:::velero-copy"],
        "arn:aws:s3:::velero-copy/vault-snapshots/*",
        "arn:aws:kms:eu-north-1:444455556666:key/copy",
        "arn:aws:kms:eu-west-1:444455556666:key/storage",
    ]
