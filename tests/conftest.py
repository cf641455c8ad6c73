"""Shared fixtures: one synth per test session, and the tools the tiers need.

The synth runs the real entry point (``python main.py``) once into a temporary directory;
every test that asserts on synthesized JSON reads that output. A missing tool fails the
test that needs it; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))


import platform_constructs  # noqa: E402, F401 - first: provider packages load lazily in every test module
from tools.toolchain import ToolchainError, synthesize, tool_env  # noqa: E402

# jsii (in-process tests) must find the same Node.
os.environ["PATH"] = tool_env()["PATH"]


@dataclass(frozen=True)
class Synth:
    """The output of one ``python main.py`` run."""

    outdir: Path
    seconds: float
    provider_modules: tuple[str, ...]
    """Provider modules the synth process had loaded when it finished."""

    @property
    def stacks(self) -> list[str]:
        return sorted(p.name for p in (self.outdir / "stacks").iterdir())

    def stack_dir(self, name: str) -> Path:
        return self.outdir / "stacks" / name

    def stack(self, name: str) -> dict[str, Any]:
        return _load(self.stack_dir(name) / "cdk.tf.json")

    def resources(self, name: str, rtype: str) -> dict[str, Any]:
        return self.stack(name).get("resource", {}).get(rtype, {})


_cache: dict[Path, dict[str, Any]] = {}


def _load(path: Path) -> dict[str, Any]:
    if path not in _cache:
        _cache[path] = json.loads(path.read_text())
    return _cache[path]


# main.py's own code path (module-level setup, then main()), plus a record of which provider
# modules the process loaded, written next to the output.
_SYNTH = (
    "import json, sys, main; code = main.main(); "
    "open(sys.argv[1], 'w').write(json.dumps(sorted(m for m in sys.modules if m.startswith('cdktf_cdktf_provider_')))); "
    "sys.exit(code)"
)


def run_synth(outdir: Path, **env: str) -> float:
    """Run main.py's ``main()`` into ``outdir``; returns its wall time."""
    try:
        return synthesize(
            outdir, code=_SYNTH.replace("sys.argv[1]", repr(str(outdir.parent / "provider-modules.json"))), timeout=600, **env
        )
    except ToolchainError as exc:
        raise AssertionError(str(exc)) from None


_background_synth: dict[str, Any] = {}


def _start_synth() -> None:
    """Start the session's synth at once, so it runs while the tests that need none do."""
    import tempfile
    import time

    outdir = Path(tempfile.mkdtemp(prefix="session-synth-")) / "cdktf.out"
    code = _SYNTH.replace("sys.argv[1]", repr(str(outdir.parent / "provider-modules.json")))
    _background_synth.update(
        outdir=outdir,
        started=time.perf_counter(),
        proc=subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=REPO,
            env=tool_env(CDKTF_OUTDIR=str(outdir)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    )


@pytest.fixture(scope="session")
def synth() -> Synth:
    import time

    if not _background_synth:
        _start_synth()
    proc: subprocess.Popen[str] = _background_synth["proc"]
    _, stderr = proc.communicate(timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"synth failed ({proc.returncode}):\n{stderr[-4000:]}")
    outdir: Path = _background_synth["outdir"]
    seconds = time.perf_counter() - _background_synth["started"]
    modules = json.loads((outdir.parent / "provider-modules.json").read_text())
    return Synth(outdir=outdir, seconds=seconds, provider_modules=tuple(modules))


from environments import REGISTRY  # noqa: E402

ENVIRONMENTS = REGISTRY


@pytest.fixture(scope="session")
def environments() -> Iterator[Any]:
    from environments import load_environments

    yield {e.name: e for e in load_environments()}


def upstream_file(path: str) -> Path:
    """A verified local copy of a pinned upstream file (tools/pins/upstream.py), or one failure line."""
    from tools.pins.upstream import UpstreamError, materialize

    try:
        return materialize(path)
    except UpstreamError as exc:
        pytest.fail(str(exc))


def require_tool(name: str) -> str:
    found = shutil.which(name, path=tool_env()["PATH"])
    if not found:
        pytest.fail(f"{name} is not on PATH; run `make setup` (tests never skip a missing tool)")
    return found


# --- the naive synth, started in the background as soon as the session knows it needs it ----

_naive: dict[str, Any] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the naive (eager-import) synth early so it overlaps the other tests."""
    if any(item.get_closest_marker("slow") for item in session.items):
        import tempfile

        outdir = Path(tempfile.mkdtemp(prefix="naive-synth-")) / "cdktf.out"
        _naive["outdir"] = outdir
        _naive["proc"] = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=REPO,
            env=tool_env(CDKTF_OUTDIR=str(outdir), PLATFORM_EAGER_PROVIDER_IMPORTS="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture(scope="session")
def naive_synth() -> Path:
    """Output of ``python main.py`` with provider packages imported the normal (eager) way."""
    proc = _naive.get("proc")
    if proc is None:
        pytest.fail("the naive synth was not started (mark the test `slow`)")
    _, stderr = proc.communicate(timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"naive synth failed: {stderr[-3000:]}")
    return Path(_naive["outdir"])
