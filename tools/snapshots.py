"""Keep a normalized copy of every synthesized stack in the repository, for review.

The synthesized Terraform JSON is what actually changes the infrastructure, so it is
reviewed in the merge request as a plain diff of ``snapshots/<stack>.json``:

    make snapshots          # synthesize, then write snapshots/ from cdktf.out (commit the result)
    make snapshots-check    # CI, after `make synth`: fail if snapshots/ is not what cdktf.out holds

Normalization makes the files diff well and stay byte-identical across machines: keys
sorted, 2-space indent, one trailing newline, and the one machine-dependent value cdktf
writes, the absolute checkout path (the local backend of ``<env>-state`` stacks), replaced
by ``<repo>``. Everything else, including the ``//`` metadata (backend, stack name, cdktf
version), is stable and kept.

``--check`` exits 1 and lists the stale, missing and extra snapshots (with the first lines
of each stale diff) and a one-line hint; a missing or empty synth output exits 2.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REPO_MARKER = "<repo>"
HINT = "run `make snapshots` (it synthesizes first) and commit snapshots/"
DIFF_LINES = 20


class SnapshotError(Exception):
    """The synth output cannot be snapshotted (missing, empty or unreadable)."""


def _replace_root(value: Any, root: str) -> Any:
    if isinstance(value, str):
        if value == root:
            return REPO_MARKER
        return value.replace(root + "/", REPO_MARKER + "/")
    if isinstance(value, list):
        return [_replace_root(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _replace_root(v, root) for k, v in value.items()}
    return value


def normalize(stack_json: str, repo_root: Path) -> str:
    """The snapshot text of one ``cdk.tf.json``."""
    document = json.loads(stack_json)
    return json.dumps(_replace_root(document, str(repo_root)), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def synthesized(synth_dir: Path, repo_root: Path) -> dict[str, str]:
    """Snapshot text of every stack under ``<synth_dir>/stacks``, by stack name."""
    stacks_dir = synth_dir / "stacks"
    if not stacks_dir.is_dir():
        raise SnapshotError(f"{stacks_dir} does not exist; run `make synth` first")
    stacks: dict[str, str] = {}
    for stack_dir in sorted(p for p in stacks_dir.iterdir() if p.is_dir()):
        path = stack_dir / "cdk.tf.json"
        if not path.is_file():
            raise SnapshotError(f"{path} is missing; the synth output is incomplete")
        try:
            stacks[stack_dir.name] = normalize(path.read_text(), repo_root)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{path} is not JSON ({exc})") from None
    if not stacks:
        raise SnapshotError(f"{stacks_dir} holds no stacks; run `make synth` first")
    return stacks


def committed(snapshot_dir: Path) -> dict[str, str]:
    """The snapshots in ``snapshot_dir``, by stack name."""
    if not snapshot_dir.is_dir():
        return {}
    return {p.stem: p.read_text() for p in sorted(snapshot_dir.glob("*.json"))}


@dataclass(frozen=True)
class Comparison:
    """How the committed snapshots differ from the synth output."""

    stale: dict[str, list[str]] = field(default_factory=dict)
    """Stack name to its unified diff (committed -> synthesized)."""
    missing: list[str] = field(default_factory=list)
    """Stacks synthesized but without a snapshot."""
    extra: list[str] = field(default_factory=list)
    """Snapshots of stacks that are no longer synthesized."""

    @property
    def current(self) -> bool:
        return not (self.stale or self.missing or self.extra)


def compare(expected: dict[str, str], actual: dict[str, str], snapshot_dir: Path) -> Comparison:
    stale: dict[str, list[str]] = {}
    for name in sorted(expected.keys() & actual.keys()):
        if expected[name] != actual[name]:
            stale[name] = list(
                difflib.unified_diff(
                    actual[name].splitlines(),
                    expected[name].splitlines(),
                    fromfile=f"{snapshot_dir.name}/{name}.json (committed)",
                    tofile=f"{snapshot_dir.name}/{name}.json (synthesized)",
                    lineterm="",
                )
            )
    return Comparison(
        stale=stale,
        missing=sorted(expected.keys() - actual.keys()),
        extra=sorted(actual.keys() - expected.keys()),
    )


def write(expected: dict[str, str], snapshot_dir: Path) -> list[str]:
    """Make ``snapshot_dir`` hold exactly ``expected``; returns one line per file changed."""
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    actual = committed(snapshot_dir)
    changes: list[str] = []
    for name, text in expected.items():
        if actual.get(name) != text:
            (snapshot_dir / f"{name}.json").write_text(text)
            changes.append(f"{'updated' if name in actual else 'created'} {snapshot_dir.name}/{name}.json")
    for name in sorted(actual.keys() - expected.keys()):
        (snapshot_dir / f"{name}.json").unlink()
        changes.append(f"removed {snapshot_dir.name}/{name}.json (stack no longer synthesized)")
    return changes


def report(result: Comparison) -> str:
    lines = ["snapshots are out of date:"]
    for name, diff in result.stale.items():
        lines.append(f"  stale:   {name}")
        shown = diff[:DIFF_LINES]
        lines.extend(f"    {line}" for line in shown)
        if len(diff) > len(shown):
            lines.append(f"    ... {len(diff) - len(shown)} more diff lines")
    lines.extend(f"  missing: {name}" for name in result.missing)
    lines.extend(f"  extra:   {name} (no such stack in the synth output)" for name in result.extra)
    lines.append(f"hint: {HINT}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify instead of write; exit 1 when stale")
    parser.add_argument("--synth-dir", type=Path, default=REPO / "cdktf.out", help="synth output (default: cdktf.out)")
    parser.add_argument("--snapshot-dir", type=Path, default=REPO / "snapshots", help="snapshot directory (default: snapshots)")
    parser.add_argument("--repo-root", type=Path, default=REPO, help="checkout path replaced by <repo> (default: this repository)")
    args = parser.parse_args(argv)
    try:
        expected = synthesized(args.synth_dir, args.repo_root.resolve())
    except SnapshotError as exc:
        print(f"snapshots: {exc}", file=sys.stderr)
        return 2
    if args.check:
        result = compare(expected, committed(args.snapshot_dir), args.snapshot_dir)
        if not result.current:
            print(report(result), file=sys.stderr)
            return 1
        print(f"snapshots: {len(expected)} stacks match {args.snapshot_dir.name}/")
        return 0
    changes = write(expected, args.snapshot_dir)
    for line in changes:
        print(line)
    print(f"snapshots: {len(expected)} stacks, {len(changes)} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
