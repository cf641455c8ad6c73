"""The GitOps tree as the tests see it: the shared renderer plus checkov and memoised accessors.

The tree is built by :mod:`tools.gitops_render` (the pins tools use it too). Missing tools or
schemas fail the tests that need them (pytest.fail); nothing is skipped.

The test modules call the memoised accessors at the end of this module (``tree_of``,
``all_trees``, ``checkov_once``, ``crd_schemas_once``) instead of using fixtures: there is
no conftest.py here on purpose, because the project's own tests import ``conftest`` by
name and a second conftest module would shadow theirs. The expensive work (kustomize
builds, the checkov run, loading CRDs) runs once per session.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tools.gitops_render import (  # noqa: F401 - re-exported for the test modules
    ENVIRONMENTS,
    GITOPS,
    REPO,
    Rendered,
    Tree,
    build_tree,
    environment,
    group_of,
    is_custom_resource,
    iter_pod_specs,
    kustomize_build,
    platform_outputs,
    root_kustomization,
)

# --- checkov ---------------------------------------------------------------------------

#: Checks skipped for every manifest, each with the reason. Skips that concern one object
#: are annotations on that object (checkov.io/skipN) so that they travel with it.
CHECKOV_SKIPS: dict[str, str] = {
    "CKV_K8S_43": (
        "Images are pinned to exact release tags; digests cannot be resolved without registry "
        "access at authoring time. Digest pinning belongs to the CI promotion step."
    ),
}


@dataclass(frozen=True)
class CheckovReport:
    """checkov's verdict. With --quiet its JSON lists failed checks only; the rest are counts."""

    failed: list[dict[str, Any]]
    passed: int
    skipped: int
    resource_count: int
    scanned_files: int


def checkov_binary() -> str:
    path = os.environ.get("CHECKOV", str(REPO / ".tools" / "checkov" / "bin" / "checkov"))
    if not Path(path).is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"checkov not found at {path}: install the pinned checkov (make setup) or point CHECKOV at it")
    return path


def run_checkov(trees: dict[str, Tree], outdir: Path) -> CheckovReport:
    """One checkov run over every object of every environment, written to ``outdir``."""
    binary = checkov_binary()
    files = 0
    for env, tree in trees.items():
        by_layer: dict[str, list[dict[str, Any]]] = {}
        for rendered in tree.objects:
            by_layer.setdefault(rendered.layer.strip("<>"), []).append(rendered.obj)
        for layer, objs in by_layer.items():
            (outdir / f"{env}-{layer}.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
            files += 1
    proc = subprocess.run(
        [
            binary,
            "-d",
            str(outdir),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "--skip-check",
            ",".join(sorted(CHECKOV_SKIPS)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # checkov exits 1 when a check failed; anything else without JSON is a broken run.
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov produced no JSON (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}") from None
    reports = data if isinstance(data, list) else [data]
    failed: list[dict[str, Any]] = []
    passed = skipped = resources = 0
    for report in reports:
        failed += report.get("results", {}).get("failed_checks", [])
        summary = report.get("summary", {})
        passed += summary.get("passed", 0)
        skipped += summary.get("skipped", 0)
        resources += summary.get("resource_count", 0)
        if summary.get("parsing_errors"):
            raise AssertionError(f"checkov could not parse {summary['parsing_errors']} rendered file(s)")
    return CheckovReport(failed=failed, passed=passed, skipped=skipped, resource_count=resources, scanned_files=files)


# --- memoised accessors for the tests -------------------------------------------------------------------------


@cache
def tree_of(env: str) -> Tree:
    """Everything Flux applies in ``env``."""
    return build_tree(env)


def all_trees() -> dict[str, Tree]:
    """The rendered tree of every environment."""
    return {env: tree_of(env) for env in ENVIRONMENTS}


@cache
def checkov_once() -> CheckovReport:
    with tempfile.TemporaryDirectory(prefix="gitops-rendered-") as outdir:
        return run_checkov(all_trees(), Path(outdir))


@cache
def crd_schemas_once() -> dict[tuple[str, str], dict[str, Any]]:
    """The CRDs of the pinned installers (tools/pins/crds.py), from verified upstream copies."""
    from tools.pins.crds import served_schemas
    from tools.pins.upstream import UpstreamError

    try:
        found = served_schemas()
    except UpstreamError as exc:
        pytest.fail(str(exc))
    if not found:
        pytest.fail("no CustomResourceDefinition among the pinned CRD files (tools/pins/crds.py)")
    return {key: dict(versions) for key, versions in found.items()}


def crd_errors(obj: dict[str, Any], ref: str) -> list[str]:
    """Why ``obj`` would not pass the API server's validation against its pinned CRD (empty: it would)."""
    group, version = obj["apiVersion"].split("/", 1)
    versions = crd_schemas_once().get((group, obj["kind"]))
    if versions is None:
        return [f"{ref}: no CRD for {group}/{obj['kind']} among the pinned installers' CRDs (tools/pins/crds.py)"]
    if version not in versions:
        return [f"{ref}: {group} serves {sorted(versions)} for {obj['kind']}, not {version}"]
    schema = _structural(copy.deepcopy(versions[version]))
    # ObjectMeta is validated by the API server itself, not by the CRD.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return [f"{ref}: {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]


def _structural(schema: Any) -> Any:
    """A Kubernetes structural schema as JSON Schema, with the API server's field pruning.

    x-kubernetes-int-or-string becomes integer-or-string, nullable adds null, and objects
    that declare properties reject unknown fields unless they preserve them (the API server
    drops unknown fields, so a typo in a custom resource would silently do nothing).
    """
    if isinstance(schema, list):
        return [_structural(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _structural(v) for k, v in schema.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in schema and "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out
