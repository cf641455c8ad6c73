"""The synthesized stacks: one state per stack, providers, backend, tags."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from conftest import ENVIRONMENTS, Synth

ENV_STACKS = [f"{env}-{kind}" for env in ENVIRONMENTS for kind in ("platform", "bootstrap")]


def test_main_py_synthesizes_a_platform_and_a_bootstrap_stack_per_environment(synth: Synth) -> None:
    assert set(ENV_STACKS) <= set(synth.stacks)
    assert len(ENV_STACKS) == 6


def test_every_environment_also_gets_a_state_bucket_stack_with_local_state(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        backend = synth.stack(f"{env}-state")["terraform"]["backend"]
        assert list(backend) == ["local"]
        assert backend["local"]["path"].endswith(f"state/{env}-state.tfstate")
    assert len(synth.stacks) == 9


@pytest.mark.parametrize("stack", ENV_STACKS)
def test_each_stack_keeps_its_state_in_its_environments_bucket_encrypted_and_locked(synth: Synth, environments: Any, stack: str) -> None:
    env_name, kind = stack.split("-")
    env = environments[env_name]
    s3 = synth.stack(stack)["terraform"]["backend"]["s3"]
    assert s3["bucket"] == env.state.bucket
    assert s3["key"] == f"{env_name}/{kind}.tfstate"
    assert s3["encrypt"] is True
    assert s3["use_lockfile"] is True
    assert "dynamodb_table" not in s3
    assert s3["region"] == env.region
    assert s3["assume_role"]["role_arn"] == env.deploy_role_arn
    assert s3["allowed_account_ids"] == [env.account_id]


def test_no_two_stacks_share_a_state(synth: Synth) -> None:
    locations = [
        (synth.stack(s)["terraform"]["backend"]["s3"]["bucket"], synth.stack(s)["terraform"]["backend"]["s3"]["key"]) for s in ENV_STACKS
    ]
    assert len(set(locations)) == len(locations)
    buckets_by_env = {env: {b for (b, _), s in zip(locations, ENV_STACKS, strict=True) if s.startswith(env)} for env in ENVIRONMENTS}
    assert all(len(b) == 1 for b in buckets_by_env.values())
    assert all(not (a & b) for a, b in itertools.combinations(buckets_by_env.values(), 2))


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_aws_provider_assumes_the_environment_role_and_tags_everything(synth: Synth, environments: Any, env_name: str) -> None:
    env = environments[env_name]
    aws, *replica = synth.stack(f"{env_name}-platform")["provider"]["aws"]
    assert "alias" not in aws and aws["region"] == env.region
    # The second region, where the environment names one, as the alias "replica" with the same role and tags.
    assert [(r["alias"], r["region"]) for r in replica] == ([("replica", env.storage.replica_region)] if env.storage.replicated else [])
    assert all(r["assume_role"][0]["role_arn"] == env.deploy_role_arn and r["default_tags"] == aws["default_tags"] for r in replica)
    assert aws["allowed_account_ids"] == [env.account_id]
    assert aws["assume_role"][0]["role_arn"] == env.deploy_role_arn
    tags = aws["default_tags"][0]["tags"]
    assert tags["environment"] == env_name
    assert tags["owner"] == env.owner
    assert tags["managed-by"] == "cdktf"
    assert tags["project"] == "plato"


def test_the_aws_provider_is_pinned_to_the_offline_mirror_version(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        required = synth.stack(f"{env}-platform")["terraform"]["required_providers"]["aws"]
        assert required["version"] == "5.100.0"


def test_resource_addresses_are_readable_construct_paths_without_hashes(synth: Synth) -> None:
    vpcs = synth.resources("dev-platform", "aws_vpc")
    assert list(vpcs) == ["network_vpc"]
    assert "private_subnet_ids" in synth.stack("dev-platform")["output"]


def test_no_resource_carries_more_tags_of_its_own_than_the_configuration_keeps_free(synth: Synth, environments: Any) -> None:
    """EnvironmentConfig refuses ``tags`` that, with the default tags and these, pass AWS's 50 per resource."""
    from environments.model.config import PROJECT_RESOURCE_TAGS

    most: dict[str, int] = {}
    for stack in synth.stacks:
        for rtype, items in synth.stack(stack).get("resource", {}).items():
            for name, body in items.items():
                tags = body.get("tags")
                if isinstance(tags, dict):
                    most[f"{stack}: {rtype}.{name}"] = len(tags)
    assert most, "no tagged resource found"
    assert max(most.values()) <= PROJECT_RESOURCE_TAGS, max(most, key=most.__getitem__)
