"""README, "Adding an environment", done for real in a throwaway copy of the repository.

One environment module, its line in the registry and its overlays (copied from stage) are all
a new environment takes; the pipeline is regenerated, not edited. The copy must then give a
valid synth of the new environment's three stacks, a GitOps tree that builds and substitutes
completely, and a pipeline that deploys it on its channel.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, tool_env

pytestmark = pytest.mark.integration

OVERLAYS = ("gitops/clusters", "gitops/infrastructure/controllers", "gitops/infrastructure/configs", "gitops/delivery", "gitops/apps")
QA = {
    'name="stage"': 'name="qa"',
    "222222222222": "444444444444",
    "stage.plato.example.com": "qa.plato.example.com",
    "plato-tfstate-stage-": "plato-tfstate-qa-",
    'vpc_cidr="10.20.0.0/16"': 'vpc_cidr="10.40.0.0/16"',
    '"platform-stage"': '"platform-qa"',
}


def working_tree_files() -> list[str]:
    proc = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return [line for line in proc.stdout.splitlines() if (REPO / line).is_file()]


def run(app: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=app, env=tool_env(**env), capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in working_tree_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    for link in ("node_modules", ".venv"):
        if (REPO / link).exists():
            (root / link).symlink_to(REPO / link)
    return root


def add_module(app: Path) -> None:
    text = (app / "environments" / "stage.py").read_text()
    for old, new in QA.items():
        assert old in text, f"stage.py no longer holds {old!r}: update this test's edits"
        text = text.replace(old, new)
    (app / "environments" / "qa.py").write_text(text.replace('"""stage:', '"""qa: a copy of stage;', 1))


def test_an_environment_module_the_registry_does_not_list_stops_the_synth(app: Path) -> None:
    add_module(app)
    proc = run(app, "main.py", CDKTF_OUTDIR=str(app / "unlisted.out"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: configuration: REGISTRY: environments/qa.py is not listed; "
        "add 'qa' to REGISTRY in environments/__init__.py or remove the module"
    )
    assert not (app / "unlisted.out").exists()


def test_a_module_its_registry_line_and_its_overlays_give_a_complete_new_environment(app: Path) -> None:
    add_module(app)
    init = app / "environments" / "__init__.py"
    init.write_text(
        init.read_text().replace(
            'REGISTRY: tuple[str, ...] = ("dev", "stage", "prod")', 'REGISTRY: tuple[str, ...] = ("dev", "stage", "prod", "qa")'
        )
    )
    for overlay in OVERLAYS:
        shutil.copytree(app / overlay / "stage", app / overlay / "qa")

    # The pipeline is stale until regenerated; regenerating it is the whole edit.
    assert run(app, "tools/ci/pipeline.py", "--check").returncode == 1
    assert run(app, "tools/ci/pipeline.py").returncode == 0
    pipeline = (app / ".gitlab-ci.yml").read_text()
    for job in (
        "diff:qa-platform",
        "diff:qa-bootstrap",
        "deploy:qa-platform",
        "deploy:qa-bootstrap",
        "drift:qa-platform",
        "drift:qa-bootstrap",
    ):
        assert re.search(rf"^{re.escape(job)}:$", pipeline, re.MULTILINE), job
    assert "resource_group: terraform-qa" in pipeline

    outdir = app / "cdktf.out"
    proc = run(app, "main.py", CDKTF_OUTDIR=str(outdir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    stacks = sorted(p.name for p in (outdir / "stacks").iterdir())
    assert {"qa-state", "qa-platform", "qa-bootstrap"} <= set(stacks)
    platform = json.loads((outdir / "stacks" / "qa-platform" / "cdk.tf.json").read_text())
    assert platform["terraform"]["backend"]["s3"]["bucket"] == "plato-tfstate-qa-444444444444"
    assert platform["resource"]["aws_vpc"]["network_vpc"]["cidr_block"] == "10.40.0.0/16"

    check = (
        "import sys, gitops_tree as g; t = g.build_tree('qa'); "
        "assert not t.unresolved, t.unresolved; "
        "assert set(t.kustomizations) == {'flux-system', 'infra-controllers', 'infra-configs', 'delivery', 'release-images', 'apps'}, set(t.kustomizations); "
        "print(len(t.objects))"
    )
    proc = run(app, "-c", check, PYTHONPATH=f"{app / 'tests' / 'gitops'}:{app}:{app / 'constructs'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.strip()) > 50, "the qa tree renders the platform and the workload"

    proc = run(
        app,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_gitlab_ci.py",
        "-k",
        "schema or rules_model or generator or committed_pipeline",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
