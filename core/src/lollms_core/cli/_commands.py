"""The ``lollms`` commands (what each subcommand does once its arguments are parsed).

Each ``cmd_*`` takes the ``argparse.Namespace`` and returns the exit code; errors are
raised as :class:`~lollms_core.errors.LollmsError` (exit 1) or :class:`UsageError`
(exit 2) and printed as one line by :func:`lollms_core.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..discovery._default_registry import default_registry
from ..errors import BindingNotFoundError, ConfigError, NotSupportedError
from ..types import MSG_TYPE, Modality
from ._bindings import cmd_bindings, matches

#: The exit codes every ``lollms`` command uses (usage errors are argparse's 2).
EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

__all__ = [
    "UsageError",
    "cmd_bindings",
    "cmd_bindings_show",
    "cmd_chat",
    "cmd_generate",
    "cmd_models",
    "cmd_models_pull",
    "make_binding",
    "parse_config_pairs",
    "text_arg",
    "write_output",
]


class UsageError(Exception):
    """A command was called in a way that cannot work (exit code 2)."""


# == helpers ==================================================================================


def parse_config_pairs(pairs: list[str]) -> dict[str, Any]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``; values stay text (the manifest coerces them).

    ``KEY=@FILE`` reads the value from a YAML or JSON file (a list, a mapping, a number...);
    ``KEY=@@text`` is the literal text ``@text``.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-c expects KEY=VALUE, got {pair!r}")
        if value.startswith("@@"):
            value = value[1:]
        elif value.startswith("@"):
            from ._value_files import read_value_file

            out[key.strip()] = read_value_file(key.strip(), value[1:])
            continue
        out[key.strip()] = value
    return out


def text_arg(value: str) -> str:
    """The argument itself, or standard input for ``-``.

    :raises ConfigError: standard input is closed or not UTF-8, or the argument holds bytes
        that are not UTF-8 (Python keeps them as lone surrogates); the message says where.
    """
    from ..bindings._text_check import check_encodable

    if value != "-":
        check_encodable(value, "the command-line text argument")
        return value
    if sys.stdin is None:  # `lollms ... - <&-`: fd 0 was closed before Python started
        raise ConfigError("'-' reads standard input, but standard input is closed; pipe the text in or pass it")
    try:
        text = sys.stdin.read()
        # Under the C/POSIX locale Python reads stdin with surrogateescape: bad bytes become surrogates.
        check_encodable(text, "standard input")
        return text
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"standard input is not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start} "
            "cannot be decoded; convert it (iconv -t UTF-8) first"
        ) from None


def _modality_of(name: str, preferred: Modality, explicit: str | None = None) -> Modality:
    """The modality to use for binding ``name``: ``explicit``, else ``preferred`` if it exists, else its only one."""
    registry = default_registry()
    if explicit:
        return Modality(explicit)
    found = [m for m in Modality if registry.candidates(m, name)]
    if preferred in found or not found:
        return preferred
    return found[0]


def make_binding(modality: Modality, name: str, pairs: list[str], model: str | None = None) -> Any:
    """Build a binding (strict: backend errors raise) from ``-c`` pairs and an optional model."""
    from ..discovery import managers

    registry = default_registry()
    config: dict[str, Any] = parse_config_pairs(pairs)
    spec = registry.get(modality, name)
    declared = {p.name for p in spec.manifest.parameters} if spec.manifest else set()
    if model and "model_name" in declared:
        config["model_name"] = model
    manager = next(c for c in vars(managers).values() if getattr(c, "modality", None) == modality)
    created: Any = manager(registry=registry).create_binding(name, strict=True, **config)
    if model and "model_name" not in declared and not created.load_model(model):
        raise ConfigError(f"{modality.value} binding '{name}' could not load model '{model}'")
    return created


def _default_llm(args: argparse.Namespace) -> tuple[str, list[str]]:
    """``-b`` or the configured default: ``$LOLLMS_DEFAULT_MODEL`` (llamacpp) or ~/.config/lollms/config.toml."""
    if args.binding:
        return args.binding, list(args.config)
    model_path = os.environ.get("LOLLMS_DEFAULT_MODEL")
    if model_path:
        return "llamacpp", [f"model_path={model_path}", *args.config]
    conf = _config_file()
    if conf.get("binding"):
        pairs = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in conf["config"].items()]
        if conf.get("model") and not args.model:
            args.model = str(conf["model"])
        return str(conf["binding"]), [*pairs, *args.config]
    raise UsageError(
        "no binding given and no default configured: pass -b NAME (try `-b echo` without any model), "
        "set LOLLMS_DEFAULT_MODEL=/path/to/model.gguf (uses the llamacpp binding), or write "
        f'binding = "..." and model = "..." in {_config_path()}'
    )


def _config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "lollms" / "config.toml"


def _config_file() -> dict[str, Any]:
    path = _config_path()
    if not path.is_file():
        return {}
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        raise UsageError(f"{path} needs Python 3.11+ to be read; pass -b NAME instead") from None
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return _checked_config(data, path)


def _checked_config(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The config file's keys with the shapes the CLI uses; a wrong shape names the key and the file."""
    expected = {"binding": (str, "a string"), "model": (str, "a string"), "config": (dict, "a table ([config])")}
    for key, (kind, what) in expected.items():
        if key in data and not isinstance(data[key], kind):
            raise ConfigError(f"{path}: '{key}' must be {what}, not {data[key]!r} ({type(data[key]).__name__})")
    return {**data, "config": data.get("config", {})}


