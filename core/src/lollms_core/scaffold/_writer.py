"""``lollms new-binding``: write a complete plugin distribution for one binding.

The files come from ``templates/`` (package data). A template is plain text with
``{{key}}`` placeholders and ``#% if FLAG`` ... ``#% end`` line blocks, where the flags are
the modality (``llm``, ``tti``...) and the engine kind (``local`` or ``http``). The result
passes the conformance kit as written; every place to change is marked ``FILL IN``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from ..types import CORE_API_VERSION

__all__ = ["ENGINES", "MODALITIES", "BindingScaffold", "render", "write_scaffold"]

MODALITIES = ("llm", "tti", "stt", "tts", "ttv", "ttm", "tools")
ENGINES = ("local", "http")

#: What ``core_api:`` says in a new manifest: a PEP 440 range over this contract's major version,
#: so a plugin keeps loading on every core of the same contract and is refused (with both
#: versions named) by the next one.
MANIFEST_CORE_API = f'">={CORE_API_VERSION},<{CORE_API_VERSION + 1}"'

# A letter first, a letter or digit last: ``lollms-<name>`` must be a valid PEP 508 distribution
# name (``parrot_`` would give ``lollms-parrot-``, which pip rejects) and ``lollms_<name>`` a package.
_NAME = re.compile(r"^[a-z](?:[a-z0-9_]*[a-z0-9])?$")

#: Names a new plugin may not take: our own distributions (``lollms-<name>``) and packages
#: (``lollms_<name>``) — ``new-binding core`` would write a ``lollms_core`` that replaces lollms itself
#: on install — and the names of the core's built-in bindings, which ``create_binding(name)`` would
#: pick instead of the new plugin's.
_OUR_DISTRIBUTIONS = ("core", "openai", "ollama", "llamacpp", "whisper", "transformers", "mcp", "server")
_BLOCK = re.compile(r"^\s*#% (if (\w+)|end)\s*$")

# Per modality: the user-facing method, the primitive's signature, words for the docs, the
# per-call option the template declares, the base class, the manager and the kit suite.
_MEDIA = {
    "tti": (
        "generate_image",
        "_generate_image(self, prompt: str, params: dict[str, Any]) -> bytes",
        "text-to-image",
        "  - name: steps\n    type: int\n    default: 4\n    min: 1\n    max: 50\n"
        "    description: Denoising steps (FILL IN your own per-call options).",
    ),
    "tts": (
        "generate_audio",
        "_generate_audio(self, text: str, voice: str | None, params: dict[str, Any]) -> bytes",
        "text-to-speech",
        "  - name: speed\n    type: float\n    default: 1.0\n    min: 0.5\n    max: 2.0\n"
        "    description: Speaking rate (1.0 is normal).",
    ),
    "stt": (
        "transcribe_audio",
        "_transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str",
        "speech-to-text",
        '  - name: language\n    type: str\n    default: ""\n    description: Spoken language, empty to detect it.',
    ),
    "ttv": (
        "generate_video",
        "_generate_video(self, prompt: str, params: dict[str, Any]) -> bytes",
        "text-to-video",
        "  - name: seconds\n    type: float\n    default: 2.0\n    min: 0.5\n    max: 10.0\n"
        "    description: Length of the video in seconds.",
    ),
    "ttm": (
        "generate_music",
        "_generate_music(self, prompt: str, params: dict[str, Any]) -> bytes",
        "text-to-music",
        "  - name: seconds\n    type: float\n    default: 1.0\n    min: 0.25\n    max: 30.0\n"
        "    description: Length of the music in seconds.",
    ),
}
_LLM_PARAMETERS = (
    "  - name: style\n    type: str\n    default: plain\n    options: [plain, upper]\n"
    "    description: How to answer (FILL IN your own per-call options)."
)


@dataclass(frozen=True)
class BindingScaffold:
    """The names a new binding gets from ``NAME``, ``--modality`` and ``--engine``."""

    name: str
    modality: str
    engine: str = "local"

    @property
    def dist(self) -> str:
        """Distribution name, e.g. ``lollms-parrot``."""
        return f"lollms-{self.name.replace('_', '-')}"

    @property
    def pkg(self) -> str:
        """Import package, e.g. ``lollms_parrot``."""
        return f"lollms_{self.name}"

    @property
    def kind(self) -> str:
        """The modality as class names spell it: ``TTS``, ``LLM``... and ``Tool``."""
        return "Tool" if self.modality == "tools" else self.modality.upper()

    @property
    def cls(self) -> str:
        """Binding class name, e.g. ``ParrotTTSBinding``."""
        camel = "".join(part.capitalize() for part in self.name.split("_"))
        return f"{camel}{self.kind}Binding"

    def values(self) -> dict[str, str]:
        """Placeholder values for the templates."""
        camel = "".join(part.capitalize() for part in self.name.split("_"))
        major, minor = (int(x) for x in _core_version().split(".")[:2])
        core_range = f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"
        upper = self.kind
        values = {
            "name": self.name,
            "dist": self.dist,
            "pkg": self.pkg,
            "cls": self.cls,
            "camel": camel,
            "title": f"{camel} ({self.modality if self.modality == 'tools' else upper})",
            "modality": self.modality,
            "engine": self.engine,
            "core_api": MANIFEST_CORE_API,
            "core_range": core_range,
            "env_prefix": self.name.upper(),
            "manager": f"Lollms{upper}BindingManager",
            "suite": f"{upper}BindingTests",
            "base": f"Lollms{upper}Binding",
            "server_arg": ", server_url: str" if self.engine == "http" else "",
            "server_kw": ", host_address=server_url" if self.engine == "http" else "",
            "engine_words": "server through lollms_core.http" if self.engine == "http" else "engine",
            "placeholder_words": (
                "talks to a stand-in server (tests/server.py) answering from tests/engine.py"
                if self.engine == "http"
                else f"calls a stand-in engine ({self.modality}/engine.py)"
            ),
        }
        if self.modality == "llm":
            values.update(method="generate_text", primitive="_stream(request)", method_parameters=_LLM_PARAMETERS)
        elif self.modality == "tools":
            values.update(method="execute_tool", primitive="_discover_tools() and _call_tool(...)")
        else:
            method, signature, words, parameters = _MEDIA[self.modality]
            values.update(
                method=method,
                primitive=signature.split("(")[0] + "(...)",
                primitive_signature=signature,
                modality_words=words,
                method_parameters=parameters,
                known_words=(
                    " (plus negative_prompt, width and height when the caller gave them)"
                    if self.modality == "tti"
                    else ""
                ),
            )
        return values

    def files(self) -> dict[str, str]:
        """Relative path -> text of every file of the distribution."""
        flags = {self.modality, self.engine}
        binding = {"llm": "binding_llm.py.tmpl", "tools": "binding_tools.py.tmpl"}.get(
            self.modality, "binding_media.py.tmpl"
        )
        description = "description_tools.yaml.tmpl" if self.modality == "tools" else "description.yaml.tmpl"
        sub = f"src/{self.pkg}/{self.modality}"
        plan = {
            "pyproject.toml": "pyproject.toml.tmpl",
            "README.md": "README.md.tmpl",
            f"src/{self.pkg}/__init__.py": "plugin_init.py.tmpl",
            f"src/{self.pkg}/py.typed": None,
            f"{sub}/__init__.py": "binding_init.py.tmpl",
            f"{sub}/binding.py": binding,
            f"{sub}/description.yaml": description,
            "tests/test_conformance.py": "test_conformance.py.tmpl",
        }
        engine_file = f"engine_{self.modality}.py.tmpl"
        if self.engine == "http":
            plan["tests/engine.py"] = engine_file
            plan["tests/server.py"] = "server.py.tmpl"
        else:
            plan[f"{sub}/engine.py"] = engine_file
        if self.modality == "stt":
            plan["tests/server_audio.py"] = "server_audio.py.tmpl"
        values = self.values()
        return {path: render(_template(t), values, flags) if t else "" for path, t in plan.items()}


def render(template: str, values: dict[str, str], flags: set[str]) -> str:
    """Apply ``#% if FLAG``/``#% end`` blocks (kept when FLAG is set), then ``{{key}}`` values."""
    out: list[str] = []
    stack: list[bool] = []
    for line in template.splitlines(keepends=True):
        block = _BLOCK.match(line)
        if block is None:
            if all(stack):
                out.append(line)
        elif block.group(2):
            stack.append(block.group(2) in flags)
        elif stack:
            stack.pop()
        else:
            raise ValueError("template has '#% end' without '#% if'")
    if stack:
        raise ValueError("template has an unclosed '#% if'")

    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\{\{(\w+)\}\}", value, "".join(out))


