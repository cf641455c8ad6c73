"""Every pin of the project, read from what actually deploys.

Charts and images come from the GitOps tree built with ``kubectl kustomize`` (every layer of
every registered environment, overlays applied) and from the synthesized bootstrap stacks'
``helm_release`` resources; EKS versions come from the environments' configurations; the CI
image from ``.gitlab-ci.yml``. Nothing here asks the network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from environments import load_environments
from environments.model import EnvironmentConfig

REPO = Path(__file__).resolve().parents[2]
GITOPS = REPO / "gitops"
LAYERS = ("infrastructure/controllers", "infrastructure/configs", "apps")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


class InventoryError(RuntimeError):
    """The pins cannot be read (a tool is missing or the tree does not build)."""


@dataclass(frozen=True)
class ChartPin:
    """One chart at one version, and every set of values the project gives it."""

    chart: str
    """The chart's name as published (``kube-prometheus-stack``)."""
    version: str
    repository: str
    """``https://...`` (a Helm repository) or ``oci://<registry>/<path>`` without the chart name."""
    where: str
    values: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, hash=False)
    """The values of each environment (overlays applied), for the key checks."""

    @property
    def ref(self) -> str:
        return f"{self.chart} {self.version}"


@dataclass(frozen=True)
class ImagePin:
    repository: str
    """Normalized: ``redis`` for docker.io/library/redis, ``registry.k8s.io/kubectl`` elsewhere."""
    tag: str
    where: str

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class GitPin:
    """A Git repository Flux applies at a release tag (the upstream CRDs)."""

    repository: str
    """``https://github.com/<owner>/<repo>``."""
    tag: str
    where: str

    @property
    def ref(self) -> str:
        return f"{self.repository}@{self.tag}"


@dataclass(frozen=True)
class AddonPin:
    addon: str
    kubernetes_version: str
    version: str
    where: str


@dataclass(frozen=True)
class Inventory:
    charts: tuple[ChartPin, ...]
    images: tuple[ImagePin, ...]
    addons: tuple[AddonPin, ...]
    kubernetes: tuple[tuple[str, str], ...]
    """(environment, Kubernetes version) of every environment."""
    git: tuple[GitPin, ...] = ()
    """Upstream repositories Flux applies at a tag."""


# --- images ----------------------------------------------------------------------------------

_DOCKER_HUB = ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/", "registry-1.docker.io/")


def parse_image(reference: str, where: str) -> ImagePin | None:
    """``redis:7.4.11-alpine`` -> ImagePin(redis, 7.4.11-alpine); ``None`` for a reference without a
    tag (the project's own logical names, such as ``plato-backend`` before kustomize sets it)."""
    name = reference.split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        return None
    repository, tag = name.rsplit(":", 1)
    for prefix in _DOCKER_HUB:
        if repository.startswith(prefix):
            repository = repository[len(prefix) :]
            break
    return ImagePin(repository=repository, tag=tag, where=where)


def value_images(values: Any, where: str) -> Iterator[ImagePin]:
    """Images set in chart values: ``image: repo:tag`` or ``image: {repository, tag}``."""
    if isinstance(values, dict):
        for key, value in values.items():
            if key == "image" and isinstance(value, str):
                pin = parse_image(value, where)
                if pin:
                    yield pin
            elif key == "image" and isinstance(value, dict) and value.get("repository") and value.get("tag"):
                registry = value.get("registry")
                repository = f"{registry}/{value['repository']}" if registry else str(value["repository"])
                pin = parse_image(f"{repository}:{value['tag']}", where)
                if pin:
                    yield pin
            else:
                yield from value_images(value, where)
    elif isinstance(values, list):
        for item in values:
            yield from value_images(item, where)


def _pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spec: Mapping[str, Any] = obj.get("spec") or {}
    if obj["kind"] == "Pod":
        return spec
    found: Mapping[str, Any] | None
    if obj["kind"] == "CronJob":
        found = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    else:
        found = spec.get("template", {}).get("spec")
    return found


