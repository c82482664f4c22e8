"""The server's configuration: model aliases, router groups and limits, all checked before anything starts.

The file is YAML::

    server:                      # every key optional
      host: 127.0.0.1
      port: 9600
      api_key_file: /etc/lollms/keys   # one key per line; keys never go in this file
      max_body_bytes: 26214400
      max_tokens: 4096
      cors_origins: []
      plugins: []                # modules whose lollms_on_generation_event sees every call
    models:
      smol:                      # the alias: the model id clients send
        binding: llamacpp        # any installed binding (DIST:NAME accepted)
        modality: llm            # default: llm, or the binding's only modality
        config: {model_path: /models/SmolLM2.gguf, n_threads: 2}
        model: null              # optional model_name
        concurrency: 2           # optional: at most this many calls at once on this alias
    routers:
      pool:                      # a router group is a model id too
        members: [smol, other]   # llm aliases
        strategy: least-busy     # plus any other router setting (cooldown, ...)

Each alias's config is validated against its binding's manifest with the core's own checker, so
the errors are the ones ``lollms generate -c`` gives (unknown key with close matches, wrong type,
option not allowed), prefixed with where in the file they are.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lollms_core.errors import BindingNotFoundError, ConfigError
from lollms_core.types import Modality

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_PORT",
    "ModelAlias",
    "RouterGroup",
    "ServerConfig",
    "check_alias",
    "config_to_yaml_data",
    "load_config",
    "one_model_config",
    "parse_config",
    "read_key_file",
]

DEFAULT_HOST = "127.0.0.1"
#: Where seed 004's ``LollmsClient()`` looks by default (``http://localhost:9600``).
DEFAULT_PORT = 9600
#: OpenAI's own upload limit for audio files.
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_TOKENS = 4096
_MAX_FILE_BYTES = 1024 * 1024  # a config file is small; a huge one is a mistake, not a config
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$")
_SERVER_KEYS = ("host", "port", "api_key_file", "max_body_bytes", "max_tokens", "cors_origins", "plugins")
_ALIAS_KEYS = ("binding", "modality", "config", "model", "concurrency")
_TOP_KEYS = ("server", "models", "routers")


@dataclass(frozen=True)
class ModelAlias:
    """One model id on the wire: a binding of one modality with its config (and model).

    :param config: the values as written (text allowed; the manifest coerces them when the binding is made).
    :param concurrency: at most this many calls at once (the size of the worker pool of a blocking binding).
    """

    name: str
    modality: Modality
    binding: str
    config: Mapping[str, Any] = field(default_factory=dict)
    model: str | None = None
    concurrency: int | None = None

    def __repr__(self) -> str:  # the config may hold secrets: never in a repr
        return f"ModelAlias({self.name!r}, {self.modality.value}, binding={self.binding!r}, model={self.model!r})"


@dataclass(frozen=True)
class RouterGroup:
    """A model id served by the core's ``router`` binding over several LLM aliases."""

    name: str
    members: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``lollms serve`` needs; built by :func:`load_config` or :func:`one_model_config`."""

    aliases: Mapping[str, ModelAlias] = field(default_factory=dict)
    routers: Mapping[str, RouterGroup] = field(default_factory=dict)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    api_key_file: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_tokens: int = DEFAULT_MAX_TOKENS
    cors_origins: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    #: The YAML file the config came from (``None`` in one-model mode): where the page saves.
    path: Path | None = None
    allow_config_edit: bool = False

    def with_changes(self, **changes: Any) -> ServerConfig:
        """A copy with ``changes`` applied (command-line flags over the file)."""
        return replace(self, **changes)

    @property
    def model_ids(self) -> list[str]:
        """Every model id the server answers to: aliases, then router groups."""
        return [*self.aliases, *self.routers]


def _close(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"{hint} Known keys: {', '.join(known)}"


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping, not {type(value).__name__}")
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{where}: keys must be text, got {bad[0]!r}")
    return dict(value)


def _known_keys(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r}{_close(key, list(known))}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{where} must be an integer between {low} and {high}, got {value!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{where} must be between {low} and {high}, got {value}")
    return int(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    return tuple(value)


def _modality_for(binding: str, explicit: Any, where: str) -> Modality:
    """``explicit``, else ``llm`` if the binding has one, else the binding's only modality."""
    from lollms_core import get_registry

    if explicit is not None:
        try:
            return Modality(str(explicit))
        except ValueError:
            allowed = ", ".join(m.value for m in Modality)
            raise ConfigError(f"{where}.modality: {explicit!r} is not a modality; choose from {allowed}") from None
    registry = get_registry()
    found = [m for m in Modality if registry.candidates(m, binding)]
    if Modality.LLM in found or not found:
        return Modality.LLM
    if len(found) > 1:
        names = ", ".join(m.value for m in found)
        raise ConfigError(f"{where}: binding {binding!r} exists for several modalities ({names}); set modality")
    return found[0]


