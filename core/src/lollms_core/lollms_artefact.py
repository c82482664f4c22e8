"""``lollms_client.lollms_artefact`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core`` in your imports.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live elsewhere.
"""

from .discussion import ArtefactManager, ArtefactType

__all__ = ["ArtefactManager", "ArtefactType"]
