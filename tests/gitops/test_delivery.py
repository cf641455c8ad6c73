"""The delivery loop: image automation per environment, its secrets, and the feedback in GitLab.

The ImagePolicies are evaluated offline with Flux's semantics (tools/flux_image_policy.py,
which cites the image-reflector-controller code it follows) on sample tag lists.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

import pytest
from gitops_tree import ENVIRONMENTS, REPO, Tree, environment, tree_of

from environments.model.delivery import TRACKS, Channel
from platform_constructs import contract
from tools.flux_image_policy import PolicyError, filter_tags, latest, parse_version

FLUX = "flux-system"
#: The tags a registry might hold: builds of main, release candidates, releases, and noise.
SAMPLE_TAGS = [
    "main-0a1b2c3d-1764500000",
    "main-9f8e7d6c-1764600123",
    "main-1234abcd-1764590000",
    "feature-x-5e6f7a8b-1764700000",
    "v1.0-rc.1",
    "v1.0-rc.2",
    "v1.0-rc.10",
    "v1.0",
    "v1.1-rc.1",
    "v1.9",
    "v1.10",
    "v1.10.1",
    "v2.0-rc.3",
    "v2.0-beta.1",
    "v01.2",
    "latest",
    "sha256-abc.sig",
]
#: What each environment must pick from SAMPLE_TAGS.
EXPECTED = {
    Channel.MAIN: "main-9f8e7d6c-1764600123",
    Channel.RELEASE_CANDIDATES: "v2.0-rc.3",
    Channel.RELEASES: "v1.10",
}


def _policy(tree: Tree) -> dict[str, Any]:
    return tree.one("ImagePolicy", "backend", FLUX)


def _automation(tree: Tree) -> dict[str, Any]:
    return tree.one("ImageUpdateAutomation", "backend", FLUX)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_s_image_policy_is_the_one_its_channel_defines(env: str) -> None:
    tree = tree_of(env)
    spec = _policy(tree)["spec"]
    assert spec["imageRepositoryRef"] == {"name": "backend"}
    assert {k: v for k, v in spec.items() if k != "imageRepositoryRef"} == environment(env).gitops.track.image_policy.spec()
    repository = tree.one("ImageRepository", "backend", FLUX)["spec"]
    assert repository["image"] == tree.outputs["BACKEND_IMAGE_REPOSITORY"] == environment(env).gitops.image_repository
    assert repository["secretRef"] == {"name": "gitlab-registry"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_picks_the_tag_its_channel_means_from_a_mixed_registry(env: str) -> None:
    channel = environment(env).gitops.channel
    picked = latest(_policy(tree_of(env))["spec"], SAMPLE_TAGS)
    print(f"{env} ({channel.value}): {picked}")
    assert picked == EXPECTED[channel]


@pytest.mark.parametrize("channel", list(Channel))
def test_the_tags_ci_builds_for_a_channel_are_picked_newest_first(channel: Channel) -> None:
    track = TRACKS[channel]
    if track.branch is not None:
        builds = [track.image_tag(commit_sha=f"{n:08x}", commit_time=1764500000 + 60 * n) for n in (3, 1, 2)]
        newest = builds[0]
    elif channel is Channel.RELEASE_CANDIDATES:
        builds = [
            track.image_tag(commit_sha="0" * 40, commit_time=0, tag=t) for t in ("v1.2-rc.2", "v1.2-rc.10", "v1.2-rc.9", "v1.1-rc.30")
        ]
        newest = "v1.2-rc.10"
    else:
        builds = [track.image_tag(commit_sha="0" * 40, commit_time=0, tag=t) for t in ("v2.9", "v2.10", "v1.99")]
        newest = "v2.10"
    assert latest(track.image_policy.spec(), builds) == newest


RELEASE = re.compile(r"v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def test_prod_never_picks_a_pre_release_whatever_the_registry_holds() -> None:
    spec = _policy(tree_of("prod"))["spec"]
    pool = [*SAMPLE_TAGS, "v3.0-rc.1", "v3.0-alpha", "v3.0.0-rc.1", "v3.1-1", "v9.9-rc.9"]
    rng = random.Random(2026)
    for _ in range(300):
        sample = rng.sample(pool, rng.randint(1, len(pool)))
        try:
            picked = latest(spec, sample)
        except PolicyError:
            assert not any(RELEASE.fullmatch(t) for t in sample), sample
            continue
        assert RELEASE.fullmatch(picked), (picked, sample)


def test_flux_s_semver_parser_wants_three_numbers_which_is_why_the_policies_extract() -> None:
    assert parse_version("v1.0") is None, "fluxcd/pkg version.ParseVersion refuses two parts"
    assert str(parse_version("v1.0-rc.1")) == "1.0.0-rc.1", "three dot-separated parts, coerced by Masterminds"
    assert parse_version("v1.0-rc1") is None
    assert parse_version("1.2.3") is not None and parse_version("1.2.3.4") is None
    # Without the extract, prod's releases would never be picked.
    with pytest.raises(PolicyError, match="unable to determine latest version"):
        latest({"policy": {"semver": {"range": ">=0.0.0"}}}, ["v1.0", "v1.1"])


def test_semver_ranges_admit_pre_releases_only_when_they_name_one() -> None:
    assert latest({"policy": {"semver": {"range": ">=0.0.0"}}}, ["1.0.0", "1.1.0-rc.1"]) == "1.0.0"
    assert latest({"policy": {"semver": {"range": ">=0.0.0-0"}}}, ["1.0.0", "1.1.0-rc.1"]) == "1.1.0-rc.1"
    assert latest({"policy": {"semver": {"range": ">=0.0.0-0"}}}, ["1.0.0-rc.2", "1.0.0-rc.10"]) == "1.0.0-rc.10", "numeric identifiers"
    assert latest({"policy": {"semver": {"range": ">=1.0.0 <2.0.0"}}}, ["1.5.0", "2.0.0"]) == "1.5.0"
    with pytest.raises(PolicyError, match="only =, !="):
        latest({"policy": {"semver": {"range": "^1.x"}}}, ["1.0.0"])


def test_filters_match_anywhere_unless_anchored_and_extract_like_go() -> None:
    assert filter_tags(["xmain-1", "main-2"], "main-(?P<n>[0-9]+)", "$n") == {"1": "xmain-1", "2": "main-2"}
    assert filter_tags(["v1.2"], r"^v(?P<a>\d+)\.(?P<b>\d+)$", "${a}.${b}.0$$") == {"1.2.0$": "v1.2"}
    with pytest.raises(PolicyError, match="both extract"):
        filter_tags(["main-a-1", "main-b-1"], "^main-[a-z]-(?P<ts>[0-9]+)$", "$ts")
    with pytest.raises(PolicyError, match="failed to parse invalid numeric value"):
        latest({"policy": {"numerical": {"order": "asc"}}}, ["1", "x"])


# --- the setters the automation writes -----------------------------------------------------------


def _markers(env: str) -> dict[str, str]:
    """Setter markers in the automation's update path: key -> marker."""
    path = REPO / _automation(tree_of(env))["spec"]["update"]["path"]
    found: dict[str, str] = {}
    for file in sorted(path.glob("*.yaml")):
        for line in file.read_text().splitlines():
            match = re.search(r'^\s*([A-Z_]+): \S+ # \{"\$imagepolicy": "([^"]+)"\}$', line)
            if match:
                found[match.group(1)] = match.group(2)
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_automation_writes_setter_markers_of_its_own_policy_where_the_apps_read_the_image(env: str) -> None:
    tree = tree_of(env)
    automation = _automation(tree)["spec"]
    assert automation["update"] == {"strategy": "Setters", "path": f"./gitops/apps/{env}/images"}
    assert _markers(env) == {"BACKEND_IMAGE": f"{FLUX}:backend:name", "BACKEND_IMAGE_TAG": f"{FLUX}:backend:tag"}
    # The marker's policy namespace is the automation's: it only uses policies of its namespace.
    assert _automation(tree)["metadata"]["namespace"] == FLUX == _policy(tree)["metadata"]["namespace"]
    (container,) = [c for c in tree.one("Deployment", "backend", contract.APP_NAMESPACE)["spec"]["template"]["spec"]["containers"]]
    pins = tree.one("ConfigMap", "release-images", FLUX)["data"]
    assert container["image"] == f"{pins['BACKEND_IMAGE']}:{pins['BACKEND_IMAGE_TAG']}"
    raw = (REPO / "gitops/apps/base/project-plato/backend/deployment.yaml").read_text()
    assert "image: ${BACKEND_IMAGE}:${BACKEND_IMAGE_TAG}" in raw, "no environment edits the image by hand"


