"""``LollmsClient``: one object holding a binding per modality, with seed 004's surface.

The face of :mod:`lollms_core.client`. The class lives in ``_client``; its method groups in
``_text``, ``_media``, ``_batch`` and ``_lollms_names`` (lollms_client's method names), with
``_modalities`` saying which binding a call needs.
"""

from __future__ import annotations

from ._client import MODALITIES, LollmsClient

__all__ = ["MODALITIES", "LollmsClient"]
