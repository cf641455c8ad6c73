"""A small model of how GitLab reads .gitlab-ci.yml, for the tests of our pipeline.

It implements only the syntax our file uses, and raises on anything else so a new construct
cannot silently evaluate wrong:

- ``extends`` (hashes merged deeply, everything else replaced by the extending job) and the
  ``default:`` keywords a job does not set itself;
- ``rules``/``workflow:rules`` with ``if``, ``when`` and ``allow_failure``; the first rule
  that matches decides, no match means the job (or pipeline) is not created;
- ``if`` expressions: ``$VAR``, ``"string"``, ``/regex/``, ``null``, ``==``, ``!=``, ``=~``,
  ``!~``, ``&&`` (binds tighter than) ``||``, and parentheses. An undefined variable is null;
  ``$VAR`` alone is true when it is set and not empty.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GLOBAL_KEYWORDS = frozenset(
    {"workflow", "stages", "default", "variables", "include", "image", "services", "cache", "before_script", "after_script"}
)
DEFAULT_KEYWORDS = ("image", "before_script", "after_script", "cache", "interruptible", "timeout", "retry", "tags", "id_tokens")
RULE_KEYS = frozenset({"if", "when", "allow_failure"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>==|!=|=~|!~|&&|\|\|)
      | (?P<paren>[()])
      | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<regex>/(?:\\.|[^/\\])*/[imsx]*)
      | (?P<null>null\b)
    )""",
    re.VERBOSE,
)


class UnsupportedSyntax(ValueError):
    """The pipeline uses something this model does not implement."""


def tokenize(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnsupportedSyntax(f"cannot read {text[position:]!r} in {expression!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _regex(literal: str) -> re.Pattern[str]:
    body, _, flags = literal[1:].rpartition("/")
    return re.compile(body, re.IGNORECASE if "i" in flags else 0)


class _Parser:
    def __init__(self, expression: str, variables: Mapping[str, str]) -> None:
        self.tokens = tokenize(expression)
        self.position = 0
        self.variables = variables
        self.expression = expression

    def parse(self) -> bool:
        value = self._or()
        if self.position != len(self.tokens):
            raise UnsupportedSyntax(f"unexpected {self.tokens[self.position][1]!r} in {self.expression!r}")
        return bool(value)

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise UnsupportedSyntax(f"unexpected end of {self.expression!r}")
        self.position += 1
        return token

    def _or(self) -> bool:
        value = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            right = self._and()
            value = value or right
        return value

    def _and(self) -> bool:
        value = self._comparison()
        while self._peek() == ("op", "&&"):
            self._take()
            right = self._comparison()
            value = value and right
        return value

    def _comparison(self) -> bool:
        left = self._operand()
        token = self._peek()
        if token is None or token[0] != "op" or token[1] in ("&&", "||"):
            return bool(left) if not isinstance(left, re.Pattern) else True
        operator = self._take()[1]
        right = self._operand()
        if operator in ("==", "!="):
            if isinstance(left, re.Pattern) or isinstance(right, re.Pattern):
                raise UnsupportedSyntax(f"{operator} with a regex in {self.expression!r}")
            return (left == right) == (operator == "==")
        if not isinstance(right, re.Pattern):
            raise UnsupportedSyntax(f"{operator} needs a /regex/ on its right in {self.expression!r}")
        matched = isinstance(left, str) and right.search(left) is not None
        return matched == (operator == "=~")

    def _operand(self) -> str | bool | re.Pattern[str] | None:
        kind, text = self._take()
        if kind == "paren" and text == "(":
            value = self._or()
            if self._take() != ("paren", ")"):
                raise UnsupportedSyntax(f"unbalanced parentheses in {self.expression!r}")
            return value
        if kind == "var":
            return self.variables.get(text[1:])
        if kind == "string":
            return text[1:-1]
        if kind == "regex":
            return _regex(text)
        if kind == "null":
            return None
        raise UnsupportedSyntax(f"unexpected {text!r} in {self.expression!r}")


def evaluate(expression: str, variables: Mapping[str, str]) -> bool:
    """The value of a ``rules:if`` expression for ``variables``."""
    return _Parser(expression, variables).parse()


@dataclass(frozen=True)
class Decision:
    """How a job is added to a pipeline."""

    when: str
    allow_failure: bool


def decide(rules: list[Mapping[str, Any]], variables: Mapping[str, str], job_allow_failure: Any = False) -> Decision | None:
    """The first matching rule's decision, or None when no rule adds the job."""
    for rule in rules:
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise UnsupportedSyntax(f"rule keys {sorted(unknown)} are not modelled")
        if "if" in rule and not evaluate(str(rule["if"]), variables):
            continue
        when = str(rule.get("when", "on_success"))
        if when == "never":
            return None
        allow_failure = rule.get("allow_failure", job_allow_failure)
        return Decision(when=when, allow_failure=allow_failure is True or isinstance(allow_failure, dict))
    return None


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


class Pipeline:
    """A parsed .gitlab-ci.yml with its jobs resolved (extends and defaults applied)."""

    def __init__(self, path: Path) -> None:
        self.raw: dict[str, Any] = yaml.safe_load(path.read_text())
        self.variables: dict[str, Any] = dict(self.raw.get("variables") or {})
        self.jobs: dict[str, dict[str, Any]] = {
            name: self._resolve(name, ()) for name in self.raw if name not in GLOBAL_KEYWORDS and not name.startswith(".")
        }
        defaults = self.raw.get("default") or {}
        for job in self.jobs.values():
            for key in DEFAULT_KEYWORDS:
                if key in defaults and key not in job:
                    job[key] = copy.deepcopy(defaults[key])

    def _resolve(self, name: str, seen: tuple[str, ...]) -> dict[str, Any]:
        if name in seen:
            raise UnsupportedSyntax(f"extends loop: {' -> '.join((*seen, name))}")
        body = self.raw.get(name)
        if not isinstance(body, dict):
            raise UnsupportedSyntax(f"{' -> '.join(seen)} extends {name}, which is not a job or template")
        parents = body.get("extends", [])
        resolved: dict[str, Any] = {}
        for parent in [parents] if isinstance(parents, str) else parents:
            resolved = _merge(resolved, self._resolve(parent, (*seen, name)))
        own = {k: v for k, v in body.items() if k != "extends"}
        merged: dict[str, Any] = _merge(resolved, own)
        return merged

    def admits(self, variables: Mapping[str, str]) -> bool:
        """Whether ``workflow:rules`` creates a pipeline for ``variables``."""
        rules = (self.raw.get("workflow") or {}).get("rules")
        if rules is None:
            return True
        return decide(rules, variables) is not None

    def run(self, variables: Mapping[str, str]) -> dict[str, Decision] | None:
        """The jobs of the pipeline created for ``variables``, or None when none is created."""
        if not self.admits(variables):
            return None
        jobs: dict[str, Decision] = {}
        for name, job in self.jobs.items():
            if "rules" not in job:
                raise UnsupportedSyntax(f"job {name} has no rules; every job of this pipeline says when it runs")
            decision = decide(job["rules"], variables, job.get("allow_failure", False))
            if decision is not None:
                jobs[name] = decision
        return jobs


def needs_of(job: Mapping[str, Any]) -> list[str]:
    """The job names in ``needs``, in either of its forms."""
    return [n if isinstance(n, str) else str(n["job"]) for n in job.get("needs", [])]
