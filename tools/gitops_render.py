"""Build the GitOps tree the way Flux walks it, from the root Kustomization down.

Flux's root Kustomization is taken exactly as the bootstrap stack creates it
(``gitops/clusters/<env>``); its path is built with ``kubectl kustomize``, and every Flux
``Kustomization`` found is followed: its ``spec.path`` is built and its ``postBuild``
substitution applied with the ConfigMap the platform contract derives for the environment
(:func:`platform_outputs`: plausible stand-ins only for what AWS generates). What comes out
is what kustomize-controller would apply. The tests (``tests/gitops``) and the pins tools
(``tools/pins``) both read the tree through this module.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from environments import REGISTRY, load_environments
from environments.model import EnvironmentConfig
from platform_constructs import contract
from platform_constructs.bootstrap.flux import FluxProps, sync_objects
from platform_constructs.stacks.bootstrap import cluster_path

REPO = Path(__file__).resolve().parents[1]
GITOPS = REPO / "gitops"
ENVIRONMENTS = REGISTRY

FLUX_KUSTOMIZATION = ("kustomize.toolkit.fluxcd.io", "Kustomization")
#: The GitRepository of this repository, as the bootstrap stack creates it.
ROOT_SOURCE = "flux-system"
SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute"
# Flux's variable syntax: ${NAME}, ${NAME:=default}, ${NAME:-default}.
VARIABLE = re.compile(r"\$\{([^}]*)\}")
VARIABLE_NAME = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
# A "$" that starts an identifier or a brace; Flux's envsubst may read it as a variable.
DOLLAR_HAZARD = re.compile(r"\$[{_A-Za-z]")


def platform_outputs(env: str) -> dict[str, str]:
    """The data of the platform-outputs ConfigMap Terraform writes for ``env``: the platform
    contract built from the environment's configuration, with plausible stand-ins only for
    what AWS generates (ids, ARNs, DNS names)."""
    return contract.placeholder_contract(environment(env)).config_map()


@cache
def environment(env: str) -> EnvironmentConfig:
    return {e.name: e for e in load_environments()}[env]


def root_kustomization(env: str) -> dict[str, Any]:
    """Flux's root Kustomization exactly as the bootstrap stack creates it."""
    config = environment(env)
    track = config.gitops.track
    # A tag channel's cluster follows the tag its deploy job deployed; any such tag renders the same tree here.
    git_ref = (
        track.flux_ref()
        if track.branch is not None
        else track.flux_ref("v0.0" if track.tag_pattern and track.tag_pattern.fullmatch("v0.0") else "v0.0-rc.0")
    )
    props = FluxProps(repository_url=config.gitops.repository_url, git_ref=git_ref, path=cluster_path(config))
    (kustomization,) = [o for o in sync_objects(props) if o["kind"] == "Kustomization"]
    return kustomization


class RenderError(AssertionError):
    """The tree cannot be built as Flux would (a tool is missing, a path does not build)."""


def require_kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        raise RenderError("kubectl is not on PATH: it builds the GitOps tree (kubectl kustomize)")
    return found


def group_of(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


#: The API groups Kubernetes serves itself; every other group is defined by a CRD (including
#: SIG projects' groups under k8s.io, such as gateway.networking.k8s.io).
BUILT_IN_GROUPS = frozenset(
    {
        "",
        "apps",
        "autoscaling",
        "batch",
        "policy",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)


def is_custom_resource(obj: dict[str, Any]) -> bool:
    """True for kinds a CRD defines."""
    return group_of(obj["apiVersion"]) not in BUILT_IN_GROUPS


@dataclass
class Rendered:
    """One object as Flux would apply it, with where it came from."""

    obj: dict[str, Any]
    layer: str
    """The Flux Kustomization that applies it ("flux-system" for the root one)."""

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        namespace = self.obj["metadata"].get("namespace")
        return None if namespace is None else str(namespace)

    @property
    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.layer}: {self.kind} {ns}{self.name}"


@dataclass(frozen=True)
class UpstreamKustomization:
    """A Flux Kustomization of an upstream repository at a tag, and its GitRepository."""

    kustomization: dict[str, Any]
    repository: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.repository["spec"]["url"])

    @property
    def tag(self) -> str:
        return str(self.repository["spec"]["ref"]["tag"])

    @property
    def path(self) -> str:
        return str(self.kustomization["spec"]["path"]).removeprefix("./")


