"""Run the pinned Renovate offline: validate ``renovate.json`` and extract what it tracks.

    python tools/renovate.py            # one line per manager: how many dependencies it tracks
    python tools/renovate.py --json     # the whole extract report

Renovate runs on a snapshot of the working tree (a throwaway git repository, because its
``local`` platform reads only tracked files), in extract-only mode: it reads the files and
reports every dependency it found, and it looks nothing up, so nothing leaves the machine.
The network is also cut off by a dead proxy, so a lookup would fail instead of leaking.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.toolchain import ToolchainError, node24_dir  # noqa: E402

RENOVATE = REPO / "tools" / "node-tools" / "node_modules" / "renovate" / "dist"
DEAD_PROXY = "http://127.0.0.1:9"


class RenovateError(RuntimeError):
    """Renovate is missing, rejects the configuration, or reports a problem."""


def _env(home: Path) -> dict[str, str]:
    node = node24_dir() / "bin"
    return {
        "PATH": f"{node}:/usr/bin:/bin",
        "HOME": str(home),
        "LOG_LEVEL": "warn",
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "NO_PROXY": "",
    }


def _snapshot(target: Path) -> None:
    """The working tree's tracked and new files, committed in a fresh repository at ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    )
    for name in listed.stdout.splitlines():
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=renovate-extract", "-c", "user.email=renovate@localhost", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run([*git, *args], cwd=target, check=True, capture_output=True)


def validate() -> None:
    """``renovate-config-validator --strict`` on the repository's renovate.json."""
    try:
        env = _env(Path(tempfile.gettempdir()))
        node = str(node24_dir() / "bin" / "node")
    except ToolchainError as exc:
        raise RenovateError(str(exc)) from None
    proc = subprocess.run(
        [node, str(RENOVATE / "config-validator.js"), "--strict"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RenovateError(f"renovate-config-validator --strict: {(proc.stdout + proc.stderr).strip()[-2000:]}")


def extract() -> dict[str, Any]:
    """Renovate's extract report of a snapshot of the working tree."""
    if not (RENOVATE / "renovate.js").is_file():
        raise RenovateError(f"{RENOVATE / 'renovate.js'} is missing: run `make setup`")
    with tempfile.TemporaryDirectory(prefix="renovate-extract-") as work:
        root = Path(work)
        repo = root / "repo"
        repo.mkdir()
        _snapshot(repo)
        report = root / "report.json"
        try:
            env = {
                **_env(root),
                "RENOVATE_PLATFORM": "local",
                "RENOVATE_DRY_RUN": "extract",
                "RENOVATE_REPOSITORY_CACHE": "disabled",
                # Only to satisfy the github-releases datasource's preflight; never used (no lookups).
                "RENOVATE_GITHUB_COM_TOKEN": "offline-extract",
                "RENOVATE_BASE_DIR": str(root / "base"),
                "RENOVATE_REPORT_TYPE": "file",
                "RENOVATE_REPORT_PATH": str(report),
            }
            node = str(node24_dir() / "bin" / "node")
        except ToolchainError as exc:
            raise RenovateError(str(exc)) from None
        proc = subprocess.run(
            [node, str(RENOVATE / "renovate.js")], cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        if proc.returncode != 0 or not report.is_file():
            raise RenovateError(f"renovate extract failed ({proc.returncode}): {(proc.stdout + proc.stderr).strip()[-2000:]}")
        document: dict[str, Any] = json.loads(report.read_text())
    problems = document.get("problems") or document.get("repositories", {}).get("local", {}).get("problems")
    if problems:
        raise RenovateError(f"renovate reports problems: {problems}")
    return document


def dependencies(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Manager -> the dependencies it found (each with ``packageFile`` added)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for manager, files in report["repositories"]["local"]["packageFiles"].items():
        for package_file in files:
            for dep in package_file["deps"]:
                found.setdefault(manager, []).append({**dep, "packageFile": package_file["packageFile"]})
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        validate()
        report = extract()
    except RenovateError as exc:
        print(f"renovate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for manager, deps in sorted(dependencies(report).items()):
        tracked = [d for d in deps if d.get("datasource") != "kubernetes-api" and not d.get("skipReason")]
        print(f"{manager}: {len(tracked)} dependencies tracked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
