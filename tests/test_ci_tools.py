"""tools/ci: the scripts the GitLab jobs run, tested without AWS, GitLab or the network.

Terraform is replaced by a fake on PATH that records how it was called, so the tests see
the commands, the credentials environment and the files each CI command produces.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from environments import load_environments
from tools.ci import delivery, install_tools, stack

REPO = Path(__file__).resolve().parents[1]
DEV_DEPLOY_ROLE = "arn:aws:iam::111111111111:role/plato-terraform-deploy"
DEV_PLAN_ROLE = "arn:aws:iam::111111111111:role/plato-gitlab-plan"
DEV_CI_DEPLOY_ROLE = "arn:aws:iam::111111111111:role/plato-gitlab-deploy"

FAKE_TERRAFORM = """#!/usr/bin/env python3
import json, os, sys
token_file = os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
record = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "AWS_ROLE_ARN": os.environ.get("AWS_ROLE_ARN"),
    "token": open(token_file).read() if token_file else None,
    "token_mode": oct(os.stat(token_file).st_mode & 0o777) if token_file else None,
    "AWS_ID_TOKEN" : os.environ.get("AWS_ID_TOKEN"),
    "override": os.path.exists("zz_ci_read_only_override.tf.json"),
    "release_tag": os.environ.get("TF_VAR_release_tag"),
}
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
if sys.argv[1] == "plan":
    print(os.environ.get("FAKE_TF_PLAN_OUTPUT", "Plan: 1 to add, 0 to change, 0 to destroy."))
    sys.exit(int(os.environ.get("FAKE_TF_PLAN_RC", "0")))
if sys.argv[1] == "show":
    print(os.environ["FAKE_TF_SHOW"])
