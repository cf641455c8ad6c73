"""Every stateful component has a backup path, and Vault's path is the one the docs set up.

The table below has one row per stateful component. Each row says where the data lives and
what backs it up, and the tests check it in every environment against the rendered tree and
the synthesized stacks. A stateful workload in the tree that the table does not name fails
the suite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ENVIRONMENTS, Synth, upstream_file
from gitops_tree import REPO, tree_of

from platform_constructs import contract
from platform_constructs.bootstrap.charts import VAULT

#: component -> (namespace, how it is backed up). "velero" = a Velero Schedule covers the
#: namespace; "vault-snapshot" = the CronJob; "state" = the state bucket; "rebuilt" = derived
#: data a new cluster recomputes (Git, metrics, logs under their own retention).
BACKUP_PATHS: dict[str, tuple[str, str]] = {
    "Terraform state": ("", "state"),
    "db1 (Redis: a cache on emptyDir)": ("project-plato", "rebuilt"),
    "db2 (Postgres volume)": ("project-plato", "velero"),
    "Vault (raft)": ("vault", "vault-snapshot"),
    "Prometheus and Alertmanager": ("monitoring", "rebuilt"),
    "Loki (S3 chunks)": ("monitoring", "rebuilt"),
}
STATEFUL_KINDS = ("StatefulSet", "PersistentVolumeClaim")


def _schedules(env: str) -> list[dict[str, Any]]:
    return [r.obj for r in tree_of(env).find("Schedule", namespace="velero")]


def _covered_by_velero(env: str, namespace: str) -> bool:
    return any(namespace in s["spec"]["template"].get("includedNamespaces", []) for s in _schedules(env))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_stateful_workload_in_the_tree_has_a_row_in_the_backup_table(env: str) -> None:
    namespaces = {ns for ns, _ in BACKUP_PATHS.values()}
    found = {(r.kind, r.namespace, r.name) for kind in STATEFUL_KINDS for r in tree_of(env).find(kind)}
    assert found, f"{env}: no stateful workload found; the table test would prove nothing"
    unnamed = sorted(f"{k} {ns}/{n}" for k, ns, n in found if ns not in namespaces)
    assert not unnamed, f"{env}: stateful workloads without a backup path in BACKUP_PATHS: {unnamed}"


@pytest.mark.parametrize("component", sorted(BACKUP_PATHS))
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_stateful_component_has_its_backup_path(synth: Synth, environments: Any, env: str, component: str) -> None:
    namespace, path = BACKUP_PATHS[component]
    config = environments[env]
    if path == "velero":
        assert _covered_by_velero(env, namespace), f"{env}: no Velero Schedule includes {namespace}"
    elif path == "vault-snapshot":
        job = tree_of(env).one("CronJob", "vault-snapshot", namespace)
        assert job["spec"]["schedule"]
    elif path == "state":
        versioning = synth.resources(f"{env}-state", "aws_s3_bucket_versioning")
        assert versioning["tfstate_versioning"]["versioning_configuration"] == {"status": "Enabled"}
    else:
        assert path == "rebuilt", component
    # Whatever lands in the state or backup bucket leaves the region where the configuration asks.
    replicated = {
        f"{env}-platform": "storage_velero-replica_configuration",
        f"{env}-state": "tfstate-replica_configuration",
    }
    for stack, name in replicated.items():
        rules = synth.resources(stack, "aws_s3_bucket_replication_configuration")
        assert (name in rules) == config.storage.replicated, (stack, sorted(rules))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_production_tiers_keep_backups_and_states_in_a_second_region_under_object_lock_where_configured(
    synth: Synth, environments: Any, env: str
) -> None:
    config = environments[env]
    if config.tier.value == "production":
        assert config.storage.replicated
    locks = synth.resources(f"{env}-platform", "aws_s3_bucket_object_lock_configuration")
    lock = config.storage.object_lock
    if lock is None:
        assert locks == {}
    else:
        (only,) = locks.values()
        assert only["rule"] == {"default_retention": {"days": lock.days, "mode": lock.mode.value}}
        assert only["provider"] == "aws.replica"


# --- Vault's snapshot job ------------------------------------------------------------------


def _job_pod(env: str) -> dict[str, Any]:
    job = tree_of(env).one("CronJob", "vault-snapshot", contract.VAULT_SNAPSHOT.namespace)
    pod: dict[str, Any] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def _readme_vault_role(name: str) -> tuple[dict[str, str], str]:
    """The `vault write auth/kubernetes/role/<name>` options and the policy text gitops/README.md sets up."""
    text = (REPO / "gitops" / "README.md").read_text()
    policy = re.search(rf"vault policy write {name} - <<'EOF'\n(.*?)\nEOF", text, re.S)
    role = re.search(rf"vault write auth/kubernetes/role/{name} \\\n(.*?)\n```", text, re.S)
    assert policy and role, f"gitops/README.md sets up no Vault role {name}"
    options = dict(re.findall(r"(\w+)=(\S+)", role.group(1)))
    return options, policy.group(1)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_snapshot_job_logs_in_as_the_vault_role_the_readme_binds_to_its_service_account(env: str) -> None:
    pod = _job_pod(env)
    options, policy = _readme_vault_role("raft-snapshot")
    assert pod["serviceAccountName"] == contract.VAULT_SNAPSHOT.service_account == options["bound_service_account_names"]
    assert contract.VAULT_SNAPSHOT.namespace == options["bound_service_account_namespaces"]
    (token,) = [v for v in pod["volumes"] if v["name"] == "vault-token"]
    assert token["projected"]["sources"][0]["serviceAccountToken"]["audience"] == options["audience"]
    (snapshot,) = pod["initContainers"]
    assert "role=raft-snapshot" in " ".join(snapshot["command"])
    assert options["policies"] == "raft-snapshot"
    # The policy may read a snapshot and nothing else (not restore one: that is sys/storage/raft/snapshot-force).
    assert re.findall(r'path "([^"]+)" \{ capabilities = \[([^\]]*)\] \}', policy) == [("sys/storage/raft/snapshot", '"read"')]
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_snapshot_goes_to_the_backup_bucket_under_its_prefix_which_expires_with_velero_s_backups(
    synth: Synth, environments: Any, env: str
) -> None:
    tree = tree_of(env)
    (upload,) = _job_pod(env)["containers"]
    values = {e["name"]: e.get("value") for e in upload["env"]}
    assert values["BUCKET"] == tree.outputs["VELERO_BUCKET"] == environments[env].bucket_name("velero")
    assert values["PREFIX"] == contract.VAULT_SNAPSHOT_PREFIX
    assert "s3://$(BUCKET)/$(PREFIX)$(CLUSTER)/$(JOB_NAME).snap" in upload["args"]
    rules = synth.resources(f"{env}-platform", "aws_s3_bucket_lifecycle_configuration")["storage_velero_lifecycle"]["rule"]
    (snapshots,) = [r for r in rules if r["filter"] == [{"prefix": contract.VAULT_SNAPSHOT_PREFIX}]]
    ttl_days = int(tree.one("Schedule", "project-plato", "velero")["spec"]["template"]["ttl"].removesuffix("h")) / 24
    assert snapshots["expiration"] == [{"days": ttl_days}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_snapshot_role_may_only_write_and_read_its_prefix_through_s3(synth: Synth, environments: Any, env: str) -> None:
    role = synth.resources(f"{env}-platform", "aws_iam_role")["workload-identity_vault-snapshot-role"]
    assert role["name"] == f"plato-{env}-vault-snapshot"
    (policy,) = [
        json.loads(p["policy"])
        for p in synth.resources(f"{env}-platform", "aws_iam_role_policy").values()
        if p["role"] == "${aws_iam_role.workload-identity_vault-snapshot-role.id}"
    ]
    s3, listing, *replica, kms = policy["Statement"]
    prefix = contract.VAULT_SNAPSHOT_PREFIX
    assert s3["Action"] == ["s3:PutObject", "s3:GetObject"]
    assert s3["Resource"] == f"${{aws_s3_bucket.storage_velero_bucket.arn}}/{prefix}*"
    assert listing["Action"] == ["s3:ListBucket"] and listing["Condition"] == {"StringLike": {"s3:prefix": f"{prefix}*"}}
    if environments[env].storage.replicated:
        read, decrypt = replica
        assert read == {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"${{aws_s3_bucket.storage_velero-replica_bucket_bucket.arn}}/{prefix}*",
        }
        assert decrypt["Resource"] == "${aws_kms_key.storage_velero-replica_key.arn}"
        assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{environments[env].storage.replica_region}.amazonaws.com"}}
    else:
        assert replica == []
    assert all("s3:DeleteObject" not in st["Action"] for st in policy["Statement"])
    assert kms["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{synth.stack(f'{env}-platform')['provider']['aws'][0]['region']}.amazonaws.com"}
    }
    associations = synth.resources(f"{env}-platform", "aws_eks_pod_identity_association").values()
    assert {(a["namespace"], a["service_account"]) for a in associations} >= {("vault", "vault-snapshot")}


def test_the_snapshot_job_runs_the_vault_cli_of_the_pinned_vault_chart() -> None:
    chart = yaml.safe_load(Path(upstream_file(f"catalog/charts/vault/{VAULT.version}/values.yaml")).read_text())
    default = f"{chart['server']['image']['repository']}:{chart['server']['image']['tag']}"
    for env in ENVIRONMENTS:
        (snapshot,) = _job_pod(env)["initContainers"]
        assert snapshot["image"] == default, env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_snapshot_job_reaches_only_vault_dns_the_pod_identity_agent_and_https(env: str) -> None:
    policy = tree_of(env).one("NetworkPolicy", "vault-snapshot", "vault")["spec"]
    assert policy["podSelector"]["matchLabels"] == _job_labels(env)
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in policy
    ports = sorted((p["protocol"], p["port"]) for rule in policy["egress"] for p in rule["ports"])
    assert ports == [("TCP", 53), ("TCP", 80), ("TCP", 443), ("TCP", 8200), ("UDP", 53)]


def _job_labels(env: str) -> dict[str, str]:
    job = tree_of(env).one("CronJob", "vault-snapshot", "vault")
    labels: dict[str, str] = job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return labels
