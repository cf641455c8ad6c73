"""The environments this app deploys: the registry, and loading them.

:data:`REGISTRY` is the one list of environments. Everything that runs per environment
derives from it: the stacks ``main.py`` synthesizes, the GitOps checks, the emulator tier,
the generated GitLab pipeline (``tools/ci/pipeline.py``), the delivery tracks and the CI
trust policies. Each name is a module ``environments/<name>.py`` defining ``CONFIG``; a module
there that the registry does not list is an error, never silently skipped.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from environments.model import ConfigError, EnvironmentConfig, validate_fleet

#: The environments, in deployment order (and the order fleet-wide rules blame: a conflict is
#: reported against the environment listed later). Adding one: README, "Adding an environment".
REGISTRY: tuple[str, ...] = ("dev", "stage", "prod")

__all__ = ["REGISTRY", "ConfigError", "EnvironmentConfig", "environment_modules", "load_environments"]

_HERE = Path(__file__).resolve().parent
#: The project's own code: an exception raised in it is a bug and keeps its traceback.
_PROJECT_CODE = (_HERE / "model", _HERE.parent / "constructs", _HERE.parent / "tools", _HERE / "__init__.py")


def environment_modules(directory: Path = _HERE) -> tuple[str, ...]:
    """The environment modules on disk: every ``environments/*.py`` but this package's own."""
    return tuple(sorted(p.stem for p in directory.glob("*.py") if p.stem != "__init__"))


def check_registry(names: Sequence[str] = REGISTRY, directory: Path = _HERE) -> None:
    """The registry lists each environment module exactly once, and nothing else."""
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if list(names).count(n) > 1})
        raise ConfigError("REGISTRY", f"lists {twice} more than once", None)
    on_disk = set(environment_modules(directory))
    for name in names:
        if name not in on_disk:
            raise ConfigError("REGISTRY", f"lists '{name}' but there is no module environments/{name}.py", None)
    unlisted = sorted(on_disk - set(names))
    if unlisted:
        raise ConfigError(
            "REGISTRY",
            f"environments/{unlisted[0]}.py is not listed; add '{unlisted[0]}' to REGISTRY in environments/__init__.py or remove the module",
            None,
        )


def load_environments(names: Sequence[str] | None = None) -> tuple[EnvironmentConfig, ...]:
    """Import each registered environment module's ``CONFIG`` and validate them as a fleet.

    ``names`` defaults to the whole :data:`REGISTRY`, which is then checked against the modules
    on disk; a subset (tests, one-environment tools) is loaded as given.

    A module's file name is its environment's name, so an error raised while a nested
    value (a ``NetworkConfig``, say) was being built is attributed to the right environment.
    """
    if names is None:
        check_registry()
        names = REGISTRY
    configs: list[EnvironmentConfig] = []
    for name in names:
        module = _import(name)
        config = getattr(module, "CONFIG", None)
        if not isinstance(config, EnvironmentConfig):
            raise ConfigError("CONFIG", f"environments/{name}.py must define CONFIG = EnvironmentConfig(...)", name)
        if config.name != name:
            raise ConfigError("name", f"'{config.name}' differs from its module name '{name}'", name)
        configs.append(config)
    validate_fleet(configs)
    return tuple(configs)


def _import(name: str) -> ModuleType:
    """Import ``environments/<name>.py``; its own mistakes become one :class:`ConfigError` line.

    A rule broken while the module built its configuration is attributed to the environment.
    A syntax error in the module, or an exception raised by the module's own code (a typo'd
    name, a failed import, ``1 / 0``), becomes ``environments/<name>.py:<line>: <Type>: <text>``.
    An exception raised inside the project's own code is a bug in the project, not in the
    environment, and propagates with its traceback.
    """
    module_name = f"environments.{name}"
    try:
        return importlib.import_module(module_name)
    except ConfigError as err:
        raise err.within(name) from None
    except SyntaxError as err:
        sys.modules.pop(module_name, None)
        if err.filename is None or Path(err.filename).resolve() != _HERE / f"{name}.py":
            raise
        raise ConfigError(f"environments/{name}.py:{err.lineno}", f"{type(err).__name__}: {err.msg}", name) from None
    except Exception as err:
        sys.modules.pop(module_name, None)
        line = _line_in_module(err, _HERE / f"{name}.py")
        if line is None:
            raise
        raise ConfigError(f"environments/{name}.py:{line}", f"{type(err).__name__}: {_one_line(err)}", name) from None


def _line_in_module(err: BaseException, module_file: Path) -> int | None:
    """The line of ``module_file`` that raised ``err``, unless the project's own code raised it below."""
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        path = Path(frame.filename).resolve()
        if path == module_file:
            line = frame.lineno
        elif line is not None and any(path == code or code in path.parents for code in _PROJECT_CODE):
            return None
    return line


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 200 else text[:197] + "..."
