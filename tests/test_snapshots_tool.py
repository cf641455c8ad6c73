"""tools/snapshots.py: normalized copies of the synthesized stacks, and the check CI runs.

Every test builds a small fake synth output in tmp_path; none runs a real synth.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.snapshots import HINT, committed, compare, normalize, synthesized, write

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "snapshots.py"


def fake_stack(vpc_cidr: str = "10.10.0.0/16", backend: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "//": {"metadata": {"backend": "s3", "stackName": "dev-platform", "version": "0.21.0"}, "outputs": {}},
        "terraform": {"backend": backend or {"s3": {"bucket": "plato-tfstate-dev", "key": "dev/platform.tfstate"}}},
        "resource": {"aws_vpc": {"network_vpc": {"cidr_block": vpc_cidr, "tags": {"Name": "plato-dev"}}}},
    }


def make_synth(root: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """A cdktf.out as cdktf writes it: stacks/<name>/cdk.tf.json, unsorted, cdktf's own indentation."""
    out = root / "cdktf.out"
    for name, document in stacks.items():
        stack_dir = out / "stacks" / name
        stack_dir.mkdir(parents=True)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(document, indent=4))
    (out / "manifest.json").write_text("{}")
    return out


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, check=False)


def test_normalized_snapshots_have_sorted_keys_two_space_indent_and_a_trailing_newline(tmp_path: Path) -> None:
    text = normalize(json.dumps({"b": {"z": 1, "a": []}, "a": "x"}), tmp_path)
    assert text == '{\n  "a": "x",\n  "b": {\n    "a": [],\n    "z": 1\n  }\n}\n'


def test_the_checkout_path_is_replaced_so_snapshots_match_on_every_machine(tmp_path: Path) -> None:
    checkout = tmp_path / "builds" / "plato"
    local = {"local": {"path": f"{checkout}/state/dev-state.tfstate"}}
    text = normalize(json.dumps(fake_stack(backend=local)), checkout)
    assert '"path": "<repo>/state/dev-state.tfstate"' in text
    assert str(checkout) not in text


def test_a_path_that_merely_starts_like_the_checkout_is_kept(tmp_path: Path) -> None:
    checkout = tmp_path / "plato"
    local = {"local": {"path": f"{checkout}-old/state.tfstate"}}
    assert f"{checkout}-old/state.tfstate" in normalize(json.dumps(fake_stack(backend=local)), checkout)


def test_cdktf_metadata_is_kept_because_it_is_stable(tmp_path: Path) -> None:
    text = normalize(json.dumps(fake_stack()), tmp_path)
    assert json.loads(text)["//"]["metadata"] == {"backend": "s3", "stackName": "dev-platform", "version": "0.21.0"}


def test_writing_creates_one_snapshot_per_stack_and_the_check_then_passes(tmp_path: Path) -> None:
    synth = make_synth(tmp_path, {"dev-platform": fake_stack(), "dev-state": fake_stack()})
    snaps = tmp_path / "snapshots"
    written = run("--synth-dir", str(synth), "--snapshot-dir", str(snaps), "--repo-root", str(tmp_path))
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in snaps.iterdir()) == ["dev-platform.json", "dev-state.json"]
    checked = run("--check", "--synth-dir", str(synth), "--snapshot-dir", str(snaps), "--repo-root", str(tmp_path))
    assert checked.returncode == 0, checked.stderr
    assert "2 stacks match" in checked.stdout


def test_writing_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    expected = synthesized(make_synth(tmp_path, {"dev-platform": fake_stack()}), tmp_path)
    assert write(expected, tmp_path / "snapshots") == ["created snapshots/dev-platform.json"]
    assert write(expected, tmp_path / "snapshots") == []


