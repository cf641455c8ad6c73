"""A helm release of the local ``raw-manifests`` chart: custom resources after their CRDs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import yaml
from cdktf import TerraformStack
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from platform_constructs.bootstrap.charts import RAW_MANIFESTS_DIR


def stack_relative_chart_path(scope: Construct) -> str:
    """The chart's path relative to the stack's working directory (cdktf.out/stacks/<stack>).

    Relative, so the synthesized JSON is the same on every machine and in CI artifacts.
    """
    stack = TerraformStack.of(scope)
    workdir = RAW_MANIFESTS_DIR.parents[1] / "cdktf.out" / "stacks" / stack.node.id
    return os.path.relpath(RAW_MANIFESTS_DIR, workdir)


def raw_manifests_release(
    scope: Construct, id: str, *, name: str, namespace: str, objects: Sequence[dict[str, Any]], depends_on: Sequence[Any]
) -> Release:
    return Release(
        scope,
        id,
        name=name,
        namespace=namespace,
        chart=stack_relative_chart_path(scope),
        values=[yaml.safe_dump({"objects": list(objects)}, sort_keys=False)],
        wait=True,
        atomic=True,
        cleanup_on_fail=True,
        timeout=300,
        depends_on=list(depends_on),
    )
