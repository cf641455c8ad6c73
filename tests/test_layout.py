"""The local ./constructs directory never shadows the jsii library named ``constructs``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from conftest import REPO, tool_env


def test_constructs_directory_is_a_source_root_not_a_package() -> None:
    assert (REPO / "constructs").is_dir()
    assert not (REPO / "constructs" / "__init__.py").exists(), "an __init__.py here would shadow the jsii library"
    assert (REPO / "constructs" / "platform_constructs" / "__init__.py").exists()


def test_from_constructs_import_construct_is_the_library_under_pytest() -> None:
    import constructs
    from constructs import Construct

    assert Path(constructs.__file__).resolve().parent.parent.name == "site-packages"
    assert Construct.__module__ == "constructs"
    assert hasattr(constructs, "Node")


def test_from_constructs_import_construct_is_the_library_when_running_main_py() -> None:
    probe = (
        "import runpy, sys; sys.argv=['main.py']; "
        "ns = runpy.run_path('main.py', run_name='probe'); "
        "import constructs; print(constructs.__file__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=tool_env(), capture_output=True, text=True, check=True)
    assert "site-packages" in out.stdout.strip().splitlines()[-1]


def test_the_type_checker_resolves_constructs_to_the_library(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from constructs import Construct\nreveal_type(Construct.__init__)\n")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"), "--no-incremental", str(probe)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout
    assert "scope: constructs.Construct, id: str" in out.stdout


def test_our_constructs_resolve_as_platform_constructs_under_constructs_dir() -> None:
    spec = importlib.util.find_spec("platform_constructs.network")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin) == REPO / "constructs" / "platform_constructs" / "network" / "__init__.py"
