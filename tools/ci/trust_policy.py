"""Print the IAM setup GitLab CI needs in each environment's account, as exact JSON.

    trust_policy.py --project-path plato/platform [--gitlab-url https://gitlab.com] [--environment prod]

For every environment (``environments/``) it prints:

- the IAM OIDC identity provider for the GitLab instance (audience ``sts.amazonaws.com``);
- ``<project>-gitlab-plan``: the role of merge-request diffs and drift checks. Any branch
  pipeline of the project may assume it; it can read (``ReadOnlyAccess``, decrypting the
  state bucket through S3) and never write state. Terraform re-assumes it in place of the
  deploy role (tools/ci/stack.py), so its trust also admits itself;
- ``<project>-gitlab-deploy``: the role of deploys. Only the refs of the environment's delivery
  channel may assume it (``main``: the branch ``main``; release candidates: tags ``v*-rc.*``;
  releases: tags ``v*`` but no ``v*-*``; ``environments/model/delivery.py``); its one
  permission is assuming the environment's ``deploy_role_arn``;
- the statement to add to the trust policy of ``deploy_role_arn``, and the CI/CD variables.

AWS evaluates only the ``aud`` and ``sub`` claims of a GitLab token (IAM has no condition key
for other claims such as ``ref_protected``); GitLab's protected branches, tags, variables and
environments enforce the rest (docs/ci.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from environments import EnvironmentConfig, load_environments  # noqa: E402
from tools.ci.stack import DEPLOY_ACCESS, PLAN_ACCESS  # noqa: E402

AUDIENCE = "sts.amazonaws.com"
READ_ONLY_POLICY = "arn:{partition}:iam::aws:policy/ReadOnlyAccess"


def issuer_host(gitlab_url: str) -> str:
    """``https://gitlab.example.com`` -> ``gitlab.example.com``: the IAM provider's name and condition-key prefix."""
    parts = urlsplit(gitlab_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"'{gitlab_url}' is not an https URL of a GitLab instance")
    return parts.netloc + parts.path.rstrip("/")


def role_arn(env: EnvironmentConfig, name: str) -> str:
    return f"arn:{env.partition}:iam::{env.account_id}:role/{name}"


def _web_identity(env: EnvironmentConfig, host: str, like: str, not_like: str | None) -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {f"{host}:aud": AUDIENCE}, "StringLike": {f"{host}:sub": like}}
    if not_like is not None:
        condition["StringNotLike"] = {f"{host}:sub": not_like}
    return {
        "Sid": "GitLabCI",
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:{env.partition}:iam::{env.account_id}:oidc-provider/{host}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }


def setup(env: EnvironmentConfig, project_path: str, gitlab_url: str) -> dict[str, Any]:
    """Everything to create in ``env``'s account, as IAM JSON documents."""
    host = issuer_host(gitlab_url)
    subject = f"project_path:{project_path}:"
    plan_name, deploy_name = f"{env.project}-gitlab-plan", f"{env.project}-gitlab-deploy"
    plan_arn, deploy_arn = role_arn(env, plan_name), role_arn(env, deploy_name)
    state_objects = f"arn:{env.partition}:s3:::{env.state.bucket}/*"
    # The refs the environment deploys from (its delivery channel), as IAM patterns on `sub`.
    deploy_like, deploy_not_like = env.gitops.track.iam_sub
    return {
        "account": env.account_id,
        "oidc_provider": {"url": gitlab_url.rstrip("/"), "client_ids": [AUDIENCE]},
        "roles": {
            plan_name: {
                "trust_policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        _web_identity(env, host, subject + "ref_type:branch:ref:*", None),
                        {
                            "Sid": "TerraformReassumesThisRole",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{env.partition}:iam::{env.account_id}:root"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"ArnEquals": {"aws:PrincipalArn": plan_arn}},
                        },
                    ],
                },
                "managed_policies": [READ_ONLY_POLICY.format(partition=env.partition)],
                "inline_policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "ReassumeForTerraform", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": plan_arn},
                        {
                            "Sid": "ReadTheEncryptedState",
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"},
                                "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:{env.partition}:s3:::{env.state.bucket}*"},
                            },
                        },
                        {
                            "Sid": "NeverWriteState",
                            "Effect": "Deny",
                            "Action": ["s3:PutObject", "s3:DeleteObject"],
                            "Resource": state_objects,
                        },
                    ],
                },
            },
            deploy_name: {
                "trust_policy": {
                    "Version": "2012-10-17",
                    "Statement": [_web_identity(env, host, subject + deploy_like, subject + deploy_not_like if deploy_not_like else None)],
                },
                "managed_policies": [],
                "inline_policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "AssumeTheDeployRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": env.deploy_role_arn}
                    ],
                },
            },
        },
        "add_to_deploy_role_trust_policy": {
            "Sid": "GitLabCIDeploys",
            "Effect": "Allow",
            "Principal": {"AWS": deploy_arn},
            "Action": "sts:AssumeRole",
        },
        "ci_variables": {
            PLAN_ACCESS.role_variable(env.name): {"value": plan_arn, "protected": False},
            DEPLOY_ACCESS.role_variable(env.name): {"value": deploy_arn, "protected": True},
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-path", required=True, help="the GitLab project, e.g. plato/platform")
    parser.add_argument("--gitlab-url", default="https://gitlab.com")
    parser.add_argument("--environment", help="only this environment")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[\w.-]+(/[\w.-]+)+", args.project_path):
        parser.error(f"'{args.project_path}' is not a GitLab project path like group/project")
    environments = [e for e in load_environments() if args.environment in (None, e.name)]
    if not environments:
        parser.error(f"no environment '{args.environment}'")
    try:
        documents = {e.name: setup(e, args.project_path, args.gitlab_url) for e in environments}
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(documents, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