sys.exit(int(os.environ.get("FAKE_TF_" + sys.argv[1].upper() + "_RC", "0")))
"""

PLAN_JSON = {
    "format_version": "1.2",
    "planned_values": {},
    "resource_changes": [
        {"address": "aws_vpc.network_vpc", "change": {"actions": ["create"]}},
        {"address": "aws_subnet.network_private-0", "change": {"actions": ["delete", "create"]}},
    ],
}


def bootstrap_like_stack(deploy_role: str = DEV_DEPLOY_ROLE) -> dict[str, Any]:
    """Credentials where cdktf puts them: providers, the backend, a remote-state source."""
    backend = {
        "allowed_account_ids": ["111111111111"],
        "assume_role": {"role_arn": deploy_role, "session_name": "plato-dev-state"},
        "bucket": "b",
        "key": "dev/x.tfstate",
        "region": "eu-central-1",
        "use_lockfile": True,
    }
    exec_args = ["eks", "get-token", "--cluster-name", "plato-dev", "--role-arn", deploy_role]
    return {
        "provider": {
            "aws": [
                {
                    "region": "eu-central-1",
                    "assume_role": [{"role_arn": deploy_role, "session_name": "plato-dev-platform"}],
                    "default_tags": [{"tags": {"environment": "dev"}}],
                },
                {"alias": "us-east-1", "region": "us-east-1", "assume_role": [{"role_arn": deploy_role, "session_name": "plato-dev-edge"}]},
                {"alias": "plain", "region": "eu-west-1"},
            ],
            "helm": [
                {
                    "kubernetes": {
                        "host": "https://eks",
                        "exec": {"api_version": "client.authentication.k8s.io/v1beta1", "command": "aws", "args": exec_args},
                    }
                }
            ],
            "kubernetes": [
                {
                    "host": "https://eks",
                    "exec": [{"api_version": "client.authentication.k8s.io/v1beta1", "command": "aws", "args": exec_args}],
                }
            ],
        },
        "terraform": {"backend": {"s3": backend}, "required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}},
        "data": {
            "terraform_remote_state": {"platform": {"backend": "s3", "config": {k: v for k, v in backend.items() if k != "use_lockfile"}}}
        },
        "resource": {"aws_eks_access_entry": {"terraform": {"principal_arn": deploy_role, "cluster_name": "plato-dev"}}},
    }


# --- the read-only override ----------------------------------------------------------------------


def test_the_read_only_override_points_every_credential_at_the_plan_role() -> None:
    override, covered = stack.read_only_override(bootstrap_like_stack(), DEV_DEPLOY_ROLE, DEV_PLAN_ROLE)
    text = json.dumps(override)
    assert DEV_DEPLOY_ROLE not in text
    assert sorted(covered) == sorted(
        [
            "provider.aws",
            "provider.aws.us-east-1",
            "provider.helm",
            "provider.kubernetes",
            "terraform.backend.s3",
            "data.terraform_remote_state.platform",
        ]
    )
    aws = override["provider"]["aws"]
    assert [block.get("alias") for block in aws] == [None, "us-east-1"], "a provider without the deploy role is left alone"
    assert aws[0]["assume_role"] == [{"role_arn": DEV_PLAN_ROLE, "session_name": "plato-dev-platform"}]
    assert override["provider"]["kubernetes"][0]["exec"][0]["args"][-1] == DEV_PLAN_ROLE
    assert override["provider"]["helm"][0]["kubernetes"]["exec"]["args"][-1] == DEV_PLAN_ROLE


def test_the_read_only_override_copies_whole_blocks_because_terraform_replaces_them_as_a_unit() -> None:
    original = bootstrap_like_stack()
    override, _ = stack.read_only_override(original, DEV_DEPLOY_ROLE, DEV_PLAN_ROLE)
    backend = override["terraform"]["backend"]["s3"]
    assert {k: v for k, v in backend.items() if k != "assume_role"} == {
        k: v for k, v in original["terraform"]["backend"]["s3"].items() if k != "assume_role"
    }
    assert override["provider"]["aws"][0]["default_tags"] == original["provider"]["aws"][0]["default_tags"]
    assert override["data"]["terraform_remote_state"]["platform"]["backend"] == "s3"
    assert "required_providers" not in override["terraform"]


def test_the_read_only_override_never_touches_resources_that_name_the_deploy_role() -> None:
    override, _ = stack.read_only_override(bootstrap_like_stack(), DEV_DEPLOY_ROLE, DEV_PLAN_ROLE)
    assert "resource" not in override


def test_the_read_only_override_does_not_change_the_stack_it_reads() -> None:
    original = bootstrap_like_stack()
    before = json.dumps(original, sort_keys=True)
    stack.read_only_override(original, DEV_DEPLOY_ROLE, DEV_PLAN_ROLE)
    assert json.dumps(original, sort_keys=True) == before


# --- the release tag of a tag channel's bootstrap --------------------------------------------------

STAGE_DEPLOY_ROLE = "arn:aws:iam::222222222222:role/plato-terraform-deploy"


@pytest.fixture
def environments_by_name() -> dict[str, Any]:
    return {e.name: e for e in load_environments()}


def test_a_tag_channel_s_bootstrap_deploys_exactly_the_pipeline_s_tag(environments_by_name: dict[str, Any]) -> None:
    prod = environments_by_name["prod"]
    assert stack.release_tag("deploy", "prod-bootstrap", prod, {"CI_COMMIT_TAG": "v2.10"}) == "v2.10"
    for wrong in ("v2.10-rc.1", "", "main"):
        with pytest.raises(stack.StackError, match="deploys a tag of its channel"):
            stack.release_tag("deploy", "prod-bootstrap", prod, {"CI_COMMIT_TAG": wrong})


def test_a_plan_of_a_tag_channel_s_bootstrap_compares_with_the_newest_tag_of_its_channel(environments_by_name: dict[str, Any]) -> None:
    tags = ["v1.0", "v1.9", "v1.10", "v1.11-rc.2", "v1.11-rc.10"]
    assert stack.release_tag("diff", "prod-bootstrap", environments_by_name["prod"], {}, tags) == "v1.10"
    assert stack.release_tag("drift", "stage-bootstrap", environments_by_name["stage"], {}, tags) == "v1.11-rc.10"
    assert (
        stack.release_tag("drift", "stage-bootstrap", environments_by_name["stage"], {"TF_VAR_release_tag": "v1.11-rc.2"}, tags)
        == "v1.11-rc.2"
    )
    with pytest.raises(stack.StackError, match="is not a tag of stage's channel"):
        stack.release_tag("diff", "stage-bootstrap", environments_by_name["stage"], {"TF_VAR_release_tag": "v1.0"}, tags)
    with pytest.raises(stack.NotDeployedYet, match="nothing has been deployed to prod"):
        stack.release_tag("diff", "prod-bootstrap", environments_by_name["prod"], {}, ["v1.0-rc.1"])


def test_other_stacks_take_no_release_tag(environments_by_name: dict[str, Any]) -> None:
    assert stack.release_tag("deploy", "dev-bootstrap", environments_by_name["dev"], {"CI_COMMIT_TAG": "v1.0"}) is None
    assert stack.release_tag("deploy", "prod-platform", environments_by_name["prod"], {"CI_COMMIT_TAG": "v1.0"}) is None


def test_terraform_receives_the_release_tag_of_a_deploy(tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", "2")
    out = synth_dir(tmp_path, "stage-bootstrap", STAGE_DEPLOY_ROLE)
    env = ci_env(CI_COMMIT_TAG="v1.4-rc.3", PLATFORM_DEPLOY_ROLE_ARN_STAGE="arn:aws:iam::222222222222:role/plato-gitlab-deploy")
    assert stack.execute("deploy", "stage-bootstrap", out, None, env) == 0
    assert {c["release_tag"] for c in calls(fake_terraform)} == {"v1.4-rc.3"}


def test_a_plan_before_the_channel_s_first_tag_says_so_and_runs_nothing(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "remote_tags", lambda remote="origin": ["v0.1-rc.1"])
    out = synth_dir(tmp_path, "prod-bootstrap", "arn:aws:iam::333333333333:role/plato-terraform-deploy")
    env = ci_env(PLATFORM_PLAN_ROLE_ARN_PROD="arn:aws:iam::333333333333:role/plato-gitlab-plan")
    assert stack.execute("diff", "prod-bootstrap", out, None, env) == stack.EXIT_NEEDS_PLATFORM
    assert not fake_terraform.exists()


# --- running terraform -----------------------------------------------------------------------------


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text(FAKE_TERRAFORM.replace("/usr/bin/env python3", sys.executable))
    terraform.chmod(terraform.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "terraform.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TF_LOG", str(log))
    monkeypatch.setenv("FAKE_TF_SHOW", json.dumps(PLAN_JSON))
    for key in stack.STATIC_KEYS:
        monkeypatch.delenv(key, raising=False)
    return log


def synth_dir(tmp_path: Path, name: str = "dev-platform", deploy_role: str = DEV_DEPLOY_ROLE) -> Path:
    out = tmp_path / "cdktf.out"
    (out / "stacks" / name).mkdir(parents=True)
    (out / "stacks" / name / "cdk.tf.json").write_text(json.dumps(bootstrap_like_stack(deploy_role)))
    return out


def ci_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ID_TOKEN": "header.payload.signature",
        "PLATFORM_PLAN_ROLE_ARN_DEV": DEV_PLAN_ROLE,
        "PLATFORM_DEPLOY_ROLE_ARN_DEV": DEV_CI_DEPLOY_ROLE,
        "CI_PROJECT_ID": "1234",
        "CI_JOB_ID": "5678",
        **extra,
    }


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_diff_plans_read_only_as_the_plan_role_and_writes_the_widget_report(tmp_path: Path, fake_terraform: Path) -> None:
    out = synth_dir(tmp_path)
    report = tmp_path / "reports" / "tfplan.json"
    assert stack.execute("diff", "dev-platform", out, report, ci_env()) == 0
    made = calls(fake_terraform)
    assert [c["argv"][0] for c in made] == ["init", "plan", "show"]
    assert "-lock=false" in made[1]["argv"] and f"-out={stack.PLAN_FILE}" in made[1]["argv"]
    assert all(c["AWS_ROLE_ARN"] == DEV_PLAN_ROLE and c["override"] for c in made)
    assert json.loads(report.read_text()) == {"create": 2, "update": 0, "delete": 1}
    override = json.loads((out / "stacks" / "dev-platform" / stack.OVERRIDE_FILE).read_text())
    assert DEV_DEPLOY_ROLE not in json.dumps(override)


def test_terraform_gets_the_id_token_in_a_private_file_and_not_in_its_environment(tmp_path: Path, fake_terraform: Path) -> None:
    stack.execute("diff", "dev-platform", synth_dir(tmp_path), None, ci_env())
    first = calls(fake_terraform)[0]
    assert first["token"] == "header.payload.signature"
    assert first["token_mode"] == "0o600"
    assert first["AWS_ID_TOKEN"] is None


def test_a_deploy_runs_as_the_ci_deploy_role_and_applies_the_saved_plan(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", "2")
    out = synth_dir(tmp_path)
    assert stack.execute("deploy", "dev-platform", out, None, ci_env()) == 0
    made = calls(fake_terraform)
    assert [c["argv"][0] for c in made] == ["init", "plan", "show", "apply"]
    assert "-detailed-exitcode" in made[1]["argv"] and "-lock=false" not in made[1]["argv"]
    assert made[3]["argv"][-1] == stack.PLAN_FILE
    assert all(c["AWS_ROLE_ARN"] == DEV_CI_DEPLOY_ROLE and not c["override"] for c in made)


def test_a_deploy_without_changes_applies_nothing(tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", "0")
    assert stack.execute("deploy", "dev-platform", synth_dir(tmp_path), None, ci_env()) == 0
    assert [c["argv"][0] for c in calls(fake_terraform)] == ["init", "plan"]


def test_a_deploy_refuses_a_stack_directory_with_the_read_only_override(tmp_path: Path, fake_terraform: Path) -> None:
    out = synth_dir(tmp_path)
    (out / "stacks" / "dev-platform" / stack.OVERRIDE_FILE).write_text("{}")
    with pytest.raises(stack.StackError, match="unchanged"):
        stack.execute("deploy", "dev-platform", out, None, ci_env())
    assert not fake_terraform.exists()


@pytest.mark.parametrize(("plan_status", "expected"), [("0", 0), ("2", stack.EXIT_DRIFT)])
def test_drift_maps_terraforms_detailed_exit_code(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch, plan_status: str, expected: int
) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", plan_status)
    assert stack.execute("drift", "dev-platform", synth_dir(tmp_path), None, ci_env()) == expected
    plan = calls(fake_terraform)[1]["argv"]
    assert "-detailed-exitcode" in plan and "-lock=false" in plan


def test_a_failing_drift_plan_is_an_error_not_drift(tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", "1")
    with pytest.raises(stack.StackError, match="an error, not drift"):
        stack.execute("drift", "dev-platform", synth_dir(tmp_path), None, ci_env())


def test_a_diff_that_waits_for_undeployed_platform_outputs_exits_3(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", "1")
    monkeypatch.setenv(
        "FAKE_TF_PLAN_OUTPUT",
        '\x1b[31mError: \x1b[0mUnsupported attribute\nThis object does not have an attribute named "cross-stack-output-aws_eks_cluster_eks_cluster_name".',
    )
    out = synth_dir(tmp_path, "dev-bootstrap")
    assert stack.execute("diff", "dev-bootstrap", out, tmp_path / "r.json", ci_env()) == stack.EXIT_NEEDS_PLATFORM


def test_any_other_failing_diff_fails(tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_RC", "1")
    monkeypatch.setenv("FAKE_TF_PLAN_OUTPUT", "Error: AccessDenied")
    with pytest.raises(stack.StackError, match="terraform plan failed"):
        stack.execute("diff", "dev-bootstrap", synth_dir(tmp_path, "dev-bootstrap"), None, ci_env())


@pytest.mark.parametrize("key", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
def test_static_credentials_in_the_job_are_refused(tmp_path: Path, fake_terraform: Path, key: str) -> None:
    with pytest.raises(stack.StackError, match=f"refusing to run with {key}"):
        stack.execute("diff", "dev-platform", synth_dir(tmp_path), None, ci_env(**{key: "x"}))
    assert not fake_terraform.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"AWS_ID_TOKEN": ""}, "id_tokens"),
        ({"PLATFORM_PLAN_ROLE_ARN_DEV": ""}, "PLATFORM_PLAN_ROLE_ARN_DEV is not set"),
        ({"PLATFORM_PLAN_ROLE_ARN_DEV": "plato-gitlab-plan"}, "is not an IAM role ARN"),
        ({"PLATFORM_PLAN_ROLE_ARN_DEV": "arn:aws:iam::333333333333:role/plato-gitlab-plan"}, "but dev is aws:111111111111"),
    ],
)
def test_a_missing_token_or_a_wrong_role_stops_before_terraform(
    tmp_path: Path, fake_terraform: Path, extra: dict[str, str], message: str
) -> None:
    with pytest.raises(stack.StackError, match=re.escape(message)):
        stack.execute("diff", "dev-platform", synth_dir(tmp_path), None, ci_env(**extra))
    assert not fake_terraform.exists()


def test_a_stack_missing_from_the_synth_output_points_at_the_synth_job(tmp_path: Path, fake_terraform: Path) -> None:
    with pytest.raises(stack.StackError, match=r"needs: \[synth\]"):
        stack.execute("diff", "dev-platform", tmp_path / "cdktf.out", None, ci_env())


def test_a_stack_of_an_unknown_environment_is_refused(tmp_path: Path, fake_terraform: Path) -> None:
    with pytest.raises(stack.StackError, match="not a stack of a known environment"):
        stack.execute("diff", "qa-platform", synth_dir(tmp_path, "qa-platform"), None, ci_env())


def test_the_command_line_reports_errors_on_one_line_with_status_1(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "ci" / "stack.py"), "diff", "dev-platform", "--synth-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("stack: dev-platform: ") and proc.stderr.count("\n") == 1


# --- delivery: which ref an environment runs ---------------------------------------------------------


def test_the_newest_tag_is_chosen_by_number_not_by_text() -> None:
    tags = ["v1.2", "v1.10", "v1.9", "v1.10-rc.3", "v1.10-rc.12", "v2.0-rc.1", "v1.10.1", "latest"]
    assert delivery.newest_tag(tags, delivery.RELEASE_TAG) == "v1.10"
    assert delivery.newest_tag(tags, delivery.RC_TAG) == "v2.0-rc.1"
    assert delivery.newest_tag(["v1.10-rc.3", "v1.10-rc.12"], delivery.RC_TAG) == "v1.10-rc.12"


def test_each_environment_tracks_its_ref() -> None:
    tags = ["v1.0", "v1.1-rc.1"]
    assert [delivery.tracked_ref(env, tags) for env in ("dev", "stage", "prod")] == ["main", "v1.1-rc.1", "v1.0"]


def test_an_environment_without_a_matching_tag_or_an_unknown_one_is_an_error() -> None:
    with pytest.raises(delivery.DeliveryError, match="nothing has been deployed to prod"):
        delivery.tracked_ref("prod", ["v1.0-rc.1"])
    with pytest.raises(delivery.DeliveryError, match="unknown environment 'qa'"):
        delivery.tracked_ref("qa", [])


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def test_the_drift_checkout_fetches_and_checks_out_the_newest_tag_of_a_shallow_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "--quiet", "--initial-branch=main")
    for tag in ("v1.9-rc.1", "v1.10-rc.1", "v1.10-rc.2"):
        (origin / "VERSION").write_text(tag)
        git(origin, "add", "VERSION")
        git(origin, "commit", "--quiet", "-m", tag)
        git(origin, "tag", tag)
    (origin / "VERSION").write_text("main")
    git(origin, "commit", "--quiet", "-am", "main moves on")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth=1", "--no-tags", f"file://{origin}", str(clone))
    monkeypatch.chdir(clone)
    assert delivery.checkout("stage") == "v1.10-rc.2"
    assert (clone / "VERSION").read_text() == "v1.10-rc.2"
    assert delivery.checkout("dev") == "main"


def test_the_delivery_command_line_fails_clearly_without_an_environment() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "ci" / "delivery.py"), "checkout", ""], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "DRIFT_ENVIRONMENT" in proc.stderr


# --- installing pinned tools -----------------------------------------------------------------------


def release(data: bytes, member: str | None = None) -> install_tools.Release:
    import hashlib

    return install_tools.Release("tool", "9.9.9", "https://example.invalid/tool", hashlib.sha256(data).hexdigest(), member, ("--version",))


def test_a_download_whose_checksum_differs_from_the_pin_is_refused() -> None:
    pinned = release(b"the real release")
    install_tools.verify(b"the real release", pinned)
    with pytest.raises(install_tools.InstallError, match="refusing to install"):
        install_tools.verify(b"something else", pinned)


def test_the_executable_is_taken_from_the_verified_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("LICENSE.txt", "license")
        archive.writestr("terraform", b"\x7fELF binary")
    assert install_tools.unpack(buffer.getvalue(), release(buffer.getvalue(), member="terraform")) == b"\x7fELF binary"


def test_a_cached_tool_that_reports_its_version_is_not_downloaded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "tool"
    tool.write_text("#!/bin/sh\necho tool v9.9.9\n")
    tool.chmod(0o755)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("downloaded although the cached tool is current")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    install_tools.install_release(release(b""), bin_dir)


def test_the_pins_are_exact_versions_with_sha256_digests() -> None:
    for pinned in install_tools.RELEASES.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", pinned.version), pinned.name
        assert re.fullmatch(r"[0-9a-f]{64}", pinned.sha256), pinned.name
        assert pinned.version in pinned.url and pinned.url.startswith("https://"), pinned.name
    assert re.search(r"^awscli==\d+\.\d+\.\d+$", (REPO / "tools" / "ci" / "awscli-requirements.txt").read_text(), re.MULTILINE)


def test_terraform_is_pinned_to_a_version_the_project_accepts() -> None:
    from tools.check_tools import TERRAFORM_MIN

    major, minor, _ = (int(n) for n in install_tools.TERRAFORM.version.split("."))
    assert (major, minor) >= TERRAFORM_MIN


# --- reusing restored caches ---------------------------------------------------------------------


def makefile_stamps() -> list[str]:
    makefile = (REPO / "Makefile").read_text()
    variables = dict(re.findall(r"^([A-Z_]+) := (.+)$", makefile, re.MULTILINE))
    paths = []
    for name in ("STAMP_PY", "STAMP_NODE", "STAMP_CHECKOV", "STAMP_NODE_TOOLS"):
        value = variables[name]
        value = value.replace("$(VENV)", ".venv").replace("$(CHECKOV_VENV)", ".tools/checkov").replace("$(NODE_TOOLS)", "tools/node-tools")
        value = value.replace("$(CURDIR)/", "")
        paths.append(value)
    return paths


def test_reuse_cache_touches_exactly_the_stamps_the_makefile_checks_in_dependency_order() -> None:
    script = (REPO / "tools" / "ci" / "reuse_cache.sh").read_text()
    listed = re.search(r"for stamp in (.+); do", script)
    assert listed is not None
    assert listed.group(1).split() == makefile_stamps()


def test_reuse_cache_drops_a_virtualenv_built_at_another_path_and_freshens_the_stamps(tmp_path: Path) -> None:
    tree = tmp_path / "checkout"
    (tree / "tools" / "ci").mkdir(parents=True)
    (tree / "tools" / "ci" / "reuse_cache.sh").write_text((REPO / "tools" / "ci" / "reuse_cache.sh").read_text())
    for venv, shebang in ((".venv", f"#!{tree}/.venv/bin/python"), (".tools/checkov", "#!/builds/other/.tools/checkov/bin/python3")):
        (tree / venv / "bin").mkdir(parents=True)
        (tree / venv / "bin" / "pip").write_text(f"{shebang}\n")
    (tree / ".tools" / "checkov" / ".installed").write_text("")
    (tree / "node_modules").mkdir()
    for stamp in (".venv/.synced", "node_modules/.installed"):
        (tree / stamp).write_text("")
        os.utime(tree / stamp, (1_000_000_000, 1_000_000_000))

    proc = subprocess.run(["bash", str(tree / "tools" / "ci" / "reuse_cache.sh")], capture_output=True, text=True, check=False)

    assert proc.returncode == 0, proc.stderr
    assert not (tree / ".tools" / "checkov").exists()
    assert (tree / ".venv" / "bin" / "pip").exists()
    synced, installed = ((tree / s).stat().st_mtime for s in (".venv/.synced", "node_modules/.installed"))
    assert synced > 1_000_000_000 and installed >= synced


# --- the IAM setup for GitLab's ID tokens ----------------------------------------------------------


def iam_allows(statement: dict[str, Any], claims: dict[str, str]) -> bool:
    """IAM's StringEquals/StringLike/StringNotLike on token claims (fnmatch has IAM's * and ?)."""
    from fnmatch import fnmatchcase

    for operator, tests in statement["Condition"].items():
        for key, pattern in tests.items():
            value = claims[key.split(":", 1)[1]]
            matched = value == pattern if operator == "StringEquals" else fnmatchcase(value, pattern)
            if matched == (operator == "StringNotLike"):
                return False
    return True


def claims(ref_type: str, ref: str, project: str = "plato/platform") -> dict[str, str]:
    return {"aud": "sts.amazonaws.com", "sub": f"project_path:{project}:ref_type:{ref_type}:ref:{ref}"}


@pytest.fixture(scope="module")
def iam_setup() -> dict[str, Any]:
    from environments import load_environments
    from tools.ci import trust_policy

    return {e.name: trust_policy.setup(e, "plato/platform", "https://gitlab.com") for e in load_environments()}


@pytest.mark.parametrize(
    ("environment", "allowed", "refused"),
    [
        ("dev", [("branch", "main")], [("branch", "feature/x"), ("tag", "v1.0"), ("tag", "main")]),
        ("stage", [("tag", "v1.0-rc.1"), ("tag", "v12.3-rc.40")], [("tag", "v1.0"), ("branch", "main"), ("branch", "v1.0-rc.1")]),
        ("prod", [("tag", "v1.0"), ("tag", "v12.34")], [("tag", "v1.0-rc.1"), ("branch", "main"), ("branch", "v1.0")]),
    ],
)
def test_only_the_ref_an_environment_deploys_from_may_assume_its_deploy_role(
    iam_setup: dict[str, Any], environment: str, allowed: list[tuple[str, str]], refused: list[tuple[str, str]]
) -> None:
    (statement,) = iam_setup[environment]["roles"]["plato-gitlab-deploy"]["trust_policy"]["Statement"]
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/gitlab.com")
    for ref_type, ref in allowed:
        assert iam_allows(statement, claims(ref_type, ref)), ref
    for ref_type, ref in refused:
        assert not iam_allows(statement, claims(ref_type, ref)), ref
    assert not iam_allows(statement, claims(*allowed[0], project="someone/fork"))
    assert not iam_allows(statement, {**claims(*allowed[0]), "aud": "https://gitlab.com"})


def test_any_branch_pipeline_of_the_project_may_plan_but_nothing_else_may(iam_setup: dict[str, Any]) -> None:
    web_identity, reassume = iam_setup["prod"]["roles"]["plato-gitlab-plan"]["trust_policy"]["Statement"]
    assert iam_allows(web_identity, claims("branch", "feature/x")) and iam_allows(web_identity, claims("branch", "main"))
    assert not iam_allows(web_identity, claims("tag", "v1.0"))
    assert not iam_allows(web_identity, claims("branch", "main", project="someone/fork"))
    assert reassume["Condition"] == {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::333333333333:role/plato-gitlab-plan"}}


def test_the_plan_role_reads_but_may_never_write_state(iam_setup: dict[str, Any]) -> None:
    plan = iam_setup["stage"]["roles"]["plato-gitlab-plan"]
    assert plan["managed_policies"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    deny = [s for s in plan["inline_policy"]["Statement"] if s["Effect"] == "Deny"]
    assert deny == [
        {
            "Sid": "NeverWriteState",
            "Effect": "Deny",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": "arn:aws:s3:::plato-tfstate-stage-222222222222/*",
        }
    ]


def test_the_ci_deploy_role_can_only_assume_the_environments_deploy_role(iam_setup: dict[str, Any], environments: dict[str, Any]) -> None:
    for name, documents in iam_setup.items():
        (statement,) = documents["roles"]["plato-gitlab-deploy"]["inline_policy"]["Statement"]
        assert statement == {
            "Sid": "AssumeTheDeployRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": environments[name].deploy_role_arn,
        }
        assert documents["add_to_deploy_role_trust_policy"]["Principal"] == {
            "AWS": f"arn:aws:iam::{environments[name].account_id}:role/plato-gitlab-deploy"
        }


def test_the_ci_variables_are_the_ones_the_jobs_read_and_only_deploy_roles_are_protected(iam_setup: dict[str, Any]) -> None:
    for name, documents in iam_setup.items():
        variables = documents["ci_variables"]
        assert variables[stack.PLAN_ACCESS.role_variable(name)]["protected"] is False
        assert variables[stack.DEPLOY_ACCESS.role_variable(name)]["protected"] is True
        for variable in variables.values():
            assert stack.ROLE_ARN.match(variable["value"])


def test_the_iam_patterns_are_those_of_each_environments_delivery_channel() -> None:
    from tools.ci import trust_policy

    for env in load_environments():
        like, not_like = env.gitops.track.iam_sub
        setup = trust_policy.setup(env, "plato/platform", "https://gitlab.com")
        (statement,) = setup["roles"]["plato-gitlab-deploy"]["trust_policy"]["Statement"]
        assert statement["Condition"]["StringLike"]["gitlab.com:sub"] == f"project_path:plato/platform:{like}"
        assert statement["Condition"].get("StringNotLike", {}).get("gitlab.com:sub") == (
            f"project_path:plato/platform:{not_like}" if not_like else None
        )


def test_the_setup_command_prints_one_document_per_environment() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "ci" / "trust_policy.py"),
            "--project-path",
            "plato/platform",
            "--gitlab-url",
            "https://gitlab.example.com",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    documents = json.loads(proc.stdout)
    assert list(documents) == ["dev", "stage", "prod"]
    assert "gitlab.example.com:sub" in json.dumps(documents["prod"]["roles"]["plato-gitlab-deploy"])


@pytest.mark.terraform
def test_terraform_accepts_the_read_only_override_next_to_a_stack(tmp_path: Path) -> None:
    from check_tools import AWS_PROVIDER_VERSION, terraform_cli_config
    from conftest import require_tool, tool_env

    rc = terraform_cli_config(tmp_path / "terraformrc")
    config = bootstrap_like_stack()
    del config["provider"]["helm"], config["provider"]["kubernetes"]
    config["terraform"]["required_providers"] = {"aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}}
    config["output"] = {"platform_vpc": {"value": "${data.terraform_remote_state.platform.outputs}"}}
    workdir = tmp_path / "dev-platform"
    workdir.mkdir()
    (workdir / "cdk.tf.json").write_text(json.dumps(config))
    override, _ = stack.read_only_override(config, DEV_DEPLOY_ROLE, DEV_PLAN_ROLE)
    (workdir / stack.OVERRIDE_FILE).write_text(json.dumps(override))
    env = tool_env(TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", TF_INPUT="0")
    for args in (["init", "-backend=false"], ["validate"]):
        proc = subprocess.run(
            [require_tool("terraform"), *args, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