@dataclass
class Tree:
    """Everything Flux applies in one environment."""

    env: str
    outputs: dict[str, str]
    kustomizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Flux Kustomizations of this repository's tree, by name."""
    upstream: dict[str, UpstreamKustomization] = field(default_factory=dict)
    """Flux Kustomizations that apply another Git repository (upstream CRDs), by name; not
    rendered here: the tests check them against the CRD files they validate with."""
    objects: list[Rendered] = field(default_factory=list)
    used_variables: dict[str, set[str]] = field(default_factory=dict)
    """Variable names referenced in each layer (before substitution)."""
    unresolved: list[str] = field(default_factory=list)
    """${...} expressions left after substitution, with the object they are in."""
    dollar_hazards: list[str] = field(default_factory=list)
    """Bare "$name" text in objects Flux substitutes."""

    def find(self, kind: str, name: str | None = None, namespace: str | None = None) -> list[Rendered]:
        return [
            r
            for r in self.objects
            if r.kind == kind and (name is None or r.name == name) and (namespace is None or r.namespace == namespace)
        ]

    def one(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        found = self.find(kind, name, namespace)
        assert len(found) == 1, f"{self.env}: expected one {kind} {namespace}/{name}, found {[r.ref for r in found]}"
        return found[0].obj

    def helm_values(self, name: str, namespace: str) -> dict[str, Any]:
        values: dict[str, Any] = self.one("HelmRelease", name, namespace)["spec"].get("values", {})
        return values


def kustomize_documents(path: Path) -> list[tuple[dict[str, Any], str]]:
    """Each object ``kubectl kustomize`` builds at ``path``, with its YAML text as kustomize wrote it
    (quoting kept: Flux substitutes that text, so ``"${N}"`` stays a string and ``${N}`` may become a number)."""
    kubectl = require_kubectl()
    if not (path / "kustomization.yaml").is_file():
        raise AssertionError(f"{path.relative_to(REPO)} has no kustomization.yaml; Flux would generate one, the tree must not rely on it")
    proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path.relative_to(REPO)} failed:\n{proc.stderr}")
    documents = []
    for text in re.split(r"(?m)^---\s*$", proc.stdout):
        doc = yaml.safe_load(text)
        if doc:
            documents.append((doc, text))
    return documents


def kustomize_build(path: Path) -> list[dict[str, Any]]:
    return [doc for doc, _ in kustomize_documents(path)]


def substitute(obj: dict[str, Any], variables: dict[str, str], tree: Tree, layer: str, text: str | None = None) -> dict[str, Any]:
    """Flux's postBuild substitution of one object (envsubst over its YAML ``text``, as built)."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if annotations.get(SUBSTITUTE_ANNOTATION) == "disabled":
        return obj
    if text is None:
        text = yaml.safe_dump(obj, sort_keys=False)
    where = f"{layer}: {obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
    used = tree.used_variables.setdefault(layer, set())

    def replace(match: re.Match[str]) -> str:
        expression = match.group(1)
        name = re.split(r":?[=-]", expression, maxsplit=1)[0]
        used.add(name)
        if VARIABLE_NAME.match(name) and name in variables:
            return variables[name]
        tree.unresolved.append(f"{where}: ${{{expression}}}")
        return match.group(0)

    for hazard in DOLLAR_HAZARD.findall(VARIABLE.sub("", text)):
        tree.dollar_hazards.append(f"{where}: {hazard!r}")
    substituted: dict[str, Any] = yaml.safe_load(VARIABLE.sub(replace, text))
    return substituted


def _is_this_repository(tree: Tree, ref: dict[str, Any], namespace: str | None) -> bool:
    """Whether a Kustomization's source is this repository (Flux's own, or another GitRepository
    of the same URL, such as the image automation's read of main): its path is in this checkout."""
    if ref == {"kind": "GitRepository", "name": ROOT_SOURCE}:
        return True
    found = tree.find("GitRepository", ref.get("name"), ref.get("namespace", namespace))
    return len(found) == 1 and found[0].obj["spec"].get("url") == environment(tree.env).gitops.repository_url


