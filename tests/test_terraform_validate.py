"""The real Terraform CLI accepts every AWS stack.

hashicorp/aws comes from the provider mirror when one is configured (as here, offline), else
from the registry. Fails (never skips) when Terraform is missing. The bootstrap stacks need
the helm and kubernetes providers, which are not available offline; they are covered
by the typed bindings, the unit tests and checkov.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from check_tools import AWS_PROVIDER_VERSION, terraform_cli_config
from conftest import ENVIRONMENTS, Synth, require_tool, tool_env

pytestmark = pytest.mark.terraform

AWS_STACKS = [f"{env}-{kind}" for env in ENVIRONMENTS for kind in ("platform", "state")]


@pytest.fixture(scope="session")
def terraform_rc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return terraform_cli_config(tmp_path_factory.mktemp("tf") / "terraformrc")
    except FileNotFoundError as exc:
        pytest.fail(str(exc))


def terraform(args: list[str], cwd: Path, rc: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("terraform"), *args, "-no-color"],
        cwd=cwd,
        env=tool_env(TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", TF_INPUT="0"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_terraform_init_and_validate_accept_the_stack(synth: Synth, terraform_rc: Path, tmp_path: Path, stack: str) -> None:
    workdir = tmp_path / stack
    shutil.copytree(synth.stack_dir(stack), workdir)
    init = terraform(["init", "-backend=false"], workdir, terraform_rc)
    assert init.returncode == 0, init.stderr + init.stdout
    assert f"hashicorp/aws v{AWS_PROVIDER_VERSION}" in init.stdout
    validate = terraform(["validate"], workdir, terraform_rc)
    assert validate.returncode == 0, validate.stderr + validate.stdout
    assert "The configuration is valid" in validate.stdout