def check_name(name: str) -> str:
    """A binding name usable as a Python package suffix: lower-case letters, digits, ``_`` (``-`` becomes ``_``).

    :raises ConfigError: naming what is wrong.
    """
    normal = name.strip().lower().replace("-", "_")
    if normal.startswith("lollms_"):
        normal = normal[len("lollms_") :]
    if not _NAME.match(normal) or keyword.iskeyword(normal):
        raise ConfigError(
            f"binding name {name!r} cannot be used: give lower-case letters, digits and '_' or '-', "
            "starting with a letter and ending with a letter or digit (e.g. 'parrot', 'my_tts')"
        )
    if normal in _OUR_DISTRIBUTIONS:
        raise ConfigError(
            f"binding name {name!r} cannot be used: 'lollms-{normal.replace('_', '-')}' is a lollms distribution "
            f"(package lollms_{normal}) and installing yours would replace it; choose another name"
        )
    if normal in _builtin_names():
        raise ConfigError(
            f"binding name {name!r} cannot be used: '{normal}' is a binding built into lollms-core, which "
            "create_binding() would pick instead of yours; choose another name"
        )
    return normal


def _builtin_names() -> frozenset[str]:
    """The binding names the core's built-in plugin registers (echo, router, python...), from its own hook."""
    from ..builtin.echo_plugin import lollms_register_bindings

    return frozenset(str(m["name"]) for m in lollms_register_bindings())


def write_scaffold(scaffold: BindingScaffold, parent: Path, *, force: bool = False) -> Path:
    """Write the distribution folder ``parent/<dist>``; return its path.

    :raises ConfigError: the folder exists and is not empty (unless ``force``).
    """
    root = Path(parent) / scaffold.dist
    if root.exists() and any(root.iterdir()) and not force:
        raise ConfigError(f"'{root}' already exists and is not empty; choose another directory or remove it")
    for rel, text in scaffold.files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def _core_version() -> str:
    from .. import __version__

    return __version__
