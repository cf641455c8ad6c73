"""Every values key the project sets must exist in that chart version.

A key exists when the chart's ``values.yaml`` has it, or its ``values.schema.json`` declares it
(subcharts: the key under their name in the parent, checked against the subchart's files).
Below a key whose default is an empty map, or that Kubernetes objects pass through unchanged
(``resources``, ``affinity``, ...), the chart declares nothing: those free-form places are
listed once, in :data:`FREE_FORM`, each with its reason. Anything else unknown is a finding:
a misspelt or renamed key that Helm would silently ignore.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.pins.sources import ChartFiles


@dataclass(frozen=True)
class FreeForm:
    chart: str
    """The chart (``*`` for any chart)."""
    path: str
    """A dotted key path; ``*`` matches one key (``*.resources``)."""
    reason: str


#: The free-form places of the charts' values, and why nothing below them can be checked.
FREE_FORM: tuple[FreeForm, ...] = (
    FreeForm("*", "resources", "a Kubernetes ResourceRequirements object the chart copies into the pod spec"),
    FreeForm("*", "*.resources", "a Kubernetes ResourceRequirements object the chart copies into the pod spec"),
    FreeForm("*", "*.*.resources", "a Kubernetes ResourceRequirements object the chart copies into the pod spec"),
    FreeForm("*", "*.*.*.resources", "a Kubernetes ResourceRequirements object the chart copies into the pod spec"),
    FreeForm("*", "podSecurityContext", "a Kubernetes PodSecurityContext the chart copies into the pod spec"),
    FreeForm("*", "*.podSecurityContext", "a Kubernetes PodSecurityContext the chart copies into the pod spec"),
    FreeForm("*", "securityContext", "a Kubernetes SecurityContext the chart copies into the pod or container spec"),
    FreeForm("*", "*.securityContext", "a Kubernetes SecurityContext the chart copies into the pod or container spec"),
    FreeForm("*", "*.*.securityContext", "a Kubernetes SecurityContext the chart copies into the pod or container spec"),
    FreeForm("*", "containerSecurityContext", "a Kubernetes SecurityContext the chart copies into the container spec"),
    FreeForm("*", "*.containerSecurityContext", "a Kubernetes SecurityContext the chart copies into the container spec"),
    FreeForm("*", "affinity", "a Kubernetes Affinity object the chart copies into the pod spec"),
    FreeForm("*", "*.affinity", "a Kubernetes Affinity object the chart copies into the pod spec"),
    FreeForm("*", "nodeSelector", "a label map the chart copies into the pod spec"),
    FreeForm("*", "*.nodeSelector", "a label map the chart copies into the pod spec"),
    FreeForm("*", "podAnnotations", "an annotation map the chart copies onto the pods"),
    FreeForm("*", "*.podAnnotations", "an annotation map the chart copies onto the pods"),
    FreeForm("*", "podLabels", "a label map the chart copies onto the pods"),
    FreeForm("*", "*.podLabels", "a label map the chart copies onto the pods"),
    FreeForm("*", "extraArgs", "command-line flags of the controller, name -> value"),
    FreeForm("*", "*.extraArgs", "command-line flags of the component, name -> value"),
    FreeForm(
        "kube-prometheus-stack",
        "prometheus.prometheusSpec.storageSpec",
        "a Prometheus CRD StorageSpec (volumeClaimTemplate) passed to the operator",
    ),
    FreeForm("kube-prometheus-stack", "prometheus.prometheusSpec.externalLabels", "label name -> value, added to every series"),
    FreeForm("kube-prometheus-stack", "alertmanager.alertmanagerSpec.storage", "a StorageSpec passed to the Alertmanager CRD"),
    FreeForm("kube-prometheus-stack", "alertmanager.config", "Alertmanager's own configuration file (alertmanager.yml)"),
    FreeForm(
        "kube-prometheus-stack",
        "alertmanager.alertmanagerSpec.alertmanagerConfigSelector",
        "a label selector passed to the Alertmanager CRD (which AlertmanagerConfigs it merges)",
    ),
    FreeForm(
        "kube-prometheus-stack",
        "alertmanager.alertmanagerSpec.alertmanagerConfigMatcherStrategy",
        "the Alertmanager CRD's AlertmanagerConfigMatcherStrategy (type: OnNamespace | OnNamespaceExceptForAlertmanagerNamespace | None)",
    ),
    FreeForm("kube-prometheus-stack", "grafana.grafana.ini", "Grafana's ini file, section -> key -> value"),
    FreeForm("flux-instance", "instance", "the FluxInstance spec: checked against the FluxInstance CRD of the operator instead"),
    FreeForm("vault", "server.ha.raft", "validated by the chart's values.schema.json, whose raft object is open"),
    FreeForm("vault", "server.extraEnvironmentVars", "environment variable name -> value, added to the Vault servers"),
    FreeForm("loki", "loki.schemaConfig", "Loki's schema_config block, rendered verbatim into Loki's configuration"),
    FreeForm(
        "loki", "loki.storage.bucketNames", "bucket name per Loki store (chunks, ruler, admin), passed to Loki's storage configuration"
    ),
)

#: Chart versions whose values files no source stores, and the version whose files stand in,
#: with why that is sound. Empty when every pinned version's files are at hand.
VALUES_STAND_INS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("flux-operator", "0.58.1"): (
        "0.49.0",
        "the chart sources after 0.49.0 are not in any snapshot (controlplaneio-fluxcd/charts stops at 2026-05-13); "
        "the keys set here (installCRDs, web, serviceMonitor, priorityClassName) are unchanged since 0.2x",
    ),
    ("flux-instance", "0.58.1"): (
        "0.49.0",
        "as flux-operator; the instance values are checked against the FluxInstance CRD of operator v0.58.1 as well",
    ),
}


def free_form(chart: str, path: str) -> FreeForm | None:
    for entry in FREE_FORM:
        if entry.chart in ("*", chart) and (fnmatch.fnmatchcase(path, entry.path) or _below(path, entry.path)):
            return entry
    return None


def _below(path: str, pattern: str) -> bool:
    parts, pattern_parts = path.split("."), pattern.split(".")
    return len(parts) > len(pattern_parts) and fnmatch.fnmatchcase(".".join(parts[: len(pattern_parts)]), pattern)


def _resolve(schema: Mapping[str, Any], node: Any) -> Mapping[str, Any]:
    """Follow local ``$ref`` s and merge ``allOf`` / ``anyOf`` / ``oneOf`` alternatives."""
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node and str(node["$ref"]).startswith("#/") and seen < 20:
        target: Any = schema
        for part in str(node["$ref"])[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node, seen = target, seen + 1
    if not isinstance(node, Mapping):
        return {}
    merged: dict[str, Any] = dict(node)
    for key in ("allOf", "anyOf", "oneOf"):
        for alternative in node.get(key) or []:
            resolved = _resolve(schema, alternative)
            merged.setdefault("properties", {})
            merged["properties"] = {**resolved.get("properties", {}), **merged["properties"]}
            if resolved.get("additionalProperties") not in (None, False):
                merged.setdefault("additionalProperties", resolved["additionalProperties"])
    return merged


def _schema_child(schema: Mapping[str, Any] | None, node: Mapping[str, Any] | None, key: str) -> tuple[bool, Mapping[str, Any] | None]:
    """(known, child schema) of ``key`` under a schema ``node``."""
    if schema is None or node is None:
        return False, None
    resolved = _resolve(schema, node)
    properties = resolved.get("properties") or {}
    if key in properties:
        return True, _resolve(schema, properties[key])
    for pattern, child in (resolved.get("patternProperties") or {}).items():
        if re.search(pattern, key):
            return True, _resolve(schema, child)
    additional = resolved.get("additionalProperties")
    if additional is True or (isinstance(additional, Mapping) and additional):
        return True, _resolve(schema, additional) if isinstance(additional, Mapping) else None
    return False, None


def _merged(base: Any, override: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        return {**base, **{k: _merged(base.get(k), v) for k, v in override.items()}}
    return override if override is not None else base


def _commented_keys(text: str) -> set[str]:
    """Keys a values.yaml documents only in comments (``# adminPassword: ...``): options the
    templates read that have no default."""
    return set(re.findall(r"^\s*#\s*([A-Za-z_][\w.-]*):(?:\s|$)", text, re.MULTILINE))


def unknown_keys(values: Mapping[str, Any], files: ChartFiles, parent_defaults: Mapping[str, Any] | None = None) -> list[str]:
    """Every key path in ``values`` that ``files`` neither sets a default for nor declares.

    ``parent_defaults`` are what a parent chart's values set for this (sub)chart."""
    defaults = _merged(files.values, parent_defaults or {})
    return _walk(values, files, defaults, files.schema, files.schema, "", _commented_keys(files.values_text))


def _walk(
    ours: Mapping[str, Any],
    files: ChartFiles,
    defaults: Any,
    schema: Mapping[str, Any] | None,
    node: Mapping[str, Any] | None,
    prefix: str,
    commented: set[str],
) -> list[str]:
    findings: list[str] = []
    for key, value in ours.items():
        path = f"{prefix}.{key}" if prefix else key
        if not prefix and key == "global":
            continue  # Helm passes `global` to every chart and subchart
        if free_form(files.chart, path):
            continue
        if not prefix and key in files.subcharts and isinstance(value, Mapping):
            sub = files.subcharts[key]
            parent = defaults.get(key) if isinstance(defaults, Mapping) else None
            found = unknown_keys(value, sub, parent if isinstance(parent, Mapping) else None)
            findings += [f"{key}.{finding}" for finding in found if not free_form(files.chart, f"{key}.{finding}")]
            continue
        in_defaults = isinstance(defaults, Mapping) and key in defaults
        default = defaults.get(key) if isinstance(defaults, Mapping) else None
        declared, child = _schema_child(schema, node, key)
        if not in_defaults and not declared:
            if key not in commented:
                findings.append(path)
            continue
        if isinstance(value, Mapping) and value:
            if (isinstance(default, Mapping) and default) or (child is not None and _resolve(schema or {}, child).get("properties")):
                findings += _walk(value, files, default if isinstance(default, Mapping) else {}, schema, child, path, commented)
            elif not (child is not None and _resolve(schema or {}, child).get("additionalProperties") not in (None, False)):
                findings.append(f"{path} (the chart declares nothing below it; if it is free-form, list it in FREE_FORM with why)")
    return findings