def write_output(path: str, data: bytes) -> None:
    """Write a media result and say where on stderr (stdout stays clean for pipes)."""
    Path(path).write_bytes(data)
    print(f"wrote {len(data)} bytes to {path}", file=sys.stderr)


# == bindings =================================================================================


def _describe_parameter(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": p.type, "description": p.description}
    # A secret's default (a key baked into a manifest) is as secret as a user's value.
    out["default"] = "<secret>" if p.is_secret and p.default not in (None, "") else p.default
    for key in ("options", "min", "max", "env"):
        if getattr(p, key) is not None:
            out[key] = getattr(p, key)
    out["mandatory"], out["secret"] = p.mandatory, p.is_secret
    if p.env:
        out["env_set"] = bool(os.environ.get(p.env))
    return out


def cmd_bindings_show(args: argparse.Namespace) -> int:
    """``lollms bindings show NAME``: settings, defaults, per-call options; secrets never shown."""
    registry = default_registry()
    specs = [
        e
        for e in registry.entries
        if matches(e, args.name) and (not args.modality or (e.modality and e.modality.value == args.modality))
    ]
    if not specs:
        names = sorted({e.name for e in registry.entries})
        raise BindingNotFoundError(f"no binding named '{args.name}'; installed: {', '.join(names) or 'none'}")
    described = []
    for spec in specs:
        item: dict[str, Any] = spec.as_dict()
        m = spec.manifest if spec.usable else None
        if m is not None:
            item.update(title=m.title, description=m.description.strip(), author=m.author, class_path=spec.class_path)
            item["parameters"] = [_describe_parameter(p) for p in m.parameters]
            item["call_parameters"] = {k: [_describe_parameter(p) for p in v] for k, v in m.method_parameters.items()}
        described.append(item)
    if args.json:
        print(json.dumps(described, indent=2, default=str))
        return 0
    for item in described:
        print(f"{item['name']} ({item['modality']}) from {item['distribution']} {item['version']}: {item['status']}")
        if item["status"] == "error":
            print(f"  error: {item['error']}")
            continue
        print(f"  {item['title']}: {item['description']}")
        print("  settings (-c KEY=VALUE):")
        for p in item["parameters"]:
            print("    " + _param_line(p))
        for method, params in item["call_parameters"].items():
            print(f"  {method} options:")
            for p in params:
                print("    " + _param_line(p))
        print()
    return 0


def _param_line(p: dict[str, Any]) -> str:
    bits = [f"{p['name']} ({p['type']})"]
    if p.get("secret"):
        bits.append("secret")
    if p.get("mandatory"):
        bits.append("mandatory")
    if p.get("default") not in (None, ""):
        bits.append(f"default={p['default']!r}" if p["default"] != "<secret>" else "default=<secret>")
    if p.get("options"):
        bits.append("one of " + "|".join(map(str, p["options"])))
    if p.get("env"):
        bits.append(f"env ${p['env']}{' (set)' if p.get('env_set') else ''}")
    return ", ".join(bits) + (f" — {p['description']}" if p.get("description") else "")


# == models ===================================================================================


def cmd_models(args: argparse.Namespace) -> int:
    """``lollms models -b NAME``: the models the binding can use."""
    if not args.binding:
        raise UsageError("lollms models needs -b NAME (or `lollms models pull -b NAME MODEL`)")
    modality = _modality_of(args.binding, Modality.LLM, args.modality)
    binding = make_binding(modality, args.binding, args.config)
    try:
        models = binding.list_models()
    finally:
        binding.close()
    if args.json:
        print(json.dumps(models, indent=2, default=str))
    else:
        for m in models:
            extra = ", ".join(f"{k}={v}" for k, v in m.items() if k != "model_name")
            print(f"{m.get('model_name')}{f'  ({extra})' if extra else ''}")
    return 0


def cmd_models_pull(args: argparse.Namespace) -> int:
    """``lollms models pull -b NAME MODEL``: download with a progress bar on stderr."""
    binding = make_binding(_modality_of(args.binding, Modality.LLM), args.binding, args.config)
    try:
        pull = getattr(binding, "pull_model", None)
        if pull is None:
            raise NotSupportedError(f"the {args.binding} binding cannot download models (it has no pull_model)")
        ok = pull(args.model_name, _progress_bar())
    finally:
        binding.close()
    print(file=sys.stderr)
    if not ok:
        raise ConfigError(f"pulling '{args.model_name}' did not complete")
    print(f"pulled {args.model_name}", file=sys.stderr)
    return 0


def _progress_bar() -> Any:
    def show(status: dict[str, Any]) -> bool:
        total, done = status.get("total") or 0, status.get("completed") or 0
        label = str(status.get("status", ""))[:30]
        if total:
            filled = int(30 * done / total)
            line = f"\r{label:<30} [{'#' * filled}{'.' * (30 - filled)}] {100 * done / total:5.1f}%"
        else:
            line = f"\r{label:<30}{' ' * 40}"
        sys.stderr.write(line)
        sys.stderr.flush()
        return True

    return show


# == generation ===============================================================================


def _stream_to_stdout(chunks: Any, show_thoughts: bool) -> None:
    out = sys.stdout
    for chunk in chunks:
        if chunk.type == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK:
            if show_thoughts:
                sys.stderr.write(chunk.text)
                sys.stderr.flush()
            continue
        out.write(chunk.text)
        out.flush()


def _tool_loop_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--tool``, ``--tools-approve``, ``--chain-limit``, ``--tool-mode`` as the tool loop's arguments."""
    from ..tools._cli_support import ask_before_call, load_tool_specs

    if args.chain_limit < 0:
        raise UsageError(f"--chain-limit must be 0 or more, not {args.chain_limit}")
    out: dict[str, Any] = {
        "tools": load_tool_specs(args.tool),
        "max_tool_rounds": args.chain_limit,
        "tool_mode": args.tool_mode,
    }
    if args.tools_approve:
        read_answer = sys.stdin.readline
        if getattr(args, "prompt", None) == "-":  # stdin carries the prompt: ask on the terminal instead
            read_answer = _terminal_readline()
        out["before_call"] = ask_before_call(read_answer, sys.stderr)
    return out


def _terminal_readline() -> Any:
    """``readline`` of the controlling terminal, for answers when standard input is the prompt.

    :raises UsageError: there is no terminal to ask on (a pipeline, a service, CI).
    """
    try:
        terminal = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 - read for the whole run
    except OSError:
        raise UsageError(
            "--tools-approve asks before each call, but standard input carries the prompt ('-') and "
            "there is no terminal to ask on: pass the prompt as an argument, or drop --tools-approve"
        ) from None
    return terminal.readline


def _show_with_tools(show_thoughts: bool) -> Any:
    """A streaming callback: answer text to stdout, tool calls and results to stderr as they happen."""
    from ..tools._cli_support import show_tool_event

    def show(chunk: str, msg_type: MSG_TYPE, meta: Any = None) -> bool:
        if show_tool_event(msg_type, meta, sys.stderr):
            return True
        if msg_type == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK:
            if show_thoughts:
                sys.stderr.write(chunk)
        else:
            sys.stdout.write(chunk)
            sys.stdout.flush()
        return True

    return show


def _generate_with_tools(args: argparse.Namespace, llm: Any, prompt: str, options: dict[str, Any]) -> None:
    from ..tools import run_tool_loop

    loop = _tool_loop_options(args)
    tools = loop.pop("tools")
    show = _show_with_tools(args.show_thoughts)
    run_tool_loop(llm, prompt, tools, system_prompt=args.system, streaming_callback=show, **loop, **options)
    sys.stdout.write("\n")
    sys.stdout.flush()


def _sampling_value(key: str, text: Any) -> Any:
    """Sampling options are typed by the core, not the manifest: read numbers from the text."""
    from ..bindings.options import SAMPLING_OPTIONS

    if key not in SAMPLING_OPTIONS or key == "stop" or not isinstance(text, str):
        return text  # a declared per-call option: the manifest coerces text itself
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text  # left as text: the core's check names the option and the expected type


def cmd_generate(args: argparse.Namespace) -> int:
    """``lollms generate``: stream the answer to stdout as it comes; Ctrl-C closes the upstream (exit 130)."""
    name, pairs = _default_llm(args)
    prompt = text_arg(args.prompt)
    llm = make_binding(Modality.LLM, name, pairs, args.model)
    try:
        options: dict[str, Any] = {"n_predict": args.n_predict, "temperature": args.temperature}
        options.update({k: _sampling_value(k, v) for k, v in parse_config_pairs(args.option).items()})
        if args.tool:
            _generate_with_tools(args, llm, prompt, options)
            return 0
        chunks = llm.stream(prompt, system_prompt=args.system or None, **options)
        try:
            _stream_to_stdout(chunks, args.show_thoughts)
        finally:
            chunks.close()  # also on Ctrl-C: closing the stream closes the engine's/server's stream
        sys.stdout.write("\n")
        sys.stdout.flush()
    finally:
        llm.close()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """``lollms chat``: a REPL over a :class:`LollmsDiscussion` (``/exit`` or end of input quits)."""
    from ..discussion._discussion import LollmsDiscussion

    if sys.stdin is None:  # `lollms chat <&-`: nothing to read the turns from
        raise ConfigError("lollms chat reads your turns from standard input, but standard input is closed")
    name, pairs = _default_llm(args)
    tooling = _tool_loop_options(args) if args.tool else {}  # checked before the binding loads
    llm = make_binding(Modality.LLM, name, pairs, args.model)
    interactive = sys.stdin.isatty()
    if args.id and not args.db:
        raise UsageError("--id needs --db FILE")
    if args.id:
        discussion = LollmsDiscussion.load(args.db, args.id, lollms_client=llm)
    else:
        discussion = LollmsDiscussion.create_new(lollms_client=llm, db_path=args.db, system_prompt=args.system)
    print(f"discussion {discussion.id}{f' in {args.db}' if args.db else ''} (/exit to quit)", file=sys.stderr)

    def show(chunk: str, msg_type: MSG_TYPE, meta: Any = None) -> bool:
        if msg_type != MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK:
            sys.stdout.write(chunk)
            sys.stdout.flush()
        return True

    if tooling:
        show = _show_with_tools(False)

    try:
        while True:
            if interactive:
                sys.stderr.write("> ")
                sys.stderr.flush()
            line = sys.stdin.readline()
            if not line or line.strip() in ("/exit", "/quit"):
                break
            if not line.strip():
                continue
            try:
                discussion.chat(line.rstrip("\n"), show, n_predict=args.n_predict, **tooling)
            except KeyboardInterrupt:
                print("\n(stopped)", file=sys.stderr)
                if not interactive:
                    raise
                continue
            sys.stdout.write("\n")
            sys.stdout.flush()
    finally:
        discussion.close()
        llm.close()
    return 0
