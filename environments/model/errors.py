"""The one error type a bad configuration raises.

A ``ConfigError`` names the environment, the field and the rule. ``main.py`` prints
``str(error)`` as a single line and exits non-zero before any stack is built, so a bad
configuration never produces a traceback or a half-written ``cdktf.out``.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value breaks a rule.

    ``field`` is the dotted path of the offending value inside an environment
    (``network.vpc_cidr``); ``environment`` is filled in by whoever knows it (the
    environment loader) when the value was validated before the environment existed.
    """

    def __init__(self, field: str, rule: str, environment: str | None = None) -> None:
        self.field = field
        self.rule = rule
        self.environment = environment
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"environment '{self.environment}'" if self.environment else "configuration"
        return f"{where}: {self.field}: {self.rule}"

    def within(self, environment: str, prefix: str = "") -> ConfigError:
        """The same error, attributed to ``environment`` (and nested under ``prefix``)."""
        field = f"{prefix}.{self.field}" if prefix else self.field
        return ConfigError(field, self.rule, self.environment or environment)
