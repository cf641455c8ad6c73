"""Cost tags reach everything the stacks pay for.

Which resource types take tags is read from the AWS provider's own schema (``terraform
providers schema -json``: a type with ``tags_all`` receives the provider's ``default_tags``);
what ``default_tags`` cannot reach is checked where it is set instead: the launch template's
``tag_specifications`` (node instances, volumes, interfaces), the EBS CSI driver's
``extraVolumeTags`` (persistent volumes) and Karpenter's EC2NodeClass (its nodes, in the GitOps
tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from check_tools import terraform_cli_config
from conftest import ENVIRONMENTS, Synth, require_tool, tool_env

pytestmark = pytest.mark.terraform

AWS_STACKS = [f"{env}-{kind}" for env in ENVIRONMENTS for kind in ("platform", "state")]
# What each launch template must tag at launch: the instance, its volumes, its interfaces.
LAUNCHED = {"instance", "volume", "network-interface"}


@pytest.fixture(scope="module")
def aws_schema(synth: Synth, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The resource schemas of the pinned hashicorp/aws provider."""
    workdir = tmp_path_factory.mktemp("schema")
    shutil.copytree(synth.stack_dir("dev-platform"), workdir / "stack")
    # `providers schema` wants an initialised backend; the schema does not depend on it.
    config_file = workdir / "stack" / "cdk.tf.json"
    config = json.loads(config_file.read_text())
    config["terraform"].pop("backend", None)
    config_file.write_text(json.dumps(config))
    try:
        rc = terraform_cli_config(workdir / "terraformrc")
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    env = tool_env(TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", TF_INPUT="0")
    terraform = require_tool("terraform")
    output = ""
    for args in (["init", "-backend=false", "-no-color"], ["providers", "schema", "-json"]):
        proc = subprocess.run([terraform, *args], cwd=workdir / "stack", env=env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, f"terraform {args[0]}: {proc.stderr}"
        output = proc.stdout
    (schema,) = [s for name, s in json.loads(output)["provider_schemas"].items() if name.endswith("hashicorp/aws")]
    schemas: dict[str, Any] = schema["resource_schemas"]
    return schemas


def _taggable(schema: dict[str, Any]) -> set[str]:
    return {rtype for rtype, s in schema.items() if "tags_all" in s["block"].get("attributes", {})}


def _default_tags(environments: Any, stack: str) -> dict[str, str]:
    tags: dict[str, str] = environments[stack.split("-")[0]].default_tags
    return tags


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_aws_provider_of_a_stack_tags_with_the_environments_default_tags(synth: Synth, environments: Any, stack: str) -> None:
    providers = synth.stack(stack)["provider"]["aws"]
    assert providers
    for provider in providers:
        assert provider["default_tags"] == [{"tags": _default_tags(environments, stack)}], provider.get("alias", "default")


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_taggable_resource_keeps_the_default_tags_and_every_other_type_takes_no_tags(
    synth: Synth, environments: Any, aws_schema: dict[str, Any], stack: str
) -> None:
    taggable, defaults = _taggable(aws_schema), _default_tags(environments, stack)
    resources = synth.stack(stack)["resource"]
    checked = 0
    for rtype, items in resources.items():
        attributes = aws_schema[rtype]["block"].get("attributes", {})
        for name, resource in items.items():
            if rtype not in taggable:
                # No tags_all: default_tags cannot reach it, and it has no tags of its own to miss.
                assert "tags" not in attributes, f"{rtype}.{name} takes tags but not default_tags"
                continue
            checked += 1
            overridden = {k: v for k, v in (resource.get("tags") or {}).items() if k in defaults and v != defaults[k]}
            assert not overridden, f"{rtype}.{name} overrides cost tags {overridden}"
    assert checked >= (20 if stack.endswith("platform") else 2), f"{stack}: only {checked} taggable resources"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_what_a_resource_launches_carries_the_default_tags_too(
    synth: Synth, environments: Any, aws_schema: dict[str, Any], stack: str
) -> None:
    defaults = _default_tags(environments, stack)
    launchers = {rtype for rtype, s in aws_schema.items() if "tag_specifications" in s["block"].get("block_types", {})}
    for rtype, items in synth.stack(stack)["resource"].items():
        if rtype not in launchers:
            continue
        for name, resource in items.items():
            specs = {spec["resource_type"]: spec["tags"] for spec in resource.get("tag_specifications", [])}
            assert set(specs) >= LAUNCHED, f"{rtype}.{name} leaves {sorted(LAUNCHED - set(specs))} untagged at launch"
            for kind, tags in specs.items():
                assert defaults.items() <= tags.items(), f"{rtype}.{name} {kind} misses {sorted(set(defaults) - set(tags))}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_node_group_launches_from_a_template_that_tags_its_instances(synth: Synth, env: str) -> None:
    groups = synth.resources(f"{env}-platform", "aws_eks_node_group")
    templates = synth.resources(f"{env}-platform", "aws_launch_template")
    assert groups
    for name, group in groups.items():
        (template,) = group["launch_template"] if isinstance(group["launch_template"], list) else [group["launch_template"]]
        referenced = [t for t in templates if f"aws_launch_template.{t}.id" in template["id"]]
        assert referenced, f"{name} launches from no template of this stack"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_volumes_the_ebs_csi_driver_creates_carry_the_default_tags(synth: Synth, environments: Any, env: str) -> None:
    (addon,) = [a for a in synth.resources(f"{env}-platform", "aws_eks_addon").values() if a["addon_name"] == "aws-ebs-csi-driver"]
    tags = json.loads(addon["configuration_values"])["controller"]["extraVolumeTags"]
    assert environments[env].default_tags.items() <= tags.items()
