"""Written, reviewable exceptions to checkov checks, carried in the synthesized JSON.

checkov's ``terraform_json`` runner honours ``checkov:skip=<ID>:<reason>`` on any line of a
resource's block. cdktf already gives every resource a ``//`` (comment) object; each skip
becomes one line inside it, so the reason travels with the resource into review.
"""

from __future__ import annotations

from cdktf import TerraformResource


def skip_check(resource: TerraformResource, check_id: str, reason: str) -> None:
    """Record that ``resource`` deliberately does not satisfy ``check_id``, and why."""
    if not reason.strip():
        raise ValueError(f"a skip of {check_id} needs a reason")
    resource.add_override(f"//.checkov.{check_id}", f"checkov:skip={check_id}:{reason}")
