"""The settings page at ``/``: server-rendered HTML from the bindings' manifests, a little vanilla JS.

Each model id is a card: its binding's settings as a form (options as a select, booleans as
toggles, secrets masked and never sent back, descriptions as help, defaults shown), its health,
and for text models a "try it" box that streams an answer. Saving checks every field with the
manifest's own coercion (errors shown next to the field), then the whole alias, then writes
the YAML file atomically and restarts that model; only with ``--allow-config-edit`` and a
``--config`` file, otherwise the page is read-only. Nothing to build: the JS and CSS are
package files served as they are.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from lollms_core.errors import ConfigError
from lollms_core.types import Modality
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import __version__
from .asgi import KEY_COOKIE, KeyCheck
from .config import ModelAlias, ServerConfig, check_alias, config_to_yaml_data
from .errors import ApiError
from .hosts import ModelHost
from .routes_openai import json_body, state_of
from .state import ServerState, alias_factory, router_factory

__all__ = ["page_routes", "save_config_file"]

_MASK = "\u2022" * 8


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _manifest(alias: ModelAlias) -> Any:
    from lollms_core import get_registry

    return get_registry().get(alias.modality, alias.binding).manifest


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field(alias: ModelAlias, param: Any, editable: bool) -> str:
    """One setting: label, input by type, help, default, an empty slot for its error."""
    name, kind = param.name, param.type
    fid = f"f-{alias.name}-{name}"
    current = alias.config.get(name)
    disabled = "" if editable else " disabled"
    data = f' name="{_e(name)}" id="{_e(fid)}" data-type="{_e(kind)}"{disabled}'
    if param.is_secret:
        state = "set" if current not in (None, "") or (param.env and os.environ.get(param.env)) else "not set"
        placeholder = f"{_MASK} ({state}; type to replace)" if state == "set" else "(not set)"
        control = f'<input type="password" autocomplete="off" placeholder="{_e(placeholder)}"{data} data-secret="1">'
    elif param.options:
        chosen = current if current is not None else param.default
        options = "".join(
            f'<option value="{_e(_shown(o))}"{" selected" if o == chosen else ""}>{_e(_shown(o)) or "(none)"}</option>'
            for o in param.options
        )
        control = f"<select{data}>{options}</select>"
    elif kind == "bool":
        on = current if isinstance(current, bool) else str(current).lower() in ("1", "true", "yes", "on")
        if current is None:
            on = bool(param.default)
        control = f'<label class="toggle"><input type="checkbox" role="switch"{" checked" if on else ""}{data}>' \
            '<span class="slider"></span></label>'  # fmt: skip
    elif kind in ("int", "float"):
        bounds = "".join(f' {k}="{_e(v)}"' for k, v in (("min", param.min), ("max", param.max)) if v is not None)
        step = "1" if kind == "int" else "any"
        control = f'<input type="number" step="{step}"{bounds} value="{_e(_shown(current))}"' \
            f' placeholder="{_e(_shown(param.default))}"{data}>'  # fmt: skip
    elif kind in ("list", "dict"):
        control = f'<textarea rows="2" placeholder="{_e(_shown(param.default))}"{data}>{_e(_shown(current))}</textarea>'
    else:
        control = f'<input type="text" value="{_e(_shown(current))}" placeholder="{_e(_shown(param.default))}"{data}>'
    default = _shown(param.default)
    extra = f' <span class="default">(default: <code>{_e(default)}</code>)</span>' if default else ""
    needed = ' <span class="required">required</span>' if param.mandatory else ""
    return (
        f'<div class="field" data-field="{_e(name)}"><label for="{_e(fid)}">{_e(name)}</label>{needed}'
        f'<div class="control">{control}</div>'
        f'<small class="help">{_e(param.description)}{extra}</small>'
        f'<div class="error" data-error-for="{_e(name)}" role="alert"></div></div>'
    )


def _card(alias: ModelAlias, host: ModelHost | None, editable: bool) -> str:
    manifest = _manifest(alias)
    fields = "".join(_field(alias, p, editable) for p in (manifest.parameters if manifest else ()))
    save = '<button type="submit">Save</button><span class="saved" role="status"></span>' if editable else ""
    try_it = ""
    if alias.modality is Modality.LLM:
        try_it = (
            f'<div class="try" data-model="{_e(alias.name)}"><h3>Try it</h3>'
            f'<textarea class="prompt" rows="2" placeholder="Ask {_e(alias.name)} something"></textarea>'
            '<button type="button" class="send">Send</button><pre class="answer" aria-live="polite"></pre></div>'
        )
    title = _e(manifest.title if manifest and manifest.title else alias.binding)
    state = host.state if host else "loading"
    return (
        f'<section class="card" id="model-{_e(alias.name)}" data-model="{_e(alias.name)}">'
        f'<header><h2>{_e(alias.name)}</h2><span class="badge {_e(state)}" data-health="{_e(alias.name)}">'
        f"{_e(state)}</span></header>"
        f'<p class="meta">{_e(alias.modality.value)} &middot; binding <code>{_e(alias.binding)}</code> &middot; '
        f"{title}</p>"
        f'<p class="description">{_e(manifest.description if manifest else "")}</p>'
        f'<form class="settings" data-model="{_e(alias.name)}" novalidate>{fields}'
        f'<div class="error" data-error-for="_form" role="alert"></div>{save}</form>{try_it}</section>'
    )


def _layout(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_e(title)}</title><link rel="stylesheet" href="/static/page.css"></head>'
        f'<body>{body}<script src="/static/page.js" defer></script></body></html>'
    )


def _editable(config: ServerConfig) -> bool:
    return config.allow_config_edit and config.path is not None


async def settings_page(request: Request) -> Response:
    """``GET /``: the sign-in form when a key is needed, else every model's card."""
    state = state_of(request)
    if not request.scope.get("lollms.authorised", True):
        return HTMLResponse(_login_page(), status_code=401)
    config = state.config
    editable = _editable(config)
    if editable:
        shown = f'<code title="{_e(config.path)}">{_e(Path(str(config.path)).name)}</code>'
        note = f"Changes are saved to {shown} and applied at once."
    elif config.allow_config_edit:
        note = "Read-only: <code>--allow-config-edit</code> needs <code>--config FILE</code> to save to."
    else:
        note = "Read-only: start <code>lollms serve</code> with <code>--allow-config-edit</code> to save changes."
    routers = "".join(
        f"<li><code>{_e(g.name)}</code>: router over {', '.join(_e(m) for m in g.members)} "
        f'<span class="badge" data-health="{_e(g.name)}">{_e(state.hosts[g.name].state)}</span></li>'
        for g in config.routers.values()
    )
    cards = "".join(_card(a, state.hosts.get(a.name), editable) for a in config.aliases.values())
    body = (
        f'<main data-editable="{"1" if editable else "0"}"><h1>lollms serve</h1>'
        f'<p class="lead">OpenAI-compatible API at <code>/v1</code>, lollms-server {_e(__version__)}. {note}</p>'
        + (
            f'<section class="card"><h2>Router groups</h2><ul class="routers">{routers}</ul></section>'
            if routers
            else ""
        )
        + f"{cards}</main>"
    )
    return HTMLResponse(_layout("lollms serve", body))


