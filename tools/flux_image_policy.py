"""Flux's ImagePolicy, evaluated offline: which tag a policy picks from a list of tags.

The tests use it to show that each environment's ImagePolicy picks the tag the delivery flow
means (environments/model/delivery.py), never a pre-release for prod. It follows
image-reflector-controller v1.2.0 (image.toolkit.fluxcd.io/v1), step by step:

1. ``filterTags`` (internal/policy/filter.go): tags the Go regexp ``pattern`` does not match
   anywhere (unanchored ``FindStringSubmatchIndex``) are dropped; each kept tag becomes
   ``Regexp.ExpandString(extract)`` (``$name``, ``${name}``, ``$1``, ``$$``), remembered with
   the tag it came from. Two tags extracting to the same value collapse into one (the later
   wins, in Go's map order: we refuse that ambiguity instead).
2. ``policy.semver`` (internal/policy/semver.go): each value is parsed by fluxcd/pkg's
   ``version.ParseVersion``, which wants exactly three dot-separated parts (``v1.0`` is
   refused, ``v1.0-rc.1`` passes) and then Masterminds/semver v3's coercing parser; values
   that do not parse or do not satisfy the range are skipped silently; the highest wins, and
   on a tie the first one seen.
3. ``policy.numerical`` (internal/policy/numerical.go): every value must parse as a float
   (one that does not fails the whole policy); ``asc`` picks the highest.
4. ``policy.alphabetical``: byte-wise; ``asc`` picks the greatest.

The picked value maps back to its original tag (``status.latestRef.tag``).

Masterminds ranges (constraints.go): ``||`` separates alternatives, spaces or commas join
constraints; a pre-release version satisfies an alternative only if one of its constraints
names a pre-release (so ``>=0.0.0`` never admits one and ``>=0.0.0-0`` admits all). Only the
comparison operators (``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``) are implemented; ``~``,
``^``, wildcards and hyphen ranges are refused rather than guessed. Version precedence is
SemVer 2.0's, from the ``semver`` package (Masterminds compares the same way: numeric
pre-release identifiers as numbers, ``rc.2 < rc.10``).

    python -m tools.flux_image_policy <env> TAG...   # the tag <env>'s policy would pick
"""

from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import semver

# Masterminds/semver v3 (version.go): the loose form NewVersion accepts with coercion on.
_LOOSE = re.compile(
    r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$"
)
_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<)?\s*(v?[0-9][0-9A-Za-z.+\-]*)\s*$")
_OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


class PolicyError(ValueError):
    """The policy cannot pick a tag (Flux would report the same and keep the current one)."""


def go_expand(template: str, match: re.Match[str]) -> str:
    """Go's ``Regexp.ExpandString``: ``$name`` takes the longest run of letters, digits and
    underscores; ``${name}`` is explicit; ``$$`` is a dollar; an unknown group expands empty."""

    def group(name: str) -> str:
        try:
            value = match.group(int(name) if name.isdigit() else name)
        except IndexError:  # no such group
            return ""
        return value or ""

    out: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char != "$" or i + 1 == len(template):
            out.append(char)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = template.find("}", i + 2)
            if end == -1:
                out.append(template[i:])
                break
            out.append(group(template[i + 2 : end]))
            i = end + 1
        else:
            name = re.match(r"[A-Za-z0-9_]*", template[i + 1 :])
            assert name is not None
            if not name.group(0):
                out.append("$")
                i += 1
                continue
            out.append(group(name.group(0)))
            i += 1 + len(name.group(0))
    return "".join(out)


def filter_tags(tags: Iterable[str], pattern: str, extract: str) -> dict[str, str]:
    """Extracted value -> original tag, for every tag the pattern matches."""
    try:
        regexp = re.compile(pattern)
    except re.error as exc:
        raise PolicyError(f"invalid filterTags.pattern {pattern!r}: {exc}") from None
    found: dict[str, str] = {}
    for tag in tags:
        match = regexp.search(tag)
        if match is None:
            continue
        value = go_expand(extract, match) if extract else tag
        if value in found and found[value] != tag:
            raise PolicyError(f"tags {found[value]!r} and {tag!r} both extract to {value!r}: Flux would pick one at random")
        found[value] = tag
    return found


