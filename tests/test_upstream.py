"""The upstream files the tests read come from pinned URLs with sha256 sums: local copies when
there are some, downloads otherwise; a file that is not the pinned one is refused in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from standin import World, serve

from tools.pins import upstream

SAMPLE = "catalog/charts/flagger/1.44.0/crds/crd.yaml"


@pytest.fixture
def no_local_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine without shared/: an empty PLATFORM_SHARED_DIR and an empty download cache."""
    empty = tmp_path / "no-shared"
    empty.mkdir()
    monkeypatch.setenv("PLATFORM_SHARED_DIR", str(empty))
    monkeypatch.setattr(upstream, "CACHE", tmp_path / "cache")
    return tmp_path / "cache"


def pinned_bytes(path: str) -> bytes:
    local = upstream.materialize(path)
    return local.read_bytes()


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    world = World()
    for entry in upstream.pinned_files().values():
        url = re.sub(r"^https://", "/", entry.url)
        world.files[url] = pinned_bytes(entry.path)
    with serve(world) as base:
        monkeypatch.setenv("PLATFORM_UPSTREAM_MIRROR", base)
        yield world


def test_every_file_is_pinned_to_an_upstream_commit_with_a_sha256() -> None:
    for entry in upstream.pinned_files().values():
        assert re.match(r"^https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+$", entry.url), entry.url
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.path


def test_a_local_copy_is_used_when_its_sum_is_the_pinned_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = pinned_bytes(SAMPLE)
    shared = tmp_path / "shared"
    (shared / SAMPLE).parent.mkdir(parents=True)
    (shared / SAMPLE).write_bytes(data)
    monkeypatch.setenv("PLATFORM_SHARED_DIR", str(shared))
    monkeypatch.setenv("PLATFORM_UPSTREAM_MIRROR", "http://127.0.0.1:9")  # a download would fail
    assert upstream.materialize(SAMPLE) == shared / SAMPLE


def test_without_local_copies_every_file_is_downloaded_checked_and_cached(mirror: World, tmp_path: Path, no_local_copies: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.pins", "upstream"],
        cwd=REPO,
        env={
            **_env(),
            "PLATFORM_SHARED_DIR": str(tmp_path / "no-shared"),
            "PLATFORM_UPSTREAM_MIRROR": _base(mirror),
            "PLATFORM_UPSTREAM_CACHE": str(tmp_path / "cli-cache"),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    count = len(upstream.pinned_files())
    assert (
        f"upstream: {count} files verified: 0 local copies ({tmp_path / 'no-shared'}), {count} downloaded or cached ({tmp_path / 'cli-cache'})"
        in proc.stdout
    )
    # and in-process, into the (redirected) cache: one request per file, none the second time
    before = len(mirror.requests)
    path = upstream.materialize(SAMPLE)
    assert (
        path == no_local_copies / SAMPLE
        and path.read_bytes() == mirror.files[next(u for u in mirror.files if u.endswith("/crds/crd.yaml") and "flagger" in u)]
    )
    assert len(mirror.requests) == before + 1
    upstream.materialize(SAMPLE)
    assert len(mirror.requests) == before + 1, "a verified cached copy is not downloaded again"


def test_a_download_whose_sum_differs_is_refused_in_one_line(mirror: World, no_local_copies: Path) -> None:
    entry = upstream.pinned_files()[SAMPLE]
    mirror.files[re.sub(r"^https://", "/", entry.url)] = b"# not the pinned file\n"
    with pytest.raises(upstream.UpstreamError) as info:
        upstream.materialize(SAMPLE)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{SAMPLE}: http://127.0.0.1:") and message.endswith(f"not the pinned {entry.sha256}; refusing it")
    assert not (no_local_copies / SAMPLE).exists(), "nothing half-written into the cache"


def test_with_neither_a_local_copy_nor_the_network_the_file_is_named_in_one_line(
    no_local_copies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATFORM_UPSTREAM_MIRROR", "http://127.0.0.1:9")  # a closed port: no network
    with pytest.raises(upstream.UpstreamError) as info:
        upstream.materialize(SAMPLE)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{SAMPLE}: no local copy and the download from http://127.0.0.1:9/raw.githubusercontent.com/")


def test_a_local_copy_that_is_not_the_pinned_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    (shared / SAMPLE).parent.mkdir(parents=True)
    (shared / SAMPLE).write_text("edited\n")
    monkeypatch.setenv("PLATFORM_SHARED_DIR", str(shared))
    with pytest.raises(upstream.UpstreamError, match=r"sha256 [0-9a-f]{64} is not the pinned"):
        upstream.materialize(SAMPLE)


def test_a_file_nobody_pinned_says_how_to_pin_it() -> None:
    with pytest.raises(
        upstream.UpstreamError, match=r"not pinned in tools/pins/upstream-files.tsv; add it with `python -m tools.pins upstream --add"
    ):
        upstream.materialize("catalog/charts/unknown/1.0.0/values.yaml")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_")}


def _base(world: World) -> str:
    import os

    return os.environ["PLATFORM_UPSTREAM_MIRROR"]
