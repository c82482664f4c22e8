"""``python -m lollms_core.cli``: the same command as ``lollms``."""

from __future__ import annotations

import sys

from ._main import main

sys.exit(main())
