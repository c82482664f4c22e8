"""The core's built-in plugin: one ``echo`` binding per modality, for tests and first steps.

Registered through the same hook as any third-party plugin, so it exercises the real path.
"""

from __future__ import annotations

from typing import Any

from ..bindings.options import TOOL_MODE_PARAMETER
from ..hookspecs import hookimpl
from ..router import MANIFEST as ROUTER_MANIFEST
from .python_tools import MANIFEST as PYTHON_TOOLS_MANIFEST

_COMMON = {"author": "lollms", "core_api": 1}
_DELAY = {
    "name": "delay",
    "type": "float",
    "default": 0.0,
    "min": 0.0,
    "max": 5.0,
    "description": "seconds to wait before each chunk (to test cancellation)",
}
_SIZE = {"name": "size", "type": "int", "default": 8, "min": 1, "max": 256, "description": "image side in pixels"}
_FAIL = {
    "name": "fail_with",
    "type": "str",
    "default": "",
    "options": ["", "auth", "not_found", "rate_limit", "server", "connection", "timeout", "cut", "engine"],
    "description": "fail every call with this backend error (engine: a plain RuntimeError), to test errors",
}

MANIFESTS: list[dict[str, Any]] = [
    {
        **_COMMON,
        "name": "echo",
        "modality": "llm",
        "title": "Echo (test LLM)",
        "class": "lollms_core.builtin.echo:EchoLLMBinding",
        "description": "Answers with the last user message, one word per chunk. No model needed.",
        "input_parameters": [
            {
                "name": "model_name",
                "type": "str",
                "default": "echo",
                "description": "model name reported back",
            },
            {
                "name": "service_key",
                "type": "str",
                "default": "",
                "is_secret": True,
                "env": "LOLLMS_ECHO_KEY",
                "description": "a secret that is never shown (to test masking)",
            },
            _DELAY,
            _FAIL,
            {
                "name": "tool_calling",
                "type": "str",
                "default": "native",
                "options": ["native", "ignore", "none"],
                "description": "native tool calls; 'ignore': claim them but answer in prose; 'none': no support",
            },
            {
                "name": "json_schema",
                "type": "bool",
                "default": True,
                "description": "constrain answers to ChatRequest.json_schema (false: no constrained decoding)",
            },
            TOOL_MODE_PARAMETER,
        ],
        "generate_text_parameters": [
            {"name": "prefix", "type": "str", "default": "", "description": "text put before the echo"}
        ],
    },
    {
        **_COMMON,
        "name": "echo",
        "modality": "tti",
        "title": "Echo (test images)",
        "class": "lollms_core.builtin.echo:EchoTTIBinding",
        "description": "A solid-colour PNG derived from the prompt.",
        "input_parameters": [_FAIL],
        "generate_image_parameters": [_SIZE],
        "edit_image_parameters": [_SIZE],
    },
    {
        **_COMMON,
        "name": "echo",
        "modality": "tts",
        "title": "Echo (test speech)",
        "class": "lollms_core.builtin.echo:EchoTTSBinding",
        "description": "A WAV tone that carries the text.",
        "input_parameters": [_FAIL],
    },
    {
        **_COMMON,
        "name": "echo",
        "modality": "stt",
        "title": "Echo (test transcription)",
        "class": "lollms_core.builtin.echo:EchoSTTBinding",
        "description": "Reads back the text the echo TTS binding hid in a WAV; silence gives ''.",
        "input_parameters": [_FAIL],
        "transcribe_audio_parameters": [
            {"name": "language", "type": "str", "default": "", "description": "spoken language (ignored)"}
        ],
    },
    {
        **_COMMON,
        "name": "echo",
        "modality": "ttv",
        "title": "Echo (test video)",
        "class": "lollms_core.builtin.echo:EchoTTVBinding",
        "description": "A minimal MP4 container.",
        "input_parameters": [_FAIL],
    },
    {
        **_COMMON,
        "name": "echo",
        "modality": "ttm",
        "title": "Echo (test music)",
        "class": "lollms_core.builtin.echo:EchoTTMBinding",
        "description": "A WAV tone.",
        "input_parameters": [_FAIL],
    },
]


@hookimpl
def lollms_register_bindings() -> list[dict[str, Any]]:
    """The six echo bindings, the ``router`` LLM binding and the ``python`` tools binding."""
    return [*MANIFESTS, ROUTER_MANIFEST, PYTHON_TOOLS_MANIFEST]
