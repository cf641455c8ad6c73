"""Reading plans: why a re-plan after apply is not empty, and re-planning through moto's quirks."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tools.emulator.catalogue import Quirk, quirks_by_type
from tools.emulator.terraform import EmulatedStack, Plan


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
