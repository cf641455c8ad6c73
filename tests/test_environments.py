"""Environment configuration: typed, frozen, validated early with one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
from builders import cluster
from conftest import REPO, tool_env
from pydantic import ValidationError

from environments import ConfigError, load_environments
from environments.model.config import NatStrategy, Tier


def error_of(build: object) -> str:
    with pytest.raises(ConfigError) as info:
        build()  # type: ignore[operator]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_three_environments_load_and_validate_as_a_fleet() -> None:
    envs = load_environments()
    assert [e.name for e in envs] == ["dev", "stage", "prod"]
    assert [e.tier for e in envs] == [Tier.DEVELOPMENT, Tier.STAGING, Tier.PRODUCTION]


def test_environments_are_frozen() -> None:
    env = load_environments()[0]
    with pytest.raises(ValidationError, match="frozen"):
        env.region = "us-east-1"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        env.cluster.node_groups[0].min_size = 0  # type: ignore[misc]


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


def test_a_nested_error_is_attributed_to_the_environment_module_it_came_from() -> None:
    from environments.model.errors import ConfigError as CE

    err = CE("network.az_count", "7 is out of range").within("stage")
    assert str(err) == "environment 'stage': network.az_count: 7 is out of range"


def test_a_public_endpoint_open_to_the_internet_is_allowed_in_development() -> None:
    from builders import environment

    open_cluster = cluster(endpoint_public_access=True, public_access_cidrs=("0.0.0.0/0",))
    assert environment(tier=Tier.DEVELOPMENT, cluster=open_cluster).cluster.internet_open


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
