"""The bootstrap stacks: providers from the platform's state, Flux, Vault, the outputs ConfigMap."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import ENVIRONMENTS, Synth, require_tool, tool_env, upstream_file

from platform_constructs import contract


def bootstrap(synth: Synth, env: str) -> dict[str, Any]:
    return synth.stack(f"{env}-bootstrap")


def release(synth: Synth, env: str, name: str) -> dict[str, Any]:
    return synth.resources(f"{env}-bootstrap", "helm_release")[name]


def values(synth: Synth, env: str, name: str) -> dict[str, Any]:
    (doc,) = release(synth, env, name)["values"]
    loaded: dict[str, Any] = yaml.safe_load(doc)
    return loaded


@functools.cache
def crd_schema(group: str, kind: str, version: str) -> dict[str, Any]:
    """The schema of the CRD the pinned installer ships (tools/pins/crds.py)."""
    from tools.pins.crds import served_schemas
    from tools.pins.upstream import UpstreamError

    try:
        schemas = served_schemas()
    except UpstreamError as exc:
        pytest.fail(str(exc))
    schema = schemas.get((group, kind), {}).get(version)
    if schema is None:
        pytest.fail(f"no CRD schema for {group}/{version} {kind} among the pinned installers' CRDs (tools/pins/crds.py)")
    return dict(schema)


def validate_custom_resource(obj: dict[str, Any]) -> None:
    group, version = obj["apiVersion"].split("/")
    jsonschema.validate(obj, crd_schema(group, obj["kind"], version))


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_providers_are_configured_from_the_platform_state_not_this_one(synth: Synth, env_name: str) -> None:
    stack = bootstrap(synth, env_name)
    remote = stack["data"]["terraform_remote_state"][f"cross-stack-reference-input-{env_name}-platform"]
    assert remote["backend"] == "s3"
    assert remote["config"]["key"] == f"{env_name}/platform.tfstate"
    (k8s,) = stack["provider"]["kubernetes"]
    (helm,) = stack["provider"]["helm"]
    for config in (k8s, helm["kubernetes"]):
        assert config["host"].startswith("${data.terraform_remote_state.cross-stack-reference-input-")
        assert "data.terraform_remote_state" in config["cluster_ca_certificate"]
    provider_text = json.dumps(stack["provider"])
    assert not re.search(r"\$\{(helm_release|kubernetes_)", provider_text), "a provider depends on a resource of its own state"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_token_comes_from_aws_eks_get_token_as_the_deploy_role(synth: Synth, environments: Any, env_name: str) -> None:
    (k8s,) = bootstrap(synth, env_name)["provider"]["kubernetes"]
    (exec_,) = k8s["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:2] == ["eks", "get-token"]
    assert environments[env_name].deploy_role_arn in exec_["args"]


def test_platform_is_applied_before_bootstrap(synth: Synth) -> None:
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    for env in ENVIRONMENTS:
        assert f"{env}-platform" in manifest["stacks"][f"{env}-bootstrap"]["dependencies"]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_outputs_configmap_is_the_platform_contract(synth: Synth, environments: Any, env_name: str) -> None:
    (cm,) = synth.resources(f"{env_name}-bootstrap", "kubernetes_config_map_v1").values()
    assert cm["metadata"]["name"] == contract.OUTPUTS_CONFIGMAP_NAME
    assert cm["metadata"]["namespace"] == "${kubernetes_namespace_v1.namespace-flux-system.metadata[0].name}"
    env = environments[env_name]
    expected = contract.placeholder_contract(env).config_map()
    assert set(cm["data"]) == set(expected), "the ConfigMap and the tests' stand-in derive from the same contract"
    generated = {f.name for f in dataclasses.fields(contract.Generated)}
    for f in dataclasses.fields(contract.PlatformContract):
        key = f.metadata["contract"].key
        if key is None or key not in cm["data"]:
            continue
        if f.name in generated:
            assert "data.terraform_remote_state" in cm["data"][key], f"{key} is not read from the platform state"
        else:
            assert cm["data"][key] == expected[key], f"{key} is derived from the configuration"
    assert cm["data"]["INGRESS_NODE_PORT"] == str(env.edge.ingress_node_port)


# --- Flux ---------------------------------------------------------------------------------


def sync_objects(synth: Synth, env: str) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in values(synth, env, "flux_sync")["objects"]}


@pytest.mark.parametrize(
    ("env_name", "ref"), [("dev", {"branch": "main"}), ("stage", {"tag": "${var.release_tag}"}), ("prod", {"tag": "${var.release_tag}"})]
)
def test_the_git_repository_follows_the_delivery_flow(synth: Synth, env_name: str, ref: dict[str, str]) -> None:
    repo = sync_objects(synth, env_name)["GitRepository"]
    assert repo["spec"]["ref"] == ref
    assert repo["spec"]["url"] == "https://gitlab.com/plato/platform.git"
    assert repo["spec"]["secretRef"] == {"name": "flux-system-git"}
    assert repo["metadata"] == {"name": "flux-system", "namespace": "flux-system"}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_root_kustomization_applies_the_environments_folder_with_prune(synth: Synth, env_name: str) -> None:
    ks = sync_objects(synth, env_name)["Kustomization"]
    assert ks["spec"]["path"] == f"./gitops/clusters/{env_name}"
    assert ks["spec"]["prune"] is True
    assert ks["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    assert (Path(__file__).resolve().parents[1] / ks["spec"]["path"]).is_dir(), "the path Flux applies exists in this repository"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_flux_objects_validate_against_their_crds(synth: Synth, env_name: str) -> None:
    for obj in values(synth, env_name, "flux_sync")["objects"]:
        validate_custom_resource(obj)
    instance = {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "FluxInstance",
        "metadata": {"name": "flux", "namespace": "flux-system"},
        "spec": values(synth, env_name, "flux_instance")["instance"],
    }
    validate_custom_resource(instance)


def test_flux_network_policies_are_on_and_crds_survive_the_release(synth: Synth) -> None:
    assert values(synth, "prod", "flux_instance")["instance"]["cluster"]["networkPolicy"] is True
    assert values(synth, "prod", "flux_operator")["installCRDs"] is True  # the chart marks them helm.sh/resource-policy: keep


def test_flux_releases_install_in_order(synth: Synth) -> None:
    assert release(synth, "dev", "flux_instance")["depends_on"] == ["helm_release.flux_operator"]
    assert release(synth, "dev", "flux_sync")["depends_on"] == ["helm_release.flux_instance"]


def test_no_git_credentials_are_in_terraform(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        text = json.dumps(bootstrap(synth, env))
        assert "password" not in text.lower() or "ADMIN_PASSWORD" in text
        assert "set_sensitive" not in text
        assert synth.resources(f"{env}-bootstrap", "kubernetes_secret_v1") == {}


# --- Vault ----------------------------------------------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_vault_values_validate_against_the_charts_schema(synth: Synth, env_name: str) -> None:
    from platform_constructs.bootstrap.charts import VAULT

    schema = json.loads(upstream_file(f"catalog/charts/vault/{VAULT.version}/values.schema.json").read_text())
    jsonschema.validate(values(synth, env_name, "vault_vault"), schema)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_vault_runs_ha_on_raft_with_three_replicas_anti_affinity_and_a_budget(synth: Synth, env_name: str) -> None:
    server = values(synth, env_name, "vault_vault")["server"]
    assert server["ha"]["enabled"] is True
    assert server["ha"]["replicas"] == 3
    assert server["ha"]["raft"]["enabled"] is True
    assert server["ha"]["disruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    anti = server["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["topologyKey"] == "kubernetes.io/hostname"
    config = server["ha"]["raft"]["config"]
    assert 'storage "raft"' in config
    assert config.count("retry_join") == 3


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_vault_auto_unseals_with_the_platforms_kms_key(synth: Synth, environments: Any, env_name: str) -> None:
    config = values(synth, env_name, "vault_vault")["server"]["ha"]["raft"]["config"]
    seal = re.search(r'seal "awskms" \{(.*?)\n\}', config, re.S)
    assert seal, config
    assert f'region = "{environments[env_name].region}"' in seal.group(1)
    assert (
        'kms_key_id = "${data.terraform_remote_state.cross-stack-reference-input-'
        f'{env_name}-platform.outputs.cross-stack-output-aws_kms_key_workload-identity_vault-unseal-key_key_id}}"'
    ) in seal.group(1)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_vault_serves_tls_with_a_certificate_from_cert_manager(synth: Synth, env_name: str) -> None:
    vals = values(synth, env_name, "vault_vault")
    assert vals["global"]["tlsDisable"] is False
    config = vals["server"]["ha"]["raft"]["config"]
    assert 'tls_cert_file = "/vault/userconfig/vault-tls/tls.crt"' in config
    assert "tls_disable" not in config
    assert vals["server"]["volumes"][0]["secret"]["secretName"] == "vault-tls"
    certs = {o["metadata"]["name"]: o for o in values(synth, env_name, "vault_tls")["objects"] if o["kind"] == "Certificate"}
    assert certs["vault-tls"]["spec"]["secretName"] == "vault-tls"
    assert "vault.vault.svc" in certs["vault-tls"]["spec"]["dnsNames"]
    assert "*.vault-internal" in certs["vault-tls"]["spec"]["dnsNames"]
    for obj in values(synth, env_name, "vault_tls")["objects"]:
        validate_custom_resource(obj)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_vault_keeps_audit_logs_runs_the_injector_and_does_not_expose_the_ui(synth: Synth, env_name: str) -> None:
    vals = values(synth, env_name, "vault_vault")
    assert vals["server"]["auditStorage"]["enabled"] is True
    assert vals["injector"]["enabled"] is True
    assert vals["ui"]["serviceType"] == "ClusterIP"
    assert "ingress" not in vals["server"]


def test_vault_runs_as_the_service_account_pod_identity_binds(synth: Synth) -> None:
    assert values(synth, "prod", "vault_vault")["server"]["serviceAccount"]["name"] == contract.VAULT.service_account
    assert release(synth, "prod", "vault_vault")["namespace"] == contract.VAULT.namespace


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_chart_is_pinned_to_an_exact_version(synth: Synth, env_name: str) -> None:
    for name, rel in synth.resources(f"{env_name}-bootstrap", "helm_release").items():
        if rel["chart"].startswith("../"):
            assert rel["chart"] == "../../../charts/raw-manifests", name
            continue
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", rel["version"]), f"{name}: {rel.get('version')}"


@pytest.mark.parametrize(("env_name", "pattern"), [("stage", r"^v\d+\.\d+-rc\.\d+$"), ("prod", r"^v\d+\.\d+$")])
def test_a_tag_channel_takes_exactly_the_tag_its_deploy_job_deploys(synth: Synth, env_name: str, pattern: str) -> None:
    """Flux's semver ranges cannot parse two-part tags (v1.0): the cluster follows one exact tag,
    a Terraform variable CI sets, which Terraform checks against the channel's pattern."""
    variable = synth.stack(f"{env_name}-bootstrap")["variable"]["release_tag"]
    assert variable["type"] == "string" and variable["nullable"] is False
    (validation,) = variable["validation"]
    assert validation["condition"] == f'${{can(regex("{pattern.replace(chr(92), chr(92) * 2)}", var.release_tag))}}'
    assert "variable" not in synth.stack("dev-bootstrap"), "dev follows main"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_flux_runs_the_image_automation_controllers(synth: Synth, env_name: str) -> None:
    components = values(synth, env_name, "flux_instance")["instance"]["components"]
    assert {"image-reflector-controller", "image-automation-controller"} <= set(components)


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("env_name", "good", "bad"),
    [("prod", ["v1.0", "v12.34"], ["v1.0-rc.1", "1.0", "v1.0.0"]), ("stage", ["v1.0-rc.1", "v2.10-rc.12"], ["v1.0", "v1.0-rc1"])],
)
def test_terraform_itself_refuses_a_release_tag_of_another_channel(
    synth: Synth, tmp_path: Path, env_name: str, good: list[str], bad: list[str]
) -> None:
    terraform = require_tool("terraform")
    (tmp_path / "main.tf.json").write_text(json.dumps({"variable": synth.stack(f"{env_name}-bootstrap")["variable"]}))
    subprocess.run([terraform, "init", "-input=false"], cwd=tmp_path, env=tool_env(), capture_output=True, check=True, timeout=120)
    for tag in good + bad:
        proc = subprocess.run(
            [terraform, "plan", "-input=false", f"-var=release_tag={tag}"],
            cwd=tmp_path,
            env=tool_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (proc.returncode == 0) is (tag in good), f"{tag}: {proc.stderr[-500:]}"
        if tag in bad:
            assert "must be a tag of" in proc.stderr
