"""Run a command as an environment's read-only CI plan role, from the job's GitLab ID token.

    python tools/ci/as_plan_role.py dev -- python -m tools.pins check --source registries

The command gets ``AWS_ROLE_ARN`` and ``AWS_WEB_IDENTITY_TOKEN_FILE`` (the token in a private
file, never in the environment), exactly as the diff jobs give Terraform; static keys in
the job's environment are refused (``tools/ci/stack.py``). The pins:registries job uses it
for ``eks:DescribeAddonVersions``, which needs credentials but changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import os  # noqa: E402

from environments import ConfigError, load_environments  # noqa: E402
from tools.ci.stack import PLAN_ACCESS, StackError, web_identity  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--":
        print("usage: as_plan_role.py <environment> -- <command> [args...]", file=sys.stderr)
        return 2
    name, command = args[0], args[2:]
    try:
        environments = {e.name: e for e in load_environments()}
        if name not in environments:
            raise StackError(f"unknown environment '{name}' (one of {', '.join(environments)})")
        with web_identity(PLAN_ACCESS, environments[name], os.environ) as child:
            return subprocess.run(command, env=child, check=False).returncode
    except (StackError, ConfigError) as exc:
        print(f"as_plan_role: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
