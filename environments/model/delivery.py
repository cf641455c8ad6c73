"""The delivery flow: which Git ref an environment runs, stated once.

The seed's flow: a merge to ``main`` deploys dev; a release-candidate tag (``v1.0-rc.1``)
deploys stage; a release tag (``v1.0``) deploys prod, after an approval. An environment names
its :class:`Channel`; everything that must agree on it is derived here:

- Flux's ``GitRepository.spec.ref`` (the bootstrap stack);
- the GitLab rule that deploys the environment (the generated ``.gitlab-ci.yml``);
- the tag the drift check checks out (``tools/ci/delivery.py``);
- the OIDC ``sub`` patterns that may assume the environment's deploy role
  (``tools/ci/trust_policy.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAIN_BRANCH = "main"


class Channel(StrEnum):
    """What an environment follows."""

    MAIN = "main"
    """Every merge to the branch ``main``."""
    RELEASE_CANDIDATES = "release-candidates"
    """The newest ``vX.Y-rc.N`` tag."""
    RELEASES = "releases"
    """The newest ``vX.Y`` tag; never a release candidate."""


@dataclass(frozen=True)
class Track:
    """Everything derived from a channel."""

    branch: str | None
    """The branch followed, or ``None`` for a tag channel."""
    tag_pattern: re.Pattern[str] | None
    """Tags that deploy the environment (GitLab rules, drift checkout)."""
    flux_ref: dict[str, str]
    """``GitRepository.spec.ref``. Flux's semver ranges cannot exclude release tags, so a
    release-candidate channel's cluster also moves to a release tag that is newer than every
    candidate (the same commit as the last candidate, in the seed's flow)."""
    iam_sub: tuple[str, str | None]
    """The ``sub``-claim patterns (StringLike, StringNotLike) of the refs that may deploy."""

    @property
    def gitlab_rule(self) -> str:
        """The GitLab ``if`` expression of a push of this channel's ref."""
        if self.branch is not None:
            return f'$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "{self.branch}"'
        assert self.tag_pattern is not None
        return f'$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_TAG =~ /{self.tag_pattern.pattern}/'


RC_TAG = re.compile(r"^v\d+\.\d+-rc\.\d+$")
RELEASE_TAG = re.compile(r"^v\d+\.\d+$")

TRACKS: dict[Channel, Track] = {
    Channel.MAIN: Track(
        branch=MAIN_BRANCH,
        tag_pattern=None,
        flux_ref={"branch": MAIN_BRANCH},
        iam_sub=(f"ref_type:branch:ref:{MAIN_BRANCH}", None),
    ),
    Channel.RELEASE_CANDIDATES: Track(
        branch=None,
        tag_pattern=RC_TAG,
        flux_ref={"semver": ">=0.0.0-0"},
        iam_sub=("ref_type:tag:ref:v*-rc.*", None),
    ),
    Channel.RELEASES: Track(
        branch=None,
        tag_pattern=RELEASE_TAG,
        flux_ref={"semver": ">=0.0.0"},
        iam_sub=("ref_type:tag:ref:v*", "ref_type:tag:ref:v*-*"),
    ),
}


def track(channel: Channel) -> Track:
    return TRACKS[channel]
