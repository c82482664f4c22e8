"""``lollms serve``: added to the ``lollms`` command line by this plugin's ``lollms_register_commands``."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from pathlib import Path
from typing import Any

from lollms_core.errors import ConfigError

from .config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig, load_config, one_model_config, read_key_file

__all__ = ["add_serve_command", "build_config", "cmd_serve", "is_loopback"]

#: The environment variable holding an API key (the name lollms_client's ``lollms`` binding reads).
KEY_ENV = "LOLLMS_API_KEY"


def add_serve_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``serve`` parser."""
    p = subparsers.add_parser(
        "serve",
        help="serve bindings over an OpenAI-compatible HTTP API, with a settings page",
        description="Serve model aliases from --config FILE, or one binding (-b NAME -c KEY=VALUE), "
        "at http://HOST:PORT/v1 (OpenAI wire), /lollms/v1, /health and the settings page at /.",
    )
    p.add_argument("--config", metavar="FILE", help="YAML file of model aliases and router groups (see docs/server.md)")
    p.add_argument("-b", "--binding", metavar="NAME", help="one-model mode: the binding to serve")
    p.add_argument("-m", "--model", metavar="MODEL", help="one-model mode: the model (the binding's model_name)")
    p.add_argument(
        "-c", "--set", dest="pairs", action="append", default=[], metavar="KEY=VALUE",
        help="one-model mode: binding setting, checked against its description.yaml (repeatable; KEY=@FILE reads YAML)",
    )  # fmt: skip
    p.add_argument("--modality", choices=["llm", "tti", "stt", "tts", "ttv", "ttm"], help="one-model mode: modality")
    p.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST}; any other needs an API key)")
    p.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}, where LollmsClient() looks)")
    p.add_argument("--api-key", action="append", default=[], metavar="KEY", help=f"accepted API key (or ${KEY_ENV})")
    p.add_argument("--api-key-file", metavar="FILE", help="file of accepted API keys, one per line")
    p.add_argument("--max-body-bytes", type=int, metavar="N", help="largest request body (default 25 MiB)")
    p.add_argument("--max-tokens", type=int, metavar="N", help="largest max_tokens a request may ask (default 4096)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", help="allow browser calls from it")
    p.add_argument("--allow-config-edit", action="store_true", help="let the settings page save to --config FILE")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--check", action="store_true", help="check the configuration and exit")
    p.set_defaults(func=cmd_serve)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _pairs(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"-c expects KEY=VALUE, got {pair.partition('=')[0]!r}")
        if value.startswith("@") and not value.startswith("@@"):
            import yaml

            try:
                out[key.strip()] = yaml.safe_load(Path(value[1:]).read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"-c {key.strip()}=@{value[1:]}: cannot read that file: {exc}") from None
            continue
        out[key.strip()] = value[1:] if value.startswith("@@") else value
    return out


def build_config(args: argparse.Namespace, environ: dict[str, str] | None = None) -> ServerConfig:
    """The configuration the flags describe (file or one model, flags over file, keys gathered).

    :raises ConfigError: both or neither of --config and -b, a bad value, or a non-loopback
        address with no API key.
    """
    environ = dict(os.environ) if environ is None else environ
    if bool(args.config) == bool(args.binding):
        raise ConfigError("give either --config FILE or -b NAME [-c KEY=VALUE]... (one-model mode), not both or none")
    if args.config:
        config = load_config(args.config)
    else:
        config = one_model_config(args.binding, _pairs(args.pairs), args.model, args.modality)
    changes: dict[str, Any] = {}
    for flag, key in (("host", "host"), ("port", "port"), ("max_body_bytes", "max_body_bytes")):
        if getattr(args, flag) is not None:
            changes[key] = getattr(args, flag)
    if args.max_tokens is not None:
        changes["max_tokens"] = args.max_tokens
    if args.cors_origin:
        changes["cors_origins"] = tuple(args.cors_origin)
    if args.api_key_file:
        changes["api_key_file"] = args.api_key_file
    config = config.with_changes(**changes)
    keys = [*args.api_key]
    if environ.get(KEY_ENV):
        keys.append(environ[KEY_ENV])
    if config.api_key_file:
        keys.extend(read_key_file(config.api_key_file))
    if any(not k.strip() or any(ord(c) < 33 for c in k) for k in keys):
        raise ConfigError("an API key is empty or holds spaces or control characters")
    config = config.with_changes(api_keys=tuple(dict.fromkeys(keys)), allow_config_edit=args.allow_config_edit)
    if not is_loopback(config.host) and not config.api_keys:
        raise ConfigError(
            f"refusing to listen on {config.host} without an API key: anyone who can reach it could use your "
            f"models. Give one with --api-key KEY, ${KEY_ENV} or --api-key-file FILE, or listen on {DEFAULT_HOST}"
        )
    return config


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted (exit code 0), or report what is wrong with the config (1)."""
    config = build_config(args)
    names = ", ".join(config.model_ids)
    if args.check:
        print(f"lollms serve: configuration OK; models: {names}")
        return 0
    if args.allow_config_edit and config.path is None:
        print("lollms serve: warning: --allow-config-edit needs --config FILE; the page is read-only", file=sys.stderr)
    import uvicorn

    from .app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    print(f"lollms serve: http://{config.host}:{config.port}/v1  models: {names}", file=sys.stderr, flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_config=None,
            log_level=args.log_level,
            access_log=False,  # ours is one line per request with model, tokens and latency
            server_header=False,
            timeout_graceful_shutdown=5,
        )
    )
    server.run()
    return 0
