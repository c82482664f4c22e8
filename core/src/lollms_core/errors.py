"""The exception hierarchy, and the one rule that turns backend failures into seed error dicts.

Catch at the level you care about: ``LollmsError`` for everything, ``BackendError`` for
anything the remote or local engine did, ``RateLimitError`` for just that.
"""

from __future__ import annotations

import math
from typing import Any

from ._secrets import redact

__all__ = [
    "MAX_RETRY_AFTER",
    "AllMembersFailedError",
    "AmbiguousBindingError",
    "AuthenticationError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BindingLoadError",
    "BindingNotFoundError",
    "CallbackError",
    "ConfigError",
    "DiscussionNotFoundError",
    "EngineError",
    "GenerationCancelled",
    "LollmsError",
    "ManifestError",
    "MessageNotFoundError",
    "ModalityNotConfiguredError",
    "NotFoundError",
    "NotSupportedError",
    "RateLimitError",
    "ReadOnlyDatabaseError",
    "ServerError",
    "StructuredContentError",
    "ToolChoiceError",
    "ToolNotFoundError",
    "ToolServerError",
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


class ReadOnlyDatabaseError(ConfigError):
    """A write to a discussion database that was opened read-only (the file is not writable)."""


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


#: The longest wait lollms honours from a server's ``Retry-After`` (a day): a longer or absurd
#: value (hundreds of digits, a date in year 9999) is clamped to it, never an exception.
MAX_RETRY_AFTER = 86400.0


class BackendError(LollmsError):
    """The backend failed. ``status_code`` is the HTTP status when there is one.

    ``partial_text`` holds the text received before a stream broke; ``retry_after`` (seconds the
    server asked to wait) is clamped to :data:`MAX_RETRY_AFTER`.
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
        self.retry_after = _clamp_retry_after(retry_after)


def _clamp_retry_after(value: float | None) -> float | None:
    # Any binding may set retry_after (not only our HTTP parser): bound it here, once, so a router's
    # cooldown, a status table's date and a caller's sleep stay finite.
    if value is None:
        return None
    if math.isnan(value) or value < 0:  # not a wait
        return None
    return min(float(value), MAX_RETRY_AFTER)


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


class StructuredContentError(LollmsError, ValueError):
    """The model gave no valid JSON for the schema after the allowed retries.

    ``last_answer`` is the model's last text and ``errors`` the validation problems found in it.
    Seed-named helpers (``generate_structured_content``...) return ``None`` instead, as
    lollms_client does, unless the client was made with ``strict=True``.
    """

    def __init__(self, message: str, last_answer: str = "", errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.last_answer = last_answer
        self.errors = errors or []


class DiscussionNotFoundError(LollmsError, LookupError):
    """No discussion with that id in the database; the message lists some that exist."""


class MessageNotFoundError(LollmsError, LookupError):
    """No message with that id in the discussion."""


class AllMembersFailedError(BackendError):
    """The ``router`` binding found no member able to take a request.

    The message lists each member with its last error and whether it is cooling down;
    ``member_errors`` maps each member's label to its last error; ``retry_after`` is the
    time until the first member's cooldown ends (``None`` if none is cooling down).
    """

    def __init__(
        self, message: str, *, member_errors: dict[str, str] | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.member_errors: dict[str, str] = dict(member_errors or {})


class EngineError(BackendError):
    """The engine raised something that is not a lollms error; the base wrapped it.

    The message names the binding and the primitive; ``__cause__`` is the engine's own
    exception. Binding authors need not catch engine exceptions themselves.
    """


class ToolNotFoundError(LollmsError, LookupError):
    """A tools binding was asked for a tool it does not offer; the message lists the ones it does."""


class ToolServerError(BackendError):
    """A tool server (an MCP server, a tools binding's backend) failed.

    It did not start, hung, died, answered garbage or listed an invalid tool. ``server`` names
    it (the configured alias); the binding's other servers keep working.
    """

    def __init__(self, message: str, *, server: str, status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.server = server


class ToolChoiceError(BackendError):
    """``tool_choice`` asked for a call (``"required"`` or a tool's name) and the model answered without one.

    A server that ignores ``tools`` answers in prose; that is reported, never passed off as the
    answer. ``partial_text`` holds the prose it gave.
    """


class AmbiguousBindingError(BindingNotFoundError):
    """Several distributions provide that bare binding name; the message lists the ``DIST:NAME`` choices."""


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
