"""Where release facts come from: the upstream catalog next to the checkout, or the registries.

Both answer the same questions (:class:`Facts`): which versions of a chart were released, what
a chart version's ``values.yaml``/``values.schema.json`` hold (and its subcharts'), which tags
an image repository publishes, which add-on versions EKS offers for a Kubernetes version.

- :class:`CatalogSource` reads ``shared/catalog`` (release lists, chart data files, image tag
  tables, EKS tables); it is how CI here, without internet, checks every pin.
- :class:`RegistrySource` asks the registries: Helm repository ``index.yaml`` files and chart
  archives, OCI registries (``/v2/.../tags/list``, manifests and blobs, anonymous bearer
  tokens), and ``eks:DescribeAddonVersions``. ``PLATFORM_REGISTRY_MIRROR=<url>`` sends every
  request to ``<url>/<host>/<path>`` instead (the tests' loopback stand-in).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import yaml

from tools.pins.upstream import UpstreamError, shared_dir

USER_AGENT = "plato-platform-pins/1 (+https://gitlab.com/plato/platform)"
TIMEOUT_SECONDS = 60


class SourceError(RuntimeError):
    """A source cannot answer (missing data, a registry that does not respond)."""


@dataclass(frozen=True)
class ChartFiles:
    """The data files of one chart version."""

    chart: str
    version: str
    values: Mapping[str, Any]
    schema: Mapping[str, Any] | None
    values_text: str
    subcharts: Mapping[str, ChartFiles] = field(default_factory=dict)
    """By the key under which the parent's values configure them (name or alias)."""


class Facts(Protocol):
    name: str

    def chart_versions(self, chart: str, repository: str) -> set[str]: ...

    def chart_files(self, chart: str, version: str, repository: str) -> ChartFiles: ...

    def image_tags(self, repository: str) -> set[str]: ...

    def addon_versions(self, addon: str, kubernetes_version: str) -> set[str]: ...

    def git_tags(self, repository: str, prefix: str) -> set[str]:
        """Tags of a GitHub repository (``https://github.com/<owner>/<repo>``) that start with ``prefix``."""
        ...


