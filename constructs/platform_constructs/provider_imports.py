"""Load only the provider modules a synth uses.

Each prebuilt provider package's ``__init__`` imports every one of its resource modules
(about 2,200 for AWS), which costs ~20 s and ~1 GB on every synth although a stack uses a
few dozen. :func:`enable` registers each provider package as a bare package object: its
``__path__`` and spec are the real ones, but its ``__init__`` does not run, so
``from cdktf_cdktf_provider_aws.vpc import Vpc`` imports exactly ``vpc`` (and the shared
``_jsii`` module that loads the assembly into the jsii kernel). Attribute access on the
bare package (``cdktf_cdktf_provider_aws.vpc``) still works: it imports on demand.

Nothing on disk is changed. ``PLATFORM_EAGER_PROVIDER_IMPORTS=1`` turns this off; the
equivalence test synthesizes both ways and compares the JSON byte for byte. See
docs/decisions/0004-lazy-provider-imports.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

PROVIDER_PACKAGES: tuple[str, ...] = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_helm",
    "cdktf_cdktf_provider_kubernetes",
)
EAGER_ENV_VAR = "PLATFORM_EAGER_PROVIDER_IMPORTS"


class _BarePackage(types.ModuleType):
    """A package whose submodules are imported on first attribute access."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{self.__name__}.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def enabled() -> bool:
    """Whether provider packages are loaded lazily in this process."""
    return os.environ.get(EAGER_ENV_VAR, "") not in {"1", "true", "yes"}


def enable() -> None:
    """Register the provider packages as bare packages (idempotent; no-op when eager)."""
    if not enabled():
        return
    for name in PROVIDER_PACKAGES:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"provider package {name} is not installed; run `make setup`")
        module = _BarePackage(name)
        module.__spec__ = spec
        module.__path__ = list(spec.submodule_search_locations)
        module.__file__ = spec.origin
        module.__package__ = name
        module.__loader__ = spec.loader
        sys.modules[name] = module
