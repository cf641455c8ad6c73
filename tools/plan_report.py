"""Summarize a Terraform plan for GitLab's merge-request widget.

GitLab shows a Terraform plan in a merge request from a job artifact declared as
``artifacts:reports:terraform``: a small JSON object ``{"create": N, "update": N, "delete": N}``
(the format GitLab's own ``gitlab-terraform plan-json`` writes). This tool derives it from
``terraform show -json <planfile>``:

- every resource change whose actions include ``create`` counts one create, ``update`` one
  update, ``delete`` one delete, so a replacement (``["delete", "create"]`` or
  ``["create", "delete"]``) counts as one create and one delete, as in GitLab's template;
- ``no-op``, ``read`` (data sources) and ``forget`` (``removed`` blocks) change nothing and
  are not counted.

An unknown action, a plan Terraform marked as errored, or input that is not a plan stops the
tool with exit status 2: a wrong count in review is worse than none.

Usage: ``plan_report.py PLAN_JSON --output REPORT [--stack NAME]`` (``-`` reads stdin).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KNOWN_ACTIONS = frozenset({"no-op", "create", "read", "update", "delete", "forget"})


class PlanError(ValueError):
    """The input is not a usable ``terraform show -json`` plan."""


@dataclass(frozen=True)
class PlanSummary:
    """Resource changes of one plan, counted the way GitLab's widget counts them."""

    create: int
    update: int
    delete: int
    replace: int
    """Resources both deleted and created (already included in ``create`` and ``delete``)."""

    def report(self) -> dict[str, int]:
        """The ``artifacts:reports:terraform`` document."""
        return {"create": self.create, "update": self.update, "delete": self.delete}

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.update or self.delete)

    def describe(self, stack: str | None = None) -> str:
        """One line for the job log, e.g. ``dev-platform: 3 to create, 0 to update, 1 to delete (1 replaced)``."""
        text = f"{self.create} to create, {self.update} to update, {self.delete} to delete"
        if self.replace:
            text += f" ({self.replace} replaced)"
        return f"{stack}: {text}" if stack else text


def summarize(plan: Any) -> PlanSummary:
    """Count the resource changes of a parsed ``terraform show -json`` plan."""
    if not isinstance(plan, Mapping) or "format_version" not in plan:
        raise PlanError("not the output of `terraform show -json <planfile>` (no format_version)")
    if "resource_changes" not in plan and "planned_values" not in plan:
        raise PlanError("this is state JSON, not a plan: run `terraform show -json` on a saved plan file")
    if plan.get("errored") is True:
        raise PlanError("Terraform marked this plan as errored; it is incomplete")
    changes = plan.get("resource_changes") or []
    if not isinstance(changes, Sequence) or isinstance(changes, str):
        raise PlanError("resource_changes is not a list")
    create = update = delete = replace = 0
    for index, change in enumerate(changes):
        actions = _actions(change, index)
        unknown = sorted(set(actions) - KNOWN_ACTIONS)
        if unknown:
            raise PlanError(f"{_address(change, index)}: unknown action(s) {unknown}; update tools/plan_report.py")
        create += actions.count("create")
        update += actions.count("update")
        delete += actions.count("delete")
        if "create" in actions and "delete" in actions:
            replace += 1
    return PlanSummary(create=create, update=update, delete=delete, replace=replace)


def _address(change: Any, index: int) -> str:
    if isinstance(change, Mapping) and isinstance(change.get("address"), str):
        return str(change["address"])
    return f"resource_changes[{index}]"


def _actions(change: Any, index: int) -> list[str]:
    actions = change.get("change", {}).get("actions") if isinstance(change, Mapping) else None
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise PlanError(f"{_address(change, index)}: change.actions is missing or not a list of strings")
    return [str(a) for a in actions]


def write_report(summary: PlanSummary, output: Path) -> None:
    """Write the widget report (sorted keys, trailing newline), creating parent directories."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary.report(), sort_keys=True) + "\n")


def load_plan(source: str) -> Any:
    """Parse a plan from a file path, or from standard input when ``source`` is ``-``."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"not JSON ({exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", help="output of `terraform show -json <planfile>`, or - for stdin")
    parser.add_argument("--output", type=Path, required=True, help="where to write the artifacts:reports:terraform JSON")
    parser.add_argument("--stack", help="stack name for the log line")
    args = parser.parse_args(argv)
    try:
        summary = summarize(load_plan(args.plan))
    except (PlanError, OSError) as exc:
        print(f"plan_report: {args.plan}: {exc}", file=sys.stderr)
        return 2
    write_report(summary, args.output)
    print(summary.describe(args.stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
