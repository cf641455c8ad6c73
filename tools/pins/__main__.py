"""``python -m tools.pins``."""

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
for path in (str(_REPO), str(_REPO / "constructs")):
    if path not in sys.path:
        sys.path.insert(0, path)

from tools.pins.cli import main  # noqa: E402

sys.exit(main())
