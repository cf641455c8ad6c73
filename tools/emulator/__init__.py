"""Apply the synthesized AWS stacks to a local AWS emulator (moto server) on loopback.

The emulator tier (``tests/emulator/``) and ``try-dev`` (``make try-dev``) use this module
to run the real Terraform CLI, the offline ``hashicorp/aws`` provider and the stacks'
real S3 backend against `moto <https://docs.getmoto.org>`_, with no AWS account and no
traffic beyond 127.0.0.1. See ``docs/emulator.md`` for what that proves and what it does not.

Emulator mode never edits a synthesized file. It copies a stack directory and adds files
Terraform merges into the configuration (``*_override.tf.json``), each printed and documented:

``emulator_override.tf.json``
    provider knobs only: no instance-metadata lookups, path-style S3 addressing, few retries.
``emulator_exclusions_override.tf.json``
    ``count = 0`` on every resource whose type is in :data:`EXCLUDED_RESOURCE_TYPES` for that
    kind of stack: the one switch that leaves out what the emulator does not model. Plans of
    *everything* are made without it (so those resources are planned and shown); apply,
    destroy and re-plans are made with it, and the excluded addresses are printed.
``emulator_quirks_override.tf.json``
    only while re-planning after apply (:func:`replan_through_quirks`): ``lifecycle.ignore_changes``
    for exactly the addresses and attributes a re-plan showed that are listed in
    :data:`EMULATOR_QUIRKS` (what moto reports differently from AWS); removed afterwards.

The S3 backend keeps the stack's own bucket, key, ``use_lockfile``, ``encrypt``,
``assume_role`` and ``allowed_account_ids``; only the endpoints and path-style addressing are
added at ``terraform init`` time (``-backend-config``). The state-bucket stacks keep their
local backend, pointed into the work directory (``-backend-config=path=...``).

Credentials are dummies (``testing``) and exist only in the environment this module builds
for Terraform; moto maps ``AssumeRole`` on ``arn:aws:iam::<account>:role/...`` to that
account, so every environment acts in its own account exactly as in AWS.

CLI (``tools/emulator/cli.py``)::

    python -m tools.emulator try-dev [--stacks cdktf.out] [--workdir DIR] [--keep]
    python -m tools.emulator serve            # start moto on a free loopback port until Ctrl-C
    python -m tools.emulator excluded         # the switch: types left out of apply, and why

The package holds one concern per module: :mod:`~tools.emulator.catalogue` (what the
emulator cannot model), :mod:`~tools.emulator.server` (moto on loopback),
:mod:`~tools.emulator.terraform` (the Terraform runner and the override files),
:mod:`~tools.emulator.replan` (reading re-plans), :mod:`~tools.emulator.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:  # imported as `emulator` (tests put tools/ on the path) or run as a module
    sys.path.insert(0, str(_REPO))

from tools.emulator.catalogue import (  # noqa: E402
    EMULATOR_QUIRKS,
    EXCLUDED_RESOURCE_TYPES,
    Exclusion,
    Quirk,
    excluded_types,
    quirks_by_type,
    stack_kind,
)
from tools.emulator.cli import main, synthesize, try_dev  # noqa: E402
from tools.emulator.common import (  # noqa: E402
    DEAD_PROXY,
    DEFAULT_LOCK_TIMEOUT,
    DUMMY_CREDENTIAL,
    EXCLUSIONS_OVERRIDE_FILE,
    LOOPBACK,
    PROVIDER_OVERRIDE_FILE,
    QUIRKS_OVERRIDE_FILE,
    REPO,
    EmulatorError,
)
from tools.emulator.replan import ReplanFinding, ReplanRound, config_address, explain_replan, replan_through_quirks  # noqa: E402
from tools.emulator.server import MotoServer, free_loopback_port, moto_server_binary  # noqa: E402
from tools.emulator.terraform import (  # noqa: E402
    PROVIDER_KNOBS,
    EmulatedStack,
    Emulator,
    Plan,
    TerraformResult,
    describe_exclusions,
    platform_stack,
    state_stack,
    terraform_binary,
    write_cli_config,
)

__all__ = [
    "DEAD_PROXY",
    "DEFAULT_LOCK_TIMEOUT",
    "DUMMY_CREDENTIAL",
    "EMULATOR_QUIRKS",
    "EXCLUDED_RESOURCE_TYPES",
    "EXCLUSIONS_OVERRIDE_FILE",
    "LOOPBACK",
    "PROVIDER_KNOBS",
    "PROVIDER_OVERRIDE_FILE",
    "QUIRKS_OVERRIDE_FILE",
    "REPO",
    "EmulatedStack",
    "Emulator",
    "EmulatorError",
    "Exclusion",
    "MotoServer",
    "Plan",
    "Quirk",
    "ReplanFinding",
    "ReplanRound",
    "TerraformResult",
    "config_address",
    "describe_exclusions",
    "excluded_types",
    "explain_replan",
    "free_loopback_port",
    "main",
    "moto_server_binary",
    "platform_stack",
    "quirks_by_type",
    "replan_through_quirks",
    "stack_kind",
    "state_stack",
    "synthesize",
    "terraform_binary",
    "try_dev",
    "write_cli_config",
]