def _workload_images(obj: Mapping[str, Any], where: str) -> Iterator[ImagePin]:
    pod = _pod_spec(obj) or {}
    for key in ("initContainers", "containers"):
        for container in pod.get(key) or []:
            image = str(container.get("image", ""))
            if "${" in image:
                continue  # substituted by Flux: the release-images pins below
            pin = parse_image(image, where)
            if pin:
                yield pin


def release_images(env: EnvironmentConfig) -> Iterator[ImagePin]:
    """The backend image ``env`` runs now: the image automation's pins on main
    (``gitops/apps/<env>/images``), until the first real image the stand-in."""
    for obj in kustomize(GITOPS / "apps" / env.name / "images"):
        data = obj.get("data") or {} if obj["kind"] == "ConfigMap" else {}
        if "BACKEND_IMAGE" in data:
            pin = parse_image(f"{data['BACKEND_IMAGE']}:{data['BACKEND_IMAGE_TAG']}", f"gitops ({env.name}): ConfigMap release-images")
            if pin:
                yield pin


# --- the GitOps tree -------------------------------------------------------------------------


def kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise InventoryError("kubectl is not on PATH: it builds the GitOps tree (kubectl kustomize)")
    proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise InventoryError(f"kubectl kustomize {path.relative_to(REPO)} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def _source_of(release: Mapping[str, Any], sources: Mapping[tuple[str, str, str], Mapping[str, Any]]) -> tuple[str, str, str]:
    """(chart, version, repository) of a HelmRelease, from its HelmRepository or OCIRepository."""
    meta, spec = release["metadata"], release["spec"]
    namespace = meta.get("namespace", "")
    if "chartRef" in spec:
        ref = spec["chartRef"]
        oci = sources.get((ref["kind"], ref.get("namespace", namespace), ref["name"]))
        if oci is None:
            raise InventoryError(f"HelmRelease {namespace}/{meta['name']}: {ref['kind']} {ref['name']} is not in the tree")
        url = str(oci["spec"]["url"])
        repository, chart = url.rsplit("/", 1)
        return chart, str(oci["spec"]["ref"]["tag"]), repository
    chart_spec = spec["chart"]["spec"]
    source = chart_spec["sourceRef"]
    repo = sources.get((source["kind"], source.get("namespace", namespace), source["name"]))
    if repo is None:
        raise InventoryError(f"HelmRelease {namespace}/{meta['name']}: {source['kind']} {source['name']} is not in the tree")
    return str(chart_spec["chart"]), str(chart_spec["version"]), str(repo["spec"]["url"]).rstrip("/")


def gitops_pins(environments: Sequence[EnvironmentConfig]) -> tuple[list[ChartPin], list[ImagePin]]:
    charts: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    where: dict[tuple[str, str, str], str] = {}
    images: list[ImagePin] = []
    for env in environments:
        objects = [obj for layer in LAYERS for obj in kustomize(GITOPS / layer / env.name)]
        sources = {
            (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
            for o in objects
            if o["kind"] in ("HelmRepository", "OCIRepository")
        }
        for obj in objects:
            label = f"gitops ({env.name}): {obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
            if obj["kind"] == "HelmRelease":
                key = _source_of(obj, sources)
                charts.setdefault(key, []).append(obj["spec"].get("values") or {})
                where.setdefault(key, label)
                images.extend(value_images(obj["spec"].get("values") or {}, label))
            elif obj["kind"] in WORKLOAD_KINDS:
                images.extend(_workload_images(obj, label))
        images.extend(release_images(env))
    pins = [ChartPin(chart=c, version=v, repository=r, where=where[(c, v, r)], values=tuple(vals)) for (c, v, r), vals in charts.items()]
    return pins, images


def git_pins(environments: Sequence[EnvironmentConfig]) -> list[GitPin]:
    """Every GitRepository of the clusters' own layer that follows a tag (not Flux's own source,
    which the bootstrap stack creates)."""
    seen: dict[tuple[str, str], GitPin] = {}
    for env in environments:
        for obj in kustomize(GITOPS / "clusters" / env.name):
            tag = (obj.get("spec", {}).get("ref") or {}).get("tag") if obj["kind"] == "GitRepository" else None
            if tag:
                key = (str(obj["spec"]["url"]), str(tag))
                seen.setdefault(key, GitPin(key[0], key[1], f"gitops ({env.name}): GitRepository {obj['metadata']['name']}"))
    return list(seen.values())


# --- the bootstrap stacks, the configuration, CI ---------------------------------------------


def bootstrap_pins(synth_dir: Path, environments: Sequence[EnvironmentConfig]) -> tuple[list[ChartPin], list[ImagePin]]:
    """Every ``helm_release`` of an upstream chart in the synthesized bootstrap stacks."""
    charts: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    where: dict[tuple[str, str, str], str] = {}
    images: list[ImagePin] = []
    for env in environments:
        path = synth_dir / "stacks" / f"{env.name}-bootstrap" / "cdk.tf.json"
        if not path.is_file():
            raise InventoryError(f"{path} is missing: synthesize first (make synth)")
        releases = json.loads(path.read_text()).get("resource", {}).get("helm_release", {})
        for address, release in releases.items():
            if not release.get("repository"):
                continue  # the local raw-manifests chart
            key = (str(release["chart"]), str(release["version"]), str(release["repository"]).rstrip("/"))
            values: dict[str, Any] = {}
            for document in release.get("values") or []:
                values.update(yaml.safe_load(document) or {})
            label = f"{env.name}-bootstrap: helm_release.{address}"
            charts.setdefault(key, []).append(values)
            where.setdefault(key, label)
            images.extend(value_images(values, label))
    pins = [ChartPin(chart=c, version=v, repository=r, where=where[(c, v, r)], values=tuple(vals)) for (c, v, r), vals in charts.items()]
    return pins, images


def ci_images(path: Path = REPO / ".gitlab-ci.yml") -> list[ImagePin]:
    document = yaml.safe_load(path.read_text())
    found: list[ImagePin] = []
    for name, job in document.items():
        if isinstance(job, dict) and "image" in job:
            image = job["image"]
            pin = parse_image(image if isinstance(image, str) else str(image.get("name", "")), f".gitlab-ci.yml: {name}")
            if pin:
                found.append(pin)
    return found


def addon_pins(environments: Sequence[EnvironmentConfig]) -> list[AddonPin]:
    seen: dict[tuple[str, str, str], AddonPin] = {}
    for env in environments:
        version = env.cluster.kubernetes_version
        for addon, pinned in env.cluster.addon_versions.items():
            seen.setdefault((addon, version, pinned), AddonPin(addon, version, pinned, f"environments/model/eks.py ({env.name})"))
    return list(seen.values())


def collect(synth_dir: Path, environments: Sequence[EnvironmentConfig] | None = None) -> Inventory:
    """Every pin the project deploys, from the tree, the synth output, the configuration and CI."""
    envs = tuple(environments if environments is not None else load_environments())
    gitops_charts, gitops_images = gitops_pins(envs)
    boot_charts, boot_images = bootstrap_pins(synth_dir, envs)
    images = {(i.repository, i.tag): i for i in [*gitops_images, *boot_images, *ci_images()]}
    return Inventory(
        charts=tuple(sorted([*gitops_charts, *boot_charts], key=lambda c: (c.chart, c.version))),
        images=tuple(sorted(images.values(), key=lambda i: (i.repository, i.tag))),
        addons=tuple(addon_pins(envs)),
        kubernetes=tuple((e.name, e.cluster.kubernetes_version) for e in envs),
        git=tuple(sorted(git_pins(envs), key=lambda g: g.ref)),
    )


def bitnami_references(text: str) -> list[str]:
    """Every ``bitnami`` / ``bitnamilegacy`` image reference in a text (values, manifests)."""
    return sorted(set(re.findall(r"[\w.-]*bitnami(?:legacy|charts)?/[\w./-]+", text)))
