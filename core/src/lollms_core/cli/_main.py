"""The ``lollms`` command line: list bindings, inspect them, generate, chat, transcribe, speak, draw, tools.

Startup is kept light (argparse and the registry only); a binding's engine is imported
when a command creates that binding. Errors print one line, ``lollms: error: ...``, and
exit 1 (2 for usage); Ctrl-C stops a generation cleanly and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]


def _binding_args(parser: argparse.ArgumentParser, *, required: bool = True, model: bool = True) -> None:
    parser.add_argument(
        "-b",
        "--binding",
        required=required,
        metavar="NAME",
        help="binding name, or DIST:NAME when two distributions provide it (see `lollms bindings`)",
    )
    if model:
        parser.add_argument("-m", "--model", metavar="MODEL", help="model to use (the binding's model_name)")
    parser.add_argument(
        "-c", "--config", action="append", default=[], metavar="KEY=VALUE",
        help="binding setting, checked against its description.yaml (repeatable)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The parser with every built-in command, then the plugins' commands."""
    from . import _commands as cmd

    parser = argparse.ArgumentParser(prog="lollms", description="LoLLMS: one interface to many AI engines.")
    parser.add_argument("--version", action="version", version=f"lollms-core {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    _add_listing_commands(sub, cmd)
    _add_generation_commands(sub, cmd)
    from . import _media as cli_media

    _add_media_commands(sub, cli_media)
    from . import _batch as cli_batch

    cli_batch.add_commands(sub, _binding_args)
    from . import _tools as cli_tools

    cli_tools.add_commands(sub, _binding_args)
    from ._scaffold import add_new_binding_command

    add_new_binding_command(sub)
    _plugin_commands(sub)
    return parser


def _add_listing_commands(sub: Any, cmd: Any) -> None:
    from . import _bindings as cli_bindings

    p = sub.add_parser(
        "bindings", help="list installed bindings (and broken plugins, with why); exit 1 if any is broken"
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument(
        "--check", nargs="?", const="", metavar="NAME",
        help="also import each binding class (or NAME's) and its engine modules; name missing ones with the pip line",
    )  # fmt: skip
    p.set_defaults(func=cli_bindings.cmd_bindings)
    bsub = p.add_subparsers(dest="bindings_command", metavar="show")
    show = bsub.add_parser("show", help="a binding's settings, defaults and which are secret")
    show.add_argument("name")
    show.add_argument("--modality", choices=["llm", "tti", "stt", "tts", "ttv", "ttm", "tools"])
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd.cmd_bindings_show)

    p = sub.add_parser("models", help="list a binding's models (`models pull` downloads one)")
    _binding_args(p, required=False, model=False)
    p.add_argument("--modality", choices=["llm", "tti", "stt", "tts", "ttv", "ttm", "tools"])
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd.cmd_models)
    msub = p.add_subparsers(dest="models_command", metavar="pull")
    pull = msub.add_parser("pull", help="download a model (bindings that can, e.g. ollama)")
    _binding_args(pull, model=False)
    pull.add_argument("model_name", metavar="MODEL")
    pull.set_defaults(func=cmd.cmd_models_pull)


def _add_generation_commands(sub: Any, cmd: Any) -> None:
    p = sub.add_parser("generate", help="stream an answer to PROMPT ('-' reads stdin)")
    _binding_args(p, required=False)
    p.add_argument("-s", "--system", default="", help="system prompt")
    p.add_argument("-n", "--n-predict", type=int, help="maximum tokens to generate")
    p.add_argument("-t", "--temperature", type=float)
    p.add_argument(
        "-o", "--option", action="append", default=[], metavar="KEY=VALUE",
        help="per-call option declared by the binding (see `lollms bindings show NAME`), repeatable",
    )  # fmt: skip
    p.add_argument("--show-thoughts", action="store_true", help="print the model's thinking on stderr")
    p.add_argument("prompt", metavar="PROMPT")
    p.set_defaults(func=cmd.cmd_generate)

    p = sub.add_parser("chat", help="talk with a model (a discussion; --db keeps it)")
    _binding_args(p, required=False)
    p.add_argument("-s", "--system", default="", help="system prompt of a new discussion")
    p.add_argument("--db", metavar="FILE", help="SQLite file to keep the discussion in")
    p.add_argument("--id", metavar="ID", help="continue this discussion from --db")
    p.add_argument("-n", "--n-predict", type=int, help="maximum tokens per answer")
    p.set_defaults(func=cmd.cmd_chat)


def _add_media_commands(sub: Any, cmd: Any) -> None:
    p = sub.add_parser("transcribe", help="speech to text")
    _binding_args(p)
    p.add_argument("--format", choices=["text", "srt", "vtt"], default="text")
    p.add_argument("--language", help="spoken language, when the binding takes one")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd.cmd_transcribe)

    p = sub.add_parser("speak", help="text to speech ('-' reads stdin)")
    _binding_args(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--voice", help="voice (see the binding's list_voices)")
    p.add_argument("text", metavar="TEXT")
    p.set_defaults(func=cmd.cmd_speak)

    p = sub.add_parser("image", help="text to image ('-' reads stdin)")
    _binding_args(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--negative", default="", help="negative prompt")
    p.add_argument("--width", type=int)
    p.add_argument("--height", type=int)
    p.add_argument("prompt", metavar="PROMPT")
    p.set_defaults(func=cmd.cmd_image)


def _plugin_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Let each plugin add commands; one that raises is skipped, with a warning."""
    from ..discovery._default_registry import default_registry

    for plugin_name, caller in default_registry().per_plugin("lollms_register_commands"):
        try:
            caller(subparsers=sub)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from a plugin included: the command line must still work
            print(
                f"lollms: warning: plugin {plugin_name} could not add its commands: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )


def _version() -> str:
    from .. import __version__

    return __version__


def _one_line(text: object) -> str:
    from .._secrets import redact  # stderr is an error message like any other: no key may reach it

    return redact(" ".join(str(text).split()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lollms`` with ``argv`` (default: the process arguments); return the exit code."""
    from ..errors import LollmsError
    from ._commands import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, UsageError

    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if sys.stdout is None:
        # Python sets sys.stdout to None when fd 1 was closed (`lollms ... >&-`): every result is lost.
        print("lollms: error: standard output is closed; redirect it to a file or /dev/null", file=sys.stderr)
        return EXIT_ERROR
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("\nlollms: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"lollms: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (LollmsError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):
            return 0  # `lollms generate ... | head`: the reader left, nothing to report
        print(f"lollms: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
