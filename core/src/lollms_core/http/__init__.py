"""Shared httpx plumbing for HTTP bindings: clients, retries, typed errors, SSE and NDJSON.

The face of :mod:`lollms_core.http`; the retry loops live in ``_transport``, the stream
framing (SSE, NDJSON) in ``_framing``. Importing it imports httpx: only HTTP bindings do,
when they are created.
"""

from __future__ import annotations

from ._framing import SSEDecoder, aiter_ndjson, aiter_sse, iter_ndjson, iter_sse
from ._transport import (
    HttpSettings,
    RetryPolicy,
    Secret,
    arequest,
    astream,
    error_for_response,
    error_for_transport,
    json_body,
    make_async_client,
    make_client,
    parse_retry_after,
    request,
    stream,
)

__all__ = [
    "HttpSettings",
    "RetryPolicy",
    "SSEDecoder",
    "Secret",
    "aiter_ndjson",
    "aiter_sse",
    "arequest",
    "astream",
    "error_for_response",
    "error_for_transport",
    "iter_ndjson",
    "iter_sse",
    "json_body",
    "make_async_client",
    "make_client",
    "parse_retry_after",
    "request",
    "stream",
]
