"""lollms_client's ``LollmsClient(...)`` keywords that lollms-core maps, and the ones it refuses.

Mapped (with a :class:`DeprecationWarning` naming the preferred form): ``binding_name`` →
``llm_binding_name``; ``service_key`` and ``models_path`` → keys of ``llm_binding_config``;
``debug`` has no effect (logging is configured with :mod:`logging`). Refused with
:class:`~lollms_core.errors.NotSupportedError` saying what to do: the parts of lollms_client
that are not a binding system (tool/connection/RAG bindings, profiles, binding folders).
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotSupportedError

__all__ = ["LegacyArguments"]

_MODALITIES = ("llm", "tti", "tts", "stt", "ttv", "ttm")
_BINDINGS_DIR = "bindings are found through installed packages (entry points): `pip install lollms-<name>`"
_PROFILES = "profiles are not offered: build one LollmsClient per configuration"
_REFUSED: dict[str, str] = {
    **{f"{m}_bindings_dir": _BINDINGS_DIR for m in (*_MODALITIES, "tools", "connection", "rag")},
    **{f"{m}_binding_profiles": _PROFILES for m in (*_MODALITIES, "tools", "connection", "rag")},
    **{f"{m}_model_profiles": _PROFILES for m in (*_MODALITIES, "tools", "connection", "rag")},
    **{f"{m}_binding_{k}": f"{m} bindings are not offered (lollms-core's modalities: {', '.join(_MODALITIES)}, tools)"
       for m in ("connection", "rag") for k in ("name", "config")},
    "extra_llms": _PROFILES,
    "callback": "pass streaming_callback= to each generation call",
    "cooperative_vram_management": "each binding owns its engine; close() a client to free it",
    "system_dir": "lollms-core keeps no system folder",
    "lollms_system_path": "lollms-core keeps no system folder",
    "cwd": "lollms-core keeps no system folder",
}  # fmt: skip
_MAPPED = ("binding_name", "service_key", "models_path", "debug")


@dataclass
class LegacyArguments:
    """What lollms_client keywords given to ``LollmsClient`` amount to here."""

    binding_name: str | None = None
    llm_config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, kwargs: dict[str, Any]) -> LegacyArguments:
        """Map the keywords we understand (warning), refuse the rest by name.

        :raises NotSupportedError: a lollms_client keyword lollms-core does not offer.
        :raises TypeError: an unknown keyword (with the closest known name).
        """
        out = cls()
        refused = [f"{name} ({_REFUSED[name]})" for name in kwargs if name in _REFUSED]
        if refused:
            raise NotSupportedError(f"LollmsClient() does not accept {'; '.join(refused)}")
        for name, value in kwargs.items():
            if name == "binding_name":
                _deprecated("binding_name=", "llm_binding_name=")
                out.binding_name = value
            elif name in ("service_key", "models_path"):
                _deprecated(f"{name}=", f'llm_binding_config={{"{name}": ...}}')
                out.llm_config[name] = value
            elif name == "debug":
                _deprecated("debug=", "logging.getLogger('lollms_core').setLevel(logging.DEBUG) (debug= has no effect)")
            else:
                known = [*_MAPPED, *_REFUSED, "llm_binding_name", "llm_binding_config", "host_address", "model_name"]
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]}=?" if close else ""
                raise TypeError(f"LollmsClient() got an unexpected keyword argument {name!r}{hint}")
        return out


def _deprecated(old: str, new: str) -> None:
    # stacklevel 4: _deprecated <- parse <- LollmsClient.__init__ <- the caller's line.
    warnings.warn(f"LollmsClient({old}...) is lollms_client's form; use {new}", DeprecationWarning, stacklevel=4)