@pytest.mark.parametrize(("env", "branch"), [("dev", "main"), ("stage", "main"), ("prod", "flux/prod-images")])
def test_dev_and_stage_push_to_main_and_prod_asks_for_approval_in_a_merge_request(env: str, branch: str) -> None:
    tree = tree_of(env)
    git = _automation(tree)["spec"]["git"]
    assert git["checkout"]["ref"] == {"branch": "main"}
    assert git["push"]["branch"] == branch
    assert "[skip ci]" in git["commit"]["messageTemplate"].splitlines()[0], "the automation's commit builds nothing"
    options = git["push"].get("options", {})
    if env == "prod":
        assert options["merge_request.create"] == "" and options["merge_request.target"] == "main"
    else:
        assert not options
    source = _automation(tree)["spec"]["sourceRef"]
    writer = tree.one("GitRepository", source["name"], FLUX)["spec"]
    reader = tree.one("GitRepository", "release-images", FLUX)["spec"]
    assert writer["url"] == reader["url"] == environment(env).gitops.repository_url
    assert writer["secretRef"] != reader["secretRef"] == {"name": "flux-system-git"}, "only the automation holds a token that can push"


def test_every_environment_follows_its_own_pins() -> None:
    paths = {env: tree_of(env).kustomizations["release-images"]["spec"]["path"] for env in ENVIRONMENTS}
    assert paths == {env: f"./gitops/apps/{env}/images" for env in ENVIRONMENTS}


