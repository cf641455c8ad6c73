"""tools/plan_report.py: the GitLab merge-request widget report from `terraform show -json`.

The fixtures are hand-written plans in the shape Terraform 1.x emits (format_version 1.2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.plan_report import PlanError, PlanSummary, summarize, write_report

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "plan_report.py"


def change(address: str, *actions: str) -> dict[str, Any]:
    rtype, name = address.split(".", 1)
    return {
        "address": address,
        "mode": "data" if actions == ("read",) else "managed",
        "type": rtype,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": list(actions), "before": None, "after": {}, "after_unknown": {}},
    }


def plan(*changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": list(changes),
        "configuration": {},
        **extra,
    }


def test_counts_each_kind_of_change_once() -> None:
    summary = summarize(
        plan(
            change("aws_vpc.network_vpc", "create"),
            change("aws_subnet.network_private-0", "create"),
            change("aws_flow_log.network_flow-log", "update"),
            change("aws_eip.network_nat-0", "delete"),
        )
    )
    assert summary.report() == {"create": 2, "update": 1, "delete": 1}
    assert summary.replace == 0


@pytest.mark.parametrize("order", [("delete", "create"), ("create", "delete")])
def test_a_replacement_counts_as_one_create_and_one_delete_in_either_order(order: tuple[str, str]) -> None:
    summary = summarize(plan(change("aws_launch_template.eks_nodes", *order)))
    assert summary.report() == {"create": 1, "update": 0, "delete": 1}
    assert summary.replace == 1


def test_no_op_reads_and_forgets_are_not_counted() -> None:
    summary = summarize(
        plan(
            change("aws_vpc.network_vpc", "no-op"),
            change("aws_availability_zones.zones", "read"),
            change("aws_s3_bucket.old", "forget"),
        )
    )
    assert summary.report() == {"create": 0, "update": 0, "delete": 0}
    assert not summary.has_changes


def test_a_plan_without_resource_changes_reports_zeros() -> None:
    empty = plan()
    del empty["resource_changes"]
    assert summarize(empty).report() == {"create": 0, "update": 0, "delete": 0}


def test_an_unknown_action_is_an_error_naming_the_resource() -> None:
    with pytest.raises(PlanError, match=r"aws_vpc\.network_vpc: unknown action\(s\) \['teleport'\]"):
        summarize(plan(change("aws_vpc.network_vpc", "teleport")))


def test_a_change_without_actions_is_an_error() -> None:
    broken = change("aws_vpc.network_vpc", "create")
    del broken["change"]["actions"]
    with pytest.raises(PlanError, match=r"change\.actions is missing"):
        summarize(plan(broken))


def test_an_errored_plan_is_refused() -> None:
    with pytest.raises(PlanError, match="errored"):
        summarize(plan(change("aws_vpc.network_vpc", "create"), errored=True))


def test_state_json_is_refused_with_a_hint() -> None:
    state = {"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {}}}
    with pytest.raises(PlanError, match="state JSON, not a plan"):
        summarize(state)


@pytest.mark.parametrize("document", [[], "plan", {"resource_changes": []}])
def test_anything_but_a_plan_object_is_refused(document: Any) -> None:
    with pytest.raises(PlanError, match="format_version"):
        summarize(document)


def test_the_log_line_names_the_stack_and_the_replacements() -> None:
    summary = PlanSummary(create=3, update=0, delete=1, replace=1)
    assert summary.describe("dev-platform") == "dev-platform: 3 to create, 0 to update, 1 to delete (1 replaced)"
    assert summary.describe() == "3 to create, 0 to update, 1 to delete (1 replaced)"


def test_the_report_file_has_exactly_the_three_keys_gitlab_reads(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "dev-platform.tfplan.json"
    write_report(PlanSummary(create=1, update=2, delete=3, replace=0), out)
    assert out.read_text() == '{"create": 1, "delete": 3, "update": 2}\n'


def test_the_command_line_writes_the_report_and_prints_the_summary(tmp_path: Path) -> None:
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps(plan(change("aws_vpc.network_vpc", "create"), change("aws_subnet.a", "delete", "create"))))
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(plan_json), "--output", str(out), "--stack", "stage-platform"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "stage-platform: 2 to create, 0 to update, 1 to delete (1 replaced)"
    assert json.loads(out.read_text()) == {"create": 2, "update": 0, "delete": 1}


def test_the_command_line_reads_stdin_and_fails_with_status_2_on_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(TOOL), "-", "--output", str(out)], input="{not json", capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "not JSON" in proc.stderr
    assert not out.exists()
