"""``LollmsClient``: one object holding a binding per modality, with seed 004's surface.

The face of :mod:`lollms_core.client`. The class, with every public method, lives in
``_client``; ``_construction`` turns the constructor's arguments into bindings, ``_images``
estimates image tokens and ``_modalities`` says which binding a call needs. The text helpers
are :mod:`lollms_core.text_processing`, shared with every binding's ``tp``.
"""

from __future__ import annotations

from ._client import MODALITIES, LollmsClient

__all__ = ["MODALITIES", "LollmsClient"]
