"""``main.py`` on broken environments: one line, exit code 2, nothing written; bugs keep their traceback.

Each case edits one environment module in a throwaway copy of the app, the way a person who
never read the model would get it wrong, and runs ``main.py`` there. The output directory is
checked on every path: not created when there was none, byte-for-byte untouched when there was
one, also when synthesis itself fails after validation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, tool_env


def _copy_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(REPO / "main.py", app / "main.py")
    shutil.copytree(REPO / "environments", app / "environments", ignore=shutil.ignore_patterns("__pycache__"))
    (app / "constructs").symlink_to(REPO / "constructs")
    return app


def _edit(app: Path, module: str, old: str, new: str) -> None:
    path = app / "environments" / f"{module}.py"
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in environments/{module}.py"
    path.write_text(text.replace(old, new))


def _line_of(app: Path, module: str, text: str) -> int:
    lines = (app / "environments" / f"{module}.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _run(app: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *(args or ("main.py",))], cwd=app, env=tool_env(), capture_output=True, text=True, timeout=300, check=False
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(app: Path) -> list[str]:
    return sorted(p.name for p in app.iterdir() if p.name.startswith(".cdktf.out."))


BROKEN = [
    pytest.param(
        "dev",
        'owner="platform-team",',
        'owner="platform-team",,',
        "error: environment 'dev': environments/dev.py:{line}: SyntaxError: invalid syntax",
        'owner="platform-team",,',
        id="a syntax error",
    ),
    pytest.param(
        "stage",
        'owner="platform-team",',
        'owner="platform-team" + 1,',
        "error: environment 'stage': environments/stage.py:{line}: TypeError: can only concatenate str (not \"int\") to str",
        'owner="platform-team" + 1,',
        id="an exception raised by the module's own code",
    ),
    pytest.param(
        "dev",
        "    Tier,\n)",
        "    Tier,\n    Teir,\n)",
        "error: environment 'dev': environments/dev.py:3: ImportError: cannot import name 'Teir' from 'environments.model' ({app}/environments/model/__init__.py)",
        None,
        id="a misspelt import",
    ),
    pytest.param(
        "prod",
        "az_count=3,",
        "az_cuont=3,",
        "error: environment 'prod': network.az_cuont: is not a known field; did you mean 'az_count'?",
        None,
        id="a misspelt keyword argument",
    ),
    pytest.param(
        "prod",
        '    region="eu-central-1",\n',
        "",
        "error: environment 'prod': region: is required",
        None,
        id="a missing keyword argument",
    ),
    pytest.param(
        "stage",
        "min_size=3, max_size=6",
        "min_size=None, max_size=6",
        "error: environment 'stage': cluster.node_groups.general.min_size: must be a whole number, not None",
        None,
        id="None where a number is meant",
    ),
    pytest.param(
        "prod",
        "endpoint_public_access=False,",
        'endpoint_public_access="false",',
        "error: environment 'prod': cluster.endpoint_public_access: must be True or False, not the str 'false'",
        None,
        id="the string false where a boolean is meant",
    ),
    pytest.param(
        "dev",
        "az_count=2,",
        'az_count="2",',
        "error: environment 'dev': network.az_count: must be a whole number, not the str '2'",
        None,
        id="a string where a number is meant",
    ),
    pytest.param(
        "prod",
        "nat=NatStrategy.PER_AZ",
        "nat=NatStrategy.SINGLE",
        "error: environment 'prod': network.nat: a production-tier environment needs one NAT gateway per AZ ('per-az'), not a single shared one",
        None,
        id="a tier rule",
    ),
    pytest.param(
        "stage",
        'vpc_cidr="10.20.0.0/16"',
        'vpc_cidr="10.10.0.0/16"',
        "error: environment 'stage': network.vpc_cidr: 10.10.0.0/16 overlaps 10.10.0.0/16 of environment 'dev'; VPCs must not overlap",
        None,
        id="a conflict with an earlier environment",
    ),
    pytest.param(
        "dev",
        'name="dev",',
        'name="dev1",',
        "error: environment 'dev': name: 'dev1' differs from its module name 'dev'",
        None,
        id="a name that is not the module's",
    ),
]


@pytest.mark.parametrize(("module", "old", "new", "expected", "marker"), BROKEN)
def test_a_broken_environment_is_one_line_exit_code_2_and_nothing_is_written(
    tmp_path: Path, module: str, old: str, new: str, expected: str, marker: str | None
) -> None:
    app = _copy_app(tmp_path)
    _edit(app, module, old, new)
    line = _line_of(app, module, marker) if marker else 0
    proc = _run(app)
    assert (proc.returncode, proc.stderr.strip()) == (2, expected.format(line=line, app=app))
    assert not (app / "cdktf.out").exists()
    assert _leftovers(app) == []


def test_an_existing_output_is_left_exactly_as_it_was_when_the_configuration_is_bad(tmp_path: Path) -> None:
    app = _copy_app(tmp_path)
    out = app / "cdktf.out"
    (out / "stacks" / "dev-platform").mkdir(parents=True)
    (out / "stacks" / "dev-platform" / "cdk.tf.json").write_text('{"from": "the last good synth"}')
    (out / "manifest.json").write_text("{}")
    before = _tree(out)
    _edit(app, "dev", "az_count=2,", "az_count=9,")
    proc = _run(app)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: environment 'dev': network.az_count: must be between 2 and 4, not 9"
    assert _tree(out) == before


def test_a_bug_in_the_project_s_own_code_keeps_its_traceback(tmp_path: Path) -> None:
    app = _copy_app(tmp_path)
    rules = app / "environments" / "model" / "rules.py"
    text = rules.read_text()
    rules.write_text(text.replace('    """S3\'s general-purpose bucket naming rules', '    {}["planted bug"]\n    """S3\'s', 1))
    proc = _run(app)
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "environments/model/rules.py" in proc.stderr
    assert proc.stderr.strip().endswith("KeyError: 'planted bug'")
    assert not (app / "cdktf.out").exists()


