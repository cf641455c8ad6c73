"""Karpenter in the tree: the controller, its NodePool and EC2NodeClass, against the configuration.

The AWS side (queue, EventBridge rules, node role, access entry, discovery tags) is tested in
tests/constructs/test_cluster_constructs.py and tests/test_cluster.py; this module checks that
the objects Flux applies ask for exactly what Terraform built and the configuration says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from conftest import upstream_file
from gitops_tree import ENVIRONMENTS, Tree, crd_errors, environment, tree_of

from environments.model.config import KARPENTER_CONTROLLER_REPLICAS
from platform_constructs import contract

RELEASE = ("karpenter", contract.KARPENTER.namespace)


def _node_pool(tree: Tree) -> dict[str, Any]:
    return tree.one("NodePool", "workload")


def _node_class(tree: Tree) -> dict[str, Any]:
    ref = _node_pool(tree)["spec"]["template"]["spec"]["nodeClassRef"]
    assert (ref["group"], ref["kind"]) == ("karpenter.k8s.aws", "EC2NodeClass")
    return tree.one("EC2NodeClass", ref["name"])


def _requirement(tree: Tree, key: str) -> dict[str, Any]:
    (found,) = [r for r in _node_pool(tree)["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_controller_reads_the_interruption_queue_terraform_made_for_this_cluster(env: str) -> None:
    tree, config = tree_of(env), environment(env)
    settings = tree.helm_values(*RELEASE)["settings"]
    assert settings == {"clusterName": config.cluster_name, "interruptionQueue": config.karpenter_queue_name}
    assert tree.outputs["KARPENTER_QUEUE"] == config.karpenter_queue_name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_controller_runs_only_on_the_managed_node_groups_and_as_many_as_the_configuration_counts_on(env: str) -> None:
    tree, config = tree_of(env), environment(env)
    values = tree.helm_values(*RELEASE)
    assert values["replicas"] == KARPENTER_CONTROLLER_REPLICAS
    (term,) = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    expressions = {e["key"]: e for e in term["matchExpressions"]}
    assert expressions["karpenter.sh/nodepool"]["operator"] == "DoesNotExist", "never on a node it launched"
    groups = expressions["eks.amazonaws.com/nodegroup"]
    assert groups["operator"] == "In"
    assert groups["values"] == [g.name for g in config.cluster.node_groups]
    # One controller per node: the chart's anti-affinity must survive our affinity override
    # (Helm merges maps, so setting nodeAffinity keeps the chart's podAntiAffinity).
    chart = yaml.safe_load(upstream_file(f"catalog/charts/karpenter/{_chart_version(tree)}/values.yaml").read_text())
    assert "podAntiAffinity" in chart["affinity"] and "podAntiAffinity" not in values["affinity"]


def _chart_version(tree: Tree) -> str:
    ref: str = tree.one("OCIRepository", "karpenter", RELEASE[1])["spec"]["ref"]["tag"]
    return ref


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_chart_version_and_the_crds_the_tree_is_checked_against_are_the_same_release(env: str) -> None:
    from tools.pins.crds import CRD_SOURCES

    (source,) = [s for s in CRD_SOURCES if s.installer == "karpenter"]
    assert source.version == _chart_version(tree_of(env))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_node_pool_buys_the_capacity_types_and_stops_at_the_limits_the_configuration_sets(env: str) -> None:
    tree, karpenter = tree_of(env), environment(env).cluster.karpenter
    capacity = _requirement(tree, "karpenter.sh/capacity-type")
    assert capacity["operator"] == "In"
    assert capacity["values"] == [c.karpenter for c in karpenter.capacity_types]
    spec = _node_pool(tree)["spec"]
    # Flux substitutes kustomize's output, which carries no quotes: the cpu quantity arrives as an integer.
    assert spec["limits"] == {"cpu": karpenter.cpu_limit, "memory": f"{karpenter.memory_limit_gib}Gi"}
    assert spec["disruption"]["budgets"] == [{"nodes": f"{karpenter.max_disrupted_percent}%"}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_node_pool_launches_only_what_the_nodes_ami_runs(env: str) -> None:
    tree = tree_of(env)
    assert _requirement(tree, "kubernetes.io/arch")["values"] == ["amd64"], "the alias is the x86_64 AL2023 image"
    assert _requirement(tree, "kubernetes.io/os")["values"] == ["linux"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_karpenter_nodes_run_the_same_ami_release_with_the_node_role_terraform_made(env: str) -> None:
    tree, config = tree_of(env), environment(env)
    spec = _node_class(tree)["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": config.cluster.karpenter_ami_alias}]
    release = config.cluster.node_ami_release.rsplit("-", 1)[1]
    assert config.cluster.karpenter_ami_alias == f"al2023@v{release}", "the managed node groups' AL2023 release"
    assert spec["role"] == config.karpenter_node_role_name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_karpenter_nodes_find_the_private_subnets_and_the_cluster_security_group_by_the_discovery_tag(env: str) -> None:
    spec, config = _node_class(tree_of(env))["spec"], environment(env)
    discovery = [{"tags": {"karpenter.sh/discovery": config.cluster_name}}]
    assert spec["subnetSelectorTerms"] == discovery
    assert spec["securityGroupSelectorTerms"] == discovery
    assert spec["associatePublicIPAddress"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_karpenter_nodes_carry_every_default_tag_so_their_cost_is_attributed(env: str) -> None:
    spec, config = _node_class(tree_of(env))["spec"], environment(env)
    assert spec["tags"] == config.default_tags
    assert json.loads(tree_of(env).outputs["NODE_TAGS"]) == config.default_tags


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_karpenter_nodes_require_imdsv2_with_one_hop_and_encrypt_their_root_volume(env: str) -> None:
    spec = _node_class(tree_of(env))["spec"]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1, "pods must not reach the node role through IMDS"
    (root,) = [d for d in spec["blockDeviceMappings"] if d.get("rootVolume")]
    assert root["ebs"]["encrypted"] is True and root["ebs"]["volumeType"] == "gp3"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_node_pool_and_node_class_pass_the_pinned_crds(env: str) -> None:
    tree = tree_of(env)
    errors = crd_errors(_node_pool(tree), "NodePool/workload") + crd_errors(_node_class(tree), "EC2NodeClass/default")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_node_pools_are_applied_after_the_controller_that_installs_their_crds(env: str) -> None:
    tree = tree_of(env)
    release = tree.one("HelmRelease", *RELEASE)
    assert release["spec"]["install"]["crds"] == "CreateReplace" and release["spec"]["upgrade"]["crds"] == "CreateReplace"
    (pool,) = tree.find("NodePool", "workload")
    (controller,) = tree.find("HelmRelease", *RELEASE)
    layers = tree.kustomizations
    # The NodePool's layer waits for the controller's, which waits for its HelmReleases.
    assert {"name": controller.layer} in layers[pool.layer]["spec"]["dependsOn"]
    assert layers[controller.layer]["spec"]["wait"] is True
