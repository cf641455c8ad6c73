"""The platform's constructs: one concern per module.

Importing this package first switches provider packages to lazy loading (see
:mod:`platform_constructs.provider_imports`), so every entry point (``main.py``,
``cdktf synth``, pytest) gets the fast path without having to remember it.
"""

from platform_constructs import provider_imports

provider_imports.enable()
