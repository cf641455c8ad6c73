"""A loopback stand-in for the internet the pins tools talk to: raw files, Helm repositories,
OCI registries (anonymous bearer tokens included) and the EKS add-on API.

Requests arrive as ``/<host>/<path>`` (``PLATFORM_REGISTRY_MIRROR`` / ``PLATFORM_UPSTREAM_MIRROR``
point there) or, for OCI clients that speak the distribution API directly,
``/v2/<host>/<name>/...``. Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

TOKEN = "standin-token"


@dataclass
class World:
    """What the stand-in serves."""

    files: dict[str, bytes] = field(default_factory=dict)
    """``/<host>/<path>`` -> body (raw files, Helm index.yaml, chart archives, token answers)."""
    oci: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``<host>/<name>`` -> {"tags": [...], "manifests": {tag: bytes}, "blobs": {digest: bytes}}."""
    addons: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(addon, Kubernetes version) -> versions EKS offers."""
    git_tags: dict[str, list[str]] = field(default_factory=dict)
    """GitHub ``owner/repo`` -> its tags (served as GitHub's matching-refs API does)."""
    requests: list[str] = field(default_factory=list)

    def add_oci_chart(self, host: str, name: str, tag: str, archive: bytes) -> None:
        repo = self.oci.setdefault(f"{host}/{name}", {"tags": [], "manifests": {}, "blobs": {}})
        config = json.dumps({"name": name.rsplit("/", 1)[-1], "version": tag}).encode()
        layer_digest = "sha256:" + hashlib.sha256(archive).hexdigest()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": layer_digest, "size": len(archive)}],
        }
        repo["tags"].append(tag)
        repo["manifests"][tag] = json.dumps(manifest).encode()
        repo["blobs"][layer_digest] = archive
        repo["blobs"][config_digest] = config

    def add_image_tags(self, host: str, name: str, tags: list[str]) -> None:
        self.oci.setdefault(f"{host}/{name}", {"tags": [], "manifests": {}, "blobs": {}})["tags"].extend(tags)


def chart_archive(name: str, version: str, values: Mapping[str, Any], templates: Mapping[str, str] | None = None) -> bytes:
    """A Helm chart package (``<name>-<version>.tgz``) with the given defaults and templates."""
    files = {
        f"{name}/Chart.yaml": yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version, "appVersion": version}),
        f"{name}/values.yaml": yaml.safe_dump(dict(values)),
        **{f"{name}/templates/{file}": body for file, body in (templates or {}).items()},
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def helm_index(host: str, entries: Mapping[str, list[str]]) -> bytes:
    """A Helm repository ``index.yaml`` whose archives sit next to it (relative URLs, as
    ``helm repo index`` writes them), at ``https://<host>/<chart>-<version>.tgz``."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "entries": {
                chart: [{"name": chart, "version": v, "urls": [f"{chart}-{v}.tgz"], "apiVersion": "v2"} for v in versions]
                for chart, versions in entries.items()
            },
        }
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    world: World
    base: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.world.requests.append(self.path)
        path = url.path
        if path.startswith("/v2/") and path != "/v2/":
            return self._oci(path[len("/v2/") :])
        host, _, rest = path.lstrip("/").partition("/")
        if rest.startswith("v2/"):
            return self._oci(f"{host}/{rest[len('v2/') :]}")
        if rest == "token":
            return self._send(200, json.dumps({"token": TOKEN}).encode(), {"Content-Type": "application/json"})
        if host == "api.github.com" and "/git/matching-refs/tags/" in rest:
            repo, _, prefix = rest.removeprefix("repos/").partition("/git/matching-refs/tags/")
            if repo not in self.world.git_tags:
                return self._send(404, b'{"message": "Not Found"}')
            refs = [{"ref": f"refs/tags/{tag}"} for tag in self.world.git_tags[repo] if tag.startswith(prefix)]
            return self._send(200, json.dumps(refs).encode(), {"Content-Type": "application/json"})
        if rest.startswith("addons/supported-versions"):
            query = parse_qs(url.query)
            addon, version = query.get("addonName", [""])[0], query.get("kubernetesVersion", [""])[0]
            versions = self.world.addons.get((addon, version), [])
            body = {
                "addons": [{"addonName": addon, "addonVersions": [{"addonVersion": v, "compatibilities": []} for v in versions]}]
                if versions
                else []
            }
            return self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
        body = self.world.files.get(path)
        if body is None:
            return self._send(404, b"not found")
        return self._send(200, body)

    def _oci(self, rest: str) -> None:
        """``<host>/<name>/(tags/list|manifests/<ref>|blobs/<digest>)`` behind an anonymous token."""
        for marker in ("/tags/list", "/manifests/", "/blobs/"):
            if marker in rest:
                repo, _, tail = rest.partition(marker)
                break
        else:
            return self._send(404, b"unknown OCI path")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            host = repo.split("/", 1)[0]
            challenge = f'Bearer realm="https://{host}/token",service="{host}",scope="repository:{repo}:pull"'
            return self._send(401, b"unauthorized", {"WWW-Authenticate": challenge})
        entry = self.world.oci.get(repo)
        if entry is None:
            return self._send(404, b"no such repository")
        if marker == "/tags/list":
            return self._send(200, json.dumps({"name": repo, "tags": entry["tags"]}).encode(), {"Content-Type": "application/json"})
        if marker == "/manifests/":
            manifest = entry["manifests"].get(tail)
            if manifest is None:
                return self._send(404, b"no such tag")
            digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
            return self._send(
                200, manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": digest}
            )
        blob = entry["blobs"].get(tail)
        if blob is None:
            return self._send(404, b"no such blob")
        return self._send(200, blob, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": tail})


@contextmanager
def serve(world: World) -> Iterator[str]:
    """Serve ``world`` on a free loopback port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"world": world}))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