def check_alias(alias: ModelAlias, where: str | None = None, *, flags: bool = False) -> dict[str, Any]:
    """Validate ``alias`` against its binding's manifest; return the coerced config (secrets masked).

    :raises BindingNotFoundError: no such binding for that modality (the message lists the installed ones).
    :raises ConfigError: a key, type or value the manifest does not allow, named with ``where``
        (with ``flags``, the command line's ``-b`` / ``-c`` instead).
    """
    from lollms_core import get_registry

    where = where or f"models.{alias.name}"
    binding_where, config_where = ("-b", "-c") if flags else (f"{where}.binding", f"{where}.config")
    registry = get_registry()
    try:
        spec = registry.get(alias.modality, alias.binding)
    except BindingNotFoundError as exc:
        raise type(exc)(f"{binding_where}: {exc}") from None
    manifest = spec.manifest
    if manifest is None:
        raise ConfigError(f"{binding_where}: {alias.binding!r} is broken: {spec.error}")
    config = dict(alias.config)
    if alias.model and manifest.parameter("model_name") is not None:
        config.setdefault("model_name", alias.model)
    try:
        # With the environment, as when the binding is made: a key given by its `env` variable counts.
        checked = manifest.validate_config(config, environ=dict(os.environ))
    except ConfigError as exc:
        raise ConfigError(f"{config_where}: {exc}") from None
    return checked.masked()


def _alias(name: Any, raw: Any, where: str) -> ModelAlias:
    if not isinstance(name, str) or not _ALIAS.match(name):
        raise ConfigError(
            f"{where}: alias {name!r} is not a valid model id (letters, digits and . _ : @ + -, at most 128, "
            "starting with a letter or digit)"
        )
    data = _mapping(raw, where)
    _known_keys(data, _ALIAS_KEYS, where)
    binding = data.get("binding")
    if not isinstance(binding, str) or not binding.strip():
        raise ConfigError(f"{where}.binding is required: the name of an installed binding (see `lollms bindings`)")
    model = data.get("model")
    if model is not None and not isinstance(model, str):
        raise ConfigError(f"{where}.model must be text, got {model!r}")
    concurrency = data.get("concurrency")
    alias = ModelAlias(
        name=name,
        modality=_modality_for(binding.strip(), data.get("modality"), where),
        binding=binding.strip(),
        config=_mapping(data.get("config"), f"{where}.config"),
        model=model or None,
        concurrency=None if concurrency is None else _int(concurrency, f"{where}.concurrency", 1, 1024),
    )
    check_alias(alias, where)
    return alias


def _router(name: Any, raw: Any, where: str, aliases: Mapping[str, ModelAlias]) -> RouterGroup:
    from lollms_core import get_registry

    if not isinstance(name, str) or not _ALIAS.match(name):
        raise ConfigError(f"{where}: router name {name!r} is not a valid model id")
    if name in aliases:
        raise ConfigError(f"{where}: {name!r} is already a model alias; a model id names one thing")
    data = _mapping(raw, where)
    members = _strings(data.pop("members", None), f"{where}.members")
    if not members:
        raise ConfigError(f"{where}.members: list the LLM aliases to route over (known: {', '.join(aliases)})")
    for member in members:
        if member not in aliases:
            raise ConfigError(f"{where}.members: unknown alias {member!r}{_close(member, list(aliases))}")
        if aliases[member].modality is not Modality.LLM:
            raise ConfigError(f"{where}.members: {member!r} is a {aliases[member].modality.value} alias, not llm")
    group = RouterGroup(name=name, members=members, options=data)
    manifest = get_registry().get(Modality.LLM, "router").manifest
    assert manifest is not None  # the core's own router always has one
    try:
        manifest.validate_config(router_config(group, aliases))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return group


def router_config(group: RouterGroup, aliases: Mapping[str, ModelAlias]) -> dict[str, Any]:
    """The ``router`` binding's config for ``group``: one member per alias, with that alias's config."""
    members = []
    for name in group.members:
        alias = aliases[name]
        member: dict[str, Any] = {"binding": alias.binding, **alias.config}
        if alias.model:
            member.setdefault("model_name", alias.model)
        members.append(member)
    return {**group.options, "members": members}