# --- secrets come from Vault, never from Git ---------------------------------------------------


def _secret_refs(tree: Tree) -> set[tuple[str, str]]:
    """(namespace, Secret) every delivery object reads."""
    refs: set[tuple[str, str]] = set()
    for r in tree.objects:
        spec = r.obj.get("spec") or {}
        namespace = r.namespace or ""
        if r.kind in ("Provider", "ImageRepository", "GitRepository", "AlertProvider") and spec.get("secretRef"):
            refs.add((namespace, spec["secretRef"]["name"]))
        if r.kind == "AlertmanagerConfig":
            refs |= {(namespace, c["apiURL"]["name"]) for receiver in spec["receivers"] for c in receiver.get("slackConfigs", [])}
        if r.kind == "Deployment":
            refs |= {(namespace, s["name"]) for s in spec["template"]["spec"].get("imagePullSecrets", [])}
    return refs


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_secret_the_loop_reads_comes_from_vault_or_is_flux_s_own_read_token(env: str) -> None:
    tree = tree_of(env)
    external = {(r.namespace, r.obj["spec"]["target"]["name"]): r.obj for r in tree.find("ExternalSecret")}
    for namespace, name in _secret_refs(tree) - {(FLUX, "flux-system-git")}:
        assert (namespace, name) in external, f"{namespace}/{name} is read, but no ExternalSecret writes it"
    store = tree.one("ClusterSecretStore", "vault-platform")["spec"]
    served = set(store["conditions"][0]["namespaces"])
    for (namespace, _), secret in external.items():
        ref = secret["spec"]["secretStoreRef"]["name"]
        keys = {item["remoteRef"]["key"] for item in secret["spec"]["data"]}
        if ref == "vault-platform":
            assert namespace in served
            # The role "platform" reads only these (docs/vault.md).
            assert all(k.startswith("platform/") or k == "project-plato/registry" for k in keys), keys
        else:
            assert (
                ref == "vault-project-plato" and namespace == contract.APP_NAMESPACE and all(k.startswith("project-plato/") for k in keys)
            )
    assert store["provider"]["vault"]["auth"]["kubernetes"]["role"] == "platform"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_pull_token_is_one_secret_for_flux_and_for_the_backend_s_pods(env: str) -> None:
    tree = tree_of(env)
    for namespace in (FLUX, contract.APP_NAMESPACE):
        secret = tree.one("ExternalSecret", "gitlab-registry", namespace)["spec"]
        assert secret["target"]["template"]["type"] == "kubernetes.io/dockerconfigjson"
        assert tree.outputs["IMAGE_REGISTRY"] in secret["target"]["template"]["data"][".dockerconfigjson"]
        assert {item["remoteRef"]["key"] for item in secret["data"]} == {"project-plato/registry"}


