"""The exception hierarchy, and the one rule that turns backend failures into seed error dicts.

Catch at the level you care about: ``LollmsError`` for everything, ``BackendError`` for
anything the remote or local engine did, ``RateLimitError`` for just that.
"""

from __future__ import annotations

from typing import Any

from ._secrets import redact

__all__ = [
    "AuthenticationError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BindingLoadError",
    "BindingNotFoundError",
    "CallbackError",
    "ConfigError",
    "GenerationCancelled",
    "LollmsError",
    "ManifestError",
    "ModalityNotConfiguredError",
    "NotFoundError",
    "NotSupportedError",
    "RateLimitError",
    "ServerError",
    "error_dict",
]


class LollmsError(Exception):
    """Base of every error lollms raises on purpose."""


class BindingNotFoundError(LollmsError, LookupError):
    """No binding of that name is installed for that modality; the message lists the installed ones."""


class BindingLoadError(LollmsError):
    """A binding exists but could not be imported or constructed (missing engine, bad model file...)."""


class ManifestError(LollmsError):
    """A ``description.yaml`` is malformed: unknown type, duplicated parameter, missing field."""


class ConfigError(LollmsError, ValueError):
    """A configuration value or call parameter is wrong: names it, the expected type, what is allowed."""


class ModalityNotConfiguredError(LollmsError):
    """The client has no binding for a modality; the message names the constructor argument to set."""


class NotSupportedError(LollmsError, NotImplementedError):
    """The binding has no such capability (embeddings, image input, editing...)."""


class CallbackError(LollmsError):
    """A user streaming callback raised; the generation was stopped and the upstream closed."""


class GenerationCancelled(LollmsError):
    """``cancel()`` stopped a generation; ``partial_text`` holds what had arrived."""

    def __init__(self, message: str = "generation cancelled", partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


class BackendError(LollmsError):
    """The backend failed. ``status_code`` is the HTTP status when there is one.

    ``partial_text`` holds the text received before a stream broke.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        partial_text: str = "",
        retry_after: float | None = None,
    ) -> None:
        # Messages are built from server bodies and transport exceptions: scrub keys here, once for all.
        super().__init__(redact(message))
        self.status_code = status_code
        self.partial_text = partial_text
        self.retry_after = retry_after


class AuthenticationError(BackendError):
    """401/403: the key is missing, wrong or not allowed this resource."""


class NotFoundError(BackendError):
    """404: the model or route does not exist on that server."""


class RateLimitError(BackendError):
    """429 after the retries ran out; ``retry_after`` says how long the server asked to wait."""


class ServerError(BackendError):
    """5xx, or a malformed or cut response from the server."""


class BackendConnectionError(BackendError):
    """The server could not be reached; the message names the address that was tried."""


class BackendTimeoutError(BackendError):
    """The server did not answer within the configured timeout."""


def error_dict(exc: BaseException) -> dict[str, Any]:
    """The seeds' error shape: ``{"status": False, "error": msg, "error_type": cls}``.

    Seed-named generation methods return this for a :class:`BackendError` unless made
    with ``strict=True``; everything else raises.
    """
    out: dict[str, Any] = {"status": False, "error": redact(str(exc)), "error_type": type(exc).__name__}
    partial = getattr(exc, "partial_text", "")
    if partial:
        out["partial_text"] = partial
    return out
