"""The AWS fact tables the configuration is checked against (environments/model/facts/)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import moto
import pytest

from environments import load_environments
from environments.model import aws

PARTITIONS = {"aws", "aws-cn", "aws-us-gov"}


def test_every_table_says_where_its_facts_come_from() -> None:
    for table in sorted(aws.FACTS.iterdir()):
        assert table.read_text().startswith("#"), f"{table.name} has no header naming its source"


def test_each_region_has_a_partition_its_name_fits_and_zones_named_after_it() -> None:
    regions = aws.regions()
    assert len(regions) >= 38
    for name, region in regions.items():
        assert region.partition in PARTITIONS
        assert region.partition == ("aws-cn" if name.startswith("cn-") else "aws-us-gov" if name.startswith("us-gov-") else "aws")
        assert 2 <= region.per_account <= len(region.zones), f"{name}: EKS needs two zones"
        assert all(zone[:-1] == name and zone[-1].isalpha() for zone in region.zones), name
        assert region.source


def test_the_regions_table_holds_every_region_botocore_knows_in_these_partitions() -> None:
    import botocore

    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    known = {region for p in endpoints["partitions"] if p["partition"] in PARTITIONS for region in p["regions"]}
    assert known == set(aws.regions())


def test_every_environment_uses_a_known_region_zones_and_instance_types() -> None:
    for env in load_environments():
        assert set(env.network.zones(env.region)) <= set(aws.regions()[env.region].zones)
        for group in env.cluster.node_groups:
            assert set(group.instance_types) <= aws.instance_types()


def _described() -> dict[str, dict[str, object]]:
    """moto's capture of DescribeInstanceTypes from a real account."""
    with gzip.open(Path(moto.__file__).parent / "ec2" / "resources" / "instance_types.json.gz") as handle:
        data: dict[str, dict[str, object]] = json.load(handle)
    return data


def test_the_architecture_read_from_a_family_name_agrees_with_describe_instance_types() -> None:
    described = _described()
    assert len(described) > 1000
    wrong = []
    for itype, info in described.items():
        architectures = info["ProcessorInfo"]["SupportedArchitectures"]  # type: ignore[index]
        expected = "arm64" if "arm64" in architectures else "x86_64"
        if aws.architecture(itype) != expected:
            wrong.append(itype)
    assert wrong == []


def test_the_families_that_need_an_accelerated_ami_are_the_ones_with_accelerators() -> None:
    accelerators = ("GpuInfo", "InferenceAcceleratorInfo", "NeuronInfo", "FpgaInfo", "MediaAcceleratorInfo")
    wrong = [t for t, info in _described().items() if aws.needs_accelerated_ami(t) != any(info.get(k) for k in accelerators)]
    assert wrong == []


def test_every_described_instance_type_is_in_the_table() -> None:
    assert set(_described()) <= aws.instance_types()


@pytest.mark.parametrize(
    ("itype", "arch"),
    [
        ("m6i.large", "x86_64"),
        ("m7g.large", "arm64"),
        ("c7gn.xlarge", "arm64"),
        ("a1.large", "arm64"),
        ("t4g.small", "arm64"),
        ("m6a.large", "x86_64"),
    ],
)
def test_examples_of_each_architecture(itype: str, arch: str) -> None:
    assert aws.architecture(itype) == arch


def test_only_policies_with_tls_1_3_and_nothing_older_than_1_2_are_listed() -> None:
    policies = aws.tls_policies()
    assert "ELBSecurityPolicy-TLS13-1-2-2021-06" in policies
    assert all(name.startswith("ELBSecurityPolicy-TLS13-1-2-") or name.startswith("ELBSecurityPolicy-TLS13-1-3-") for name in policies)
    assert set(policies.values()) == {"1.2", "1.3"}
