"""Entry point of the cdktf app (``cdktf synth`` runs ``python main.py``).

Synthesizes, for every environment in ``environments/``, three stacks into ``cdktf.out``
(or ``$CDKTF_OUTDIR``, which the cdktf CLI sets): ``<env>-state`` (the state bucket),
``<env>-platform`` (AWS) and ``<env>-bootstrap`` (helm/kubernetes). No AWS credentials are
needed to synthesize.

Nothing is ever half-written: the app synthesizes into a temporary directory next to the
output and moves it into place only once synthesis has succeeded. A bad configuration is one
line, ``error: environment '<env>': <field>: <rule>``, exit code 2; a synthesis that fails
after validation (a bug in the project) shows its traceback, exit code 1. Either way the
output directory is left exactly as it was, or not created.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Our constructs live in ./constructs/platform_constructs. ./constructs itself has no
# __init__.py, so `import constructs` still finds the jsii library (a regular package
# beats a namespace directory); ./constructs is a source root on the path instead.
# See docs/decisions/0001-constructs-directory-layout.md.
if str(ROOT / "constructs") not in sys.path:
    sys.path.insert(1, str(ROOT / "constructs"))

from environments import ConfigError, load_environments  # noqa: E402


def output_dir() -> Path:
    """Where the synthesized app goes: ``$CDKTF_OUTDIR`` (set by the cdktf CLI) or ``cdktf.out``."""
    return Path(os.environ.get("CDKTF_OUTDIR") or "cdktf.out").absolute()


def replace_dir(staged: Path, target: Path) -> None:
    """Move ``staged`` to ``target``, replacing what is there; ``target`` is never half-written.

    Both live in the same directory, so each step is a rename. If moving the new output in
    fails, the previous output is put back.
    """
    previous = target.with_name(f".{target.name}.previous-{os.getpid()}")
    had_previous = target.exists()
    if had_previous:
        os.rename(target, previous)
    try:
        os.rename(staged, target)
    except BaseException:
        if had_previous:
            os.rename(previous, target)
        raise
    if had_previous:
        shutil.rmtree(previous, ignore_errors=True)


def main() -> int:
    """Validate every environment, then build and synthesize the app. Returns the exit code."""
    try:
        environments = load_environments()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for env in environments:
        for line in env.warnings():
            print(f"warning: {line}", file=sys.stderr)
    target = output_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    staged.chmod(0o777 & ~umask)  # mkdtemp's 0700 would otherwise become the output's mode
    try:
        # Imported only once the configuration is known to be good: a bad configuration
        # fails in well under a second and writes nothing.
        from platform_constructs.app import build_app

        build_app(environments, outdir=str(staged)).synth()
        replace_dir(staged, target)
    except ConfigError as err:
        shutil.rmtree(staged, ignore_errors=True)
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception:
        shutil.rmtree(staged, ignore_errors=True)
        traceback.print_exc()
        print(f"error: synthesis failed (a bug in the project, not in the configuration); {target} was left as it was", file=sys.stderr)
        return 1
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
