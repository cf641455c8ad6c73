"""The one error a bad configuration raises, and how type errors become one.

A :class:`ConfigError` names the environment, the dotted path of the offending field and
the rule, as one line: ``environment 'qa': network.az_count: must be between 2 and 4, not 5``.
``main.py`` prints it as ``error: <that>`` and exits 2 before any stack is built.

It deliberately does not derive from ``ValueError``: pydantic turns ``ValueError`` raised in
a validator into its own error, but lets this one through untouched, so a rule checked in a
model validator keeps the exact field path and text it was raised with.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, get_args, get_origin

from pydantic import BaseModel


class ConfigError(Exception):
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
        return f"{where}: {self.field}: {self.rule}" if self.field else f"{where}: {self.rule}"

    def within(self, environment: str, prefix: str = "") -> ConfigError:
        """The same error, attributed to ``environment`` (and nested under ``prefix``)."""
        field = f"{prefix}.{self.field}" if prefix and self.field else prefix or self.field
        return ConfigError(field, self.rule, self.environment or environment)


# --- pydantic's errors, as rules ------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return "None"
    text = repr(value)
    return f"the {type(value).__name__} " + (text if len(text) <= 40 else text[:37] + "...")


def _article(noun: str) -> str:
    return ("an " if noun[:1].upper() in "AEIOU" else "a ") + noun


def expected(annotation: Any) -> str:
    """What a field of this type takes, in words: ``a whole number``, ``one of Tier.STAGING, ...``."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f"{annotation.__name__}.{member.name}" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _article(f"{annotation.__name__}(...)")
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is tuple and args:
        inner = args[0]
        if inner is str:
            return "a tuple of strings, like ('a',) or ('a', 'b')"
        name = inner.__name__ if isinstance(inner, type) else str(inner)
        return f"a tuple of {name}(...)"
    if origin is dict:
        return "a dict of strings to strings"
    return {bool: "True or False", int: "a whole number", str: "a string", float: "a number"}.get(annotation, "a value of the right type")


def rule_of(error: Mapping[str, Any], fields: Sequence[str], annotation: Any) -> str:
    """The rule text of one pydantic error: what was expected, and what was given.

    ``fields`` are the fields of the model the error is in (for suggestions), ``annotation``
    the type of the offending field.
    """
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        name = str(error["loc"][-1]) if error["loc"] else ""
        close = difflib.get_close_matches(name, list(fields), n=1, cutoff=0.6)
        return "is not a known field" + (f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(fields)})")
    return f"must be {expected(annotation)}, not {_shown(value)}"


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(field: str, key: str) -> str:
    """The path of a dict entry: ``tags.team``, or ``labels['node.kubernetes.io/role']`` for keys with dots."""
    return f"{field}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{field}[{key!r}]"


def describe(model: type[BaseModel], loc: tuple[Any, ...], names: Mapping[int, str]) -> tuple[str, Sequence[str], Any]:
    """A pydantic location as (dotted path, the fields of the model holding its last part, its annotation).

    Tuple items are named by their ``name`` where they have one (``node_groups.general``);
    dict entries are written with :func:`key_path`.
    """
    path = ""
    fields: Sequence[str] = list(model.model_fields)
    annotation: Any = model
    for part in loc:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = list(annotation.model_fields)
            info = annotation.model_fields.get(str(part))
            annotation = info.annotation if info else None
            path = f"{path}.{part}" if path else str(part)
        elif get_origin(annotation) is tuple and get_args(annotation):
            annotation = get_args(annotation)[0]
            path = f"{path}.{names.get(part, part) if isinstance(part, int) else part}"
        elif get_origin(annotation) is dict and get_args(annotation):
            annotation = get_args(annotation)[1]
            path = key_path(path, str(part))
        else:
            annotation = None
            path = f"{path}.{part}" if path else str(part)
    return path, fields, annotation
