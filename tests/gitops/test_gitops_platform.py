"""The platform services: what they receive from Terraform and how they are wired together."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from conftest import upstream_file
from gitops_tree import ENVIRONMENTS, all_trees, tree_of

from platform_constructs import contract

# HelmReleases that run as a service account Terraform grants an AWS role through EKS Pod
# Identity, and where each chart takes that account's name.
POD_IDENTITY_RELEASES = {
    contract.LOKI: ("loki", ("serviceAccount",)),
    contract.EXTERNAL_DNS: ("external-dns", ("serviceAccount",)),
    contract.VELERO: ("velero", ("serviceAccount", "server")),
    contract.KARPENTER: ("karpenter", ("serviceAccount",)),
}


def _dig(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        values = values[key]
    return values


@pytest.mark.parametrize("identity", list(POD_IDENTITY_RELEASES), ids=lambda i: i.component)
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_charts_create_the_service_accounts_terraform_grants_aws_roles(env: str, identity: Any) -> None:
    tree = tree_of(env)
    release, path = POD_IDENTITY_RELEASES[identity]
    account = _dig(tree.helm_values(release, identity.namespace), path)
    assert account["create"] is True
    assert account["name"] == identity.service_account
    # Pod Identity needs no IRSA annotation on the account.
    assert "eks.amazonaws.com/role-arn" not in (account.get("annotations") or {})


def test_every_pod_identity_service_account_of_the_contract_is_accounted_for() -> None:
    # Vault is installed by Terraform and the EBS CSI driver is an EKS add-on; every other
    # identity must be created by this tree.
    outside_the_tree = {contract.VAULT, contract.EBS_CSI}
    assert set(contract.WORKLOAD_IDENTITIES) == set(POD_IDENTITY_RELEASES) | outside_the_tree | set(MANIFEST_IDENTITIES)


#: Identities whose service account is a plain manifest of the tree, not a chart's.
MANIFEST_IDENTITIES = (contract.VAULT_SNAPSHOT,)


@pytest.mark.parametrize("identity", MANIFEST_IDENTITIES, ids=lambda i: i.component)
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_tree_creates_the_service_accounts_of_its_own_workloads_that_terraform_grants_aws_roles(env: str, identity: Any) -> None:
    account = tree_of(env).one("ServiceAccount", identity.service_account, identity.namespace)
    assert "eks.amazonaws.com/role-arn" not in (account["metadata"].get("annotations") or {})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_external_dns_owns_records_only_in_the_environment_zone(env: str) -> None:
    tree = tree_of(env)
    values = tree.helm_values("external-dns", "external-dns")
    assert values["provider"]["name"] == "aws"
    assert values["domainFilters"] == [tree.outputs["DOMAIN"]]
    assert f"--zone-id-filter={tree.outputs['HOSTED_ZONE_ID']}" in values["extraArgs"]
    assert values["registry"] == "txt" and values["txtOwnerId"] == tree.outputs["CLUSTER_NAME"]
    assert {"name": "AWS_DEFAULT_REGION", "value": tree.outputs["AWS_REGION"]} in values["env"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_loki_stores_in_the_terraform_buckets_without_static_keys(env: str) -> None:
    tree = tree_of(env)
    storage = tree.helm_values("loki", "monitoring")["loki"]["storage"]
    assert storage["type"] == "s3"
    assert storage["bucketNames"] == {
        "chunks": tree.outputs["LOKI_CHUNKS_BUCKET"],
        "ruler": tree.outputs["LOKI_RULER_BUCKET"],
    }
    assert storage["s3"] == {"region": tree.outputs["AWS_REGION"]}, "credentials come from Pod Identity only"
    schema = tree.helm_values("loki", "monitoring")["loki"]["schemaConfig"]["configs"]
    assert all(config["object_store"] == "s3" for config in schema)


def _loki_schema(env: str) -> dict[str, Any]:
    version = tree_of(env).one("HelmRelease", "loki", "monitoring")["spec"]["chart"]["spec"]["version"]
    schema: dict[str, Any] = json.loads(upstream_file(f"catalog/charts/loki/{version}/values.schema.json").read_text())
    return schema


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_loki_values_validate_against_the_chart_schema(env: str) -> None:
    tree = tree_of(env)
    schema = _loki_schema(env)
    values = tree.helm_values("loki", "monitoring")
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(values)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_loki_values_use_only_keys_the_chart_declares(env: str) -> None:
    tree = tree_of(env)
    # The schema allows unknown keys at most levels, so a typo would validate and be
    # silently ignored by the chart; compare every key with the declared properties.
    root = _loki_schema(env)

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def walk(values: Any, node: dict[str, Any], path: str) -> list[str]:
        node = resolve(node)
        if not isinstance(values, dict) or "properties" not in node:
            return []
        unknown = []
        for key, value in values.items():
            if key in node["properties"]:
                unknown += walk(value, node["properties"][key], f"{path}.{key}")
            elif not isinstance(node.get("additionalProperties"), dict):
                # additionalProperties: true at a level that also declares properties is
                # the chart's escape hatch, not a place for our keys.
                unknown.append(f"{path}.{key}")
        return unknown

    assert not walk(tree.helm_values("loki", "monitoring"), root, "values")


def test_loki_replicates_in_prod_and_keeps_logs_longest_there() -> None:
    trees = all_trees()

    def loki(env: str) -> dict[str, Any]:
        return trees[env].helm_values("loki", "monitoring")

    def hours(env: str) -> int:
        return int(loki(env)["loki"]["limits_config"]["retention_period"].removesuffix("h"))

    assert loki("prod")["singleBinary"]["replicas"] == loki("prod")["loki"]["commonConfig"]["replication_factor"] == 3
    for env in ("dev", "stage"):
        assert loki(env)["singleBinary"]["replicas"] == loki(env)["loki"]["commonConfig"]["replication_factor"]
    assert hours("dev") < hours("stage") < hours("prod")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_grafana_has_prometheus_loki_and_jaeger_datasources_that_exist(env: str) -> None:
    tree = tree_of(env)
    grafana = tree.helm_values("kube-prometheus-stack", "monitoring")["grafana"]
    assert grafana["sidecar"]["datasources"]["defaultDatasourceEnabled"] is True, "the Prometheus datasource"
    datasources = {d["type"]: d["url"] for d in grafana["additionalDataSources"]}
    assert set(datasources) == {"loki", "jaeger"}
    loki = tree.helm_values("loki", "monitoring")
    assert loki["gateway"]["enabled"] is True
    assert datasources["loki"] == "http://loki-gateway.monitoring.svc"
    jaeger = tree.one("Service", "jaeger", "tracing")["spec"]
    query_port = next(p["port"] for p in jaeger["ports"] if p["name"] == "query")
    assert datasources["jaeger"] == f"http://jaeger.tracing.svc:{query_port}"
    assert grafana["adminPassword"] == "", "never the chart's well-known default password"
    assert grafana["route"]["main"]["hostnames"] == [f"grafana.{tree.outputs['DOMAIN']}"]
    assert grafana["grafana.ini"]["server"]["root_url"] == f"https://grafana.{tree.outputs['DOMAIN']}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_logs_are_shipped_to_loki(env: str) -> None:
    tree = tree_of(env)
    fluent_bit = tree.one("HelmRelease", "fluent-bit", "monitoring")
    outputs = fluent_bit["spec"]["values"]["config"]["outputs"]
    assert "Name                   loki" in outputs and "Host                   loki-gateway.monitoring.svc.cluster.local" in outputs
    assert {"name": "loki", "namespace": "monitoring"} in fluent_bit["spec"]["dependsOn"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flagger_moves_gateway_api_routes_and_reads_this_prometheus(env: str) -> None:
    tree = tree_of(env)
    flagger = tree.helm_values("flagger", "flagger-system")
    prometheus = tree.helm_values("kube-prometheus-stack", "monitoring")["fullnameOverride"]
    # "gatewayapi:v1" selects Flagger's HTTPRoute v1 router; a bare "gatewayapi" falls back to
    # Istio's (pkg/router/factory.go at v1.44.0).
    assert flagger["meshProvider"] == "gatewayapi:v1"
    assert flagger["metricsServer"] == f"http://{prometheus}-prometheus.monitoring.svc:9090"
    for template in tree.find("MetricTemplate", namespace="flagger-system"):
        assert template.obj["spec"]["provider"] == {"type": "prometheus", "address": flagger["metricsServer"]}, template.ref
    assert flagger["prometheus"]["install"] is False
    webhook = tree.one("Canary", "backend", contract.APP_NAMESPACE)["spec"]["analysis"]["webhooks"][0]
    assert webhook["url"] == "http://flagger-loadtester.flagger-system/"
    assert tree.one("HelmRelease", "flagger-loadtester", "flagger-system")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_velero_backs_up_to_the_terraform_bucket_with_volume_snapshots(env: str) -> None:
    tree = tree_of(env)
    values = tree.helm_values("velero", "velero")
    assert values["credentials"]["useSecret"] is False, "credentials come from Pod Identity"
    [location] = values["configuration"]["backupStorageLocation"]
    assert location["provider"] == "aws" and location["bucket"] == tree.outputs["VELERO_BUCKET"]
    assert location["config"]["region"] == tree.outputs["AWS_REGION"]
    assert values["snapshotsEnabled"] is True
    assert [s["provider"] for s in values["configuration"]["volumeSnapshotLocation"]] == ["aws"]
    schedule = tree.one("Schedule", "project-plato", "velero")["spec"]["template"]
    assert schedule["includedNamespaces"] == [contract.APP_NAMESPACE] and schedule["snapshotVolumes"] is True


def test_backup_schedules_differ_per_environment() -> None:
    trees = all_trees()

    def ttl_hours(env: str) -> int:
        ttl = trees[env].one("Schedule", "project-plato", "velero")["spec"]["template"]["ttl"]
        return int(ttl.split("h", 1)[0])

    assert ttl_hours("dev") < ttl_hours("stage") < ttl_hours("prod")
    assert (
        trees["prod"].one("Schedule", "project-plato", "velero")["spec"]["schedule"]
        != (trees["dev"].one("Schedule", "project-plato", "velero")["spec"]["schedule"])
    )
    assert trees["prod"].find("Schedule", "cluster-weekly") and not trees["dev"].find("Schedule", "cluster-weekly")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_volumes_default_to_encrypted_gp3(env: str) -> None:
    tree = tree_of(env)
    storage_class = tree.one("StorageClass", "gp3")
    assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    # It must exist before the charts that claim volumes: same layer as the controllers.
    assert next(r for r in tree.find("StorageClass")).layer == "infra-controllers"
