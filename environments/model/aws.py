"""AWS facts the configuration is checked against, each table with its source.

- ``facts/aws-regions.tsv``: every region of the commercial, China and GovCloud partitions,
  its partition and the Availability Zone names an account may see there;
- ``facts/ec2-instance-types.txt``: every EC2 instance type (the EC2 API model's enum and a
  DescribeInstanceTypes capture);
- ``facts/elb-tls-policies.tsv``: the ALB security policies with TLS 1.3 and nothing older
  than TLS 1.2.

    python tools/facts.py refresh-instance-types   # from the installed botocore and moto
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

FACTS = Path(__file__).resolve().parent / "facts"

#: The retention periods CloudWatch Logs accepts (days): the API's enum of retentionInDays.
CLOUDWATCH_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

# Graviton (arm64) families: a1, and a generation digit followed by "g" (m7g, c7gn, t4g, r8gd).
_ARM64 = re.compile(r"^(a1|[a-z]+\d+g[a-z0-9-]*)\.")
# Families that need an accelerated AMI (NVIDIA or Neuron drivers), not the standard one.
_ACCELERATED = re.compile(r"^(p\d|g\d|gr\d|inf\d|trn\d|dl\d|f\d|vt\d)[a-z0-9-]*\.")


@dataclass(frozen=True)
class Region:
    name: str
    partition: str
    zones: tuple[str, ...]
    """Every zone name an account may see in the region."""
    per_account: int
    """How many of ``zones`` one account sees; fewer than all means the names must be pinned."""
    source: str

    @property
    def zones_differ_by_account(self) -> bool:
        return self.per_account < len(self.zones)


def _rows(name: str) -> list[dict[str, str]]:
    with (FACTS / name).open(newline="") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))


@cache
def regions() -> Mapping[str, Region]:
    return MappingProxyType(
        {
            row["region"]: Region(
                row["region"], row["partition"], tuple(z for z in row["zones"].split(",") if z), int(row["per_account"]), row["source"]
            )
            for row in _rows("aws-regions.tsv")
        }
    )


@cache
def instance_types() -> frozenset[str]:
    lines = (FACTS / "ec2-instance-types.txt").read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def tls_policies() -> Mapping[str, str]:
    """Policy name -> the oldest TLS version it accepts."""
    return MappingProxyType({row["policy"]: row["min_tls"] for row in _rows("elb-tls-policies.tsv")})


def architecture(instance_type: str) -> str:
    """``x86_64`` or ``arm64``, by the family's name (AWS's naming of Graviton families)."""
    return "arm64" if _ARM64.match(instance_type) else "x86_64"


def needs_accelerated_ami(instance_type: str) -> bool:
    return bool(_ACCELERATED.match(instance_type))
