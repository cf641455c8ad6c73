"""The emulator tier as ordered phases, each run once per module and recorded.

``tests/emulator/test_emulator.py`` asks for the phase a test needs; every earlier phase runs
first, in order, exactly once (a failed phase fails every test that needs it or a later one).
The server starts once, the state buckets and dev are applied once.

Phases: server -> state stacks (all environments) -> platform init -> a foreign account
refused -> platform plans
(all environments, everything planned) -> dev apply -> dev re-plans -> lock -> destroy -> stop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from environments import REGISTRY, load_environments
from tools.emulator import (
    DUMMY_CREDENTIAL,
    EmulatedStack,
    Emulator,
    MotoServer,
    Plan,
    ReplanRound,
    TerraformResult,
    platform_stack,
    replan_through_quirks,
    state_stack,
)

REGION = "eu-central-1"
ENVIRONMENTS = REGISTRY
DEFAULT_ACCOUNT = "123456789012"  # moto's own account: nothing may land there

PHASES = ("server", "states", "init", "accounts", "plans", "apply", "replan", "lock", "restore", "destroy", "stop")


@dataclass(frozen=True)
class Account:
    env: str
    account_id: str
    role_arn: str
    bucket: str
    region: str

    @property
    def state_key(self) -> str:
        return f"{self.env}/platform.tfstate"


ObjectVersions = dict[str, list[tuple[str, str, bool, bool]]]
"""key -> [(version id, etag or "" for a delete marker, is latest, is delete marker)]."""


@dataclass
class Tier:
    stacks_dir: Path
    workdir: Path
    accounts: dict[str, Account]
    repo_state_dir: Path
    server: MotoServer | None = None
    emulator: Emulator | None = None
    timings: dict[str, float] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)
    # what the phases record
    identities: dict[str, str] = field(default_factory=dict)
    repo_state_before: dict[str, float | None] = field(default_factory=dict)
    states: dict[str, EmulatedStack] = field(default_factory=dict)
    state_plans: dict[str, Plan] = field(default_factory=dict)
    state_applies: dict[str, TerraformResult] = field(default_factory=dict)
    platforms: dict[str, EmulatedStack] = field(default_factory=dict)
    inits: dict[str, TerraformResult] = field(default_factory=dict)
    versions_after_init: dict[str, ObjectVersions] = field(default_factory=dict)
    foreign_role: str = ""
    foreign_backend_init: TerraformResult | None = None
    foreign_provider_plan: TerraformResult | None = None
    plans: dict[str, Plan] = field(default_factory=dict)
    versions_after_plans: dict[str, ObjectVersions] = field(default_factory=dict)
    state_objects_before_apply: dict[str, bytes | None] = field(default_factory=dict)
    dev_apply: TerraformResult | None = None
    dev_outputs: dict[str, Any] = field(default_factory=dict)
    dev_state_after_apply: list[str] = field(default_factory=list)
    versions_after_apply: dict[str, ObjectVersions] = field(default_factory=dict)
    state_objects_after_apply: dict[str, bytes | None] = field(default_factory=dict)
    buckets_after_apply: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    replans: list[ReplanRound] = field(default_factory=list)
    lock_info: dict[str, str] = field(default_factory=dict)
    locked_apply: TerraformResult | None = None
    state_version_before_lock: str = ""
    state_version_after_lock: str = ""
    unlock: TerraformResult | None = None
    lock_object_after_unlock: bool = True
    replication: dict[str, dict[str, Any]] = field(default_factory=dict)
    replicated_by_emulator: bool | None = None
    state_before_disaster: bytes | None = None
    versions_after_disaster: list[Any] = field(default_factory=list)
    state_after_restore: bytes | None = None
    restore_plan: Plan | None = None
    dev_destroy: TerraformResult | None = None
    dev_state_after_destroy: list[str] = field(default_factory=list)
    server_pid: int = 0
    server_port: int = 0

    # --- running phases in order --------------------------------------------------------

    def reach(self, phase: str) -> Tier:
        """Run every phase up to ``phase`` that has not run yet; re-raise an earlier failure."""
        for name in PHASES[: PHASES.index(phase) + 1]:
            if name in self.failed:
                first_line = (str(self.failed[name]).splitlines() or [repr(self.failed[name])])[0]
                raise RuntimeError(f"phase {name!r} of the emulator tier failed earlier (see its first test): {first_line}")
            if name in self.done:
                continue
            step: Callable[[], None] = getattr(self, f"_phase_{name}")
            start = time.perf_counter()
            try:
                step()
            except BaseException as exc:
                self.failed[name] = exc
                raise
            finally:
                self.timings[name] = time.perf_counter() - start
            self.done.append(name)
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def emu(self) -> Emulator:
        assert self.emulator is not None
        return self.emulator

    # --- AWS clients on the emulator ----------------------------------------------------

    def client(self, service: str, account: Account | None = None, region: str = REGION) -> Any:
        assert self.server is not None
        config = Config(proxies={}, retries={"max_attempts": 2})  # loopback only, never an environment proxy
        base: dict[str, Any] = {
            "endpoint_url": self.server.url,
            "region_name": region,
            "config": config,
            "aws_access_key_id": DUMMY_CREDENTIAL,
            "aws_secret_access_key": DUMMY_CREDENTIAL,
        }
        if account is None:
            return boto3.client(service, **base)
        creds = boto3.client("sts", **base).assume_role(RoleArn=account.role_arn, RoleSessionName="emulator-tier")["Credentials"]
        base.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        return boto3.client(service, **base)

    def versions(self, account: Account) -> ObjectVersions:
        s3 = self.client("s3", account)
        found: ObjectVersions = {}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=account.bucket):
            for v in page.get("Versions", []):
                found.setdefault(v["Key"], []).append((v["VersionId"], v["ETag"], v["IsLatest"], False))
            for m in page.get("DeleteMarkers", []):
                found.setdefault(m["Key"], []).append((m["VersionId"], "", m["IsLatest"], True))
        return {k: sorted(v) for k, v in sorted(found.items())}

    def state_object(self, account: Account) -> bytes | None:
        s3 = self.client("s3", account)
        try:
            body: bytes = s3.get_object(Bucket=account.bucket, Key=account.state_key)["Body"].read()
            return body
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def all_objects(self, account_id: str, client: Any) -> dict[str, list[str]]:
        """bucket -> current object keys, for every bucket of one account."""
        del account_id
        found: dict[str, list[str]] = {}
        for bucket in client.list_buckets().get("Buckets", []):
            keys: list[str] = []
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
                keys.extend(o["Key"] for o in page.get("Contents", []))
            found[bucket["Name"]] = sorted(keys)
        return found

    # --- the phases ---------------------------------------------------------------------

    def _phase_server(self) -> None:
        self.repo_state_before = {env: _mtime(self.repo_state_dir / f"{env}-state.tfstate") for env in ENVIRONMENTS}
        self.server = MotoServer(self.workdir / "moto.log").start()
        self.server_pid, self.server_port = self.server.pid, self.server.port
        self.emulator = Emulator(self.server.url, self.workdir / "terraform")
        self.identities[DEFAULT_ACCOUNT] = self.client("sts").get_caller_identity()["Account"]
        for env, account in self.accounts.items():
            self.identities[env] = self.client("sts", account).get_caller_identity()["Account"]

    def _phase_states(self) -> None:
        for env in ENVIRONMENTS:
            stack = state_stack(self.emu, self.stacks_dir, env)
            self.states[env] = stack
            self.state_plans[env] = stack.plan(everything=True)
            self.state_applies[env] = stack.apply().check()

    def _phase_init(self) -> None:
        for env in ENVIRONMENTS:
            stack = platform_stack(self.emu, self.stacks_dir, env)
            self.platforms[env] = stack
            assert stack.init_result is not None
            self.inits[env] = stack.init_result
        for env, account in self.accounts.items():
            self.versions_after_init[env] = self.versions(account)

    def _phase_accounts(self) -> None:
        """dev's backend and provider, given stage's deploy role, must refuse to act (allowed_account_ids)."""
        self.foreign_role = self.accounts["stage"].role_arn
        probe = self.emu.stack(self.stacks_dir / "dev-platform", name="dev-platform-foreign-role")
        backend = self.workdir / "foreign-role.tfbackend"
        backend.write_text(self.emu.backend_config.read_text() + f'assume_role = {{ role_arn = "{self.foreign_role}" }}\n')
        self.foreign_backend_init = probe.terraform("init", "-input=false", "-no-color", f"-backend-config={backend}")
        probe.init()
        (probe.path / "foreign_role_override.tf.json").write_text(
            json.dumps({"provider": {"aws": {"assume_role": [{"role_arn": self.foreign_role}]}}})
        )
        self.foreign_provider_plan = probe.terraform("plan", "-input=false", "-no-color", "-lock=false", "-refresh=false")

    def _phase_plans(self) -> None:
        for env in ENVIRONMENTS:
            self.plans[env] = self.platforms[env].plan(everything=True)
        for env, account in self.accounts.items():
            self.versions_after_plans[env] = self.versions(account)
            self.state_objects_before_apply[env] = self.state_object(account)

    def _phase_apply(self) -> None:
        dev = self.platforms["dev"]
        self.dev_apply = dev.apply().check()
        self.dev_outputs = dev.outputs()
        self.dev_state_after_apply = dev.state_addresses()
        for env, account in self.accounts.items():
            self.versions_after_apply[env] = self.versions(account)
            self.state_objects_after_apply[env] = self.state_object(account)
        self.buckets_after_apply[DEFAULT_ACCOUNT] = self.all_objects(DEFAULT_ACCOUNT, self.client("s3"))
        for account in self.accounts.values():
            self.buckets_after_apply[account.account_id] = self.all_objects(account.account_id, self.client("s3", account))

    def _phase_replan(self) -> None:
        self.replans = replan_through_quirks(self.platforms["dev"])

    def _phase_lock(self) -> None:
        dev, account = self.platforms["dev"], self.accounts["dev"]
        s3 = self.client("s3", account)
        lock_key = f"{account.state_key}.tflock"
        self.state_version_before_lock = s3.head_object(Bucket=account.bucket, Key=account.state_key)["VersionId"]
        self.lock_info = {
            "ID": "2f9c2c0e-5d5e-4c39-9c77-0e6a9d1f0001",
            "Operation": "OperationTypeApply",
            "Info": "",
            "Who": "emulator-tier@loopback",
            "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00.000000000Z",
            "Path": f"{account.bucket}/{account.state_key}",
        }
        s3.put_object(Bucket=account.bucket, Key=lock_key, Body=json.dumps(self.lock_info).encode())
        try:
            self.locked_apply = dev.apply(lock_timeout="0s")
            self.state_version_after_lock = s3.head_object(Bucket=account.bucket, Key=account.state_key)["VersionId"]
        finally:
            self.unlock = dev.terraform("force-unlock", "-force", self.lock_info["ID"])
        try:
            s3.head_object(Bucket=account.bucket, Key=lock_key)
            self.lock_object_after_unlock = True
        except ClientError:
            self.lock_object_after_unlock = False

    def _phase_restore(self) -> None:
        """The restore rehearsal (docs/runbooks/restore.md, "State"): dev's state lost in its
        bucket, brought back from the replica, re-planned."""
        (env,) = load_environments(["dev"])
        account, dev = self.accounts["dev"], self.platforms["dev"]
        s3 = self.client("s3", account)
        replica_s3 = self.client("s3", account, region=env.storage.replica_region)
        for bucket in (account.bucket, env.bucket_name("velero")):
            self.replication[bucket] = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
        replica = env.state_replica_bucket
        listed = replica_s3.list_objects_v2(Bucket=replica).get("Contents", [])
        self.replicated_by_emulator = any(o["Key"] == account.state_key for o in listed)
        self.state_before_disaster = self.state_object(account)
        assert self.state_before_disaster is not None
        if not self.replicated_by_emulator:
            # moto keeps the rule but copies nothing: put the copy S3 replication would have made.
            replica_s3.put_object(Bucket=replica, Key=account.state_key, Body=self.state_before_disaster)
        # The mistake: every version of the state deleted for good in the source bucket.
        for version, *_ in self.versions(account).get(account.state_key, []):
            s3.delete_object(Bucket=account.bucket, Key=account.state_key, VersionId=version)
        self.versions_after_disaster = self.versions(account).get(account.state_key, [])
        # The restore: copy the replica's newest version back (aws s3 cp s3://<replica>/<key> s3://<bucket>/<key>).
        s3.copy_object(Bucket=account.bucket, Key=account.state_key, CopySource={"Bucket": replica, "Key": account.state_key})
        self.state_after_restore = self.state_object(account)
        dev.neutralize_quirks(self.replans[-1].ignored)
        try:
            self.restore_plan = dev.plan(everything=False, detailed=True, name="after-restore")
        finally:
            dev.neutralize_quirks(None)

    def _phase_destroy(self) -> None:
        dev = self.platforms["dev"]
        self.dev_destroy = dev.destroy().check()
        self.dev_state_after_destroy = dev.state_addresses()

    def _phase_stop(self) -> None:
        assert self.server is not None
        self.server.stop()


def _mtime(path: Path) -> float | None:
    return path.stat().st_mtime if path.exists() else None
