"""Environment configuration: typed, frozen, validated early with one-line errors."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, tool_env

from environments import ConfigError, load_environments
from environments.model import Channel
from environments.model.config import (
    ClusterConfig,
    EdgeConfig,
    EnvironmentConfig,
    GitOpsConfig,
    NatStrategy,
    NetworkConfig,
    NodeGroupConfig,
    StateConfig,
    StorageConfig,
    Tier,
    validate_fleet,
)

ADMIN = "arn:aws:iam::444444444444:role/admin"


def group(**changes: Any) -> NodeGroupConfig:
    fields: dict[str, Any] = {"name": "general", "instance_types": ("m6i.large",), "min_size": 2, "max_size": 4, "desired_size": 2}
    fields.update(changes)
    return NodeGroupConfig(**fields)


def cluster(**changes: Any) -> ClusterConfig:
    fields: dict[str, Any] = {"kubernetes_version": "1.36", "node_groups": (group(),), "platform_admin_role_arns": (ADMIN,)}
    fields.update(changes)
    return ClusterConfig(**fields)


def base(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "qa",
        "tier": Tier.STAGING,
        "account_id": "444444444444",
        "region": "eu-west-1",
        "deploy_role_arn": "arn:aws:iam::444444444444:role/deploy",
        "owner": "platform-team",
        "domain": "qa.plato.example.com",
        "state": StateConfig(bucket="plato-tfstate-qa"),
        "network": NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=3),
        "cluster": cluster(),
        "gitops": GitOpsConfig(repository_url="https://gitlab.com/plato/platform.git", channel=Channel.MAIN),
    }
    fields.update(changes)
    return fields


def error_of(build: Any) -> str:
    with pytest.raises(ConfigError) as info:
        build()
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_three_environments_load_and_validate_as_a_fleet() -> None:
    envs = load_environments()
    assert [e.name for e in envs] == ["dev", "stage", "prod"]
    assert [e.tier for e in envs] == [Tier.DEVELOPMENT, Tier.STAGING, Tier.PRODUCTION]


def test_environments_are_frozen() -> None:
    env = load_environments()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.region = "us-east-1"  # type: ignore[misc]


def test_dev_shares_one_nat_gateway_and_prod_has_one_per_az() -> None:
    envs = {e.name: e for e in load_environments()}
    assert envs["dev"].network.nat is NatStrategy.SINGLE
    assert envs["dev"].network.nat_gateway_count == 1
    assert envs["prod"].network.nat is NatStrategy.PER_AZ
    assert envs["prod"].network.nat_gateway_count == envs["prod"].network.az_count == 3


def test_subnets_are_carved_inside_the_vpc_without_overlap() -> None:
    import ipaddress

    for env in load_environments():
        vpc = ipaddress.IPv4Network(env.network.vpc_cidr)
        subnets = [ipaddress.IPv4Network(c) for c in env.network.private_subnet_cidrs + env.network.public_subnet_cidrs]
        assert len(subnets) == 2 * env.network.az_count
        assert all(s.subnet_of(vpc) for s in subnets)
        assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


# --- bad configuration: each rule, each with its one-line message --------------------------


def test_a_malformed_vpc_cidr_is_rejected() -> None:
    msg = error_of(lambda: NetworkConfig(vpc_cidr="10.0.0.300/16"))
    assert msg.startswith("configuration: network.vpc_cidr: '10.0.0.300/16' is not a valid IPv4 CIDR block")


def test_a_vpc_cidr_with_host_bits_set_is_rejected() -> None:
    msg = error_of(lambda: NetworkConfig(vpc_cidr="10.0.0.1/16"))
    assert "network.vpc_cidr: '10.0.0.1/16' is not a valid IPv4 CIDR block" in msg


def test_a_vpc_too_small_for_eks_is_rejected() -> None:
    msg = error_of(lambda: NetworkConfig(vpc_cidr="10.0.0.0/24"))
    assert msg == "configuration: network.vpc_cidr: prefix /24 is out of range: use /16 to /20 so the subnets can hold EKS pod IPs"


def test_a_public_vpc_range_is_rejected() -> None:
    msg = error_of(lambda: NetworkConfig(vpc_cidr="8.8.0.0/16"))
    assert msg == "configuration: network.vpc_cidr: '8.8.0.0/16' must be a private (RFC 1918) range"


@pytest.mark.parametrize("count", [1, 5])
def test_an_az_count_out_of_range_is_rejected(count: int) -> None:
    msg = error_of(lambda: NetworkConfig(vpc_cidr="10.0.0.0/16", az_count=count))
    assert msg == f"configuration: network.az_count: {count} is out of range: must be between 2 and 4"


def test_a_malformed_account_id_is_rejected_naming_the_environment() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(account_id="12345")))
    assert msg == "environment 'qa': account_id: '12345' must be exactly 12 digits"


def test_a_malformed_region_is_rejected() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(region="europe-1")))
    assert msg == "environment 'qa': region: 'europe-1' is not an AWS region name like 'eu-central-1'"


def test_a_malformed_domain_is_rejected() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(domain="Plato_Example..com")))
    assert msg == "environment 'qa': domain: 'Plato_Example..com' is not a valid lower-case DNS domain name"


def test_a_deploy_role_in_another_account_is_rejected() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(deploy_role_arn="arn:aws:iam::555555555555:role/deploy")))
    assert msg == "environment 'qa': deploy_role_arn: role account 555555555555 differs from account_id 444444444444"


def test_production_with_a_single_nat_gateway_is_rejected() -> None:
    single = NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=3, nat=NatStrategy.SINGLE)
    msg = error_of(lambda: EnvironmentConfig(**base(tier=Tier.PRODUCTION, network=single)))
    assert msg == (
        "environment 'qa': network.nat: a production-tier environment needs one NAT gateway per AZ ('per-az'), not a single shared one"
    )


def test_a_reserved_tag_key_is_rejected() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(tags={"owner": "someone"})))
    assert msg == "environment 'qa': tags.owner: is set from the environment's own fields; remove it from tags"


def test_an_invalid_state_bucket_name_is_rejected() -> None:
    msg = error_of(lambda: StateConfig(bucket="Plato_State"))
    assert msg.startswith("configuration: state.bucket: 'Plato_State' is not a valid S3 bucket name")


def test_an_availability_zone_outside_the_region_is_rejected() -> None:
    network = NetworkConfig(vpc_cidr="10.40.0.0/16", az_count=2, availability_zones=("us-east-1a", "us-east-1b"))
    msg = error_of(lambda: EnvironmentConfig(**base(network=network)))
    assert msg == "environment 'qa': network.availability_zones: 'us-east-1a' is not a zone of region eu-west-1"


def test_overlapping_vpcs_across_environments_are_rejected() -> None:
    a = EnvironmentConfig(**base())
    b = EnvironmentConfig(
        **base(
            name="qa2",
            domain="qa2.plato.example.com",
            state=StateConfig(bucket="plato-tfstate-qa2"),
            network=NetworkConfig(vpc_cidr="10.40.128.0/17"),
        )
    )
    msg = error_of(lambda: validate_fleet([a, b]))
    assert msg == "environment 'qa2': network.vpc_cidr: 10.40.128.0/17 overlaps 10.40.0.0/16 of environment 'qa'; VPCs must not overlap"


def test_duplicate_environment_names_are_rejected() -> None:
    a = EnvironmentConfig(**base())
    msg = error_of(lambda: validate_fleet([a, a]))
    assert msg == "environment 'qa': name: is defined twice; environment names must be unique"


def test_two_environments_sharing_a_state_bucket_are_rejected() -> None:
    a = EnvironmentConfig(**base())
    b = EnvironmentConfig(**base(name="qa2", domain="qa2.plato.example.com", network=NetworkConfig(vpc_cidr="10.41.0.0/16")))
    msg = error_of(lambda: validate_fleet([a, b]))
    assert msg.startswith("environment 'qa2': state.bucket: 'plato-tfstate-qa' is also used by environment 'qa'")


def test_a_nested_error_is_attributed_to_the_environment_module_it_came_from() -> None:
    from environments.model.errors import ConfigError as CE

    err = CE("network.az_count", "7 is out of range").within("stage")
    assert str(err) == "environment 'stage': network.az_count: 7 is out of range"


# --- cluster rules (issue 3) ----------------------------------------------------------------


def test_an_unsupported_kubernetes_version_is_rejected() -> None:
    msg = error_of(lambda: cluster(kubernetes_version="1.24"))
    assert msg == "configuration: cluster.kubernetes_version: '1.24' is not supported; use one of ['1.35', '1.36']"


def test_a_node_group_with_max_below_min_is_rejected() -> None:
    msg = error_of(lambda: group(min_size=3, max_size=2, desired_size=3))
    assert msg == "configuration: cluster.node_groups.general.max_size: 2 is less than min_size 3"


def test_a_node_group_without_instance_types_is_rejected() -> None:
    msg = error_of(lambda: group(instance_types=()))
    assert msg == "configuration: cluster.node_groups.general.instance_types: must name at least one instance type"


def test_a_desired_size_outside_the_bounds_is_rejected() -> None:
    msg = error_of(lambda: group(desired_size=9))
    assert msg == "configuration: cluster.node_groups.general.desired_size: 9 is outside min_size..max_size (2..4)"


def test_an_access_entry_with_a_malformed_arn_is_rejected() -> None:
    msg = error_of(lambda: cluster(developer_role_arns=("arn:aws:iam::12:user/bob",)))
    assert (
        msg
        == "configuration: cluster.developer_role_arns: 'arn:aws:iam::12:user/bob' is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"
    )


def test_a_public_endpoint_without_allow_listed_cidrs_is_rejected() -> None:
    msg = error_of(lambda: cluster(endpoint_public_access=True))
    assert msg == "configuration: cluster.public_access_cidrs: a public endpoint needs at least one allow-listed CIDR"


@pytest.mark.parametrize("tier", [Tier.STAGING, Tier.PRODUCTION])
def test_a_public_endpoint_open_to_the_internet_is_rejected_in_stage_and_prod(tier: Tier) -> None:
    open_cluster = cluster(endpoint_public_access=True, public_access_cidrs=("0.0.0.0/0",))
    msg = error_of(lambda: EnvironmentConfig(**base(tier=tier, cluster=open_cluster)))
    assert msg == f"environment 'qa': cluster.public_access_cidrs: a {tier.value}-tier API endpoint must not be open to 0.0.0.0/0"


def test_a_public_endpoint_open_to_the_internet_is_allowed_in_development() -> None:
    open_cluster = cluster(endpoint_public_access=True, public_access_cidrs=("0.0.0.0/0",))
    assert EnvironmentConfig(**base(tier=Tier.DEVELOPMENT, cluster=open_cluster)).cluster.internet_open


def test_a_cluster_without_an_admin_is_rejected() -> None:
    msg = error_of(lambda: cluster(platform_admin_role_arns=()))
    assert msg == "configuration: cluster.platform_admin_role_arns: at least one admin role is required (creator admin is off)"


# --- edge and storage rules (issue 4) -------------------------------------------------------


def test_a_domain_outside_the_hosted_zone_is_rejected() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(edge=EdgeConfig(hosted_zone="other.example.com"))))
    assert msg == "environment 'qa': edge.hosted_zone: domain 'qa.plato.example.com' is not in the hosted zone 'other.example.com'"


def test_a_domain_below_the_hosted_zone_is_accepted() -> None:
    env = EnvironmentConfig(**base(edge=EdgeConfig(hosted_zone="plato.example.com")))
    assert env.hosted_zone == "plato.example.com"


def test_a_log_retention_out_of_range_is_rejected() -> None:
    msg = error_of(lambda: StorageConfig(log_retention_days=0))
    assert msg == "configuration: storage.log_retention_days: 0 is out of range: 1 to 3650 days"


def test_a_tls_policy_older_than_tls13_is_rejected() -> None:
    msg = error_of(lambda: EdgeConfig(ssl_policy="ELBSecurityPolicy-2016-08"))
    assert msg == "configuration: edge.ssl_policy: 'ELBSecurityPolicy-2016-08' is not a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*)"


def test_an_unprotected_alb_is_rejected_in_production() -> None:
    msg = error_of(lambda: EnvironmentConfig(**base(tier=Tier.PRODUCTION, edge=EdgeConfig(alb_deletion_protection=False))))
    assert msg == "environment 'qa': edge.alb_deletion_protection: a production-tier ALB must be deletion-protected"


# --- the entry point: one line, no traceback, nothing written ------------------------------


def _copy_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(REPO / "main.py", app / "main.py")
    shutil.copytree(REPO / "environments", app / "environments", ignore=shutil.ignore_patterns("__pycache__"))
    (app / "constructs").symlink_to(REPO / "constructs")
    return app


@pytest.mark.parametrize(
    ("module", "old", "new", "expected"),
    [
        (
            "prod",
            "nat=NatStrategy.PER_AZ",
            "nat=NatStrategy.SINGLE",
            "error: environment 'prod': network.nat: a production-tier environment needs one NAT gateway per AZ ('per-az'), not a single shared one",
        ),
        (
            "stage",
            'vpc_cidr="10.20.0.0/16"',
            'vpc_cidr="10.10.0.0/16"',
            "error: environment 'stage': network.vpc_cidr: 10.10.0.0/16 overlaps 10.10.0.0/16 of environment 'dev'; VPCs must not overlap",
        ),
        (
            "dev",
            "az_count=2",
            "az_count=9",
            "error: environment 'dev': network.az_count: 9 is out of range: must be between 2 and 4",
        ),
    ],
)
def test_main_py_stops_on_a_bad_configuration_with_one_line_and_writes_nothing(
    tmp_path: Path, module: str, old: str, new: str, expected: str
) -> None:
    app = _copy_app(tmp_path)
    path = app / "environments" / f"{module}.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    proc = subprocess.run([sys.executable, "main.py"], cwd=app, env=tool_env(), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == expected
    assert "Traceback" not in proc.stderr
    assert not (app / "cdktf.out").exists()


# --- Kubernetes support windows (environments/model/facts/eks-kubernetes-versions.tsv) ---------


def test_a_version_past_standard_support_is_refused_naming_the_extended_support_charge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_TODAY", "2027-08-03")
    msg = error_of(lambda: cluster(kubernetes_version="1.36"))
    assert msg == (
        "configuration: cluster.kubernetes_version: '1.36' left EKS standard support on 2027-08-02; upgrade (docs/upgrades.md), "
        "or set cluster.extended_support = True to stay in extended support at an extra charge per cluster hour"
    )


def test_extended_support_is_an_explicit_opt_in_and_sets_the_upgrade_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_TODAY", "2027-04-01")
    with pytest.raises(ConfigError, match="left EKS standard support on 2027-03-27"):
        cluster(kubernetes_version="1.35")
    opted = cluster(kubernetes_version="1.35", extended_support=True)
    assert opted.support_type == "EXTENDED"
    assert cluster(kubernetes_version="1.36").support_type == "STANDARD"


def test_extended_support_ends_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_TODAY", "2028-03-28")
    msg = error_of(lambda: cluster(kubernetes_version="1.35", extended_support=True))
    assert (
        msg
        == "configuration: cluster.kubernetes_version: '1.35' left EKS extended support on 2028-03-27; upgrade the cluster (docs/upgrades.md)"
    )


@pytest.mark.parametrize(("today", "warned"), [("2027-05-03", False), ("2027-05-04", True), ("2027-08-02", True)])
def test_the_last_ninety_days_of_standard_support_warn(monkeypatch: pytest.MonkeyPatch, today: str, warned: bool) -> None:
    monkeypatch.setenv("PLATFORM_TODAY", today)
    warnings = cluster(kubernetes_version="1.36").support_warnings()
    assert bool(warnings) is warned
    if warned:
        assert warnings[0].startswith("cluster.kubernetes_version: '1.36' leaves EKS standard support on 2027-08-02 (in ")


def test_the_support_warning_names_the_environment_and_the_days_left() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, environments; [print(w, file=sys.stderr) for e in environments.load_environments() for w in e.warnings()]",
        ],
        cwd=REPO,
        env=tool_env(PLATFORM_TODAY="2027-07-01"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stderr.splitlines()[0] == (
        "environment 'dev': cluster.kubernetes_version: '1.36' leaves EKS standard support on 2027-08-02 (in 32 days); upgrade before then (docs/upgrades.md)"
    )


def test_a_bad_pinned_date_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_TODAY", "yesterday")
    assert error_of(lambda: cluster()) == "configuration: PLATFORM_TODAY: 'yesterday' is not a date (YYYY-MM-DD)"


def test_every_pinned_kubernetes_version_has_support_dates_add_ons_and_a_node_ami() -> None:
    from environments.model import eks

    for version in eks.SUPPORTED_KUBERNETES_VERSIONS:
        assert version in eks.support_windows()
        assert set(eks.EKS_ADDON_VERSIONS[version]) == set(eks.ADDONS)
        assert eks.ami_releases()[version] == eks.NODE_AMI_RELEASES[version]
