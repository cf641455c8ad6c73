"""Constants and the error of emulator mode."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]

LOOPBACK: Final = "127.0.0.1"
DUMMY_CREDENTIAL: Final = "testing"
DEFAULT_PARALLELISM: Final = 10
DEFAULT_LOCK_TIMEOUT: Final = "30s"
TERRAFORM_TIMEOUT_SECONDS: Final = 600
# Any request that is not for loopback goes to this closed port and fails: an egress guard.
# (Go and botocore never proxy loopback addresses, so the emulator itself is reached directly.)
DEAD_PROXY: Final = f"http://{LOOPBACK}:9"

PROVIDER_OVERRIDE_FILE: Final = "emulator_override.tf.json"
EXCLUSIONS_OVERRIDE_FILE: Final = "emulator_exclusions_override.tf.json"
QUIRKS_OVERRIDE_FILE: Final = "emulator_quirks_override.tf.json"


class EmulatorError(RuntimeError):
    """Emulator mode cannot go on; the message says why."""
