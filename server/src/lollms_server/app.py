"""``create_app(config)``: the Starlette application ``lollms serve`` runs under uvicorn.

Why Starlette and not FastAPI: the wire shapes are OpenAI's and are written by hand in
:mod:`lollms_server.wire` (FastAPI's pydantic request models would re-describe them a second
time and validate every body twice), the configuration is already validated by the bindings'
manifests, and the page is server-rendered. FastAPI would add ~40 ms of import and a layer
per request for an OpenAPI page we do not serve; Starlette is the part of it we use.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from lollms_core.errors import LollmsError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .asgi import Gate, KeyCheck
from .config import ServerConfig
from .errors import ApiError, error_body, error_for
from .routes_lollms import lollms_routes
from .routes_openai import openai_routes
from .state import ServerState

__all__ = ["create_app"]


async def _api_error(request: Request, exc: Exception) -> Response:
    error = error_for(exc)
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path} (its modality may have no model configured)"
    else:
        message = str(exc.detail)
    body = error_body(message, "invalid_request_error", None, "not_found" if exc.status_code == 404 else None)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def create_app(config: ServerConfig) -> Starlette:
    """The server for ``config``; bindings are created when it starts (its lifespan), in the background.

    ``app.state.lollms`` is the :class:`~lollms_server.state.ServerState` (hosts, config).
    """
    state = ServerState(config)
    from .page import page_routes

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            state.close()

    middleware = []
    if config.cors_origins:  # off unless configured; outside the gate so preflights need no key
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-api-key"],
            )
        )
    middleware.append(Middleware(Gate, keys=KeyCheck(config.api_keys), max_body_bytes=config.max_body_bytes))
    handlers = {
        exc: _api_error for exc in (ApiError, LollmsError, ValueError, TypeError, NotImplementedError, LookupError)
    }
    app = Starlette(
        routes=[*openai_routes(state), *lollms_routes(state), *page_routes()],
        middleware=middleware,
        exception_handlers={**handlers, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.lollms = state
    return app
