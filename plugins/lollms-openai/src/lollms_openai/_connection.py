"""What all four ``openai`` bindings share: base URL rules, headers, and the sync/async httpx clients."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from lollms_core import http
from lollms_core.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    import asyncio

__all__ = ["OpenAIConnection", "normalise_base_url"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def normalise_base_url(url: str) -> str:
    """``http://host:port`` gets ``/v1`` (the OpenAI convention); a URL with a path is kept as given.

    :raises ConfigError: the URL is not http(s).
    """
    url = (url or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"host_address '{url}' is not an http(s) URL; expected e.g. {DEFAULT_BASE_URL} or http://127.0.0.1:8080/v1"
        )
    return url if parts.path not in ("", "/") else url + "/v1"


class OpenAIConnection:
    """HTTP settings and pooled clients built from a binding's validated config.

    The async client is per event loop: httpx connections belong to the loop that opened them, and
    callers commonly use ``asyncio.run`` once per call.
    """

    def __init__(self, config: Mapping[str, Any], service: str = "OpenAI-compatible server") -> None:
        self.base_url = normalise_base_url(str(config.get("host_address") or ""))
        headers: dict[str, str] = {}
        extra = config.get("extra_headers") or {}
        if not isinstance(extra, Mapping):
            raise ConfigError(f"extra_headers must be a mapping of header names to values, got {type(extra).__name__}")
        headers.update({str(k): str(v) for k, v in extra.items()})
        if config.get("organization"):
            headers["OpenAI-Organization"] = str(config["organization"])
        if config.get("project"):
            headers["OpenAI-Project"] = str(config["project"])
        self.settings = http.HttpSettings(
            base_url=self.base_url,
            headers=headers,
            connect_timeout=float(config.get("connect_timeout") or 10.0),
            read_timeout=float(config.get("timeout") or 600.0),
            max_connections=int(config.get("max_connections") or 100),
            retry=http.RetryPolicy(max_retries=int(config.get("max_retries", 2))),
            service=f"{service} at {self.base_url}",
            # Held masked; the header is built per request, so no repr of these objects shows the key.
            bearer=http.Secret(str(config["service_key"])) if config.get("service_key") else None,
        )
        self.client = http.make_client(self.settings)
        self._async: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None

    @property
    def server_root(self) -> str:
        """The base URL without its trailing ``/v1`` (llama.cpp's /tokenize lives there)."""
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url

    def async_client(self) -> httpx.AsyncClient:
        """The pooled async client of the running event loop."""
        import asyncio  # not at import: a sync-only program never pays for it

        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            self._async = (loop, http.make_async_client(self.settings))
        return self._async[1]

    def get_json(self, path: str) -> Any:
        """GET ``path`` with retries; the decoded JSON body."""
        return http.json_body(http.request(self.client, "GET", path, settings=self.settings), self.settings.service)

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body with retries; the decoded JSON body."""
        response = http.request(self.client, "POST", path, settings=self.settings, json=body)
        return http.json_body(response, self.settings.service)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST with retries; the 2xx response."""
        return http.request(self.client, "POST", path, settings=self.settings, **kwargs)

    def list_models(self, configured: str | None) -> list[dict[str, Any]]:
        """/models as ``model_name`` dicts; a server without that route (404) lists the configured model only."""
        try:
            data = self.get_json("/models")
        except NotFoundError:
            return [{"model_name": configured, "owned_by": None}] if configured else []
        items = data.get("data") if isinstance(data, dict) else data
        return [
            {"model_name": m.get("id", ""), "owned_by": m.get("owned_by")} for m in items or [] if isinstance(m, dict)
        ]

    def close(self) -> None:
        """Close the pools (the async one only if its loop is still open)."""
        with contextlib.suppress(httpx.HTTPError, RuntimeError):
            self.client.close()
        if self._async is not None:
            loop, client = self._async
            self._async = None
            if not loop.is_closed() and not loop.is_running():
                with contextlib.suppress(Exception):
                    loop.run_until_complete(client.aclose())