def github_name(repository: str) -> str:
    """``https://github.com/owner/repo(.git)`` -> ``owner/repo``."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(\.git)?/?", repository)
    if not match:
        raise SourceError(f"{repository} is not a GitHub repository URL; only GitHub tags can be checked")
    return match.group(1)


# --- the catalog -----------------------------------------------------------------------------

#: Image repository -> its tag table in shared/catalog/images, and how a row names the tags.
CATALOG_IMAGES: Mapping[str, str] = {
    "redis": "redis.tsv",
    "postgres": "postgres.tsv",
    "python": "python.tsv",
    "nginxinc/nginx-unprivileged": "nginx-unprivileged.tsv",
    "jaegertracing/jaeger": "jaeger.tsv",
    "velero/velero-plugin-for-aws": "velero-plugin-for-aws.tsv",
}
#: Images the shared catalog does not cover: the project's own tag facts (tools/pins/facts),
#: each row naming the upstream release tag it was read from; the registries source (CI job
#: pins:registries) confirms them against the registry itself.
PROJECT_IMAGES: Mapping[str, Path] = {
    "amazon/aws-cli": Path(__file__).resolve().parent / "facts" / "aws-cli.tsv",
}
_VERSION_ROW = re.compile(r"^v?\d+\.\d+(\.\d+)?([-.][\w.-]+)?$")


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        lines = [line for line in handle if not line.startswith("# ") or line.startswith("# columns:")]
    if lines and lines[0].startswith("# columns: "):
        lines[0] = lines[0][len("# columns: ") :]
    return list(csv.DictReader(lines, delimiter="\t"))


def _row_tags(repository: str, row: Mapping[str, str]) -> set[str]:
    """The image tags one catalog row says are published."""
    tag, note = row["tag"].strip(), row.get("note") or ""
    if not _VERSION_ROW.match(tag):
        return set()  # a remark row: (policy), (matrix), "16.13 / 17.9", ...
    tags = {f"docker:{t}" for t in re.findall(r"docker tag [\w./-]+:([\w.-]+)", note)}
    if repository == "jaegertracing/jaeger":
        return {t.removeprefix("docker:") for t in tags}
    found = {tag}
    found |= set(re.findall(r"([\w.-]+) also published", note)) | {
        f"{tag}{s}" for s in re.findall(rf"{re.escape(tag)}(-[\w-]+) also", note)
    }
    found |= (
        set(re.findall(r"CI publishes tags ([\w.,\s-]+?)\s*\(", note)[0].replace(",", " ").split())
        if "CI publishes tags" in note
        else set()
    )
    return found


class CatalogSource:
    """Facts from ``shared/catalog`` (read its README for what each file is)."""

    name = "catalog"

    def __init__(self, root: Path) -> None:
        self.root = root
        if not (root / "charts").is_dir():
            raise SourceError(f"no upstream catalog at {root} (expected {root / 'charts'})")

    def _chart_dir(self, chart: str) -> Path:
        directory = self.root / "charts" / chart
        if not (directory / "releases.tsv").is_file():
            raise SourceError(f"the catalog has no release list for chart {chart} ({directory / 'releases.tsv'})")
        return directory

    def chart_versions(self, chart: str, repository: str) -> set[str]:
        return {row["version"] for row in _tsv(self._chart_dir(chart) / "releases.tsv")}

    def chart_files(self, chart: str, version: str, repository: str) -> ChartFiles:
        directory = self._chart_dir(chart) / version
        if not (directory / "values.yaml").is_file() and not (directory / "values.tmpl.yaml").is_file():
            raise SourceError(f"the catalog stores no values of {chart} {version}")
        values_path = directory / "values.yaml" if (directory / "values.yaml").is_file() else directory / "values.tmpl.yaml"
        text = values_path.read_text()
        schema_path = directory / "values.schema.json"
        subcharts: dict[str, ChartFiles] = {}
        chart_yaml = yaml.safe_load((directory / "Chart.yaml").read_text()) if (directory / "Chart.yaml").is_file() else {}
        for dependency in chart_yaml.get("dependencies") or []:
            sub_dir = self.root / "charts" / dependency["name"] / str(dependency["version"])
            if sub_dir.is_dir():
                key = dependency.get("alias") or dependency["name"]
                subcharts[key] = self.chart_files(dependency["name"], str(dependency["version"]), str(dependency.get("repository", "")))
        return ChartFiles(
            chart=chart,
            version=version,
            values=yaml.safe_load(text) or {},
            schema=json.loads(schema_path.read_text()) if schema_path.is_file() else None,
            values_text=text,
            subcharts=subcharts,
        )

    def image_tags(self, repository: str) -> set[str]:
        table = CATALOG_IMAGES.get(repository)
        if table is None and repository in PROJECT_IMAGES:
            return {row["tag"].strip() for row in _tsv(PROJECT_IMAGES[repository]) if _VERSION_ROW.match(row["tag"].strip())}
        if table is None:
            raise SourceError(f"the catalog has no tag table for image {repository}")
        tags: set[str] = set()
        for row in _tsv(self.root / "images" / table):
            tags |= _row_tags(repository, row)
        return tags

    def addon_versions(self, addon: str, kubernetes_version: str) -> set[str]:
        rows = _tsv(self.root / "eks" / "addon-versions.tsv")
        return {r["addon_version"] for r in rows if r["addon"] == addon and r["kubernetes_version"] in (kubernetes_version, "*")}

    def git_tags(self, repository: str, prefix: str) -> set[str]:
        """The tags the catalog records for the repository: the release tags of the charts it
        publishes, and the tags the stored schema files were read at."""
        name = github_name(repository)
        tags: set[str] = set()
        chart_dirs = {
            row["stored_file"].split("/")[1] for row in _tsv(self.root / "charts" / "manifest.tsv") if row["upstream_repo"] == name
        }
        for chart in chart_dirs:
            releases = self.root / "charts" / chart / "releases.tsv"
            if releases.is_file():  # licenses/ holds files, not a chart
                tags |= {row["tag"] for row in _tsv(releases) if row["tag"]}
        schemas = self.root.parent / "schemas"
        for manifest in (schemas / "manifest.tsv", schemas / "crds" / "manifest-additions.tsv"):
            if manifest.is_file():
                tags |= {row["tag"] for row in _tsv(manifest) if row.get("upstream_repo") == name and row.get("tag")}
        return {tag for tag in tags if tag.startswith(prefix)}


# --- the registries --------------------------------------------------------------------------


def mirrored(url: str) -> str:
    """``url``, or its stand-in under ``PLATFORM_REGISTRY_MIRROR`` (``<mirror>/<host>/<path>``)."""
    mirror = os.environ.get("PLATFORM_REGISTRY_MIRROR", "").rstrip("/")
    if not mirror:
        return url
    parts = urllib.parse.urlsplit(url)
    return f"{mirror}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def _get(url: str, headers: Mapping[str, str] | None = None) -> tuple[bytes, Mapping[str, str]]:
    request = urllib.request.Request(mirrored(url), headers={"User-Agent": USER_AGENT, **(headers or {})})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.read(), dict(response.headers)


_DOCKER_HUB = "registry-1.docker.io"


def _registry_and_name(repository: str) -> tuple[str, str]:
    """``redis`` -> (registry-1.docker.io, library/redis); ``ghcr.io/x/y`` -> (ghcr.io, x/y)."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host = _DOCKER_HUB if first in ("docker.io", "index.docker.io") else first
        return host, rest
    return _DOCKER_HUB, repository if "/" in repository else f"library/{repository}"