# --- feedback ----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flux_sets_a_commit_status_per_kustomization_in_gitlab(env: str) -> None:
    tree = tree_of(env)
    provider = tree.one("Provider", "gitlab", FLUX)["spec"]
    assert provider["type"] == "gitlab"
    assert provider["address"] == environment(env).gitops.project_url == tree.outputs["GITLAB_PROJECT_URL"]
    assert provider["commitStatusExpr"] == f"'{env}/' + event.involvedObject.name", "statuses named per environment"
    secret = tree.one("ExternalSecret", provider["secretRef"]["name"], FLUX)["spec"]
    assert [item["secretKey"] for item in secret["data"]] == ["token"], "the gitlab provider reads the key token"
    alert = tree.one("Alert", "gitlab-commit-status", FLUX)["spec"]
    assert alert["providerRef"] == {"name": "gitlab"} and alert["eventSeverity"] == "info"
    assert alert["eventSources"] == [{"kind": "Kustomization", "name": "*"}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_failed_reconciliation_of_the_tree_reaches_alertmanager(env: str) -> None:
    tree = tree_of(env)
    alert = tree.one("Alert", "failed-reconciliations", FLUX)["spec"]
    provider = tree.one("Provider", alert["providerRef"]["name"], FLUX)["spec"]
    assert provider["type"] == "alertmanager" and provider["address"].endswith("/api/v2/alerts/")
    assert alert["eventSeverity"] == "error"
    covered = {(s["kind"], s.get("namespace", FLUX)) for s in alert["eventSources"] if s["name"] == "*"}
    kinds = ("HelmRelease", "HelmRepository", "OCIRepository", "GitRepository", "Kustomization", "ImageRepository", "ImagePolicy")
    needed = {(r.kind, r.namespace or FLUX) for r in tree.objects if r.kind in kinds}
    assert needed <= covered, f"Flux matches sources by exact namespace; not covered: {sorted(needed - covered)}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_canary_events_and_alerts_reach_the_environment_s_channels(env: str) -> None:
    tree = tree_of(env)
    (alert,) = tree.one("Canary", "backend", contract.APP_NAMESPACE)["spec"]["analysis"]["alerts"]
    provider = tree.one("AlertProvider", alert["providerRef"]["name"], alert["providerRef"]["namespace"])["spec"]
    assert alert["severity"] == "info", "promotions and rollbacks alike"
    assert provider["type"] == "slack" and provider["channel"] == f"#plato-{env}-deploys"
    secret = tree.one("ExternalSecret", provider["secretRef"]["name"], alert["providerRef"]["namespace"])["spec"]
    assert [item["secretKey"] for item in secret["data"]] == ["address"], "Flagger reads the key address"
    config = tree.one("AlertmanagerConfig", "platform", "monitoring")
    alertmanager = tree.helm_values("kube-prometheus-stack", "monitoring")["alertmanager"]["alertmanagerSpec"]
    assert alertmanager["alertmanagerConfigSelector"] == {"matchLabels": config["metadata"]["labels"]}
    assert alertmanager["alertmanagerConfigMatcherStrategy"] == {"type": "None"}, "the routes see every alert"
    (receiver,) = config["spec"]["receivers"]
    (slack,) = receiver["slackConfigs"]
    assert slack["channel"] == f"#plato-{env}-alerts" and slack["sendResolved"] is True
    assert tree.one("ExternalSecret", slack["apiURL"]["name"], "monitoring")["spec"]["data"][0]["secretKey"] == slack["apiURL"]["key"]
    severities = {m["value"] for route in config["spec"]["route"]["routes"] for m in route["matchers"] if m["name"] == "severity"}
    assert severities == {"critical|error", "warning"}, "Flux's errors arrive with severity error"


def test_the_delivery_layer_differs_per_environment_only_in_policy_and_automation() -> None:
    for a, b in itertools.combinations(ENVIRONMENTS, 2):
        kinds_a = sorted((r.kind, r.name) for r in tree_of(a).objects if r.layer == "delivery")
        kinds_b = sorted((r.kind, r.name) for r in tree_of(b).objects if r.layer == "delivery")
        assert kinds_a == kinds_b
