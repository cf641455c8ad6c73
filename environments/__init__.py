"""The environments this app deploys, one module each, loaded and validated together."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from environments.config import EnvironmentConfig, validate_fleet
from environments.errors import ConfigError

#: The environment modules, in deployment order. Add a module here to add an environment.
ENVIRONMENT_MODULES: tuple[str, ...] = ("dev", "stage", "prod")

__all__ = ["ENVIRONMENT_MODULES", "ConfigError", "EnvironmentConfig", "load_environments"]


def load_environments(names: Sequence[str] = ENVIRONMENT_MODULES) -> tuple[EnvironmentConfig, ...]:
    """Import each environment module's ``CONFIG`` and validate them as a fleet.

    A module's file name is its environment's name, so an error raised while a nested
    value (a ``NetworkConfig``, say) was being built is attributed to the right environment.
    """
    configs: list[EnvironmentConfig] = []
    for name in names:
        try:
            module = importlib.import_module(f"environments.{name}")
        except ConfigError as err:
            raise err.within(name) from None
        except ModuleNotFoundError as err:
            if err.name != f"environments.{name}":
                raise  # an import inside the module is broken: that is a bug, not a missing environment
            raise ConfigError("environments", f"no module environments/{name}.py", name) from None
        config = getattr(module, "CONFIG", None)
        if not isinstance(config, EnvironmentConfig):
            raise ConfigError("CONFIG", f"environments/{name}.py must define CONFIG = EnvironmentConfig(...)", name)
        if config.name != name:
            raise ConfigError("name", f"'{config.name}' differs from its module name '{name}'", name)
        configs.append(config)
    validate_fleet(configs)
    return tuple(configs)