def test_writing_removes_the_snapshot_of_a_stack_that_is_gone(tmp_path: Path) -> None:
    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    (snaps / "qa-platform.json").write_text("{}\n")
    expected = synthesized(make_synth(tmp_path, {"dev-platform": fake_stack()}), tmp_path)
    changes = write(expected, snaps)
    assert "removed snapshots/qa-platform.json (stack no longer synthesized)" in changes
    assert sorted(committed(snaps)) == ["dev-platform"]


def test_the_check_lists_stale_missing_and_extra_snapshots_with_the_hint(tmp_path: Path) -> None:
    synth = make_synth(tmp_path, {"dev-platform": fake_stack(), "dev-state": fake_stack()})
    snaps = tmp_path / "snapshots"
    write(synthesized(synth, tmp_path), snaps)
    (snaps / "dev-platform.json").write_text(normalize(json.dumps(fake_stack(vpc_cidr="10.99.0.0/16")), tmp_path))
    (snaps / "dev-state.json").unlink()
    (snaps / "qa-platform.json").write_text("{}\n")

    proc = run("--check", "--synth-dir", str(synth), "--snapshot-dir", str(snaps), "--repo-root", str(tmp_path))

    assert proc.returncode == 1
    assert "stale:   dev-platform" in proc.stderr
    assert '-        "cidr_block": "10.99.0.0/16",' in proc.stderr
    assert '+        "cidr_block": "10.10.0.0/16",' in proc.stderr
    assert "missing: dev-state" in proc.stderr
    assert "extra:   qa-platform" in proc.stderr
    assert proc.stderr.rstrip().endswith(f"hint: {HINT}")
    assert "make snapshots" in HINT


def test_the_check_does_not_write_anything(tmp_path: Path) -> None:
    synth = make_synth(tmp_path, {"dev-platform": fake_stack()})
    snaps = tmp_path / "snapshots"
    assert run("--check", "--synth-dir", str(synth), "--snapshot-dir", str(snaps)).returncode == 1
    assert not snaps.exists()


def test_a_long_stale_diff_is_cut_and_says_how_much_is_left(tmp_path: Path) -> None:
    big = fake_stack()
    big["resource"]["aws_subnet"] = {f"s{i}": {"cidr_block": f"10.10.{i}.0/24"} for i in range(40)}
    synth = make_synth(tmp_path, {"dev-platform": big})
    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    (snaps / "dev-platform.json").write_text(normalize(json.dumps(fake_stack()), tmp_path))
    assert len(compare(synthesized(synth, tmp_path), committed(snaps), snaps).stale["dev-platform"]) > 20
    proc = run("--check", "--synth-dir", str(synth), "--snapshot-dir", str(snaps), "--repo-root", str(tmp_path))
    assert proc.returncode == 1
    assert re.search(r"\.\.\. \d+ more diff lines", proc.stderr)


@pytest.mark.parametrize(
    ("layout", "message"),
    [("none", "does not exist; run `make synth` first"), ("empty", "holds no stacks"), ("no-json", "cdk.tf.json is missing")],
)
def test_a_missing_or_incomplete_synth_output_exits_2_with_a_reason(tmp_path: Path, layout: str, message: str) -> None:
    synth = tmp_path / "cdktf.out"
    if layout in ("empty", "no-json"):
        (synth / "stacks").mkdir(parents=True)
    if layout == "no-json":
        (synth / "stacks" / "dev-platform").mkdir()
    proc = run("--check", "--synth-dir", str(synth), "--snapshot-dir", str(tmp_path / "snapshots"))
    assert proc.returncode == 2
    assert message in proc.stderr


def test_files_other_than_stack_snapshots_in_the_directory_are_ignored(tmp_path: Path) -> None:
    synth = make_synth(tmp_path, {"dev-platform": fake_stack()})
    snaps = tmp_path / "snapshots"
    write(synthesized(synth, tmp_path), snaps)
    (snaps / "README.md").write_text("what these files are\n")
    assert run("--check", "--synth-dir", str(synth), "--snapshot-dir", str(snaps), "--repo-root", str(tmp_path)).returncode == 0
