"""The real Terraform CLI in emulator mode: stacks copied, override files added, runs logged."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tools.check_tools import terraform_cli_config
from tools.emulator.catalogue import EMULATOR_QUIRKS, excluded_types, stack_kind
from tools.emulator.common import (
    DEAD_PROXY,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_PARALLELISM,
    DUMMY_CREDENTIAL,
    EXCLUSIONS_OVERRIDE_FILE,
    LOOPBACK,
    PROVIDER_OVERRIDE_FILE,
    QUIRKS_OVERRIDE_FILE,
    TERRAFORM_TIMEOUT_SECONDS,
    EmulatorError,
)
from tools.emulator.server import _minimal_env


@dataclass(frozen=True)
class TerraformResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def check(self, allowed: Sequence[int] = (0,)) -> TerraformResult:
        if self.returncode not in allowed:
            detail = self.stderr.strip() or self.stdout  # Terraform writes its errors to stderr
            raise EmulatorError(f"terraform {' '.join(self.args)} exited with {self.returncode}:\n{detail[-6000:]}")
        return self


@dataclass
class Plan:
    """A saved plan and its ``terraform show -json`` document."""

    result: TerraformResult
    document: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return self.result.returncode

    def changes(self) -> dict[str, list[str]]:
        """Address -> actions of every resource change that is not a no-op or a read."""
        return {
            rc["address"]: rc["change"]["actions"]
            for rc in self.document.get("resource_changes", [])
            if rc["change"]["actions"] not in (["no-op"], ["read"])
        }


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise EmulatorError("terraform is not on PATH (need >= 1.10; see tools/check_tools.py)")
    return found


def write_cli_config(path: Path, mirror: Path | None = None) -> Path:
    """A Terraform CLI config: hashicorp/aws from the offline mirror, or the registry without one."""
    try:
        return terraform_cli_config(path, mirror)
    except FileNotFoundError as exc:
        raise EmulatorError(str(exc)) from None


class Emulator:
    """Terraform pointed at one running emulator, with its work directory."""

    def __init__(self, endpoint: str, workdir: Path, *, parallelism: int = DEFAULT_PARALLELISM, mirror: Path | None = None) -> None:
        self.endpoint = endpoint
        self.workdir = workdir
        self.parallelism = parallelism
        self.terraform = terraform_binary()
        workdir.mkdir(parents=True, exist_ok=True)
        self.cli_config = write_cli_config(workdir / "terraformrc", mirror)
        self.backend_config = workdir / "emulator.s3.tfbackend"
        self.backend_config.write_text(
            "# S3 backend on the emulator: only endpoints and addressing; bucket, key, lock file,\n"
            "# encryption, assume_role and allowed_account_ids stay as synthesized.\n"
            "endpoints = {\n"
            f'  s3  = "{endpoint}"\n  sts = "{endpoint}"\n  iam = "{endpoint}"\n'
            "}\n"
            "use_path_style          = true\n"
            "skip_metadata_api_check = true\n"
            "max_retries             = 2\n"
        )
        self.local_states = workdir / "local-state"
        self.local_states.mkdir(exist_ok=True)
        self.log = workdir / "terraform.log"

    def env(self) -> dict[str, str]:
        """The environment of every Terraform run: emulator endpoint, dummy credentials, no egress."""
        return _minimal_env(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
                "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
                "AWS_EC2_METADATA_DISABLED": "true",
                "HTTP_PROXY": DEAD_PROXY,
                "HTTPS_PROXY": DEAD_PROXY,
                "NO_PROXY": f"{LOOPBACK},localhost",
                "TF_CLI_CONFIG_FILE": str(self.cli_config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
            }
        )

    def stack(self, source: Path, name: str = "") -> EmulatedStack:
        """Copy a synthesized stack directory into the work directory (as ``name``), in emulator mode."""
        target = self.workdir / "stacks" / (name or source.name)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan", "*.plan"))
        return EmulatedStack(self, target)

    def run(self, args: Sequence[str], cwd: Path, timeout: float = TERRAFORM_TIMEOUT_SECONDS) -> TerraformResult:
        start = time.perf_counter()
        proc = subprocess.run(
            [self.terraform, *args],
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        result = TerraformResult(tuple(args), proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)
        with self.log.open("a") as log:
            log.write(f"\n===== {cwd.name}: terraform {' '.join(args)} -> {proc.returncode} ({result.seconds:.1f}s)\n{result.output}")
        return result


@dataclass
class EmulatedStack:
    """A copy of one synthesized stack, run against the emulator."""

    emulator: Emulator
    path: Path
    config: dict[str, Any] = field(init=False)
    init_result: TerraformResult | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.config = json.loads((self.path / "cdk.tf.json").read_text())
        # Override blocks match providers by alias: one per AWS provider of the stack.
        aliases = [p.get("alias") for p in self.config.get("provider", {}).get("aws", [])] or [None]
        blocks = [{**({"alias": alias} if alias else {}), **PROVIDER_KNOBS} for alias in aliases]
        _write_json(self.path / PROVIDER_OVERRIDE_FILE, {"provider": {"aws": blocks}})

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind(self) -> str:
        return stack_kind(self.config.get("//", {}).get("metadata", {}).get("stackName", self.name))

    @property
    def local_state(self) -> Path:
        """Where a local-backend (state-bucket) stack keeps its state in emulator mode."""
        return self.emulator.local_states / f"{self.name}.tfstate"

    def resources(self) -> dict[str, dict[str, Any]]:
        """Config address (``type.name``) -> resource body."""
        return {f"{rtype}.{name}": body for rtype, block in self.config.get("resource", {}).items() for name, body in block.items()}

    def excluded(self) -> dict[str, str]:
        """Config address -> reason, for every resource the switch leaves out of apply."""
        types = excluded_types(self.kind)
        return {address: types[address.split(".", 1)[0]] for address in self.resources() if address.split(".", 1)[0] in types}

    def terraform(self, *args: str, timeout: float = TERRAFORM_TIMEOUT_SECONDS) -> TerraformResult:
        return self.emulator.run(args, self.path, timeout)

    # -- the override files --------------------------------------------------------------

    def exclude(self, active: bool) -> None:
        """Write (or remove) ``count = 0`` for every excluded resource."""
        target = self.path / EXCLUSIONS_OVERRIDE_FILE
        if not active:
            target.unlink(missing_ok=True)
            return
        excluded = self.excluded()
        resources = self.resources()
        for address, body in resources.items():
            if address in excluded:
                continue
            text = json.dumps({k: v for k, v in body.items() if k != "depends_on"})
            for other in excluded:
                if _reference(other).search(text):
                    raise EmulatorError(f"{address} refers to {other}, which the emulator leaves out; it cannot be applied without it")
        for section in ("output", "locals"):
            text = json.dumps(self.config.get(section, {}))
            for other in excluded:
                if _reference(other).search(text):
                    raise EmulatorError(f"an {section} refers to {other}, which the emulator leaves out")
        override: dict[str, dict[str, dict[str, Any]]] = {}
        for address in excluded:
            rtype, name = address.split(".", 1)
            body = resources[address]
            if "for_each" in body:
                entry: dict[str, Any] = {"for_each": {}}
            else:
                entry = {"count": 0}
            # References between excluded resources must name an instance once they have a count;
            # these bodies are never evaluated (zero instances).
            for key, value in body.items():
                if key in ("//", "depends_on", "lifecycle", "provider", "count", "for_each"):
                    continue
                rewritten = _index_references(value, excluded)
                if rewritten != value:
                    entry[key] = rewritten
            override.setdefault(rtype, {})[name] = entry
        _write_json(
            target, {"//": "emulator mode only: resources the emulator does not model (tools/emulator/catalogue.py)", "resource": override}
        )

    def neutralize_quirks(self, ignore: Mapping[str, Sequence[str]] | None) -> None:
        """Write ``ignore_changes`` for exactly these config addresses and attributes (``None``: remove the file)."""
        target = self.path / QUIRKS_OVERRIDE_FILE
        if not ignore:
            target.unlink(missing_ok=True)
            return
        resources = self.resources()
        allowed = {(q.resource_type, q.attribute) for q in EMULATOR_QUIRKS}
        override: dict[str, dict[str, dict[str, Any]]] = {}
        for address, attributes in sorted(ignore.items()):
            rtype, name = address.split(".", 1)
            unknown = [a for a in attributes if (rtype, a) not in allowed]
            if address not in resources or unknown:
                raise EmulatorError(f"refusing to ignore {address} {unknown or attributes}: not a known emulator quirk of this stack")
            existing = list(resources[address].get("lifecycle", {}).get("ignore_changes", []))
            override.setdefault(rtype, {})[name] = {
                "lifecycle": {"ignore_changes": existing + [a for a in attributes if a not in existing]}
            }
        _write_json(
            target,
            {"//": "emulator mode only: attributes moto reports differently from AWS (tools/emulator/catalogue.py)", "resource": override},
        )

    # -- Terraform operations ------------------------------------------------------------

    def init(self) -> TerraformResult:
        backend = self.config.get("terraform", {}).get("backend", {})
        if "s3" in backend:
            config = f"-backend-config={self.emulator.backend_config}"
        elif "local" in backend:
            config = f"-backend-config=path={self.local_state}"
        else:
            raise EmulatorError(f"{self.name}: unexpected backend {sorted(backend)}")
        self.init_result = self.terraform("init", "-input=false", "-no-color", config).check()
        return self.init_result

    def plan(self, *, everything: bool, detailed: bool = False, name: str = "", lock_timeout: str = DEFAULT_LOCK_TIMEOUT) -> Plan:
        """Plan everything (``everything=True``: nothing excluded) or what the emulator models.

        The plan is saved as ``<name>.tfplan`` in the stack directory (default: ``everything``/``modeled``).
        """
        self.exclude(not everything)
        plan_file = f"{name or ('everything' if everything else 'modeled')}.tfplan"
        args = ["plan", "-input=false", "-no-color", f"-parallelism={self.emulator.parallelism}", f"-lock-timeout={lock_timeout}"]
        if detailed:
            args.append("-detailed-exitcode")
        result = self.terraform(*args, f"-out={plan_file}").check((0, 2) if detailed else (0,))
        shown = self.terraform("show", "-json", "-no-color", plan_file).check()
        return Plan(result, json.loads(shown.stdout))

    def apply(self, *, lock_timeout: str = DEFAULT_LOCK_TIMEOUT) -> TerraformResult:
        """Apply what the emulator models (the excluded types stay out). Not checked: callers decide."""
        self.exclude(True)
        return self.terraform(
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            f"-parallelism={self.emulator.parallelism}",
            f"-lock-timeout={lock_timeout}",
        )

    def destroy(self, *, lock_timeout: str = DEFAULT_LOCK_TIMEOUT) -> TerraformResult:
        self.exclude(True)
        return self.terraform(
            "destroy",
            "-input=false",
            "-no-color",
            "-auto-approve",
            f"-parallelism={self.emulator.parallelism}",
            f"-lock-timeout={lock_timeout}",
        )

    def outputs(self) -> dict[str, Any]:
        """``terraform output -json``: name -> value."""
        shown = self.terraform("output", "-json", "-no-color").check()
        return {name: entry["value"] for name, entry in json.loads(shown.stdout).items()}

    def state_addresses(self) -> list[str]:
        listed = self.terraform("state", "list").check()
        return [line for line in listed.stdout.splitlines() if line.strip()]


PROVIDER_KNOBS: Final[dict[str, Any]] = {
    "skip_metadata_api_check": True,  # never ask an instance-metadata endpoint for credentials
    "s3_use_path_style": True,  # http://127.0.0.1:<port>/<bucket>, not <bucket>.127.0.0.1
    "max_retries": 2,  # moto answers at once; a 500 is a gap, not throttling
}
"""What ``emulator_override.tf.json`` sets on the AWS provider. The region, ``assume_role``,
``allowed_account_ids`` and ``default_tags`` stay as synthesized; the endpoint comes from
``AWS_ENDPOINT_URL`` in the environment Terraform runs in."""


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def _reference(address: str, *, attribute: bool = False) -> re.Pattern[str]:
    """A reference to ``address`` in an expression (names may contain ``-``, so ``\\b`` is not enough)."""
    tail = r"\." if attribute else r"(?![\w-])"
    return re.compile(rf"(?<![\w.-]){re.escape(address)}{tail}")


def _index_references(value: Any, addresses: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for address in addresses:
            value = _reference(address, attribute=True).sub(f"{address}[0].", value)
        return value
    if isinstance(value, list):
        return [_index_references(v, addresses) for v in value]
    if isinstance(value, dict):
        return {k: _index_references(v, addresses) for k, v in value.items()}
    return value


# --- environment-level steps (shared by try-dev and the tier) ------------------------------


def state_stack(emulator: Emulator, stacks_dir: Path, env: str) -> EmulatedStack:
    """Prepare and ``init`` ``<env>-state`` (local state in the work directory)."""
    stack = emulator.stack(stacks_dir / f"{env}-state")
    stack.init()
    return stack


def platform_stack(emulator: Emulator, stacks_dir: Path, env: str) -> EmulatedStack:
    """Prepare and ``init`` ``<env>-platform`` (its S3 backend, on the emulator)."""
    stack = emulator.stack(stacks_dir / f"{env}-platform")
    stack.init()
    return stack


def describe_exclusions(stack: EmulatedStack) -> list[str]:
    """One line per excluded address: what is planned but not applied, and why."""
    return [f"{stack.name}: {address} - planned, not applied: {reason}" for address, reason in sorted(stack.excluded().items())]
