"""Pod Identity roles: one per component, trusted only by this cluster's pods, least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth

from platform_constructs import contract


def roles(synth: Synth, env: str) -> dict[str, Any]:
    return synth.resources(f"{env}-platform", "aws_iam_role")


def policy(synth: Synth, env: str, component: str) -> list[dict[str, Any]]:
    body = synth.resources(f"{env}-platform", "aws_iam_role_policy")[f"workload-identity_{component}-policy"]
    return list(json.loads(body["policy"])["Statement"])


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_each_component_role_trusts_only_pod_identity_for_this_cluster(synth: Synth, environments: Any, env_name: str) -> None:
    env = environments[env_name]
    for identity in contract.WORKLOAD_IDENTITIES:
        role = roles(synth, env_name)[f"workload-identity_{identity.component}-role"]
        assert role["name"] == contract.workload_role_name(env.name_prefix, identity)
        (trust,) = json.loads(role["assume_role_policy"])["Statement"]
        assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == env.account_id
        assert trust["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(":cluster/${aws_eks_cluster.eks_cluster.name}")


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_associations_bind_the_contracts_service_accounts(synth: Synth, env_name: str) -> None:
    associations = synth.resources(f"{env_name}-platform", "aws_eks_pod_identity_association")
    bound = {(a["namespace"], a["service_account"]) for a in associations.values()}
    expected = {(i.namespace, i.service_account) for i in contract.WORKLOAD_IDENTITIES if i is not contract.EBS_CSI}
    assert bound == expected
    assert all(a["cluster_name"] == "${aws_eks_cluster.eks_cluster.name}" for a in associations.values())


def test_loki_may_use_only_its_two_buckets_and_the_storage_key(synth: Synth) -> None:
    statements = policy(synth, "dev", "loki")
    resources = {r for s in statements for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert resources == {
        "${aws_s3_bucket.storage_loki-chunks_bucket.arn}",
        "${aws_s3_bucket.storage_loki-ruler_bucket.arn}",
        "${aws_s3_bucket.storage_loki-chunks_bucket.arn}/*",
        "${aws_s3_bucket.storage_loki-ruler_bucket.arn}/*",
        "${aws_kms_key.storage_key.arn}",
    }
    assert not any(a == "*" or a.endswith(":*") for s in statements for a in s["Action"])


def test_external_dns_may_change_only_the_environments_zone(synth: Synth) -> None:
    statements = policy(synth, "prod", "external-dns")
    change = next(s for s in statements if "route53:ChangeResourceRecordSets" in s["Action"])
    assert change["Resource"] == "${aws_route53_zone.dns_zone.arn}"
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert [s["Action"] for s in wildcard] == [["route53:ListHostedZones"]]


def test_vault_may_only_use_its_unseal_key(synth: Synth) -> None:
    (statement,) = policy(synth, "stage", "vault")
    assert statement["Resource"] == "${aws_kms_key.workload-identity_vault-unseal-key.arn}"
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"]


def test_velero_may_use_its_bucket_and_delete_only_snapshots_it_tagged(synth: Synth) -> None:
    statements = policy(synth, "prod", "velero")
    delete = next(s for s in statements if s["Action"] == ["ec2:DeleteSnapshot"])
    assert delete["Condition"] == {"StringLike": {"aws:ResourceTag/velero.io/backup": "*"}}
    s3 = [s for s in statements if any(a.startswith("s3:") for a in s["Action"])]
    assert {r for s in s3 for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])} == {
        "${aws_s3_bucket.storage_velero_bucket.arn}",
        "${aws_s3_bucket.storage_velero_bucket.arn}/*",
    }


def test_no_irsa_oidc_provider_is_created(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        assert synth.resources(f"{env}-platform", "aws_iam_openid_connect_provider") == {}
