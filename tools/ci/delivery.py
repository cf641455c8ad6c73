"""Which Git ref each environment runs, for the drift check.

The channels (``main``, release candidates, releases) and everything derived from them live
in ``environments/model/delivery.py``; each environment names its channel in its
configuration (``gitops.channel``). The generated ``.gitlab-ci.yml`` deploys each environment
on its channel's refs; this module finds the newest such ref, and the scheduled drift
pipeline of an environment runs ``delivery.py checkout <env>`` before it synthesizes, so drift
is measured against what the environment runs, not against ``main``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from environments import ConfigError, load_environments  # noqa: E402
from environments.model.delivery import MAIN_BRANCH, RC_TAG, RELEASE_TAG, Track  # noqa: E402

__all__ = ["MAIN_BRANCH", "RC_TAG", "RELEASE_TAG", "DeliveryError", "newest_tag", "tracked_ref", "tracks"]


class DeliveryError(Exception):
    """The ref an environment tracks cannot be determined or checked out."""


def tracks() -> dict[str, Track]:
    """Every registered environment's track, in registry order."""
    try:
        return {env.name: env.gitops.track for env in load_environments()}
    except ConfigError as exc:
        raise DeliveryError(str(exc)) from None


def _track(environment: str) -> Track:
    known = tracks()
    track = known.get(environment)
    if track is None:
        raise DeliveryError(f"unknown environment '{environment}' (one of {', '.join(known)})")
    return track


def version_key(tag: str) -> tuple[int, ...]:
    """``v1.10-rc.2`` -> ``(1, 10, 2)``: tags compare by number, not by text."""
    return tuple(int(n) for n in re.findall(r"\d+", tag))


def newest_tag(tags: Iterable[str], pattern: re.Pattern[str]) -> str | None:
    """The highest version among ``tags`` that match ``pattern``."""
    matching = [t for t in tags if pattern.match(t)]
    return max(matching, key=version_key) if matching else None


def tracked_ref(environment: str, tags: Iterable[str]) -> str:
    """The branch or tag ``environment`` runs, given the repository's tags."""
    track = _track(environment)
    if track.branch is not None:
        return track.branch
    assert track.tag_pattern is not None
    tag = newest_tag(tags, track.tag_pattern)
    if tag is None:
        raise DeliveryError(f"no tag matches {track.tag_pattern.pattern} yet, so nothing has been deployed to {environment}")
    return tag


def _git(*args: str) -> str:
    proc = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DeliveryError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def remote_tags(remote: str = "origin") -> list[str]:
    """Tag names on ``remote``; works in GitLab's shallow clones, which may lack old tags."""
    prefix = "refs/tags/"
    refs = (line.split("\t", 1)[1] for line in _git("ls-remote", "--tags", "--refs", remote).splitlines() if "\t" in line)
    return [ref[len(prefix) :] for ref in refs if ref.startswith(prefix)]


def resolve(environment: str, remote: str = "origin") -> str:
    """The ref ``environment`` runs; asks ``remote`` for its tags only when the track is a tag."""
    return tracked_ref(environment, remote_tags(remote) if _track(environment).tag_pattern else [])


def checkout(environment: str, remote: str = "origin") -> str:
    """Check out the ref ``environment`` runs (a tag is fetched first); returns the ref."""
    ref = resolve(environment, remote)
    if _track(environment).branch is not None:
        current = _git("rev-parse", "--abbrev-ref", "HEAD").strip()
        print(f"delivery: {environment} runs branch {ref}; using the pipeline's checkout ({current})")
        return ref
    _git("fetch", "--quiet", "--depth=1", "--force", remote, f"refs/tags/{ref}:refs/tags/{ref}")
    _git("checkout", "--quiet", "--force", "--detach", f"refs/tags/{ref}")
    print(f"delivery: {environment} runs {ref}; checked it out")
    return ref


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("ref", "print the ref an environment runs"), ("checkout", "check out the ref an environment runs")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("environment", nargs="?", default="", help="dev, stage or prod")
        cmd.add_argument("--remote", default="origin")
    args = parser.parse_args(argv)
    try:
        if not args.environment:
            raise DeliveryError("no environment given (a drift schedule must set DRIFT_ENVIRONMENT to dev, stage or prod)")
        if args.command == "ref":
            print(resolve(args.environment, args.remote))
        else:
            checkout(args.environment, args.remote)
    except DeliveryError as exc:
        print(f"delivery: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
