"""Sampling options: checked and merged in one place for every LLM binding."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

from ..errors import ConfigError
from ..types import GenerationOptions

__all__ = ["SAMPLING_OPTIONS", "TOOL_MODES", "TOOL_MODE_PARAMETER", "merge_options"]

# name -> (expected type, lower bound, upper bound); bounds are inclusive, None = open.
_RULES: dict[str, tuple[type, float | None, float | None]] = {
    "n_predict": (int, 1, None),
    "temperature": (float, 0.0, None),
    "top_k": (int, 0, None),
    "top_p": (float, 0.0, 1.0),
    "repeat_penalty": (float, 0.0, None),
    "repeat_last_n": (int, -1, None),
    "seed": (int, None, None),
    "n_threads": (int, 1, None),
    "ctx_size": (int, 1, None),
}
#: Every sampling option name the base understands.
SAMPLING_OPTIONS: tuple[str, ...] = tuple(f.name for f in fields(GenerationOptions))

#: How the tool loop calls tools: ``auto`` (native where supported, else a NotSupportedError naming
#: the fix), ``native``, ``prompt`` (tools in the system prompt, answers constrained where possible).
TOOL_MODES: tuple[str, ...] = ("auto", "native", "prompt")
#: The manifest parameter an LLM binding declares so its config can set the tool loop's default mode
#: (a call's own ``tool_mode`` other than ``auto`` wins). The plugins' YAML manifests say the same.
TOOL_MODE_PARAMETER: dict[str, Any] = {
    "name": "tool_mode",
    "type": "str",
    "default": "auto",
    "options": list(TOOL_MODES),
    "description": "How generate_with_tools and chat(tools=...) call tools when the call says tool_mode='auto': "
    "auto (native where supported, else an error naming the fix), native, or prompt (tools described "
    "in the system prompt, the answer constrained to a JSON Schema where the backend can).",
}


def merge_options(defaults: GenerationOptions, given: dict[str, Any]) -> GenerationOptions:
    """``defaults`` overridden by the non-``None`` values in ``given``, each checked.

    :raises ConfigError: naming the option, the expected type and the allowed range.
    """
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name == "stop":
            value = [value] if isinstance(value, str) else value
            if not (isinstance(value, list) and all(isinstance(s, str) for s in value)):
                raise ConfigError(f"option 'stop' expects a string or a list of strings, got {value!r}")
            changes[name] = value
            continue
        typ, lo, hi = _RULES[name]
        if isinstance(value, bool) or not isinstance(value, (int, float) if typ is float else int):
            raise ConfigError(f"option '{name}' expects {typ.__name__}, got {value!r} ({type(value).__name__})")
        # NaN compares false with every bound, so the range check alone would let it through.
        finite = not isinstance(value, float) or math.isfinite(value)
        if not finite or (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{'' if lo is None else lo} .. {'' if hi is None else hi}".strip()
            what = "a finite number in" if not finite else "allowed range:"
            raise ConfigError(f"option '{name}' is {value!r}; {what} {rng}".rstrip())
        changes[name] = typ(value)
    return replace(defaults, **changes) if changes else defaults
