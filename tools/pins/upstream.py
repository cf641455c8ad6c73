"""Upstream data files the tests read (CRDs, chart values), pinned by URL and sha256.

``tools/pins/upstream-files.tsv`` lists each file by its path below ``shared/`` (the
workplace's copies of upstream data), the raw URL of the same file at the upstream commit,
and its sha256. :func:`materialize` returns a local copy of one file:

1. the copy below ``shared/`` (``PLATFORM_SHARED_DIR``, default ``../shared`` next to the
   checkout) when it exists and its sha256 is the pinned one;
2. else the cached download (``.cache/upstream/``), checked again;
3. else a download from the pinned URL (``PLATFORM_UPSTREAM_MIRROR=<url>`` replaces
   ``https://<host>`` by ``<url>/<host>``: the tests' loopback stand-in), refused unless its
   sha256 is the pinned one.

With neither a local copy nor the network, it fails with one line naming the file. Nothing
fetched is ever committed: only the URLs and checksums are.

    python -m tools.pins upstream               # materialize every file (make setup runs this)
    python -m tools.pins upstream --add PATH... # pin more files of shared/ (URL from its manifests)
"""

from __future__ import annotations

import csv
import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFEST = Path(__file__).resolve().parent / "upstream-files.tsv"
CACHE = Path(os.environ.get("PLATFORM_UPSTREAM_CACHE", REPO / ".cache" / "upstream"))
COLUMNS = ("path", "url", "sha256", "license")


class UpstreamError(RuntimeError):
    """An upstream file is missing, or is not the pinned one."""


@dataclass(frozen=True)
class UpstreamFile:
    path: str
    """Relative to ``shared/`` (``catalog/charts/velero/12.1.0/values.yaml``)."""
    url: str
    sha256: str
    license: str


def shared_dir() -> Path | None:
    """The directory of local upstream copies, or ``None`` where there is none."""
    configured = os.environ.get("PLATFORM_SHARED_DIR")
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise UpstreamError(f"PLATFORM_SHARED_DIR={configured} is not a directory")
        return path
    default = REPO.parent / "shared"
    return default if default.is_dir() else None


@cache
def pinned_files() -> dict[str, UpstreamFile]:
    with MANIFEST.open(newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["path"]: UpstreamFile(**row) for row in rows}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mirrored(url: str) -> str:
    mirror = os.environ.get("PLATFORM_UPSTREAM_MIRROR", "").rstrip("/")
    if not mirror:
        return url
    parts = urllib.parse.urlsplit(url)
    return f"{mirror}/{parts.netloc}{parts.path}"


def _download(entry: UpstreamFile) -> bytes:
    url = _mirrored(entry.url)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "plato-platform"}), timeout=60) as response:
            data: bytes = response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpstreamError(f"{entry.path}: no local copy and the download from {url} failed ({reason})") from None
    digest = _sha256(data)
    if digest != entry.sha256:
        raise UpstreamError(f"{entry.path}: {url} has sha256 {digest}, not the pinned {entry.sha256}; refusing it")
    return data


def materialize(path: str) -> Path:
    """A verified local copy of the pinned upstream file ``path`` (see the module docstring)."""
    entry = pinned_files().get(path)
    if entry is None:
        raise UpstreamError(
            f"{path} is not pinned in {MANIFEST.relative_to(REPO)}; add it with `python -m tools.pins upstream --add {path}`"
        )
    root = shared_dir()
    if root is not None and (root / path).is_file():
        local = root / path
        digest = _sha256(local.read_bytes())
        if digest != entry.sha256:
            raise UpstreamError(f"{local}: sha256 {digest} is not the pinned {entry.sha256} ({entry.url})")
        return local
    cached = CACHE / path
    if cached.is_file() and _sha256(cached.read_bytes()) == entry.sha256:
        return cached
    data = _download(entry)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return cached


def materialize_all(paths: Iterable[str] | None = None) -> list[Path]:
    return [materialize(p) for p in (paths if paths is not None else pinned_files())]


def files_under(prefix: str) -> list[str]:
    """The pinned paths below ``prefix`` (``catalog/charts/velero/12.1.0/crds/``)."""
    return sorted(p for p in pinned_files() if p.startswith(prefix))


# --- pinning more files ----------------------------------------------------------------------


def _shared_manifests(root: Path) -> dict[str, tuple[str, str, str, str]]:
    """path below shared/ -> (repo, upstream path, commit, license), from shared's own manifests."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for manifest, prefix in (
        (root / "catalog" / "charts" / "manifest.tsv", "catalog/"),
        (root / "schemas" / "manifest.tsv", "schemas/"),
        (root / "schemas" / "crds" / "manifest-additions.tsv", "schemas/"),
    ):
        if not manifest.is_file():
            continue
        for line in manifest.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            cells = line.split("\t")
            stored = cells[0]
            if stored in ("stored_file", "file") or len(cells) < 6:
                continue
            repo, upstream_path, commit = cells[1], cells[2], cells[4]
            license_ = cells[6] if len(cells) > 6 else ""
            found[prefix + stored.removeprefix(prefix)] = (repo, upstream_path, commit, license_)
    return found


def add(paths: Sequence[str]) -> list[UpstreamFile]:
    """Pin files of ``shared/`` by their upstream URL at the recorded commit, and their sha256."""
    root = shared_dir()
    if root is None:
        raise UpstreamError("no shared/ directory to pin files from (PLATFORM_SHARED_DIR)")
    known = _shared_manifests(root)
    entries = dict(pinned_files())
    added: list[UpstreamFile] = []
    for path in paths:
        if path not in known:
            raise UpstreamError(f"{path}: shared/'s manifests do not say where upstream it comes from")
        repo, upstream_path, commit, license_ = known[path]
        url = f"https://raw.githubusercontent.com/{repo}/{commit}/{upstream_path}"
        entry = UpstreamFile(path=path, url=url, sha256=_sha256((root / path).read_bytes()), license=license_)
        entries[path] = entry
        added.append(entry)
    lines = [
        "# Upstream data files the tests read; tools/pins/upstream.py materializes them. Only URLs and sums are committed.",
        "\t".join(COLUMNS),
    ]
    lines += ["\t".join((e.path, e.url, e.sha256, e.license)) for e in sorted(entries.values(), key=lambda e: e.path)]
    MANIFEST.write_text("\n".join(lines) + "\n")
    pinned_files.cache_clear()
    return added
