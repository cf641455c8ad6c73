"""Refresh the AWS fact tables of the configuration model from installed packages.

    python tools/facts.py refresh-instance-types   # environments/model/facts/ec2-instance-types.txt

The regions table (``aws-regions.tsv``) is curated by hand: its ``source`` column says where
each region's zone names come from.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from environments.model import aws


def refresh_instance_types() -> int:
    """Rewrite the table from the installed botocore's EC2 model and moto's captured EC2 data."""
    import gzip
    import json

    import botocore
    import moto

    model = Path(botocore.__file__).parent / "data" / "ec2" / "2016-11-15" / "service-2.json.gz"
    with gzip.open(model) as handle:
        enum = set(json.load(handle)["shapes"]["InstanceType"]["enum"])
    with gzip.open(Path(moto.__file__).parent / "ec2" / "resources" / "instance_types.json.gz") as handle:
        described = set(json.load(handle))
    header = [
        "# EC2 instance types that exist: the union of the InstanceType enum of the EC2 API model in "
        f"botocore {botocore.__version__} (botocore/data/ec2/2016-11-15/service-2.json.gz; {len(enum)} types) and the "
        f"DescribeInstanceTypes capture in moto {moto.__version__} (moto/ec2/resources/instance_types.json.gz; {len(described)} types).",
        "# Refresh: python tools/facts.py refresh-instance-types (reads the installed botocore and moto).",
    ]
    types = sorted(enum | described)
    (aws.FACTS / "ec2-instance-types.txt").write_text("\n".join([*header, *types]) + "\n")
    print(f"{len(types)} instance types from botocore {botocore.__version__} and moto {moto.__version__}")
    return 0


def main(argv: list[str]) -> int:
    if argv != ["refresh-instance-types"]:
        print("usage: tools/facts.py refresh-instance-types", file=sys.stderr)
        return 2
    return refresh_instance_types()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
