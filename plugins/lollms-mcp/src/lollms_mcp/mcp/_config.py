"""The ``servers`` list of the ``mcp`` binding: each entry checked before anything starts.

Header and environment values are credentials more often than not (``Authorization``,
``GITHUB_TOKEN``...): every one is held as a :class:`~lollms_core._secrets.Secret`-like
masked value, remembered by the core's redaction so no log, repr or error shows it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from lollms_core.errors import ConfigError

__all__ = ["ServerConfig", "parse_servers"]

MASK = "********"
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KEYS = ("alias", "type", "command", "args", "cwd", "env", "url", "headers", "timeout")
_BY_TYPE = {"stdio": {"command", "args", "cwd", "env"}, "http": {"url", "headers"}}
_HINTS = {
    "auth_config": "put credentials in headers, e.g. {'Authorization': 'Bearer ...'}",
    "verify": "TLS certificates are always verified; add your CA to the system store instead",
    "name": "the server's name is its alias",
}


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server: how to reach it (``stdio``: a command; ``http``: a streamable HTTP URL).

    ``env`` and ``headers`` values are secrets: :meth:`public` shows them masked.
    """

    alias: str
    type: Literal["stdio", "http"]
    timeout: float
    command: tuple[str, ...] = ()
    cwd: str | None = None
    url: str = ""
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    def public(self) -> dict[str, Any]:
        """The entry as configured, safe to show: secret values masked."""
        out: dict[str, Any] = {"alias": self.alias, "type": self.type, "timeout": self.timeout}
        if self.type == "stdio":
            out["command"] = list(self.command)
            if self.cwd:
                out["cwd"] = self.cwd
            if self.env:
                out["env"] = dict.fromkeys(self.env, MASK)
        else:
            out["url"] = self.url
            if self.headers:
                out["headers"] = dict.fromkeys(self.headers, MASK)
        return out


def parse_servers(entries: Any, default_timeout: float, remember: Any) -> list[ServerConfig]:
    """``entries`` (the ``servers`` parameter) as checked :class:`ServerConfig` objects.

    ``remember`` is called with every header and env value (the core's secret redaction).

    :raises ConfigError: naming the entry (its alias or index), the key and what is allowed;
        secret values are never echoed.
    """
    if not isinstance(entries, list):
        raise ConfigError(f"servers must be a list of server entries, not {type(entries).__name__}")
    out: list[ServerConfig] = []
    for index, entry in enumerate(entries):
        server = _parse_one(entry, index, default_timeout, remember)
        if any(s.alias == server.alias for s in out):
            raise ConfigError(f"servers: alias {server.alias!r} is used twice; each server needs its own alias")
        out.append(server)
    return out


def _parse_one(entry: Any, index: int, default_timeout: float, remember: Any) -> ServerConfig:
    where = f"servers[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a dict like {{'alias': 'files', 'type': 'stdio', 'command': [...]}}")
    alias = entry.get("alias")
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise ConfigError(
            f"{where}: alias must be 1-64 letters, digits, '_' or '-' (it prefixes tool names), not {alias!r}"
        )
    where = f"server {alias!r}"
    for key in entry:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = _HINTS.get(str(key)) or (f"did you mean '{close[0]}'?" if close else "")
            raise ConfigError(f"{where}: unknown key {key!r}{'; ' + hint if hint else ''} (known: {', '.join(_KEYS)})")
    if "type" not in entry and "url" in entry and "command" in entry:
        raise ConfigError(f"{where}: give either command (a stdio server) or url (an http server), not both")
    kind = entry.get("type") or ("http" if "url" in entry else "stdio")
    if kind not in _BY_TYPE:
        raise ConfigError(f"{where}: type must be 'stdio' or 'http', not {kind!r}")
    wrong = sorted(set(entry) & (set().union(*_BY_TYPE.values()) - _BY_TYPE[kind]))
    if wrong:
        raise ConfigError(
            f"{where}: {', '.join(wrong)} do not apply to a {kind} server (it uses {sorted(_BY_TYPE[kind])})"
        )
    timeout = _timeout(entry.get("timeout", default_timeout), where)
    if kind == "stdio":
        command = _command(entry.get("command"), entry.get("args", []), where)
        cwd = entry.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise ConfigError(f"{where}: cwd must be a folder path (str), not {type(cwd).__name__}")
        env = _secret_map(entry.get("env", {}), "env", where, remember)
        return ServerConfig(alias=alias, type="stdio", timeout=timeout, command=command, cwd=cwd or None, env=env)
    url = entry.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if not isinstance(url, str) or parts is None:
        raise ConfigError(f"{where}: url must be an http:// or https:// address of the MCP endpoint, not {url!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: url must be an http:// or https:// address of the MCP endpoint, not {url!r}")
    if parts.username or parts.password:
        raise ConfigError(f"{where}: put credentials in headers, not in the url")
    headers = _secret_map(entry.get("headers", {}), "headers", where, remember)
    return ServerConfig(alias=alias, type="http", timeout=timeout, url=url, headers=headers)


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        raise ConfigError(f"{where}: timeout must be a number of seconds in (0, 3600], not {value!r}")
    return float(value)


def _command(command: Any, args: Any, where: str) -> tuple[str, ...]:
    if isinstance(command, str):
        command = [command]
    if not isinstance(command, list) or not command or not all(isinstance(c, str) and c for c in command):
        raise ConfigError(f"{where}: command must be a non-empty list of strings, e.g. ['python', 'server.py']")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{where}: args must be a list of strings")
    return (*command, *args)


def _secret_map(value: Any, key: str, where: str, remember: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {key} must be a dict of names to strings")
    out: dict[str, str] = {}
    for name, secret in value.items():
        if not isinstance(name, str) or not isinstance(secret, str):
            raise ConfigError(f"{where}: {key} entry {name!r} must map a str to a str (value not shown)")
        if any(ord(c) < 32 for c in secret):
            raise ConfigError(f"{where}: {key} entry {name!r} contains a control character (value not shown)")
        remember(secret)
        out[name] = secret
    return out
