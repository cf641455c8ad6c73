"""The EKS cluster construct, as synthesized for each environment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth

from environments.model.eks import EKS_ADDON_VERSIONS


def res(synth: Synth, env: str, rtype: str) -> dict[str, Any]:
    return synth.resources(f"{env}-platform", rtype)


def cluster(synth: Synth, env: str) -> dict[str, Any]:
    (c,) = res(synth, env, "aws_eks_cluster").values()
    return c


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_cluster_runs_the_configured_version_in_the_private_subnets(synth: Synth, environments: Any, env_name: str) -> None:
    c = cluster(synth, env_name)
    assert c["name"] == environments[env_name].cluster_name
    assert c["version"] == environments[env_name].cluster.kubernetes_version
    assert c["vpc_config"]["subnet_ids"] == [
        f"${{aws_subnet.network_private-{i}.id}}" for i in range(environments[env_name].network.az_count)
    ]
    assert c["vpc_config"]["endpoint_private_access"] is True


def test_the_api_endpoint_is_public_only_to_allow_listed_cidrs_and_private_in_prod(synth: Synth) -> None:
    for env in ("dev", "stage"):
        vpc = cluster(synth, env)["vpc_config"]
        assert vpc["endpoint_public_access"] is True
        assert vpc["public_access_cidrs"] == ["203.0.113.0/24"]
        assert "0.0.0.0/0" not in vpc["public_access_cidrs"]
    prod = cluster(synth, "prod")["vpc_config"]
    assert prod["endpoint_public_access"] is False
    assert "public_access_cidrs" not in prod


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_secrets_are_envelope_encrypted_with_a_rotating_customer_key(synth: Synth, env_name: str) -> None:
    enc = cluster(synth, env_name)["encryption_config"]
    assert enc["resources"] == ["secrets"]
    assert enc["provider"]["key_arn"] == "${aws_kms_key.eks_secrets-key.arn}"
    assert res(synth, env_name, "aws_kms_key")["eks_secrets-key"]["enable_key_rotation"] is True


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_all_control_plane_logs_go_to_an_encrypted_group_with_the_configured_retention(
    synth: Synth, environments: Any, env_name: str
) -> None:
    c = cluster(synth, env_name)
    assert sorted(c["enabled_cluster_log_types"]) == sorted(["api", "audit", "authenticator", "controllerManager", "scheduler"])
    group = res(synth, env_name, "aws_cloudwatch_log_group")["eks_control-plane-logs"]
    assert group["name"] == f"/aws/eks/{environments[env_name].cluster_name}/cluster"
    assert group["retention_in_days"] == environments[env_name].cluster.log_retention_days
    assert group["kms_key_id"] == "${aws_kms_key.log-key_key.arn}"
    assert "aws_cloudwatch_log_group.eks_control-plane-logs" in c["depends_on"]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_authentication_is_api_only_without_an_implicit_creator_admin(synth: Synth, env_name: str) -> None:
    access = cluster(synth, env_name)["access_config"]
    assert access == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_platform_admins_get_cluster_admin_and_developers_only_their_group(synth: Synth, environments: Any, env_name: str) -> None:
    cfg = environments[env_name].cluster
    entries = res(synth, env_name, "aws_eks_access_entry")
    assert entries["eks_admin-0"]["principal_arn"] == environments[env_name].deploy_role_arn
    assert entries["eks_admin-1"]["principal_arn"] == cfg.platform_admin_role_arns[0]
    assert entries["eks_viewer-0"]["principal_arn"] == cfg.viewer_role_arns[0]
    assert "kubernetes_groups" not in entries["eks_admin-0"]
    assert entries["eks_developer-0"]["principal_arn"] == cfg.developer_role_arns[0]
    assert entries["eks_developer-0"]["kubernetes_groups"] == [cfg.developers_group]
    associations = res(synth, env_name, "aws_eks_access_policy_association")
    for i in (0, 1):
        assoc = associations[f"eks_admin-{i}-policy"]
        assert assoc["policy_arn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert assoc["access_scope"] == {"type": "cluster"}
        assert assoc["principal_arn"] == f"${{aws_eks_access_entry.eks_admin-{i}.principal_arn}}"
    assert associations["eks_viewer-0-policy"]["policy_arn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
    assert not any(e.get("kubernetes_groups") == ["system:masters"] for e in entries.values())


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_nodes_require_imdsv2_with_hop_limit_one_and_encrypted_root_volumes(synth: Synth, env_name: str) -> None:
    (lt,) = res(synth, env_name, "aws_launch_template").values()
    assert lt["metadata_options"]["http_tokens"] == "required"
    assert lt["metadata_options"]["http_put_response_hop_limit"] == 1
    ebs = lt["block_device_mappings"][0]["ebs"]
    assert ebs["encrypted"] == "true"
    assert ebs["volume_type"] == "gp3"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_node_groups_follow_the_configuration_on_al2023_in_private_subnets(synth: Synth, environments: Any, env_name: str) -> None:
    groups = res(synth, env_name, "aws_eks_node_group")
    for cfg in environments[env_name].cluster.node_groups:
        g = groups[f"eks_node-group-{cfg.name}"]
        assert g["ami_type"] == "AL2023_x86_64_STANDARD"
        assert g["instance_types"] == list(cfg.instance_types)
        assert g["capacity_type"] == cfg.capacity_type.value
        assert g["scaling_config"] == {"min_size": cfg.min_size, "max_size": cfg.max_size, "desired_size": cfg.desired_size}
        assert all("network_private" in s for s in g["subnet_ids"])
        assert g["launch_template"]["id"] == "${aws_launch_template.eks_node-launch-template.id}"


def test_node_sizes_differ_by_environment(synth: Synth) -> None:
    def sizes(env: str) -> tuple[list[str], int]:
        (g,) = res(synth, env, "aws_eks_node_group").values()
        return g["instance_types"], g["scaling_config"]["min_size"]

    assert sizes("dev") == (["t3.large", "t3a.large"], 2)
    assert sizes("prod") == (["m6i.xlarge"], 3)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_node_role_carries_only_the_managed_policies_nodes_need(synth: Synth, env_name: str) -> None:
    attachments = [
        a["policy_arn"]
        for a in res(synth, env_name, "aws_iam_role_policy_attachment").values()
        if a["role"] == "${aws_iam_role.eks_node-role.name}"
    ]
    assert sorted(attachments) == sorted(
        f"arn:aws:iam::aws:policy/{p}" for p in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy")
    )


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_add_ons_are_pinned_per_cluster_version(synth: Synth, environments: Any, env_name: str) -> None:
    addons = {a["addon_name"]: a for a in res(synth, env_name, "aws_eks_addon").values()}
    pinned = EKS_ADDON_VERSIONS[environments[env_name].cluster.kubernetes_version]
    assert {name: a["addon_version"] for name, a in addons.items()} == dict(pinned)


def test_the_vpc_cni_enforces_network_policies(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        (cni,) = [a for a in res(synth, env, "aws_eks_addon").values() if a["addon_name"] == "vpc-cni"]
        assert json.loads(cni["configuration_values"])["enableNetworkPolicy"] == "true"


def test_networking_add_ons_come_before_the_nodes_and_workload_add_ons_after(synth: Synth) -> None:
    (group,) = res(synth, "prod", "aws_eks_node_group").values()
    for addon in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert f"aws_eks_addon.eks_addon-{addon}" in group["depends_on"]
    addons = res(synth, "prod", "aws_eks_addon")
    for addon in ("coredns", "aws-ebs-csi-driver"):
        assert "aws_eks_node_group.eks_node-group-general" in addons[f"eks_addon-{addon}"]["depends_on"]


def test_the_ebs_csi_driver_gets_its_own_role_through_pod_identity(synth: Synth) -> None:
    addon = res(synth, "dev", "aws_eks_addon")["eks_addon-aws-ebs-csi-driver"]
    assert addon["pod_identity_association"] == [
        {"role_arn": "arn:aws:iam::111111111111:role/plato-dev-ebs-csi", "service_account": "ebs-csi-controller-sa"}
    ]


def test_the_prod_cluster_and_its_keys_are_protected_from_destroy(synth: Synth) -> None:
    assert cluster(synth, "prod")["lifecycle"]["prevent_destroy"] is True
    assert res(synth, "prod", "aws_kms_key")["eks_secrets-key"]["lifecycle"]["prevent_destroy"] is True
    assert cluster(synth, "dev")["lifecycle"]["prevent_destroy"] is False


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_outputs_carry_what_bootstrap_and_gitops_need(synth: Synth, env_name: str) -> None:
    outputs = synth.stack(f"{env_name}-platform")["output"]
    for name in (
        "cluster_name",
        "cluster_endpoint",
        "cluster_certificate_authority",
        "cluster_oidc_issuer",
        "loki_role_arn",
        "vault_role_arn",
        "external_dns_role_arn",
        "velero_role_arn",
        "ebs_csi_role_arn",
        "vault_kms_key_id",
        "cluster_secrets_kms_key_arn",
        "certificate_arn",
        "ingress_target_group_arn",
        "loki_chunks_bucket",
        "velero_bucket",
        "hosted_zone_id",
    ):
        assert name in outputs, name
