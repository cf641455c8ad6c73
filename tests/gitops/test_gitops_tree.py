"""The GitOps tree as a whole: how Flux walks it, what it substitutes, and that every object
it applies is valid and passes checkov."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml
from gitops_tree import (
    CHECKOV_SKIPS,
    ENVIRONMENTS,
    GITOPS,
    REPO,
    all_trees,
    checkov_once,
    crd_errors,
    environment,
    group_of,
    is_custom_resource,
    iter_pod_specs,
    tree_of,
)

from platform_constructs import contract

LAYERS = ("infra-controllers", "infra-configs", "delivery", "release-images", "apps")
#: The Kustomization that applies the environment's image pins from main, and their ConfigMap.
RELEASE_IMAGES = "release-images"
# Exact releases; some charts publish their versions with a "v" (gateway-helm's v1.9.0).
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")
# Namespaces that exist without this tree: Flux's own (bootstrap) and Kubernetes'.
# kube-system is EKS's; flux-system and Vault's namespace are created by the bootstrap stack.
EXTERNAL_NAMESPACES = {"flux-system", "kube-system", contract.VAULT.namespace}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_cluster_path_builds_with_kustomize_and_defines_its_layers(env: str) -> None:
    tree = tree_of(env)
    assert set(tree.kustomizations) == {"flux-system", *LAYERS}, "the root Kustomization and the layers"
    for name, kustomization in tree.kustomizations.items():
        assert any(r.layer == name for r in tree.objects), f"{tree.env}: layer {name} applies nothing"
        assert kustomization["spec"]["path"].startswith("./gitops/"), kustomization["spec"]["path"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flux_applies_controllers_then_their_configs_then_the_apps(env: str) -> None:
    tree = tree_of(env)

    def depends_on(name: str) -> list[str]:
        return [d["name"] for d in tree.kustomizations[name]["spec"].get("dependsOn", [])]

    assert sorted(depends_on("infra-controllers")) == sorted(tree.upstream), "the controllers wait for the upstream CRDs"
    assert depends_on("infra-configs") == ["infra-controllers"]
    assert depends_on("delivery") == ["infra-configs"]
    assert depends_on("apps") == ["infra-configs", RELEASE_IMAGES], "the apps substitute the image pins"
    # dependsOn orders only when the dependency is judged on its health.
    for name in LAYERS:
        assert tree.kustomizations[name]["spec"].get("wait") is True, f"{tree.env}: {name} does not wait for its objects"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_flux_kustomization_prunes_and_substitutes_from_the_terraform_outputs(env: str) -> None:
    tree = tree_of(env)
    for name, kustomization in tree.kustomizations.items():
        meta, spec = kustomization["metadata"], kustomization["spec"]
        assert meta["namespace"] == contract.OUTPUTS_CONFIGMAP_NAMESPACE, name
        # The image pins come from main, whatever ref the cluster follows (docs/decisions/0024).
        source = RELEASE_IMAGES if name == RELEASE_IMAGES else "flux-system"
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": source}, name
        assert spec["prune"] is True, name
        sources = spec["postBuild"]["substituteFrom"]
        assert sources[0] == {"kind": "ConfigMap", "name": contract.OUTPUTS_CONFIGMAP_NAME}, name
        assert sources[1:] == ([{"kind": "ConfigMap", "name": RELEASE_IMAGES}] if name == "apps" else []), name
        # A missing ConfigMap must stop the apply, not substitute empty strings.
        assert not any(source.get("optional", False) for source in sources), name
    (pins,) = [r for r in tree.objects if r.kind == "GitRepository" and r.name == RELEASE_IMAGES]
    assert pins.obj["spec"]["ref"] == {"branch": "main"}
    assert pins.obj["spec"]["url"] == environment(env).gitops.repository_url


def test_every_cluster_folder_applies_the_common_layers_and_nothing_that_does_not_differ() -> None:
    for env in ENVIRONMENTS:
        directory = GITOPS / "clusters" / env
        assert (directory / "kustomization.yaml").is_file(), f"clusters/{env} is missing: add it when adding an environment"
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        assert "../base" in kustomization["resources"], f"clusters/{env} does not apply the common layers"
    extra = sorted(p.name for p in (GITOPS / "clusters").iterdir() if p.is_dir() and p.name not in {*ENVIRONMENTS, "base"})
    assert not extra, f"gitops/clusters has folders of no registered environment: {extra}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_layer_points_at_the_overlay_of_its_own_environment(env: str) -> None:
    tree = tree_of(env)
    for name, kustomization in tree.kustomizations.items():
        path = kustomization["spec"]["path"]
        assert path.endswith(f"/{tree.env}") or path.endswith(f"/{tree.env}/images"), f"{tree.env}: {name} applies {path}"
        assert (REPO / path).is_dir(), path


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_substituted_variable_is_a_key_of_the_platform_contract(env: str) -> None:
    tree = tree_of(env)
    used = set().union(*tree.used_variables.values())
    pins = set(tree.one("ConfigMap", RELEASE_IMAGES, contract.OUTPUTS_CONFIGMAP_NAMESPACE)["data"])
    assert pins == {"BACKEND_IMAGE", "BACKEND_IMAGE_TAG"}
    unknown = sorted(used - set(contract.config_map_keys()) - pins)
    assert not unknown, (
        f"{tree.env}: the tree substitutes {unknown}, which the platform contract does not carry "
        "(platform_constructs/contract.py, PlatformContract); Terraform must write them first"
    )


def test_every_key_of_the_platform_contract_is_substituted_somewhere_in_the_tree() -> None:
    used = set().union(*(set().union(*tree.used_variables.values()) for tree in all_trees().values()))
    unused = sorted(set(contract.config_map_keys()) - used)
    assert not unused, f"the platform contract carries {unused} into the ConfigMap, but no environment's tree uses them: use or remove them"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nothing_is_left_unsubstituted(env: str) -> None:
    tree = tree_of(env)
    assert not tree.unresolved, f"{tree.env}: unresolved after postBuild substitution:\n" + "\n".join(tree.unresolved)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_stray_dollar_reaches_flux_variable_substitution(env: str) -> None:
    tree = tree_of(env)
    # Flux's envsubst may treat "$name" as a variable and replace it with nothing. Objects
    # that need a literal "$" opt out with kustomize.toolkit.fluxcd.io/substitute: disabled.
    assert not tree.dollar_hazards, f"{tree.env}: " + "\n".join(tree.dollar_hazards)


def test_values_from_terraform_are_not_hard_coded() -> None:
    # Literal account ids, ARNs or bucket names would differ per environment; they belong
    # in the ConfigMap. The tests' plausible values must not appear in the tree either.
    forbidden = re.compile(r"arn:aws:|\b\d{12}\b|eks\.amazonaws\.com/role-arn")
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted(GITOPS.rglob("*.yaml"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_core_objects_validate_against_the_kubernetes_schemas(env: str) -> None:
    tree = tree_of(env)
    errors = []
    for rendered in tree.objects:
        if is_custom_resource(rendered.obj):
            continue
        try:
            kubernetes_validate.validate(rendered.obj, environment(env).cluster.kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{rendered.ref}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{rendered.ref}: {error.message}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_custom_resources_validate_against_their_crds(env: str) -> None:
    tree = tree_of(env)
    errors = [error for rendered in tree.objects if is_custom_resource(rendered.obj) for error in crd_errors(rendered.obj, rendered.ref)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_chart_is_pinned_to_an_exact_version(env: str) -> None:
    tree = tree_of(env)
    pins: dict[str, str] = {}
    for release in tree.find("HelmRelease"):
        spec = release.obj["spec"]
        if "chart" in spec:
            version = str(spec["chart"]["spec"].get("version", ""))
        else:
            source = tree.one(spec["chartRef"]["kind"], spec["chartRef"]["name"], release.namespace)
            version = str(source["spec"].get("ref", {}).get("tag", ""))
            assert set(source["spec"]["ref"]) == {"tag"}, f"{release.ref}: OCIRepository must pin a tag only"
        pins[release.ref] = version
    assert pins, "no HelmRelease found"
    loose = {ref: version for ref, version in pins.items() if not EXACT_VERSION.match(version)}
    assert not loose, f"{tree.env}: charts not pinned to an exact version: {loose}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_helm_release_finds_its_chart_source_in_its_own_namespace(env: str) -> None:
    tree = tree_of(env)
    for release in tree.find("HelmRelease"):
        spec = release.obj["spec"]
        ref = spec["chart"]["spec"]["sourceRef"] if "chart" in spec else spec["chartRef"]
        assert "namespace" not in ref, f"{release.ref}: cross-namespace source references are not used here"
        sources = [r for r in tree.find(ref["kind"], ref["name"], release.namespace) if r.layer == release.layer]
        assert len(sources) == 1, f"{release.ref}: source {ref} is not defined next to it"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_helm_release_dependency_exists_in_the_same_layer(env: str) -> None:
    tree = tree_of(env)
    for release in tree.find("HelmRelease"):
        for dependency in release.obj["spec"].get("dependsOn", []):
            namespace = dependency.get("namespace", release.namespace)
            found = [r for r in tree.find("HelmRelease", dependency["name"], namespace) if r.layer == release.layer]
            assert found, f"{release.ref}: depends on missing HelmRelease {namespace}/{dependency['name']}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_namespaced_object_lands_in_a_namespace_the_tree_creates(env: str) -> None:
    tree = tree_of(env)
    created = {r.name for r in tree.find("Namespace")} | EXTERNAL_NAMESPACES
    cluster_scoped = {
        "Namespace",
        "StorageClass",
        "ClusterSecretStore",
        "ClusterRole",
        "ClusterRoleBinding",
        "GatewayClass",
        "EC2NodeClass",
        "NodePool",
    }
    for rendered in tree.objects:
        if rendered.kind in cluster_scoped:
            assert rendered.namespace is None, rendered.ref
            continue
        assert rendered.namespace, f"{rendered.ref}: no namespace"
        assert rendered.namespace in created, f"{rendered.ref}: namespace {rendered.namespace} is not created by the tree"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_container_image_the_tree_runs_is_pinned_to_a_release_tag(env: str) -> None:
    tree = tree_of(env)
    for rendered, pod in iter_pod_specs(tree):
        for container in pod.get("initContainers", []) + pod["containers"]:
            image = container["image"]
            name, _, tag = image.rpartition(":")
            assert name and "/" not in tag, f"{rendered.ref}: image {image} has no tag"
            assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{rendered.ref}: image {image} is not a release tag"
            assert container.get("imagePullPolicy") == "Always", f"{rendered.ref}: {container['name']} must pull Always"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_tree_contains_no_plain_secret(env: str) -> None:
    tree = tree_of(env)
    secrets = [r.ref for r in tree.find("Secret")]
    assert not secrets, f"{tree.env}: Secrets must come from Vault, not from Git: {secrets}"


def test_checkov_finds_no_failed_check() -> None:
    checkov_report = checkov_once()
    assert checkov_report.scanned_files == 3 * (1 + len(LAYERS))
    assert checkov_report.resource_count > 0 and checkov_report.passed > 0, "checkov did not scan the manifests"
    failures = [f"{f['check_id']} {f['check_name']}: {f['resource']} ({f['file_path']})" for f in checkov_report.failed]
    assert not failures, "\n".join(failures)


def test_every_checkov_skip_carries_a_reason() -> None:
    trees = all_trees()
    checkov_report = checkov_once()
    for check_id, reason in CHECKOV_SKIPS.items():
        assert len(reason.split()) >= 8, f"{check_id}: the reason does not explain the skip"
    inline = 0
    for rendered in (r for tree in trees.values() for r in tree.objects):
        for key, value in (rendered.obj["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                inline += 1
                check_id, _, reason = str(value).partition("=")
                assert re.match(r"^CKV2?_K8S_\d+$", check_id), f"{rendered.ref}: {key} names no check"
                assert len(reason.split()) >= 8, f"{rendered.ref}: {check_id} is skipped without a reason"
    # checkov honoured every inline skip, and skipped nothing else.
    assert inline > 0
    assert checkov_report.skipped == inline


def test_inline_checkov_skips_are_exactly_the_reviewed_ones() -> None:
    # Adding or moving an exception is a reviewed change of this list, never a silent one.
    pattern = re.compile(r"checkov\.io/skip\d+:\s*(CKV\w+)=")
    declared = {
        (path.relative_to(REPO).as_posix(), match.group(1))
        for path in GITOPS.rglob("*.yaml")
        for match in pattern.finditer(path.read_text())
    }
    assert declared == {
        ("gitops/apps/base/project-plato/db2/db2.yaml", "CKV_K8S_35"),
        ("gitops/apps/base/project-plato/db2/db2.yaml", "CKV_K8S_40"),
    }


def test_decision_records_explain_the_choices_of_the_tree() -> None:
    records = sorted((REPO / "docs" / "decisions").glob("001*.md"))
    names = [p.name for p in records]
    assert any("external-secrets" in n for n in names), names
    for record in records:
        text = record.read_text()
        for heading in ("## Context", "## Decision", "## Consequences"):
            assert heading in text, f"{record.name} lacks {heading}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_overlay_builds_on_its_base(env: str) -> None:
    for layer in ("infrastructure/controllers", "infrastructure/configs", "apps"):
        kustomization = yaml.safe_load((GITOPS / layer / env / "kustomization.yaml").read_text())
        assert "../base" in kustomization["resources"], f"{layer}/{env} does not build on ../base"


def test_group_of_handles_core_objects() -> None:
    assert group_of("v1") == ""
    assert group_of("apps/v1") == "apps"
    assert is_custom_resource({"apiVersion": "helm.toolkit.fluxcd.io/v2"})
    assert not is_custom_resource({"apiVersion": "networking.k8s.io/v1"})
    assert is_custom_resource({"apiVersion": "gateway.networking.k8s.io/v1"}), "a SIG project's group under k8s.io is a CRD's"


def test_the_readme_table_of_configmap_keys_is_the_contracts() -> None:
    readme = (GITOPS / "README.md").read_text()
    section = readme.split("## What comes from Terraform", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section.split("| key | used by |", 1)[1]))
    assert documented == set(contract.config_map_keys())