class _Oci:
    """A minimal OCI distribution client with anonymous bearer tokens."""

    def __init__(self) -> None:
        self.tokens: dict[tuple[str, str], str] = {}

    def get(self, host: str, name: str, path: str, accept: str = "") -> tuple[bytes, Mapping[str, str]]:
        url = f"https://{host}/v2/{name}/{path}"
        headers = {"Accept": accept} if accept else {}
        token = self.tokens.get((host, name))
        try:
            return _get(url, {**headers, **({"Authorization": f"Bearer {token}"} if token else {})})
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
            if not challenge.startswith("Bearer "):
                raise
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = urllib.parse.urlencode({k: v for k, v in params.items() if k in ("service", "scope")})
        body, _ = _get(f"{params['realm']}?{query}")
        document = json.loads(body)
        self.tokens[(host, name)] = document.get("token") or document["access_token"]
        return _get(url, {**headers, "Authorization": f"Bearer {self.tokens[(host, name)]}"})

    def tags(self, host: str, name: str) -> set[str]:
        found: set[str] = set()
        path = "tags/list?n=1000"
        while path:
            body, headers = self.get(host, name, path)
            found |= set(json.loads(body).get("tags") or [])
            link = headers.get("Link", "")
            match = re.search(r"<[^>]*/v2/[^>]*?/(tags/list\?[^>]+)>", link)
            path = match.group(1) if match else ""
        return found

    def chart_archive(self, host: str, name: str, tag: str) -> bytes:
        body, _ = self.get(host, name, f"manifests/{tag}", "application/vnd.oci.image.manifest.v1+json")
        layers = [
            layer for layer in json.loads(body)["layers"] if layer["mediaType"] == "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
        ]
        if not layers:
            raise SourceError(f"oci://{host}/{name}:{tag} holds no Helm chart layer")
        blob, _ = self.get(host, name, f"blobs/{layers[0]['digest']}")
        return blob


def _chart_from_archive(archive: bytes, chart: str, version: str) -> ChartFiles:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}

        def read(name: str) -> str | None:
            member = members.get(name)
            extracted = tar.extractfile(member) if member else None
            return extracted.read().decode() if extracted else None

        return _chart_from_reader(read, f"{chart}/", chart, version, members)


def _chart_from_reader(read: Any, prefix: str, chart: str, version: str, members: Mapping[str, Any]) -> ChartFiles:
    text = read(f"{prefix}values.yaml") or ""
    schema = read(f"{prefix}values.schema.json")
    meta = yaml.safe_load(read(f"{prefix}Chart.yaml") or "{}") or {}
    subcharts: dict[str, ChartFiles] = {}
    for dependency in meta.get("dependencies") or []:
        sub_prefix = f"{prefix}charts/{dependency['name']}/"
        if f"{sub_prefix}Chart.yaml" in members:
            key = dependency.get("alias") or dependency["name"]
            subcharts[key] = _chart_from_reader(read, sub_prefix, dependency["name"], str(dependency["version"]), members)
    return ChartFiles(
        chart=chart,
        version=str(meta.get("version", version)),
        values=yaml.safe_load(text) or {},
        schema=json.loads(schema) if schema else None,
        values_text=text,
        subcharts=subcharts,
    )


