"""lollms-core: binding contracts for seven modalities, plugin discovery and the LollmsClient facade.

Importing this package builds the binding registry from installed plugins (entry-point
group ``lollms.bindings``). It imports nothing heavy: engines and HTTP clients load when
a binding is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .bindings import (
    LollmsBinding,
    LollmsLLMBinding,
    LollmsSTTBinding,
    LollmsToolBinding,
    LollmsTTIBinding,
    LollmsTTMBinding,
    LollmsTTSBinding,
    LollmsTTVBinding,
)
from .discovery import (
    LollmsLLMBindingManager,
    LollmsSTTBindingManager,
    LollmsToolBindingManager,
    LollmsTTIBindingManager,
    LollmsTTMBindingManager,
    LollmsTTSBindingManager,
    LollmsTTVBindingManager,
)
from .discovery import default_registry as _default_registry
from .errors import (
    AllMembersFailedError,
    AmbiguousBindingError,
    AuthenticationError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    BindingLoadError,
    BindingNotFoundError,
    CallbackError,
    ConfigError,
    DiscussionNotFoundError,
    EngineError,
    GenerationCancelled,
    LollmsError,
    ManifestError,
    MessageNotFoundError,
    ModalityNotConfiguredError,
    NotFoundError,
    NotSupportedError,
    RateLimitError,
    ReadOnlyDatabaseError,
    ServerError,
    StructuredContentError,
    ToolChoiceError,
    ToolNotFoundError,
    ToolServerError,
)
from .hookspecs import hookimpl
from .registry import BindingSpec, Registry
from .types import (
    CORE_API_VERSION,
    ELF_COMPLETION_FORMAT,
    ELF_GENERATION_FORMAT,
    MSG_OPERATION_TYPE,
    MSG_TYPE,
    ChatRequest,
    Chunk,
    GenerationEvent,
    GenerationOptions,
    GenerationResult,
    Modality,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    ToolResult,
)

if TYPE_CHECKING:
    from .client import LollmsClient
    from .discussion import LollmsDataManager, LollmsDiscussion, LollmsMessage
    from .manifest._model import Manifest, Parameter

__version__ = "0.1.0"

__all__ = [
    "CORE_API_VERSION",
    "ELF_COMPLETION_FORMAT",
    "ELF_GENERATION_FORMAT",
    "MSG_OPERATION_TYPE",
    "MSG_TYPE",
    "AllMembersFailedError",
    "AmbiguousBindingError",
    "AuthenticationError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BindingLoadError",
    "BindingNotFoundError",
    "BindingSpec",
    "CallbackError",
    "ChatRequest",
    "Chunk",
    "ConfigError",
    "DiscussionNotFoundError",
    "EngineError",
    "GenerationCancelled",
    "GenerationEvent",
    "GenerationOptions",
    "GenerationResult",
    "LollmsBinding",
    "LollmsClient",
    "LollmsDataManager",
    "LollmsDiscussion",
    "LollmsError",
    "LollmsLLMBinding",
    "LollmsLLMBindingManager",
    "LollmsMessage",
    "LollmsSTTBinding",
    "LollmsSTTBindingManager",
    "LollmsTTIBinding",
    "LollmsTTIBindingManager",
    "LollmsTTMBinding",
    "LollmsTTMBindingManager",
    "LollmsTTSBinding",
    "LollmsTTSBindingManager",
    "LollmsTTVBinding",
    "LollmsTTVBindingManager",
    "LollmsToolBinding",
    "LollmsToolBindingManager",
    "Manifest",
    "ManifestError",
    "MessageNotFoundError",
    "Modality",
    "ModalityNotConfiguredError",
    "NotFoundError",
    "NotSupportedError",
    "Parameter",
    "RateLimitError",
    "ReadOnlyDatabaseError",
    "Registry",
    "ServerError",
    "StructuredContentError",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoiceError",
    "ToolDefinition",
    "ToolNotFoundError",
    "ToolResult",
    "ToolServerError",
    "__version__",
    "get_registry",
    "hookimpl",
]

_LAZY = {
    "LollmsClient": "client",
    "LollmsDiscussion": "discussion",
    "LollmsDataManager": "discussion",
    "LollmsMessage": "discussion",
    "Manifest": "manifest",
    "Parameter": "manifest",
}


def __getattr__(name: str) -> Any:
    # These load on first use: most importers only need the contracts, and the manifest
    # models (pydantic) are only needed when a binding is created or inspected.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lollms_core' has no attribute {name!r}")


def get_registry() -> Registry:
    """The registry of installed bindings (built when ``lollms_core`` was imported)."""
    return _default_registry()


# Discovery happens here, at import, as the contract promises; hookimpl is defined above,
# so plugins importing ``from lollms_core import hookimpl`` during discovery find it.
get_registry()
