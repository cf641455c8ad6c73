"""Run checkov over synthesized stacks; honour only the skips written into the stacks.

checkov's ``terraform_json`` runner ignores inline ``checkov:skip`` comments, so the
project records each exception on the resource itself (``"//": {"checkov": {ID: reason}}``,
see ``platform_constructs/checkov.py``) and this script applies them: a failed check is
*skipped* only if the failing resource carries a skip for that check id with a reason.
Everything else is a failure. Usage::

    python tools/scan.py cdktf.out/stacks/dev-platform [more stack dirs...]

Exit status 0 when no unjustified failure remains, 1 otherwise, 2 when checkov is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"


@dataclass
class ScanResult:
    stack: str
    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)


def checkov_binary() -> str:
    configured = os.environ.get("CHECKOV", str(DEFAULT_CHECKOV))
    found = shutil.which(configured)
    if not found:
        raise FileNotFoundError(f"checkov not found at {configured}; run `make setup` (or set CHECKOV)")
    return found


def declared_skips(stack_json: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(resource address, check id) -> reason, from every resource's ``//`` object."""
    skips: dict[tuple[str, str], str] = {}
    for kind in ("resource", "data"):
        for rtype, resources in stack_json.get(kind, {}).items():
            for name, body in resources.items():
                for check_id, text in body.get("//", {}).get("checkov", {}).items():
                    prefix = f"checkov:skip={check_id}:"
                    reason = text[len(prefix) :].strip() if text.startswith(prefix) else ""
                    address = f"{rtype}.{name}" if kind == "resource" else f"data.{rtype}.{name}"
                    skips[(address, check_id)] = reason
    return skips


def scan(stack_dirs: list[Path]) -> list[ScanResult]:
    """One checkov run over all ``stack_dirs``; results per stack, skips applied."""
    stack_dirs = [d.resolve() for d in stack_dirs]
    skips = {d: declared_skips(json.loads((d / "cdk.tf.json").read_text())) for d in stack_dirs}
    command = [checkov_binary(), "--framework", "terraform_json", "--skip-download", "-o", "json"]
    for d in stack_dirs:
        command += ["-d", str(d)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"checkov failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    reports: list[dict[str, Any]] = []
    decoder, text, pos = json.JSONDecoder(), proc.stdout, 0
    while pos < len(text):  # checkov prints one JSON document per -d
        if text[pos].isspace():
            pos += 1
            continue
        doc, pos = decoder.raw_decode(text, pos)
        reports.extend(doc if isinstance(doc, list) else [doc])
    results = {d: ScanResult(stack=d.name) for d in stack_dirs}

    def owner(check: dict[str, Any]) -> Path:
        path = Path(check["file_abs_path"]).resolve()
        return next(d for d in stack_dirs if path.is_relative_to(d))

    seen: set[tuple[str, str, str, str]] = set()

    def first_time(check: dict[str, Any], outcome: str) -> bool:
        key = (outcome, check["check_id"], check["resource"], check["file_abs_path"])
        if key in seen:  # with several -d, checkov repeats earlier results in later documents
            return False
        seen.add(key)
        return True

    for rep in reports:
        checks = rep.get("results", {}) if isinstance(rep, dict) else {}
        for check in checks.get("passed_checks", []):
            if first_time(check, "passed"):
                results[owner(check)].passed += 1
        for check in (c for c in checks.get("failed_checks", []) if first_time(c, "failed")):
            stack = owner(check)
            check_id, name = check["check_id"], check["resource"].split(".")[-1]
            reason = next(
                (why for (address, cid), why in skips[stack].items() if cid == check_id and address.split(".")[-1] == name),
                "",
            )
            if reason:
                results[stack].skipped.append((check_id, check["resource"], reason))
            else:
                results[stack].failed.append((check_id, check["resource"]))
    return [results[d] for d in stack_dirs]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        results = scan([Path(arg) for arg in argv])
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    bad = 0
    for r in results:
        print(f"{r.stack}: passed {r.passed}, failed {len(r.failed)}, skipped {len(r.skipped)}")
        for check_id, resource, reason in r.skipped:
            print(f"  skipped {check_id} on {resource}: {reason}")
        for check_id, resource in r.failed:
            print(f"  FAILED {check_id} on {resource}")
        bad += len(r.failed)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
