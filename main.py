"""Entry point of the cdktf app (``cdktf synth`` runs ``python main.py``).

Synthesizes, for every environment in ``environments/``, three stacks into ``cdktf.out``:
``<env>-state`` (the state bucket), ``<env>-platform`` (AWS) and ``<env>-bootstrap``
(helm/kubernetes). No AWS credentials are needed to synthesize.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Our constructs live in ./constructs/platform_constructs. ./constructs itself has no
# __init__.py, so `import constructs` still finds the jsii library (a regular package
# beats a namespace directory); ./constructs is a source root on the path instead.
# See docs/decisions/0001-constructs-directory-layout.md.
if str(ROOT / "constructs") not in sys.path:
    sys.path.insert(1, str(ROOT / "constructs"))

from environments import ConfigError, load_environments  # noqa: E402


def main() -> int:
    """Validate every environment, then build and synthesize the app. Returns the exit code."""
    try:
        environments = load_environments()
        for env in environments:
            for line in env.warnings():
                print(f"warning: {line}", file=sys.stderr)
        # Imported only once the configuration is known to be good: a bad configuration
        # fails in well under a second and writes nothing.
        from platform_constructs.app import build_app

        app = build_app(environments)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
