"""Builds the cdktf app: per environment a state-bucket, a platform and a bootstrap stack."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from environments.config import EnvironmentConfig
from platform_constructs.bootstrap_stack import BootstrapStack
from platform_constructs.platform_stack import PlatformStack
from platform_constructs.state_bucket_stack import StateBucketStack


def build_app(environments: Sequence[EnvironmentConfig], outdir: str | None = None) -> App:
    """Every stack of every environment, in deployment order; call ``synth()`` on the result."""
    app = App(outdir=outdir) if outdir else App()
    for env in environments:
        StateBucketStack(app, env)
        platform = PlatformStack(app, env)
        BootstrapStack(app, env, platform)
    return app
