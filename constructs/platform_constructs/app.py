"""Builds the cdktf app: per environment a state-bucket, a platform and a bootstrap stack."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from environments.model import EnvironmentConfig
from platform_constructs.stacks.bootstrap import BootstrapStack
from platform_constructs.stacks.platform import PlatformStack
from platform_constructs.stacks.state import StateBucketStack


def build_app(environments: Sequence[EnvironmentConfig], outdir: str | None = None) -> App:
    """Every stack of every environment, in deployment order; call ``synth()`` on the result."""
    app = App(outdir=outdir) if outdir else App()
    for env in environments:
        StateBucketStack(app, env)
        platform = PlatformStack(app, env)
        BootstrapStack(app, env, platform.contract)
    return app