def parse_version(value: str) -> semver.Version | None:
    """fluxcd/pkg ``version.ParseVersion``: three dot-separated parts, then Masterminds'
    coercing parser. ``None`` where Flux would skip the tag."""
    if len(value.split(".", 2)) != 3:
        return None
    match = _LOOSE.match(value)
    if match is None:
        return None
    major, minor, patch = (int((match.group(n) or "0").lstrip(".") or "0") for n in (1, 2, 3))
    prerelease, build = match.group(5), match.group(8)
    if prerelease and any(part.isdigit() and len(part) > 1 and part.startswith("0") for part in prerelease.split(".")):
        return None  # Masterminds refuses leading zeros in numeric pre-release identifiers
    return semver.Version(major, minor, patch, prerelease or None, build or None)


def _constraint_version(text: str) -> semver.Version:
    match = _LOOSE.match(text)
    if match is None:
        raise PolicyError(f"'{text}' is not a version in a semver range")
    major, minor, patch = (int((match.group(n) or "0").lstrip(".") or "0") for n in (1, 2, 3))
    return semver.Version(major, minor, patch, match.group(5) or None, match.group(8) or None)


def parse_range(text: str) -> list[list[tuple[Callable[[Any, Any], bool], semver.Version]]]:
    """Alternatives (``||``) of constraints that must all hold."""
    groups = []
    for alternative in text.split("||"):
        parts = [p for p in re.split(r"[\s,]+", alternative.strip()) if p]
        # ">= 1.0.0" is one constraint written with a space.
        joined: list[str] = []
        for part in parts:
            if joined and joined[-1] in _OPERATORS:
                joined[-1] += part
            else:
                joined.append(part)
        constraints = []
        for part in joined:
            match = _CONSTRAINT.match(part)
            if match is None:
                raise PolicyError(f"'{part}' in range {text!r}: only =, !=, >, <, >=, <= are modelled")
            constraints.append((_OPERATORS[match.group(1) or "="], _constraint_version(match.group(2))))
        if not constraints:
            raise PolicyError(f"an empty alternative in range {text!r}")
        groups.append(constraints)
    return groups


def satisfies(version: semver.Version, groups: list[list[tuple[Callable[[Any, Any], bool], semver.Version]]]) -> bool:
    for constraints in groups:
        admits_prerelease = any(bound.prerelease for _, bound in constraints)
        if version.prerelease and not admits_prerelease:
            continue
        if all(compare(version, bound) for compare, bound in constraints):
            return True
    return False


def _semver_latest(values: Iterable[str], range_text: str) -> str:
    groups = parse_range(range_text)
    best: tuple[semver.Version, str] | None = None
    for value in values:
        version = parse_version(value)
        if version is None or not satisfies(version, groups):
            continue
        if best is None or version.compare(best[0]) > 0:
            best = (version, value)
    if best is None:
        raise PolicyError("unable to determine latest version from provided list")
    return best[1]


def _numerical_latest(values: Iterable[str], order: str) -> str:
    best: tuple[float, str] | None = None
    for value in values:
        try:
            number = float(value)
        except ValueError:
            raise PolicyError(f"failed to parse invalid numeric value '{value}'") from None
        if best is None or (number >= best[0] if order.upper() == "ASC" else number <= best[0]):
            best = (number, value)
    if best is None:
        raise PolicyError("version list argument cannot be empty")
    return best[1]


def latest(spec: Mapping[str, Any], tags: Iterable[str]) -> str:
    """The tag an ImagePolicy with ``spec`` picks from ``tags`` (``status.latestRef.tag``)."""
    tags = list(tags)
    filter_spec = spec.get("filterTags") or {}
    candidates = filter_tags(tags, filter_spec.get("pattern", ""), filter_spec.get("extract", "")) if filter_spec else {t: t for t in tags}
    if not candidates:
        raise PolicyError("version list argument cannot be empty")
    policy = spec["policy"]
    if "semver" in policy:
        picked = _semver_latest(candidates, policy["semver"]["range"])
    elif "numerical" in policy:
        picked = _numerical_latest(candidates, policy["numerical"].get("order", "asc"))
    elif "alphabetical" in policy:
        ordered = sorted(candidates)
        picked = ordered[-1] if policy["alphabetical"].get("order", "asc").upper() == "ASC" else ordered[0]
    else:
        raise PolicyError(f"unknown policy {sorted(policy)}")
    return candidates[picked]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m tools.flux_image_policy <environment> TAG...", file=sys.stderr)
        return 2
    from environments import load_environments

    environments = {e.name: e for e in load_environments()}
    if argv[0] not in environments:
        print(f"flux_image_policy: unknown environment '{argv[0]}' (one of {', '.join(environments)})", file=sys.stderr)
        return 2
    try:
        print(latest(environments[argv[0]].gitops.track.image_policy.spec(), argv[1:]))
    except PolicyError as exc:
        print(f"flux_image_policy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
