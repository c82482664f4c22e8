"""OpenAI's error shape, ``{"error": {"message", "type", "param", "code"}}``, and which status each failure gets.

A request the client got wrong is a 4xx naming the field; a backend that failed is a 5xx
(or 429) naming the backend's answer, never our traceback. Messages go through the core's
redaction, and the server's own API keys are masked too.
"""

from __future__ import annotations

import logging
from typing import Any

from lollms_core.errors import (
    AllMembersFailedError,
    AuthenticationError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    BindingLoadError,
    BindingNotFoundError,
    ConfigError,
    GenerationCancelled,
    LollmsError,
    NotFoundError,
    NotSupportedError,
    RateLimitError,
)

__all__ = ["ApiError", "error_body", "error_for"]

log = logging.getLogger("lollms.server")


class ApiError(Exception):
    """A failure to answer with OpenAI's error object and ``status``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {...}}``."""
        return error_body(self.message, self.type, self.param, self.code)


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error object, with secrets masked from ``message``."""
    from lollms_core.errors import error_dict

    # error_dict applies the core's redaction (remembered secrets, Bearer/Authorization values).
    safe = str(error_dict(Exception(message))["error"])
    return {"error": {"message": safe, "type": type, "param": param, "code": code}}


def error_for(exc: BaseException) -> ApiError:
    """The :class:`ApiError` for any exception a route let through."""
    from .hosts import ModelUnavailable

    if isinstance(exc, ApiError):
        return exc
    message = str(exc)
    if isinstance(exc, ModelUnavailable):
        return ApiError(503, message, type="server_error", code="model_unavailable")
    if isinstance(exc, BindingNotFoundError):
        return ApiError(404, message, code="model_not_found")
    if isinstance(exc, NotSupportedError):
        return ApiError(400, message, code="unsupported")
    if isinstance(exc, (ConfigError, TypeError, ValueError)) and not isinstance(exc, BackendError):
        return ApiError(400, message, code="invalid_value")
    if isinstance(exc, GenerationCancelled):
        return ApiError(499, message, type="server_error", code="cancelled")
    if isinstance(exc, BackendError):
        return _backend(exc)
    if isinstance(exc, BindingLoadError):
        return ApiError(503, message, type="server_error", code="model_unavailable")
    if isinstance(exc, LollmsError):
        return ApiError(500, message, type="server_error")
    # Not ours: the traceback goes to the log, the client gets no internals.
    log.error("unexpected %s while answering a request", type(exc).__name__, exc_info=exc)
    return ApiError(500, "internal server error (see the server log)", type="server_error")


def _backend(exc: BackendError) -> ApiError:
    headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else {}
    message = str(exc)
    # The backend's own auth failing is the server's misconfiguration, not the client's key: never 401.
    table: list[tuple[type[BackendError], int, str, str]] = [
        (AllMembersFailedError, 503, "server_error", "all_members_failed"),
        (RateLimitError, 429, "rate_limit_error", "rate_limit_exceeded"),
        (AuthenticationError, 502, "server_error", "upstream_authentication"),
        (NotFoundError, 404, "invalid_request_error", "model_not_found"),
        (BackendTimeoutError, 504, "server_error", "upstream_timeout"),
        (BackendConnectionError, 502, "server_error", "upstream_unreachable"),
    ]
    for cls, status, kind, code in table:
        if isinstance(exc, cls):
            return ApiError(status, message, type=kind, code=code, headers=headers)
    return ApiError(502, message, type="server_error", code="upstream_error", headers=headers)