def _variables(tree: Tree, obj: dict[str, Any]) -> dict[str, str] | None:
    """The variables a Kustomization substitutes; ``None`` while a ConfigMap it reads is not rendered yet."""
    name, namespace = obj["metadata"]["name"], obj["metadata"].get("namespace")
    post_build = obj["spec"].get("postBuild") or {}
    variables: dict[str, str] = {}
    for source in post_build.get("substituteFrom") or []:
        if source.get("kind") != "ConfigMap":
            raise AssertionError(f"{tree.env}: Kustomization {name} substitutes from a {source.get('kind')}, which the tests cannot model")
        if source.get("name") == contract.OUTPUTS_CONFIGMAP_NAME and namespace == contract.OUTPUTS_CONFIGMAP_NAMESPACE:
            variables.update(tree.outputs)
            continue
        found = tree.find("ConfigMap", source.get("name"), namespace)
        if not found:
            return None
        variables.update({str(k): str(v) for k, v in (found[0].obj.get("data") or {}).items()})
    variables.update(post_build.get("substitute") or {})
    return variables


def build_tree(env: str) -> Tree:
    tree = Tree(env=env, outputs=platform_outputs(env))
    pending = [root_kustomization(env)]
    deferred = 0
    while pending:
        obj = pending.pop(0)
        if (group_of(obj["apiVersion"]), obj["kind"]) != FLUX_KUSTOMIZATION:
            continue
        name = obj["metadata"]["name"]
        if name in tree.kustomizations or name in tree.upstream:
            raise AssertionError(f"{env}: Flux Kustomization {name} is defined twice")
        spec = obj["spec"]
        source = spec["sourceRef"]
        if not _is_this_repository(tree, source, obj["metadata"].get("namespace")):
            tree.upstream[name] = UpstreamKustomization(obj, _source_of(tree, source, obj["metadata"].get("namespace")))
            continue
        variables = _variables(tree, obj)
        if variables is None:
            # It reads a ConfigMap another Kustomization applies (Flux waits for it: dependsOn).
            deferred += 1
            if deferred > 50:
                raise AssertionError(f"{env}: Kustomization {name} substitutes from a ConfigMap no Kustomization of the tree applies")
            pending.append(obj)
            continue
        tree.kustomizations[name] = obj
        post_build = spec.get("postBuild") or {}
        path = (REPO / spec["path"]).resolve()
        if GITOPS not in path.parents:
            raise AssertionError(f"{env}: Kustomization {name} points outside gitops/: {spec['path']}")
        for child, text in kustomize_documents(path):
            rendered = substitute(child, variables, tree, name, text) if post_build else child
            tree.objects.append(Rendered(rendered, name))
            pending.append(rendered)
    return tree


def _source_of(tree: Tree, ref: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    if ref.get("kind") != "GitRepository":
        raise AssertionError(f"{tree.env}: a Kustomization applies a {ref.get('kind')}, which the tests cannot model")
    found = tree.find("GitRepository", ref["name"], ref.get("namespace", namespace))
    if len(found) != 1:
        raise AssertionError(f"{tree.env}: GitRepository {ref['name']} of a Kustomization is not in the tree")
    if "tag" not in found[0].obj["spec"].get("ref", {}):
        raise AssertionError(f"{tree.env}: GitRepository {ref['name']} must follow a release tag (spec.ref.tag)")
    return found[0].obj


def iter_pod_specs(tree: Tree, namespace: str | None = None) -> Iterator[tuple[Rendered, dict[str, Any]]]:
    """Pod templates of the workloads the tree defines itself (not the charts')."""
    for rendered in tree.objects:
        if namespace is not None and rendered.namespace != namespace:
            continue
        if rendered.kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield rendered, rendered.obj["spec"]["template"]["spec"]
        elif rendered.kind == "CronJob":
            yield rendered, rendered.obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
