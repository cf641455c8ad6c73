"""Run Terraform on one synthesized stack in CI: a read-only plan, a drift check, or a deploy.

    stack.py diff   <stack> --report reports/<stack>.tfplan.json   # merge requests
    stack.py drift  <stack>                                        # scheduled pipelines
    stack.py deploy <stack>                                        # main, rc and release tags

The pipeline synthesizes once (job ``synth``); these commands run Terraform in that output,
``cdktf.out/stacks/<stack>``, the directory ``cdktf diff|deploy --skip-synth`` would use. Calling
Terraform directly keeps the saved plan (for the merge-request report), gives drift its
detailed exit code, and needs neither Node nor the cdktf CLI in these jobs.

AWS credentials come only from the job's GitLab ID token (``id_tokens: AWS_ID_TOKEN``): it is
written to a private file and Terraform, the S3 backend and the ``aws`` CLI (EKS tokens) assume
the CI role with ``AssumeRoleWithWebIdentity`` themselves (``AWS_ROLE_ARN`` +
``AWS_WEB_IDENTITY_TOKEN_FILE``). The role comes from ``PLATFORM_<ACCESS>_ROLE_ARN_<ENV>``
(access ``PLAN`` for diff and drift, ``DEPLOY`` for deploy) and must be in the environment's
account. Static keys in the job's environment are refused.

Diff and drift are read-only: the stack's providers, backend and remote-state sources assume
the environment's deploy role, which the plan role may not assume, so a Terraform override
file points them at the plan role instead (``zz_ci_read_only_override.tf.json``; the role
trusts itself for that, see docs/ci.md). Deploy refuses to run with that file present.

The bootstrap of a tag channel (stage, prod) takes the release tag its cluster runs as the
Terraform variable ``release_tag``: a deploy takes the pipeline's tag (``CI_COMMIT_TAG``, and
refuses to run without one of the channel), a diff or drift the newest tag of the channel on
the remote, or the one already in ``TF_VAR_release_tag`` (docs/decisions/0024).

Exit status: 0 done (diff, deploy; drift: none); 2 drift found; 3 a plan that needs platform
outputs which are not deployed yet (the bootstrap of an MR that adds them), or a tag channel's
bootstrap whose channel has no tag yet; 1 anything else.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from environments import ConfigError, EnvironmentConfig, load_environments  # noqa: E402
from tools.ci import delivery  # noqa: E402
from tools.plan_report import PlanError, summarize, write_report  # noqa: E402

OVERRIDE_FILE = "zz_ci_read_only_override.tf.json"
PLAN_FILE = "ci.tfplan"
STATIC_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
EXIT_DRIFT = 2
EXIT_NEEDS_PLATFORM = 3
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A bootstrap stack reads the platform's outputs through terraform_remote_state. Until the
# platform is deployed with an output an MR adds (or at all), its plan fails like this.
_NEEDS_PLATFORM = re.compile(r'does not have an attribute named "cross-stack-output-|No stored state was found for the given workspace')


class StackError(Exception):
    """The run cannot start or Terraform failed; the message says which and why."""


@dataclass(frozen=True)
class Access:
    """What a command may do, and which CI role it runs as."""

    name: str
    read_only: bool

    def role_variable(self, environment: str) -> str:
        return f"PLATFORM_{self.name.upper()}_ROLE_ARN_{environment.upper()}"


PLAN_ACCESS = Access("plan", read_only=True)
DEPLOY_ACCESS = Access("deploy", read_only=False)
ACCESS_BY_COMMAND = {"diff": PLAN_ACCESS, "drift": PLAN_ACCESS, "deploy": DEPLOY_ACCESS}


def stack_environment(stack: str, environments: Mapping[str, EnvironmentConfig]) -> EnvironmentConfig:
    """The environment of ``<env>-<kind>``."""
    name = stack.split("-", 1)[0]
    if name not in environments or "-" not in stack:
        raise StackError(f"'{stack}' is not a stack of a known environment ({', '.join(environments)})")
    return environments[name]


def role_arn(access: Access, env: EnvironmentConfig, environ: Mapping[str, str]) -> str:
    """The CI role ARN for ``access`` in ``env``, checked against the environment's account."""
    variable = access.role_variable(env.name)
    arn = environ.get(variable, "").strip()
    if not arn:
        raise StackError(
            f"{variable} is not set: set it to the {access.name} role of {env.name} (docs/ci.md); a deploy role variable "
            "is protected, so it only reaches pipelines of protected refs"
        )
    match = ROLE_ARN.match(arn)
    if not match:
        raise StackError(f"{variable}='{arn}' is not an IAM role ARN")
    if match.group(2) != env.account_id or match.group(1) != env.partition:
        raise StackError(f"{variable} is a role in {match.group(1)}:{match.group(2)}, but {env.name} is {env.partition}:{env.account_id}")
    return arn


