"""Fail loudly, with one line per problem, when a tool the tests need is missing.

The tests never skip for a missing tool: a skip would hide a gap in CI. This script is
run by `make setup` and `.ci/run`, so the gap is named before any test starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TERRAFORM_MIN = (1, 10)  # S3-native state locking (use_lockfile) needs Terraform >= 1.10
NODE_MAJORS = (22, 24)
AWS_PROVIDER_VERSION = "5.100.0"


def provider_mirror() -> Path:
    """The offline filesystem mirror holding hashicorp/aws (TF_PROVIDER_MIRROR, default /opt/tf-plugins)."""
    return Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60).stdout
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return ""


def problems() -> list[str]:
    found: list[str] = []
    tf = shutil.which("terraform")
    if not tf:
        found.append("terraform: not on PATH (need >= 1.10; https://developer.hashicorp.com/terraform/install)")
    else:
        m = re.search(r"Terraform v(\d+)\.(\d+)\.(\d+)", _version([tf, "version"]))
        if not m or (int(m.group(1)), int(m.group(2))) < TERRAFORM_MIN:
            found.append(f"terraform: {m.group(0) if m else 'unknown version'} is older than 1.10")
    mirror = provider_mirror() / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION
    if not mirror.is_dir():
        found.append(f"terraform provider mirror: {mirror} is missing (set TF_PROVIDER_MIRROR)")
    if not shutil.which("kubectl"):
        found.append("kubectl: not on PATH (the GitOps tests build every path with `kubectl kustomize`)")
    node = shutil.which("node")
    major = re.match(r"v(\d+)\.", _version([node, "--version"]) if node else "")
    if not major or int(major.group(1)) not in NODE_MAJORS:
        found.append(f"node: need Node {' or '.join(map(str, NODE_MAJORS))} first on PATH (run through `make`), got {node}")
    cdktf = REPO / "node_modules" / ".bin" / "cdktf"
    if not cdktf.exists():
        found.append("cdktf CLI: node_modules/.bin/cdktf is missing (run `make setup`)")
    checkov = Path(os.environ.get("CHECKOV", REPO / ".tools" / "checkov" / "bin" / "checkov"))
    if not checkov.exists():
        found.append(f"checkov: {checkov} is missing (run `make setup`)")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"missing tool: {line}", file=sys.stderr)
    if not found:
        print("tools: terraform, provider mirror, kubectl, node, cdktf CLI and checkov are present")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
