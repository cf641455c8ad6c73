"""Base of every stack: readable, stable Terraform addresses instead of hashed ones."""

from __future__ import annotations

import re
from typing import Any

from cdktf import TerraformStack
from constructs import Construct


class EnvironmentStack(TerraformStack):
    """A stack whose resources are addressed by their construct path.

    cdktf's default logical ids end in a hash (``network_vpc_4E8F0223``). Here the id is the
    construct path below the stack joined with ``_`` (``network_vpc``): what a reviewer
    reads in ``cdktf diff`` and what ``terraform state`` commands take, and stable as long
    as the construct tree is. Two paths that join to the same id stop the synth.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._logical_ids: dict[str, str] = {}

    def _allocate_logical_id(self, tf_element: Any) -> str:
        # One jsii round trip for the path; walking node.scopes would cost one per ancestor.
        path = str(getattr(tf_element, "node", tf_element).path)
        # Generated ids (cdktf's cross-stack outputs) may hold '.', '[' or ']': not valid in Terraform names.
        logical_id = re.sub(r"[^A-Za-z0-9_-]", "_", "_".join(path.split("/")[1:]))
        owner = self._logical_ids.setdefault(logical_id, path)
        if owner != path:
            raise ValueError(f"Terraform address '{logical_id}' is claimed by both '{owner}' and '{path}'; rename one construct")
        return logical_id