@contextmanager
def web_identity(access: Access, env: EnvironmentConfig, environ: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """The environment for Terraform: the job's ID token in a private file, the CI role to assume."""
    present = [key for key in STATIC_KEYS if environ.get(key)]
    if present:
        raise StackError(f"refusing to run with {', '.join(present)} set: CI reaches AWS only through the job's ID token")
    token = environ.get("AWS_ID_TOKEN", "")
    if not token:
        raise StackError("AWS_ID_TOKEN is empty: the job needs `id_tokens: AWS_ID_TOKEN: aud: sts.amazonaws.com`")
    arn = role_arn(access, env, environ)
    session = re.sub(r"[^\w+=,.@-]", "-", f"gitlab-{environ.get('CI_PROJECT_ID', 'local')}-{environ.get('CI_JOB_ID', 'run')}")[:64]
    with tempfile.TemporaryDirectory(prefix="aws-web-identity-") as tmp:
        token_file = Path(tmp) / "token"
        token_file.touch(mode=0o600)
        token_file.write_text(token)
        child = {k: v for k, v in environ.items() if k != "AWS_ID_TOKEN"}
        child.update(
            AWS_ROLE_ARN=arn,
            AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
            AWS_ROLE_SESSION_NAME=session,
            AWS_REGION=env.region,
            AWS_STS_REGIONAL_ENDPOINTS="regional",
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
        )
        print(f"identity: {access.name} role {arn} (session {session}) from the job's GitLab ID token")
        yield child


def _substitute(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_substitute(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, old, new) for k, v in value.items()}
    return value


def _mentions(value: Any, text: str) -> bool:
    return text in json.dumps(value)


def read_only_override(stack: Mapping[str, Any], deploy_role_arn: str, plan_role_arn: str) -> tuple[dict[str, Any], list[str]]:
    """A Terraform override that makes every credential of ``stack`` the plan role's.

    Credentials live in provider blocks, the backend and ``terraform_remote_state`` sources.
    Each of those that names the deploy role is copied whole with the role replaced: an
    override replaces a provider's nested blocks, the backend and a data source's ``config``
    as a unit, so a partial copy would drop settings. Resources are never touched: a resource
    that merely refers to the deploy role (an EKS access entry, say) must plan as deployed.
    Returns the override and the addresses it covers.
    """
    override: dict[str, Any] = {
        "//": "Written by tools/ci/stack.py for a read-only CI run: every credential assumes the plan role. Never commit.",
    }
    covered: list[str] = []
    providers: dict[str, list[Any]] = {}
    for name, blocks in (stack.get("provider") or {}).items():
        for block in blocks if isinstance(blocks, list) else [blocks]:
            if _mentions(block, deploy_role_arn):
                providers.setdefault(name, []).append(_substitute(copy.deepcopy(block), deploy_role_arn, plan_role_arn))
                alias = block.get("alias") if isinstance(block, dict) else None
                covered.append(f"provider.{name}" + (f".{alias}" if alias else ""))
    if providers:
        override["provider"] = providers
    backend = (stack.get("terraform") or {}).get("backend") or {}
    if _mentions(backend, deploy_role_arn):
        override["terraform"] = {"backend": _substitute(copy.deepcopy(backend), deploy_role_arn, plan_role_arn)}
        covered.extend(f"terraform.backend.{kind}" for kind in backend)
    remote_states = ((stack.get("data") or {}).get("terraform_remote_state")) or {}
    replaced = {
        name: _substitute(copy.deepcopy(body), deploy_role_arn, plan_role_arn)
        for name, body in remote_states.items()
        if _mentions(body, deploy_role_arn)
    }
    if replaced:
        override["data"] = {"terraform_remote_state": replaced}
        covered.extend(f"data.terraform_remote_state.{name}" for name in replaced)
    return override, covered


def _terraform() -> str:
    found = shutil.which("terraform")
    if not found:
        raise StackError("terraform is not on PATH (the job installs it with tools/ci/install_tools.py)")
    return found


def run(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
    """Run a command, streaming its output to the job log; returns its status and output."""
    print(f"$ {' '.join(args)}", flush=True)
    proc = subprocess.Popen(list(args), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    sys.stdout.flush()
    return proc.wait(), "".join(lines)


def _checked(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    status, output = run(args, cwd, env)
    if status != 0:
        raise StackError(f"`{' '.join(args[1:3])}` failed with exit status {status}")
    return output


def _show_json(terraform: str, stack_dir: Path, env: Mapping[str, str]) -> Any:
    proc = subprocess.run(
        [terraform, "show", "-json", PLAN_FILE], cwd=stack_dir, env=dict(env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise StackError(f"terraform show -json failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def _summary(terraform: str, stack_dir: Path, env: Mapping[str, str], stack: str, report: Path | None) -> None:
    try:
        summary = summarize(_show_json(terraform, stack_dir, env))
    except PlanError as exc:
        raise StackError(f"cannot summarize the plan: {exc}") from None
    if report is not None:
        write_report(summary, report)
    print(summary.describe(stack))


RELEASE_TAG_VARIABLE = "TF_VAR_release_tag"


class NotDeployedYet(Exception):
    """A tag channel has no tag yet: there is nothing deployed to plan against."""


def release_tag(
    command: str, stack: str, env: EnvironmentConfig, environ: Mapping[str, str], remote_tags: Sequence[str] | None = None
) -> str | None:
    """The ``release_tag`` a bootstrap stack of a tag channel takes; ``None`` for every other stack."""
    track = env.gitops.track
    if not stack.endswith("-bootstrap") or track.tag_pattern is None:
        return None
    pattern = track.tag_pattern
    if command == "deploy":
        tag = environ.get("CI_COMMIT_TAG", "")
        if not pattern.fullmatch(tag):
            raise StackError(
                f"{stack} deploys a tag of its channel (/{pattern.pattern}/): run it in the pipeline of such a tag, not of '{tag or 'a branch'}'"
            )
        return tag
    given = environ.get(RELEASE_TAG_VARIABLE, "")
    if given:
        if not pattern.fullmatch(given):
            raise StackError(f"{RELEASE_TAG_VARIABLE}='{given}' is not a tag of {env.name}'s channel (/{pattern.pattern}/)")
        return given
    tags = list(remote_tags) if remote_tags is not None else delivery.remote_tags()
    newest = delivery.newest_tag(tags, pattern)
    if newest is None:
        raise NotDeployedYet(f"no tag matches /{pattern.pattern}/ yet: nothing has been deployed to {env.name} to compare with")
    return newest


def execute(command: str, stack: str, synth_dir: Path, report: Path | None, environ: Mapping[str, str]) -> int:
    """Run ``command`` on ``stack``; returns the exit status (see the module docstring)."""
    stack_dir = synth_dir / "stacks" / stack
    config_file = stack_dir / "cdk.tf.json"
    if not config_file.is_file():
        raise StackError(f"{config_file} is missing: this job reuses the `synth` job's cdktf.out artifact (needs: [synth])")
    try:
        environments = {e.name: e for e in load_environments()}
    except ConfigError as exc:
        raise StackError(f"environments: {exc}") from None
    env = stack_environment(stack, environments)
    access = ACCESS_BY_COMMAND[command]
    try:
        tag = release_tag(command, stack, env, environ)
    except NotDeployedYet as exc:
        print(f"{stack}: {exc}")
        return EXIT_NEEDS_PLATFORM
    except delivery.DeliveryError as exc:
        raise StackError(str(exc)) from None
    terraform = _terraform()
    override_file = stack_dir / OVERRIDE_FILE
    with web_identity(access, env, environ) as child:
        if tag is not None:
            child[RELEASE_TAG_VARIABLE] = tag
            print(f"{stack}: the cluster follows tag {tag}")
        if access.read_only:
            override, covered = read_only_override(json.loads(config_file.read_text()), env.deploy_role_arn, child["AWS_ROLE_ARN"])
            override_file.write_text(json.dumps(override, indent=2, sort_keys=True) + "\n")
            print(f"read-only: {', '.join(covered) or 'no credential names the deploy role'} assume the plan role")
        elif override_file.exists():
            raise StackError(f"{override_file} exists: a deploy must run the synthesized configuration unchanged")
        _checked([terraform, "init", "-input=false"], stack_dir, child)
        if command == "diff":
            status, output = run([terraform, "plan", "-input=false", "-lock=false", f"-out={PLAN_FILE}"], stack_dir, child)
            if status != 0 and _NEEDS_PLATFORM.search(_ANSI.sub("", output)):
                print(f"{stack}: the plan needs platform outputs that are not deployed yet; it will plan once the platform is deployed")
                return EXIT_NEEDS_PLATFORM
            if status != 0:
                raise StackError(f"terraform plan failed with exit status {status}")
            _summary(terraform, stack_dir, child, stack, report)
            return 0
        if command == "drift":
            status, _ = run([terraform, "plan", "-input=false", "-lock=false", "-detailed-exitcode"], stack_dir, child)
            if status == 0:
                print(f"{stack}: no drift; the infrastructure matches the deployed configuration")
                return 0
            if status == 2:
                print(
                    f"DRIFT: {stack} differs from its deployed configuration (plan above). Redeploy, or fix the change made outside Terraform."
                )
                return EXIT_DRIFT
            raise StackError(f"terraform plan failed with exit status {status}; this is an error, not drift")
        status, _ = run(
            [terraform, "plan", "-input=false", "-lock-timeout=10m", "-detailed-exitcode", f"-out={PLAN_FILE}"], stack_dir, child
        )
        if status == 0:
            print(f"{stack}: nothing to deploy")
            return 0
        if status != 2:
            raise StackError(f"terraform plan failed with exit status {status}")
        _summary(terraform, stack_dir, child, stack, report)
        _checked([terraform, "apply", "-input=false", "-lock-timeout=10m", PLAN_FILE], stack_dir, child)
        print(f"{stack}: deployed")
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=sorted(ACCESS_BY_COMMAND))
    parser.add_argument("stack", help="a synthesized stack, e.g. dev-platform")
    parser.add_argument("--synth-dir", type=Path, default=REPO / "cdktf.out")
    parser.add_argument("--report", type=Path, help="write the GitLab artifacts:reports:terraform summary of the plan here")
    args = parser.parse_args(argv)
    try:
        return execute(args.command, args.stack, args.synth_dir, args.report, os.environ)
    except StackError as exc:
        print(f"stack: {args.stack}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
