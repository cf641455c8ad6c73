"""Pins you can trust: every chart, image and EKS version released, known and published.

The checks run against the upstream catalog when one is next to the checkout (offline, as
here) and against the registries otherwise; each check is shown to fail on a planted bad pin,
and the registry path runs end to end against a loopback stand-in.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Synth
from standin import World, chart_archive, helm_index, serve

from environments.model import eks
from platform_constructs.bootstrap import charts
from tools.pins import checks, inventory, sources
from tools.pins.crds import CRD_SOURCES
from tools.pins.inventory import AddonPin, ChartPin, GitPin, ImagePin, Inventory


@pytest.fixture(scope="module")
def inv(synth: Synth) -> Inventory:
    return inventory.collect(synth.outdir)


@pytest.fixture(scope="module")
def facts() -> sources.Facts:
    try:
        return sources.default_source()
    except sources.SourceError as exc:
        pytest.fail(str(exc))


def only(inv: Inventory, **changes: Any) -> Inventory:
    empty = Inventory(charts=(), images=(), addons=(), kubernetes=())
    return dataclasses.replace(empty, **changes)


# --- main holds --------------------------------------------------------------------------------


def test_every_pin_is_released_known_and_published(inv: Inventory, facts: sources.Facts) -> None:
    report = checks.run(inv, facts)
    assert report.findings == []
    assert report.checked["charts"] >= 14 and report.checked["images"] >= 6 and report.checked["addons"] == len(eks.ADDONS)
    assert report.checked["git"] == 2


def test_the_inventory_sees_every_kind_of_pin(inv: Inventory) -> None:
    charts_seen = {c.chart for c in inv.charts}
    assert {"kube-prometheus-stack", "postgres", "velero", "loki"} <= charts_seen, "gitops HelmRelease and OCIRepository pins"
    assert {charts.VAULT.name, charts.CERT_MANAGER.name, charts.FLUX_OPERATOR.name, charts.FLUX_INSTANCE.name} <= charts_seen, (
        "bootstrap helm_release pins"
    )
    images = {i.repository for i in inv.images}
    assert {"redis", "postgres", "jaegertracing/jaeger", "velero/velero-plugin-for-aws", "nginxinc/nginx-unprivileged", "python"} <= images


def test_no_image_anywhere_comes_from_bitnami(inv: Inventory) -> None:
    assert [i.ref for i in inv.images if "bitnami" in i.repository] == []


def test_every_chart_that_installs_crds_has_its_pinned_version_in_the_crd_map(inv: Inventory) -> None:
    pinned = {c.chart: c.version for c in inv.charts}
    tags = {g.repository: g.tag for g in inv.git}
    for source in CRD_SOURCES:
        if source.installer == "flux":
            assert source.version == charts.FLUX_DISTRIBUTION, "the Flux CRDs are those of the FluxInstance's distribution"
        elif source.repository:
            assert tags.get(source.repository) == source.version, (
                f"{source.installer}: CRDs of {source.version}, Flux applies {tags.get(source.repository)}"
            )
        else:
            assert pinned.get(source.installer) == source.version, (
                f"{source.installer}: CRDs of {source.version}, pinned {pinned.get(source.installer)}"
            )
    installers = {
        "kube-prometheus-stack",
        "velero",
        "flagger",
        "external-dns",
        "external-secrets",
        "cert-manager",
        "flux-operator",
        "gateway-api",
        "envoy-gateway",
    }
    assert installers <= {s.installer for s in CRD_SOURCES}


def test_node_groups_run_a_pinned_ami_release_of_the_clusters_kubernetes_version(inv: Inventory) -> None:
    for _, version in inv.kubernetes:
        assert eks.NODE_AMI_RELEASES[version].startswith(f"{version}."), eks.NODE_AMI_RELEASES[version]


# --- each check fails on a planted bad pin -------------------------------------------------------


def test_an_unreleased_chart_version_is_a_finding(inv: Inventory, facts: sources.Facts) -> None:
    (kps,) = [c for c in inv.charts if c.chart == "kube-prometheus-stack"]
    planted = dataclasses.replace(kps, version="88.5.4", values=())
    report = checks.run(only(inv, charts=(planted,)), facts)
    assert [f for f in report.findings if "never released" in f] == [
        f"{kps.where}: chart kube-prometheus-stack 88.5.4 was never released in {kps.repository} ({facts.name})"
    ]


def test_an_untagged_upstream_crd_release_is_a_finding(inv: Inventory, facts: sources.Facts) -> None:
    (gateway_api,) = [g for g in inv.git if g.repository.endswith("/gateway-api")]
    planted = dataclasses.replace(gateway_api, tag="v1.6.9")
    report = checks.run(only(inv, git=(planted,)), facts)
    assert report.findings == [f"{gateway_api.where}: https://github.com/kubernetes-sigs/gateway-api has no tag v1.6.9 ({facts.name})"]


def test_an_unknown_values_key_is_a_finding(inv: Inventory, facts: sources.Facts) -> None:
    (velero,) = [c for c in inv.charts if c.chart == "velero"]
    values = {**velero.values[0], "snapshotEnabled": True}  # the chart's key is snapshotsEnabled
    report = checks.run(only(inv, charts=(dataclasses.replace(velero, values=(values,)),)), facts)
    assert report.findings == [f"{velero.where}: values key snapshotEnabled is unknown to chart velero {velero.version}"]


def test_a_misspelt_key_below_a_subchart_is_a_finding(inv: Inventory, facts: sources.Facts) -> None:
    (kps,) = [c for c in inv.charts if c.chart == "kube-prometheus-stack"]
    values = {"grafana": {"adminPasword": "x"}}
    report = checks.run(only(inv, charts=(dataclasses.replace(kps, values=(values,)),)), facts)
    assert report.findings == [f"{kps.where}: values key grafana.adminPasword is unknown to chart kube-prometheus-stack {kps.version}"]


def test_an_unpublished_image_tag_is_a_finding(facts: sources.Facts) -> None:
    planted = ImagePin(repository="redis", tag="7.4.99-alpine", where="db1")
    report = checks.run(Inventory(charts=(), images=(planted,), addons=(), kubernetes=()), facts)
    assert report.findings == [f"db1: image redis:7.4.99-alpine is not a published tag ({facts.name})"]


def test_an_image_counts_as_a_charts_own_only_at_the_tag_the_pinned_chart_ships(facts: sources.Facts) -> None:
    vault = ChartPin(chart="vault", version=charts.VAULT.version, repository=charts.VAULT.repository, where="bootstrap")
    shipped = ImagePin(repository="hashicorp/vault", tag="2.0.4", where="snapshot job")
    unreleased = ImagePin(repository="hashicorp/vault", tag="2.0.99", where="snapshot job")
    report = checks.run(
        only(Inventory(charts=(), images=(), addons=(), kubernetes=()), charts=(vault,), images=(shipped, unreleased)), facts
    )
    assert (
        "snapshot job: image hashicorp/vault:2.0.4 is the default image of the pinned chart vault " + charts.VAULT.version in report.notes
    )
    # The other tag is checked like any image: the catalog has no table for it, a registry no such tag.
    (finding,) = [f for f in report.findings if "hashicorp/vault" in f]
    assert finding.startswith("snapshot job: image hashicorp/vault:2.0.99")


def test_an_aws_cli_tag_outside_the_projects_facts_is_a_finding(facts: sources.Facts) -> None:
    known = ImagePin(repository="amazon/aws-cli", tag="2.36.7", where="snapshot job")
    unknown = ImagePin(repository="amazon/aws-cli", tag="2.99.0", where="snapshot job")
    report = checks.run(Inventory(charts=(), images=(known, unknown), addons=(), kubernetes=()), facts)
    assert report.findings == [f"snapshot job: image amazon/aws-cli:2.99.0 is not a published tag ({facts.name})"]


def test_a_bitnami_image_is_a_finding_whatever_its_tag(facts: sources.Facts) -> None:
    planted = ImagePin(repository="bitnamilegacy/kubectl", tag="1.33", where="velero hook")
    report = checks.run(Inventory(charts=(), images=(planted,), addons=(), kubernetes=()), facts)
    assert report.findings == ["velero hook: bitnamilegacy/kubectl:1.33 is a Bitnami image; their free images are frozen (bitnamilegacy)"]


def test_an_add_on_version_not_published_for_its_kubernetes_version_is_a_finding(facts: sources.Facts) -> None:
    planted = AddonPin(addon="coredns", kubernetes_version="1.36", version="v1.12.4-eksbuild.1", where="eks.py")
    report = checks.run(Inventory(charts=(), images=(), addons=(planted,), kubernetes=()), facts)
    assert report.findings == ["eks.py: coredns v1.12.4-eksbuild.1 is not published for Kubernetes 1.36 (environments/model/facts)"]


def test_an_assumed_add_on_pair_is_reported_as_a_note_never_silently(inv: Inventory, facts: sources.Facts) -> None:
    report = checks.run(inv, facts)
    assumed = [
        fact
        for fact in eks.addon_facts()
        if fact.status == "assumed" and (fact.addon, fact.kubernetes_version) in {(a.addon, a.kubernetes_version) for a in inv.addons}
    ]
    for fact in assumed:
        assert any(
            note.startswith(f"{fact.addon} {fact.addon_version} on Kubernetes {fact.kubernetes_version}: assumed") for note in report.notes
        )


# --- the registry path, end to end on loopback ---------------------------------------------------


@pytest.fixture
def registries() -> Iterator[World]:
    world = World()
    world.files["/charts.standin.example/index.yaml"] = helm_index("charts.standin.example", {"demo": ["1.0.0", "1.1.0"]})
    world.files["/charts.standin.example/demo-1.1.0.tgz"] = chart_archive(
        "demo",
        "1.1.0",
        {"replicas": 1, "image": {"repository": "standin.example/team/app", "tag": "1.1"}, "podAnnotations": {}},
        {"deployment.yaml": DEPLOYMENT_TEMPLATE},
    )
    world.add_oci_chart("oci.standin.example", "charts/demo-oci", "2.0.0", chart_archive("demo-oci", "2.0.0", {"enabled": True}))
    world.add_image_tags("registry-1.docker.io", "library/redis", ["7.4.11-alpine", "7.4.10-alpine"])
    world.add_image_tags("standin.example", "team/app", ["1.0", "1.1"])
    world.addons[("coredns", "1.36")] = ["v1.14.3-eksbuild.3"]
    world.git_tags["standin/crds"] = ["v1.0.0", "v1.0.0-rc.1", "v1.1.0"]
    with serve(world) as base:
        saved = {
            k: os.environ.get(k) for k in ("PLATFORM_REGISTRY_MIRROR", "AWS_ENDPOINT_URL_EKS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        }
        os.environ.update(
            PLATFORM_REGISTRY_MIRROR=base,
            AWS_ENDPOINT_URL_EKS=f"{base}/eks.standin.example",
            AWS_ACCESS_KEY_ID="standin",
            AWS_SECRET_ACCESS_KEY="standin",
        )
        try:
            yield world
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


DEPLOYMENT_TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""


def standin_inventory(**planted: Any) -> Inventory:
    values = planted.get("values", {"replicas": 2, "podAnnotations": {"team": "a"}})
    return Inventory(
        charts=(
            ChartPin(
                chart="demo",
                version=planted.get("version", "1.1.0"),
                repository="https://charts.standin.example",
                where="gitops: demo",
                values=(values,),
            ),
            ChartPin(
                chart="demo-oci",
                version="2.0.0",
                repository="oci://oci.standin.example/charts",
                where="gitops: demo-oci",
                values=({"enabled": False},),
            ),
        ),
        images=(ImagePin("redis", planted.get("tag", "7.4.11-alpine"), "db1"), ImagePin("standin.example/team/app", "1.1", "app")),
        addons=(AddonPin("coredns", "1.36", planted.get("addon", "v1.14.3-eksbuild.3"), "eks.py"),),
        kubernetes=(),
        git=(GitPin("https://github.com/standin/crds", planted.get("git_tag", "v1.0.0"), "crds"),),
    )


def test_the_registries_confirm_good_pins_through_http_oci_and_the_eks_api(registries: World) -> None:
    report = checks.run(standin_inventory(), sources.RegistrySource())
    assert report.findings == []
    requested = "\n".join(registries.requests)
    assert "/charts.standin.example/index.yaml" in requested
    assert "/oci.standin.example/v2/charts/demo-oci/tags/list" in requested
    assert "/registry-1.docker.io/v2/library/redis/tags/list" in requested and "/registry-1.docker.io/token" in requested
    assert "addons/supported-versions" in requested
    assert "/api.github.com/repos/standin/crds/git/matching-refs/tags/v1.0.0" in requested


def test_the_registries_refuse_each_planted_bad_pin(registries: World) -> None:
    planted = standin_inventory(version="1.2.0", tag="7.4.99-alpine", addon="v1.0.0-eksbuild.1", git_tag="v1.0")
    report = checks.run(planted, sources.RegistrySource())
    assert sorted(report.findings) == sorted(
        [
            "gitops: demo: chart demo 1.2.0 was never released in https://charts.standin.example (registries)",
            "gitops: demo: values of demo 1.2.0: https://charts.standin.example has no demo 1.2.0",
            "db1: image redis:7.4.99-alpine is not a published tag (registries)",
            "eks.py: coredns v1.0.0-eksbuild.1 is not published for Kubernetes 1.36 (environments/model/facts)",
            "crds: https://github.com/standin/crds has no tag v1.0 (registries)",
        ]
    )
    report = checks.run(standin_inventory(values={"replica": 2}), sources.RegistrySource())
    assert report.findings == ["gitops: demo: values key replica is unknown to chart demo 1.1.0"]


def test_the_registries_check_the_aws_cli_tag_and_take_a_charts_default_image_only_at_its_tag(registries: World) -> None:
    registries.add_image_tags("registry-1.docker.io", "amazon/aws-cli", ["2.36.7"])
    demo = standin_inventory().charts[0]
    images = (
        ImagePin("amazon/aws-cli", "2.36.7", "job"),
        ImagePin("amazon/aws-cli", "2.99.0", "job"),
        ImagePin("standin.example/team/app", "1.1", "job"),
        ImagePin("standin.example/team/app", "9.9", "job"),
    )
    report = checks.run(
        only(Inventory(charts=(), images=(), addons=(), kubernetes=()), charts=(demo,), images=images), sources.RegistrySource()
    )
    assert sorted(report.findings) == [
        "job: image amazon/aws-cli:2.99.0 is not a published tag (registries)",
        "job: image standin.example/team/app:9.9 is not a published tag (registries)",
    ]
    assert "job: image standin.example/team/app:1.1 is the default image of the pinned chart demo 1.1.0" in report.notes


def test_helm_renders_a_pinned_chart_from_its_repository_with_the_values(registries: World, tmp_path: Path) -> None:
    from tools.pins import render

    helm = render.helm_binary()
    pin = standin_inventory().charts[0]
    documents = render.render(pin, {"replicas": 3}, name="demo", namespace="apps", kube_version="1.36.0", helm=helm)
    (deployment,) = documents
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "standin.example/team/app:1.1"
    assert render.validate(documents, "1.36", "demo") == []


def test_a_rendered_bitnami_image_is_a_finding() -> None:
    from tools.pins import render

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "hook"},
        "spec": {"containers": [{"name": "k", "image": "docker.io/bitnamilegacy/kubectl:1.33"}]},
    }
    assert "runs the frozen Bitnami image bitnamilegacy/kubectl:1.33" in " ".join(render.validate([pod], "1.36", "velero"))
