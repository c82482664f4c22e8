"""The ``router`` binding's manifest, as data: read at ``import lollms_core``, so nothing heavy here."""

from __future__ import annotations

from typing import Any

from ..bindings.options import TOOL_MODE_PARAMETER

__all__ = ["MANIFEST", "STRATEGIES"]

#: The routing strategies, in the order the documentation presents them.
STRATEGIES = ("least-busy", "round-robin", "latency", "prefix-affinity")

MANIFEST: dict[str, Any] = {
    "name": "router",
    "modality": "llm",
    "author": "lollms",
    "core_api": 1,
    "title": "Router (a pool of LLM bindings)",
    "class": "lollms_core.router.binding:RouterBinding",
    "description": (
        "Spreads requests over member bindings (any LLM binding, each with its own config), "
        "moves a request to another member when one fails before its first chunk, cools failing members down."
    ),
    "input_parameters": [
        {
            "name": "members",
            "type": "list",
            "mandatory": True,
            "description": (
                "the pool: a list of {binding: NAME, ...that binding's config, weight?, max_concurrency?}; "
                "on the command line -c members=@pool.yaml"
            ),
        },
        {
            "name": "strategy",
            "type": "str",
            "default": "least-busy",
            "options": list(STRATEGIES),
            "description": "how a member is chosen for each request",
        },
        {
            "name": "cooldown",
            "type": "float",
            "default": 1.0,
            "min": 0.0,
            "max": 3600.0,
            "description": "seconds a member rests after its first failure (doubles with each failure in a row)",
        },
        {
            "name": "max_cooldown",
            "type": "float",
            "default": 60.0,
            "min": 0.0,
            "max": 86400.0,
            "description": "longest rest after failures in a row (a longer Retry-After from the server wins)",
        },
        TOOL_MODE_PARAMETER,
    ],
}