def parse_config(data: Any, path: Path | None = None) -> ServerConfig:
    """Build a :class:`ServerConfig` from parsed YAML, checking every alias against its manifest."""
    top = _mapping(data, str(path or "the config"))
    _known_keys(top, _TOP_KEYS, "config")
    server = _mapping(top.get("server"), "server")
    _known_keys(server, _SERVER_KEYS, "server")
    models = _mapping(top.get("models"), "models")
    aliases = {name: _alias(name, raw, f"models.{name}") for name, raw in models.items()}
    routers_raw = _mapping(top.get("routers"), "routers")
    routers = {name: _router(name, raw, f"routers.{name}", aliases) for name, raw in routers_raw.items()}
    if not aliases:
        raise ConfigError("models: the config names no model alias; add one under `models:`")
    host = server.get("host", DEFAULT_HOST)
    if not isinstance(host, str) or not host:
        raise ConfigError(f"server.host must be an address, got {host!r}")
    key_file = server.get("api_key_file")
    if key_file is not None and not isinstance(key_file, str):
        raise ConfigError(f"server.api_key_file must be a path, got {key_file!r}")
    return ServerConfig(
        aliases=aliases,
        routers=routers,
        host=host,
        port=_int(server.get("port", DEFAULT_PORT), "server.port", 0, 65535),
        api_key_file=key_file,
        max_body_bytes=_int(server.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES), "server.max_body_bytes", 1, 2**40),
        max_tokens=_int(server.get("max_tokens", DEFAULT_MAX_TOKENS), "server.max_tokens", 1, 10**7),
        cors_origins=_strings(server.get("cors_origins"), "server.cors_origins"),
        plugins=_strings(server.get("plugins"), "server.plugins"),
        path=path,
    )


def load_config(path: str | Path) -> ServerConfig:
    """Read and check a YAML config file.

    :raises ConfigError: the file is missing, too big, not YAML, or describes something invalid.
    """
    import yaml

    path = Path(path)
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size} bytes is too big for a config file")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_config(data, path)


def one_model_config(
    binding: str, config: Mapping[str, Any], model: str | None = None, modality: str | None = None
) -> ServerConfig:
    """``lollms serve -b NAME -c KEY=VALUE``: one alias named ``binding/model`` (or ``binding``)."""
    kind = _modality_for(binding, modality, "-b")
    shown = (
        model or config.get("model_name") or (Path(str(config["model_path"])).stem if config.get("model_path") else "")
    )
    name = f"{binding.rpartition(':')[2]}/{shown}" if shown else binding.rpartition(":")[2]
    alias = ModelAlias(name=name, modality=kind, binding=binding, config=dict(config), model=model)
    check_alias(alias, flags=True)
    return ServerConfig(aliases={name: alias})


def read_key_file(path: str | Path) -> tuple[str, ...]:
    """API keys from a file: one per line; blank lines and ``#`` comments skipped.

    :raises ConfigError: the file cannot be read (the message never quotes its content).
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read the API key file {path}: {reason}") from None
    return tuple(k for k in (line.strip() for line in lines) if k and not k.startswith("#"))


def config_to_yaml_data(config: ServerConfig) -> dict[str, Any]:
    """The YAML mapping that :func:`parse_config` reads back as ``config`` (what the page saves)."""
    server: dict[str, Any] = {}
    for key, default in (
        ("host", DEFAULT_HOST),
        ("port", DEFAULT_PORT),
        ("api_key_file", None),
        ("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
        ("max_tokens", DEFAULT_MAX_TOKENS),
    ):
        if getattr(config, key) != default:
            server[key] = getattr(config, key)
    if config.cors_origins:
        server["cors_origins"] = list(config.cors_origins)
    if config.plugins:
        server["plugins"] = list(config.plugins)
    models: dict[str, Any] = {}
    for alias in config.aliases.values():
        entry: dict[str, Any] = {"binding": alias.binding, "modality": alias.modality.value}
        entry["config"] = dict(alias.config)
        if alias.model:
            entry["model"] = alias.model
        if alias.concurrency:
            entry["concurrency"] = alias.concurrency
        models[alias.name] = entry
    out: dict[str, Any] = {"server": server} if server else {}
    out["models"] = models
    if config.routers:
        out["routers"] = {g.name: {"members": list(g.members), **g.options} for g in config.routers.values()}
    return out
