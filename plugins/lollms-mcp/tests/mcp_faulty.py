"""MCP servers that misbehave on purpose (what the SDK's server API cannot be made to do).

``python mcp_faulty.py MODE``: ``hang-init`` never answers, ``garbage`` answers lines that are
not JSON-RPC, ``exit`` exits at once, ``bad-schema`` initialises and lists a tool whose input
schema is invalid (``bad-schema``: an unknown type; ``bad-shape``: not even a schema). No SDK import: these start fast.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

# bad-schema: valid to the SDK, unusable for a model (unknown type); bad-shape: the SDK refuses it.
_SCHEMAS: dict[str, Any] = {
    "bad-schema": {"type": "object", "properties": {"a": {"type": "strnig"}}},
    "bad-shape": {"type": "object", "properties": {"a": 5}},
}


def misbehave(mode: str) -> None:
    """Serve stdio in the given faulty ``mode``."""
    if mode == "hang-init":
        time.sleep(3600)
    if mode == "garbage":
        for _line in sys.stdin:
            sys.stdout.write("this is not json-rpc\n")
            sys.stdout.flush()
    if mode == "exit":
        sys.exit(2)
    if mode in _SCHEMAS:
        for line in sys.stdin:
            req = json.loads(line)
            if "id" not in req:
                continue
            if req["method"] == "initialize":
                result: dict[str, Any] = {
                    "protocolVersion": req["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "bad", "version": "0"},
                }
            elif req["method"] == "tools/list":
                tool = {"name": "broken", "description": "x", "inputSchema": _SCHEMAS[mode]}
                result = {"tools": [tool]}
            else:
                result = {}
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    misbehave(sys.argv[1])
