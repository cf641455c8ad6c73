"""Install the CI tools that neither pip nor npm provide, pinned and checksum-verified.

    install_tools.py terraform kubectl awscli [--provider-mirror DIR]

into ``--dest`` (default ``.cache/ci-tools``; its ``bin/`` goes on PATH). GitLab caches that
directory, so a tool is downloaded only when its pin changes: an installed tool is kept when
it still runs and reports its pinned version, and reinstalled otherwise (a cache restored at
another path leaves a broken virtualenv behind, for instance).

- terraform and kubectl: the official release archives, verified against the SHA-256 digests
  below before anything is unpacked. Bump: change the version and the digest together (the
  digest is in ``terraform_<v>_SHA256SUMS`` and ``kubectl.sha256`` next to each release).
- awscli: a virtualenv from ``tools/ci/awscli-requirements.txt``; the bootstrap stacks' helm and
  kubernetes providers run ``aws eks get-token``.
- ``--provider-mirror DIR``: an unpacked filesystem mirror of hashicorp/aws at the version the
  offline Terraform tests use (``tools/check_tools.py``), filled by ``terraform init`` through
  the plugin cache (its layout is the mirror's). The test job points ``TF_PROVIDER_MIRROR`` at it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.check_tools import AWS_PROVIDER_VERSION  # noqa: E402


@dataclass(frozen=True)
class Release:
    """One pinned release artifact."""

    name: str
    version: str
    url: str
    sha256: str
    member: str | None
    """The file inside a zip archive, or None for a bare binary."""
    version_args: tuple[str, ...]


TERRAFORM = Release(
    name="terraform",
    version="1.11.4",
    url="https://releases.hashicorp.com/terraform/1.11.4/terraform_1.11.4_linux_amd64.zip",
    sha256="1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc",
    member="terraform",
    version_args=("version",),
)
KUBECTL = Release(
    name="kubectl",
    version="1.32.4",
    url="https://dl.k8s.io/release/v1.32.4/bin/linux/amd64/kubectl",
    sha256="10d739e9af8a59c9e7a730a2445916e04bc9cbb44bc79d22ce460cd329fa076c",
    member=None,
    version_args=("version", "--client"),
)
RELEASES = {r.name: r for r in (TERRAFORM, KUBECTL)}
AWSCLI_REQUIREMENTS = REPO / "tools" / "ci" / "awscli-requirements.txt"
TOOLS = (*RELEASES, "awscli")


class InstallError(Exception):
    """A download, a checksum or an installed tool is wrong."""


def verify(data: bytes, release: Release) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != release.sha256:
        raise InstallError(f"{release.url}: sha256 {digest} is not the pinned {release.sha256}; refusing to install it")


def unpack(data: bytes, release: Release) -> bytes:
    """The executable from a verified download."""
    if release.member is None:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(release.member)


def reports_version(executable: Path, args: Sequence[str], version: str) -> bool:
    """Whether ``executable`` runs and prints ``version``."""
    if not executable.is_file():
        return False
    try:
        proc = subprocess.run([str(executable), *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and version in proc.stdout + proc.stderr


def install_release(release: Release, bin_dir: Path) -> None:
    target = bin_dir / release.name
    if reports_version(target, release.version_args, release.version):
        print(f"{release.name} {release.version}: cached")
        return
    print(f"{release.name} {release.version}: downloading {release.url}")
    with urllib.request.urlopen(release.url, timeout=300) as response:
        data = response.read()
    verify(data, release)
    bin_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(unpack(data, release))
    partial.chmod(0o755)
    partial.replace(target)
    if not reports_version(target, release.version_args, release.version):
        raise InstallError(f"{target} does not report version {release.version} after install")


def _pinned_awscli_version() -> str:
    for line in AWSCLI_REQUIREMENTS.read_text().splitlines():
        if line.startswith("awscli=="):
            return line.split("==", 1)[1].strip()
    raise InstallError(f"{AWSCLI_REQUIREMENTS} pins no awscli version")


def install_awscli(dest: Path, bin_dir: Path) -> None:
    version = _pinned_awscli_version()
    link = bin_dir / "aws"
    if reports_version(link, ("--version",), f"aws-cli/{version}"):
        print(f"awscli {version}: cached")
        return
    venv = dest / "awscli"
    shutil.rmtree(venv, ignore_errors=True)
    print(f"awscli {version}: installing into {venv}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(AWSCLI_REQUIREMENTS)], check=True)
    bin_dir.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(venv / "bin" / "aws")
    if not reports_version(link, ("--version",), f"aws-cli/{version}"):
        raise InstallError(f"{link} does not report aws-cli/{version} after install")


def fill_provider_mirror(mirror: Path, terraform: Path) -> None:
    """Make ``mirror`` hold hashicorp/aws at the version the offline tests pin."""
    if (mirror / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION).is_dir():
        print(f"provider mirror: hashicorp/aws {AWS_PROVIDER_VERSION} cached in {mirror}")
        return
    mirror.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="provider-mirror-") as work:
        required = {"aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}}
        (Path(work) / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}) + "\n")
        env = {**os.environ, "TF_PLUGIN_CACHE_DIR": str(mirror), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        proc = subprocess.run(
            [str(terraform), "init", "-backend=false", "-input=false"], cwd=work, env=env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise InstallError(f"terraform init for the provider mirror failed:\n{proc.stdout}{proc.stderr}")
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION).is_dir():
        raise InstallError(f"{mirror} lacks hashicorp/aws {AWS_PROVIDER_VERSION} after terraform init")
    print(f"provider mirror: hashicorp/aws {AWS_PROVIDER_VERSION} in {mirror}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tools", nargs="+", choices=TOOLS)
    parser.add_argument("--dest", type=Path, default=REPO / ".cache" / "ci-tools")
    parser.add_argument("--provider-mirror", type=Path, help="fill this directory with hashicorp/aws (needs terraform)")
    args = parser.parse_args(argv)
    bin_dir = args.dest / "bin"
    try:
        for name in args.tools:
            if name == "awscli":
                install_awscli(args.dest, bin_dir)
            else:
                install_release(RELEASES[name], bin_dir)
        if args.provider_mirror is not None:
            if "terraform" not in args.tools:
                raise InstallError("--provider-mirror needs terraform in the tool list")
            fill_provider_mirror(args.provider_mirror, bin_dir / "terraform")
    except (InstallError, OSError, subprocess.CalledProcessError) as exc:
        print(f"install_tools: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
