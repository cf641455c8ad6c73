"""Alerts that can fire only for real causes on EKS: no rule watches a job nothing scrapes.

kube-prometheus-stack renders its rule files and its ServiceMonitors behind value gates
(tests/gitops/facts/kube-prometheus-stack-<version>-rules.tsv: read from the chart's templates
at the pinned tag). With the chart's defaults merged with each environment's values, every
rule file that renders must select only jobs something scrapes: a chart monitor that renders,
or one of the release's own scrape configs. EKS never exposes etcd or kube-proxy's metrics, so
those must be off entirely.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gitops_tree import ENVIRONMENTS, tree_of

from tools.pins import sources

FACTS = Path(__file__).resolve().parent / "facts"
#: Jobs EKS does not expose: etcd (managed, never reachable) and kube-proxy (the EKS add-on
#: binds its metrics to 127.0.0.1 and reverts changes: aws/containers-roadmap#657).
NEVER_ON_EKS = {"~.*etcd.*", "kube-etcd", "kube-proxy"}


@dataclass(frozen=True)
class Gated:
    kind: str
    template: str
    gates: tuple[str, ...]
    jobs: tuple[str, ...]


def _table(version: str) -> list[Gated]:
    path = FACTS / f"kube-prometheus-stack-{version}-rules.tsv"
    assert path.is_file(), (
        f"no rule/job table for kube-prometheus-stack {version}: read it from the chart's templates at that tag ({path.name})"
    )
    with path.open(newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return [Gated(r["kind"], r["template"], tuple(r["gates"].split(",")), tuple(r["jobs"].split(","))) for r in rows]


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) else value
    return merged


def _value(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _renders(values: Mapping[str, Any], gates: tuple[str, ...]) -> bool:
    return all((not _value(values, gate[1:])) if gate.startswith("!") else bool(_value(values, gate)) for gate in gates)


def _kps(env: str) -> tuple[str, dict[str, Any]]:
    tree = tree_of(env)
    version = str(tree.one("OCIRepository", "kube-prometheus-stack", "monitoring")["spec"]["ref"]["tag"])
    try:
        defaults = (
            sources.default_source().chart_files("kube-prometheus-stack", version, "oci://ghcr.io/prometheus-community/charts").values
        )
    except sources.SourceError as exc:
        pytest.fail(str(exc))
    return version, _merge(defaults, tree.helm_values("kube-prometheus-stack", "monitoring"))


def _jobs(values: Mapping[str, Any], job: str) -> str:
    return job.replace("{fullname}", str(values.get("fullnameOverride") or "kube-prometheus-stack"))


def _scraped(values: Mapping[str, Any], table: list[Gated]) -> set[str]:
    scraped = {_jobs(values, j) for row in table if row.kind == "scrape" and _renders(values, row.gates) for j in row.jobs}
    extra = _value(values, "prometheus.prometheusSpec.additionalScrapeConfigs") or []
    return scraped | {str(config["job_name"]) for config in extra}


def _selected(job: str, scraped: set[str]) -> bool:
    return any(re.fullmatch(job[1:], s) for s in scraped) if job.startswith("~") else job in scraped


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_alert_rule_watches_a_job_the_platform_never_scrapes(env: str) -> None:
    version, values = _kps(env)
    table = _table(version)
    scraped = _scraped(values, table)
    orphans = [
        f"{row.template}: job {_jobs(values, job)}"
        for row in table
        if row.kind == "rules" and _renders(values, row.gates)
        for job in row.jobs
        if not _selected(_jobs(values, job), scraped)
    ]
    assert orphans == [], f"{env}: rules that would report their targets down forever"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nothing_scrapes_or_alerts_on_what_eks_never_exposes(env: str) -> None:
    version, values = _kps(env)
    for row in _table(version):
        if _renders(values, row.gates):
            assert not set(row.jobs) & NEVER_ON_EKS, f"{row.template} renders for {row.jobs}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_scheduler_and_controller_manager_are_scraped_through_the_eks_api_with_the_rbac_it_needs(env: str) -> None:
    _, values = _kps(env)
    configs = {c["job_name"]: c for c in values["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]}
    for job, component in (("kube-scheduler", "ksh"), ("kube-controller-manager", "kcm")):
        config = configs[job]
        assert config["metrics_path"] == f"/apis/metrics.eks.amazonaws.com/v1/{component}/container/metrics"
        assert config["scheme"] == "https" and config["static_configs"] == [{"targets": ["kubernetes.default.svc:443"]}]
        assert config["authorization"] == {"credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    (rule,) = values["prometheus"]["additionalRulesForClusterRole"]
    assert rule == {"apiGroups": ["metrics.eks.amazonaws.com"], "resources": ["kcm/metrics", "ksh/metrics"], "verbs": ["get"]}
    for component in ("kubeScheduler", "kubeControllerManager"):
        assert values[component]["service"]["enabled"] is False and values[component]["serviceMonitor"]["enabled"] is False


def test_a_rule_on_an_unscraped_job_is_caught() -> None:
    version, values = _kps("dev")
    table = _table(version)
    planted = _merge(values, {"kubeProxy": {"enabled": True, "serviceMonitor": {"enabled": False}}})
    rules = [row for row in table if row.kind == "rules" and _renders(planted, row.gates)]
    assert any("kube-proxy" in row.jobs and not _selected("kube-proxy", _scraped(planted, table)) for row in rules)


def test_the_rule_table_has_every_rule_file_that_selects_a_job() -> None:
    version, _ = _kps("dev")
    table = _table(version)
    assert sum(row.kind == "rules" for row in table) == 36
    assert {job for row in table if row.kind == "rules" for job in row.jobs} >= {
        "kube-scheduler",
        "kube-controller-manager",
        "kube-proxy",
        "~.*etcd.*",
    }