_HALF_WRITTEN = """
import sys, types
import cdktf
import main

# Stands in for platform_constructs.app (whose providers take seconds to import).
app_module = sys.modules["platform_constructs.app"] = types.ModuleType("platform_constructs.app")

def build_app(environments, outdir=None):
    app = cdktf.App(outdir=outdir)
    cdktf.TerraformStack(app, "half")
    real = app.synth
    def synth():
        real()
        raise RuntimeError("synthesis broke after writing a stack")
    app.synth = synth
    return app

app_module.build_app = build_app
sys.exit(main.main())
"""

_WRITES_ONE_STACK = """
import sys, types
import cdktf
import main

# Stands in for platform_constructs.app (whose providers take seconds to import).
app_module = sys.modules["platform_constructs.app"] = types.ModuleType("platform_constructs.app")

def build_app(environments, outdir=None):
    app = cdktf.App(outdir=outdir)
    cdktf.TerraformStack(app, "fresh")
    return app

app_module.build_app = build_app
sys.exit(main.main())
"""


def _previous_output(app: Path) -> dict[str, bytes]:
    stale = app / "cdktf.out" / "stacks" / "stale"
    stale.mkdir(parents=True)
    (stale / "cdk.tf.json").write_text('{"from": "the last good synth"}')
    return _tree(app / "cdktf.out")


def test_a_synthesis_that_fails_after_validation_leaves_the_previous_output_untouched(tmp_path: Path) -> None:
    app = _copy_app(tmp_path)
    before = _previous_output(app)
    proc = _run(app, "-c", _HALF_WRITTEN)
    assert proc.returncode == 1
    assert "RuntimeError: synthesis broke after writing a stack" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: synthesis failed (a bug in the project, not in the configuration);")
    assert _tree(app / "cdktf.out") == before
    assert _leftovers(app) == []


def test_a_good_synthesis_replaces_the_whole_previous_output(tmp_path: Path) -> None:
    app = _copy_app(tmp_path)
    _previous_output(app)
    proc = _run(app, "-c", _WRITES_ONE_STACK)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (app / "cdktf.out" / "stacks").iterdir()) == ["fresh"]
    assert _leftovers(app) == []
    assert oct((app / "cdktf.out").stat().st_mode & 0o777) != oct(0o700)