class RegistrySource:
    """Facts from the registries themselves (needs network, or the loopback stand-in)."""

    name = "registries"

    def __init__(self) -> None:
        self._oci = _Oci()

    @cache  # noqa: B019 - one instance per run
    def _index(self, repository: str) -> Mapping[str, Any]:
        try:
            body, _ = _get(f"{repository.rstrip('/')}/index.yaml")
        except (urllib.error.URLError, OSError) as exc:
            raise SourceError(f"{repository}/index.yaml: {exc}") from None
        index: Mapping[str, Any] = yaml.safe_load(body) or {}
        return index

    def chart_versions(self, chart: str, repository: str) -> set[str]:
        try:
            if repository.startswith("oci://"):
                host, _, path = repository.removeprefix("oci://").partition("/")
                return self._oci.tags(host, f"{path}/{chart}".strip("/"))
            return {str(e["version"]) for e in self._index(repository).get("entries", {}).get(chart, [])}
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            raise SourceError(f"{repository} ({chart}): {exc}") from None

    def chart_files(self, chart: str, version: str, repository: str) -> ChartFiles:
        try:
            if repository.startswith("oci://"):
                host, _, path = repository.removeprefix("oci://").partition("/")
                archive = self._oci.chart_archive(host, f"{path}/{chart}".strip("/"), version)
            else:
                entries = [e for e in self._index(repository).get("entries", {}).get(chart, []) if str(e["version"]) == version]
                if not entries:
                    raise SourceError(f"{repository} has no {chart} {version}")
                url = urllib.parse.urljoin(f"{repository.rstrip('/')}/", entries[0]["urls"][0])
                archive, _ = _get(url)
        except (urllib.error.URLError, OSError) as exc:
            raise SourceError(f"{chart} {version} from {repository}: {exc}") from None
        return _chart_from_archive(archive, chart, version)

    def image_tags(self, repository: str) -> set[str]:
        host, name = _registry_and_name(repository)
        try:
            return self._oci.tags(host, name)
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            raise SourceError(f"image {repository} on {host}: {exc}") from None

    def addon_versions(self, addon: str, kubernetes_version: str) -> set[str]:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = boto3.client("eks", region_name=os.environ.get("AWS_REGION", "eu-central-1"))
            versions: set[str] = set()
            for page in client.get_paginator("describe_addon_versions").paginate(addonName=addon, kubernetesVersion=kubernetes_version):
                for found in page.get("addons", []):
                    versions |= {v["addonVersion"] for v in found.get("addonVersions", [])}
            return versions
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"eks:DescribeAddonVersions {addon} {kubernetes_version}: {exc}") from None

    def git_tags(self, repository: str, prefix: str) -> set[str]:
        """GitHub's matching-refs API (anonymous; 60 requests an hour are plenty here)."""
        name = github_name(repository)
        try:
            body, _ = _get(
                f"https://api.github.com/repos/{name}/git/matching-refs/tags/{prefix}", {"Accept": "application/vnd.github+json"}
            )
            refs = json.loads(body)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"{repository} tags: {exc}") from None
        return {str(ref["ref"]).removeprefix("refs/tags/") for ref in refs if str(ref.get("ref", "")).startswith("refs/tags/")}


def default_source(choice: str = "auto") -> Facts:
    """``catalog``, ``registries``, or ``auto``: the catalog when one is next to the checkout."""
    if choice == "registries":
        return RegistrySource()
    try:
        root = shared_dir()
    except UpstreamError as exc:
        raise SourceError(str(exc)) from None
    if root is not None and (root / "catalog" / "charts").is_dir():
        return CatalogSource(root / "catalog")
    if choice == "catalog":
        raise SourceError("no upstream catalog next to the checkout (../shared/catalog); use --source registries (needs network)")
    return RegistrySource()
