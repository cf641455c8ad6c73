"""The four checks of every pin, one line per finding (an empty list means every pin holds).

(a) every chart version is a released version of its chart;
(b) every values key the project sets exists in that chart version (:mod:`tools.pins.values`);
(c) every EKS add-on version is published for its Kubernetes version, in the project's own
    facts (``environments/model/facts``) and in the source's;
(d) every image tag is published (or the image is the project's own), and no image anywhere,
    chart defaults included, comes from Bitnami's frozen repositories.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import yaml

from environments.model import eks
from tools.pins.inventory import ChartPin, GitPin, ImagePin, Inventory, bitnami_references, value_images
from tools.pins.sources import ChartFiles, Facts, SourceError
from tools.pins.values import VALUES_STAND_INS, unknown_keys

#: Images the project builds itself: no registry outside the project publishes them.
OWN_IMAGES = ("plato-backend", "registry.gitlab.com/plato/")


@dataclass
class Report:
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What holds only by a written exception (stand-in values, assumed add-on pairs)."""
    checked: dict[str, int] = field(default_factory=dict)


def _guard(report: Report, what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except SourceError as exc:
        report.findings.append(f"{what}: {exc}")


def check_chart_released(pin: ChartPin, source: Facts, report: Report) -> None:
    versions = source.chart_versions(pin.chart, pin.repository)
    if pin.version not in versions:
        report.findings.append(f"{pin.where}: chart {pin.chart} {pin.version} was never released in {pin.repository} ({source.name})")


def chart_files(pin: ChartPin, source: Facts, report: Report) -> ChartFiles:
    stand_in = VALUES_STAND_INS.get((pin.chart, pin.version))
    if stand_in is None:
        return source.chart_files(pin.chart, pin.version, pin.repository)
    version, reason = stand_in
    report.notes.append(f"{pin.chart} {pin.version}: values checked against {version} ({reason})")
    return source.chart_files(pin.chart, version, pin.repository)


def check_values(pin: ChartPin, source: Facts, report: Report) -> None:
    files = chart_files(pin, source, report)
    for values in pin.values:
        for key in unknown_keys(values, files):
            finding = f"{pin.where}: values key {key} is unknown to chart {pin.chart} {files.version}"
            if finding not in report.findings:
                report.findings.append(finding)
    for reference in bitnami_references(yaml.safe_dump(files.values)):  # the defaults, not their comments
        report.findings.append(
            f"chart {pin.chart} {files.version} defaults to the frozen Bitnami image {reference}: override it or change charts"
        )


def check_addon(addon: str, kubernetes_version: str, version: str, where: str, source: Facts | None, report: Report) -> None:
    fact = eks.addon_fact(addon, kubernetes_version, version)
    if fact is None:
        report.findings.append(
            f"{where}: {addon} {version} is not published for Kubernetes {kubernetes_version} (environments/model/facts)"
        )
        return
    if fact.status == "assumed":
        report.notes.append(f"{addon} {version} on Kubernetes {kubernetes_version}: assumed, not published ({fact.source})")
        return
    if source is not None and version not in source.addon_versions(addon, kubernetes_version):
        report.findings.append(f"{where}: {addon} {version} is not published for Kubernetes {kubernetes_version} ({source.name})")


def chart_images(charts: Sequence[ChartPin], source: Facts) -> dict[tuple[str, str], str]:
    """(repository, tag) -> chart: the images the pinned charts' own values.yaml default to.
    Such an image is released with the chart release, so a manifest that runs the same binary
    (Vault's CLI in the snapshot job) is checked against the chart, not a tag table."""
    shipped: dict[tuple[str, str], str] = {}
    for chart in charts:
        try:
            files = source.chart_files(chart.chart, chart.version, chart.repository)
        except SourceError:
            continue  # the chart's own check reports it
        for image in value_images(files.values, chart.ref):
            shipped.setdefault((image.repository, image.tag), chart.ref)
    return shipped


def check_image(pin: ImagePin, source: Facts, report: Report, shipped: dict[tuple[str, str], str] | None = None) -> None:
    if any(pin.repository == own or pin.repository.startswith(own) for own in OWN_IMAGES):
        return
    if "bitnami" in pin.repository:
        report.findings.append(f"{pin.where}: {pin.ref} is a Bitnami image; their free images are frozen (bitnamilegacy)")
        return
    chart = (shipped or {}).get((pin.repository, pin.tag))
    if chart is not None:
        report.notes.append(f"{pin.where}: image {pin.ref} is the default image of the pinned chart {chart}")
        return
    if pin.tag not in source.image_tags(pin.repository):
        report.findings.append(f"{pin.where}: image {pin.ref} is not a published tag ({source.name})")


def check_git(pin: GitPin, source: Facts, report: Report) -> None:
    if pin.tag not in source.git_tags(pin.repository, pin.tag):
        report.findings.append(f"{pin.where}: {pin.repository} has no tag {pin.tag} ({source.name})")


def check_ami(report: Report, kubernetes: Sequence[tuple[str, str]]) -> None:
    for env, version in kubernetes:
        pinned = eks.NODE_AMI_RELEASES.get(version)
        if pinned is None or eks.ami_releases().get(version) != pinned:
            report.findings.append(
                f"environments/model/eks.py ({env}): node AMI release {pinned} for {version} is not in environments/model/facts"
            )


def run(inventory: Inventory, source: Facts, *, addons_from_source: bool = True) -> Report:
    """All four checks. ``addons_from_source=False`` checks the add-ons against the project's
    facts only (where the source would need AWS credentials nobody has)."""
    report = Report()
    for chart in inventory.charts:
        _guard(report, f"{chart.where}: chart {chart.ref}", functools.partial(check_chart_released, chart, source, report))
        _guard(report, f"{chart.where}: values of {chart.ref}", functools.partial(check_values, chart, source, report))
    for addon in inventory.addons:
        action = functools.partial(
            check_addon, addon.addon, addon.kubernetes_version, addon.version, addon.where, source if addons_from_source else None, report
        )
        _guard(report, f"{addon.where}: {addon.addon}", action)
    shipped = chart_images(inventory.charts, source)
    for image in inventory.images:
        _guard(report, f"{image.where}: image {image.ref}", functools.partial(check_image, image, source, report, shipped))
    for git in inventory.git:
        _guard(report, f"{git.where}: {git.ref}", functools.partial(check_git, git, source, report))
    check_ami(report, inventory.kubernetes)
    report.checked = {
        "charts": len(inventory.charts),
        "images": len(inventory.images),
        "addons": len(inventory.addons),
        "git": len(inventory.git),
    }
    return report
