"""What lollms_client programs pass that lollms-core maps or refuses, written once.

The face of :mod:`lollms_core.compat`: ``LollmsClient(...)`` keywords of lollms_client
(``LegacyArguments``: mapped with a deprecation warning, or refused naming the way forward) and
the discussion parameters and attributes lollms-core does not offer. Seed 000's ``generate``
signature lives beside the LLM contract it adapts (``lollms_core.bindings._seed000``).
"""

from __future__ import annotations

from ._client_arguments import LegacyArguments
from ._discussion_refusals import NOT_OFFERED_ATTRIBUTES, NOT_OFFERED_PARAMETERS, refuse

__all__ = ["NOT_OFFERED_ATTRIBUTES", "NOT_OFFERED_PARAMETERS", "LegacyArguments", "refuse"]
