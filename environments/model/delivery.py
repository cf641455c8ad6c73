"""The delivery flow: which Git ref and which backend image an environment runs, stated once.

The seed's flow: a merge to ``main`` deploys dev; a release-candidate tag (``v1.0-rc.1``)
deploys stage; a release tag (``v1.0``) deploys prod, after an approval. An environment names
its :class:`Channel`; everything that must agree on it is derived here
(docs/decisions/0024-delivery-loop.md):

- Flux's ``GitRepository.spec.ref`` (the bootstrap stack): ``main``, or for a tag channel
  exactly the tag the environment's deploy job deployed (Flux's semver ranges cannot parse the
  seed's two-part tags, so a cluster never picks a tag by itself);
- the GitLab rule that deploys the environment (the generated ``.gitlab-ci.yml``);
- the tag the drift check checks out (``tools/ci/delivery.py``);
- the OIDC ``sub`` patterns that may assume the environment's deploy role
  (``tools/ci/trust_policy.py``);
- the backend's image tags CI builds for the channel, and the Flux ``ImagePolicy`` that picks
  the newest of them in the environment (:class:`ImageTagPolicy`; the tree's policies are
  checked against it).
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
class ImageTagPolicy:
    """How the environment's Flux ImagePolicy picks the backend image: tags matching
    ``pattern``, each turned into ``extract`` (Go regexp expansion), then the newest by a
    semver range or by number (image.toolkit.fluxcd.io/v1 ``filterTags`` and ``policy``)."""

    pattern: str
    """An anchored Go (RE2) regular expression; tags that do not match are ignored."""
    extract: str
    """What each matching tag is compared as (``$name`` expands a named group)."""
    semver_range: str | None = None
    """A Masterminds semver range; the highest version within it wins."""
    numerical_order: str | None = None
    """``asc``: the highest number wins."""

    def spec(self) -> dict[str, object]:
        """``ImagePolicy.spec`` without its ``imageRepositoryRef``."""
        policy: dict[str, object] = (
            {"semver": {"range": self.semver_range}} if self.semver_range else {"numerical": {"order": self.numerical_order}}
        )
        return {"filterTags": {"pattern": self.pattern, "extract": self.extract}, "policy": policy}


_NUMBER = "(?:0|[1-9][0-9]*)"


@dataclass(frozen=True)
class Track:
    """Everything derived from a channel."""

    branch: str | None
    """The branch followed, or ``None`` for a tag channel."""
    tag_pattern: re.Pattern[str] | None
    """Tags that deploy the environment (GitLab rules, drift checkout, the deploy job's tag)."""
    iam_sub: tuple[str, str | None]
    """The ``sub``-claim patterns (StringLike, StringNotLike) of the refs that may deploy."""
    image_policy: ImageTagPolicy
    """How the environment's cluster picks the newest backend image of the channel."""

    def flux_ref(self, tag: str | None = None) -> dict[str, str]:
        """``GitRepository.spec.ref``: the branch, or exactly ``tag`` for a tag channel."""
        if self.branch is not None:
            return {"branch": self.branch}
        if tag is None:
            raise ValueError("a tag channel's cluster follows exactly the tag its deploy job deployed: name it")
        return {"tag": tag}

    def image_tag(self, *, commit_sha: str, commit_time: int, tag: str | None = None) -> str:
        """The tag CI gives the backend image it builds for this channel: ``main-<short sha>-<unix
        time>`` on ``main`` (newest by time), else the Git tag itself (``v1.0-rc.1``, ``v1.0``)."""
        if self.branch is not None:
            if not re.fullmatch(r"[0-9a-f]{7,40}", commit_sha):
                raise ValueError(f"'{commit_sha}' is not a Git commit SHA")
            return f"{self.branch}-{commit_sha[:8]}-{commit_time}"
        if tag is None or self.tag_pattern is None or not self.tag_pattern.fullmatch(tag):
            raise ValueError(f"'{tag}' is not a tag of this channel (/{self.tag_pattern.pattern if self.tag_pattern else ''}/)")
        return tag

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
        iam_sub=(f"ref_type:branch:ref:{MAIN_BRANCH}", None),
        # The newest build of main, by its build time (a number: compared as one).
        image_policy=ImageTagPolicy(pattern=f"^{MAIN_BRANCH}-[0-9a-f]{{7,40}}-(?P<ts>[0-9]{{9,}})$", extract="$ts", numerical_order="asc"),
    ),
    Channel.RELEASE_CANDIDATES: Track(
        branch=None,
        tag_pattern=RC_TAG,
        iam_sub=("ref_type:tag:ref:v*-rc.*", None),
        # Flux's semver parser wants three numbers: v1.0-rc.2 is compared as 1.0.0-rc.2 (rc.2 < rc.10).
        image_policy=ImageTagPolicy(
            pattern=f"^v(?P<major>{_NUMBER})\\.(?P<minor>{_NUMBER})-rc\\.(?P<rc>{_NUMBER})$",
            extract="$major.$minor.0-rc.$rc",
            semver_range=">=0.0.0-0",
        ),
    ),
    Channel.RELEASES: Track(
        branch=None,
        tag_pattern=RELEASE_TAG,
        iam_sub=("ref_type:tag:ref:v*", "ref_type:tag:ref:v*-*"),
        # v1.10 is compared as 1.10.0; a range without a pre-release never admits one.
        image_policy=ImageTagPolicy(
            pattern=f"^v(?P<major>{_NUMBER})\\.(?P<minor>{_NUMBER})$", extract="$major.$minor.0", semver_range=">=0.0.0"
        ),
    ),
}


def track(channel: Channel) -> Track:
    return TRACKS[channel]
