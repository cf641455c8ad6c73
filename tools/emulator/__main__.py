"""``python -m tools.emulator``: the emulator's command line."""

import sys

from tools.emulator.cli import main

sys.exit(main())