def _login_page(error: str = "") -> str:
    shown = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    body = (
        '<main><h1>lollms serve</h1><form method="post" action="/login" class="card login">'
        '<label for="key">API key</label><input type="password" id="key" name="key" autocomplete="current-password">'
        f'<button type="submit">Sign in</button>{shown}</form></main>'
    )
    return _layout("lollms serve: sign in", body)


async def login(request: Request) -> Response:
    """``POST /login``: a valid key becomes an HttpOnly, SameSite=Strict cookie."""
    state = state_of(request)
    raw = (await request.body()).decode("utf-8", "replace")
    key = (parse_qs(raw).get("key") or [""])[0]
    if not KeyCheck(state.config.api_keys).accepts(key):
        return HTMLResponse(_login_page("That key is not accepted."), status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(KEY_COOKIE, quote(key), httponly=True, samesite="strict", path="/")
    return response


# == saving ==================================================================================


def _checked_fields(alias: ModelAlias, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The new config from the form's ``values``, and an error per field the manifest refuses."""
    manifest = _manifest(alias)
    params = {p.name: p for p in manifest.parameters} if manifest else {}
    config = dict(alias.config)
    errors: dict[str, str] = {}
    for name, value in values.items():
        param = params.get(name)
        if param is None:
            errors[name] = f"unknown setting; {alias.binding} has {', '.join(params)}"
            continue
        if param.is_secret and value in (None, ""):
            continue  # a masked secret left empty keeps its value (it was never sent to the page)
        if value is None or value == "":
            config.pop(name, None)  # back to the default
            continue
        if param.type in ("list", "dict") and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                errors[name] = f"expects {param.type} as JSON: {exc}"
                continue
        try:
            config[name] = param.coerce(value, where=f"{alias.name}.{name}")
        except ConfigError as exc:
            errors[name] = str(exc)
    return config, errors


def save_config_file(path: Path, config: ServerConfig) -> None:
    """Write ``config`` to ``path`` atomically: a temporary file in the same folder, synced, renamed."""
    import yaml

    text = "# Written by the lollms serve settings page.\n" + yaml.safe_dump(
        config_to_yaml_data(config), sort_keys=False, allow_unicode=True
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _retire(host: ModelHost) -> None:
    """Close a replaced host once its calls in flight are done (at most a minute later)."""

    def wait_then_close() -> None:
        deadline = time.monotonic() + 60
        while host.active and time.monotonic() < deadline:
            time.sleep(0.1)
        host.close()

    threading.Thread(target=wait_then_close, name="lollms-retire", daemon=True).start()


def _apply(state: ServerState, alias: ModelAlias) -> None:
    """Serve ``alias`` with its new config: a new host for it and for router groups using it."""
    new_hosts = {alias.name: ModelHost(alias.name, alias.modality, alias.binding, alias_factory(alias),
                                       alias.concurrency)}  # fmt: skip
    aliases = dict(state.config.aliases)
    for group in state.config.routers.values():
        if alias.name in group.members:
            new_hosts[group.name] = ModelHost(group.name, Modality.LLM, "router", router_factory(group, aliases),
                                              members=group.members)  # fmt: skip
    for name, host in new_hosts.items():
        old = state.hosts.get(name)
        state.hosts[name] = host
        host.start()
        if old is not None:
            _retire(old)


async def save_model(request: Request) -> Response:
    """``POST /lollms/v1/config/models/{model}``: check each field, then the alias, write the file, apply."""
    state = state_of(request)
    if not (request.headers.get("content-type") or "").startswith("application/json"):
        # A cross-site form cannot send JSON without a CORS preflight: this is the CSRF guard.
        raise ApiError(415, "send the settings as application/json", code="unsupported_media_type")
    config = state.config
    if not _editable(config):
        raise ApiError(403, "the settings are read-only: start lollms serve with --config FILE --allow-config-edit",
                       type="permission_error", code="read_only")  # fmt: skip
    name = request.path_params["model"]
    alias = config.aliases.get(name)
    if alias is None:
        raise ApiError(404, f"no model alias '{name}'; aliases: {', '.join(config.aliases)}", code="model_not_found")
    body = await json_body(request)
    values = body.get("config")
    if not isinstance(values, dict):
        raise ApiError(400, "'config' must be an object of setting: value", param="config")
    new_config, errors = _checked_fields(alias, values)
    if errors:
        return JSONResponse({"saved": False, "errors": errors}, status_code=422)
    updated = ModelAlias(alias.name, alias.modality, alias.binding, new_config, alias.model, alias.concurrency)
    try:
        check_alias(updated)
    except ConfigError as exc:
        return JSONResponse({"saved": False, "errors": {"_form": str(exc)}}, status_code=422)
    with state.lock:
        changed = config.with_changes(aliases={**config.aliases, name: updated})
        assert changed.path is not None
        save_config_file(changed.path, changed)  # disk first: memory changes only once the file has
        state.config = changed
        _apply(state, updated)
    return JSONResponse({"saved": True, "model": name})


def page_routes() -> list[Route | Mount]:
    """``/``, ``/login``, ``/static/*`` and the settings endpoint."""
    return [
        Route("/", settings_page),
        Route("/login", login, methods=["POST"]),
        Route("/lollms/v1/config/models/{model:path}", save_model, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("lollms_server", "static")]), name="static"),
    ]
