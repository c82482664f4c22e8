"""``lollms tools list`` and ``lollms tools call``: see and try the tools that tools bindings offer.

``-b NAME`` picks one tools binding (configured with ``-c KEY=VALUE``, e.g. ``-c
functions=mypkg.tools:*`` for ``python``, ``-c servers=@servers.yaml`` for ``mcp``); without
it, every installed tools binding is asked with its default settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["add_commands", "cmd_tools_call", "cmd_tools_list"]


def add_commands(sub: Any, binding_args: Callable[..., None]) -> None:
    """Add ``tools list`` and ``tools call`` to the ``lollms`` parser."""
    p = sub.add_parser("tools", help="tools offered by tools bindings (python functions, MCP servers...)")
    tsub = p.add_subparsers(dest="tools_command", metavar="list|call")
    p.set_defaults(func=lambda args: _usage(p))

    ls = tsub.add_parser("list", help="name, description and parameters of every tool")
    binding_args(ls, required=False, model=False)
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=cmd_tools_list)

    call = tsub.add_parser("call", help="run one tool by hand and print its result")
    binding_args(call, required=False, model=False)
    call.add_argument("name", metavar="NAME", help="the tool's name as `lollms tools list` shows it")
    call.add_argument("--args", default="{}", metavar="JSON", help="the arguments, a JSON object (default {})")
    call.add_argument("--json", action="store_true", help="print lollms_client's result dict as JSON")
    call.set_defaults(func=cmd_tools_call)


def _usage(parser: argparse.ArgumentParser) -> int:
    from ._commands import EXIT_USAGE

    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _bindings(args: argparse.Namespace) -> Iterator[tuple[str, Any]]:
    """``(name, binding)`` for ``-b``, or for every installed tools binding (one that fails is reported and skipped)."""
    from ..discovery._default_registry import default_registry
    from ..errors import LollmsError
    from ..types import Modality
    from ._commands import UsageError, make_binding

    if args.binding:
        yield args.binding, make_binding(Modality.TOOLS, args.binding, list(args.config))
        return
    if args.config:
        raise UsageError("-c configures one binding: give it with -b NAME")
    for name in default_registry().available(Modality.TOOLS):
        try:
            binding = make_binding(Modality.TOOLS, name, [])
        except LollmsError as exc:
            print(f"lollms: warning: tools binding {name}: {exc}", file=sys.stderr)
            continue
        yield name, binding


def _signature(parameters: dict[str, Any]) -> str:
    required = set(parameters.get("required", []))
    out = []
    for name, schema in parameters.get("properties", {}).items():
        kind = schema.get("type", "any") if isinstance(schema, dict) else "any"
        kind = "|".join(kind) if isinstance(kind, list) else str(kind)
        out.append(f"{name}: {kind}" if name in required else f"{name}?: {kind}")
    return ", ".join(out)


def _report_servers(name: str, binding: Any) -> None:
    # A binding made of several servers (mcp) lists what works and says which server failed.
    for error in getattr(binding, "server_errors", {}).values():
        print(f"lollms: warning: tools binding {name}: {error}", file=sys.stderr)


def cmd_tools_list(args: argparse.Namespace) -> int:
    """``lollms tools list``: one line per tool (``name(params)  description``), or ``--json``."""
    rows: list[dict[str, Any]] = []
    for name, binding in _bindings(args):
        try:
            rows += [{**tool, "binding": name} for tool in binding.list_tools()]
            _report_servers(name, binding)
        finally:
            binding.close()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        summary = " ".join(row["description"].split())
        print(f"{row['name']}({_signature(row['parameters'])})  [{row['binding']}]  {summary}")
    if not rows:
        print("no tools (give a tools binding its settings: -b NAME -c KEY=VALUE)", file=sys.stderr)
    return 0


def cmd_tools_call(args: argparse.Namespace) -> int:
    """``lollms tools call NAME --args JSON``: the result's text on stdout; exit 1 when it is an error."""
    from ._commands import EXIT_ERROR, UsageError

    try:
        arguments = json.loads(args.args)
    except ValueError as exc:
        raise UsageError(f"--args must be a JSON object, e.g. '{{\"a\": 1}}': {exc}") from None
    if not isinstance(arguments, dict):
        raise UsageError(f"--args must be a JSON object, not {type(arguments).__name__}")
    for name, binding in _bindings(args):
        try:
            if not args.binding and args.name not in {t["name"] for t in binding.list_tools()}:
                continue
            out: dict[str, Any] = binding.execute_tool(args.name, arguments)
        finally:
            binding.close()
        if args.json:
            print(json.dumps({**out, "binding": name}, indent=2, ensure_ascii=False))
        elif "error" in out:
            print(f"lollms: error: {' '.join(str(out['error']).split())}", file=sys.stderr)
        else:
            value = out["output"]
            print(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        return EXIT_ERROR if "error" in out else 0
    raise UsageError(f"no installed tools binding offers a tool named {args.name!r}; see `lollms tools list`")
