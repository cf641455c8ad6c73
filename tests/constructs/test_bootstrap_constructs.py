"""The bootstrap's parts (platform_constructs/bootstrap): Flux's sync objects, Vault's props, keys."""

from __future__ import annotations

import pytest
from scope import DEPLOYMENT, policy, synth

from platform_constructs.bootstrap.flux import FluxProps, sync_objects
from platform_constructs.bootstrap.vault import VaultProps, server_config
from platform_constructs.encryption.log_key import LogEncryptionKey


def test_the_root_sync_follows_the_given_ref_and_substitutes_from_the_platform_outputs() -> None:
    repository, kustomization = sync_objects(
        FluxProps(repository_url="https://gitlab.example.com/p.git", git_ref={"tag": "v1.0.0"}, path="./gitops/clusters/qa")
    )
    assert repository["spec"]["ref"] == {"tag": "v1.0.0"}
    assert kustomization["spec"]["path"] == "./gitops/clusters/qa"
    assert kustomization["spec"]["postBuild"] == {"substituteFrom": [{"kind": "ConfigMap", "name": "platform-outputs"}]}


@pytest.mark.parametrize(
    ("ref", "path"), [({}, "./x"), ({"branch": "main", "tag": "v1"}, "./x"), ({"commit": "abc"}, "./x"), ({"branch": "main"}, "gitops/x")]
)
def test_flux_props_refuse_a_ref_or_path_flux_could_not_follow(ref: dict[str, str], path: str) -> None:
    with pytest.raises(ValueError):
        FluxProps(repository_url="https://gitlab.example.com/p.git", git_ref=ref, path=path)


@pytest.mark.parametrize("replicas", [1, 2, 4])
def test_vault_refuses_a_raft_without_an_odd_majority(replicas: int) -> None:
    with pytest.raises(ValueError, match="odd number of at least 3"):
        VaultProps(region="eu-west-1", kms_key_id="k", service_account="vault", replicas=replicas)


def test_vault_joins_every_replica_and_unseals_with_the_given_key() -> None:
    config = server_config(VaultProps(region="eu-west-1", kms_key_id="key-1", service_account="vault", replicas=5))
    assert config.count("retry_join") == 5 and "vault-4.vault-internal" in config
    assert 'kms_key_id = "key-1"' in config and 'region = "eu-west-1"' in config


def test_the_log_key_lets_cloudwatch_logs_use_it_for_this_accounts_groups_only() -> None:
    out = synth(lambda s: LogEncryptionKey(s, "log-key", deployment=DEPLOYMENT))
    key = out.resource("aws_kms_key", "log-key_key")
    assert key["enable_key_rotation"] is True
    statements = {st["Sid"]: st for st in policy(key["policy"])["Statement"]}
    logs = statements["CloudWatchLogsUsesForThisAccount"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:444455556666:log-group:*"
    assert out.resource("aws_kms_alias", "log-key_key-alias")["name"] == "alias/plato-unit-logs"
