"""The tools are scripts run as ``python tools/NAME.py``: import them the same way."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
