"""Real MCP servers for the tests, written with the SDK's own server API (``mcp.server.MCPServer``).

Run as a script: ``python mcp_servers.py stdio`` serves over stdio; ``python mcp_servers.py
http PORT`` serves streamable HTTP on 127.0.0.1:PORT. Servers that misbehave on purpose are
in ``mcp_faulty.py``.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from typing import Any

import mcp_types as types
from mcp.server import MCPServer
from mcp.server.mcpserver.utilities.types import Audio, Image

# A 1x1 transparent PNG and a few bytes of WAV header: real image and audio blocks.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WAV = (
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00@\x1f\x00\x00"
    b"\x01\x00\x08\x00data\x00\x00\x00\x00"
)


def build(name: str) -> MCPServer:
    """The test server: arithmetic, echo of the environment, rich blocks, errors, a slow tool, a crash."""
    srv = MCPServer(name)

    @srv.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @srv.tool()
    def secret_word() -> str:
        """The secret word of the day."""
        return os.environ.get("LOLLMS_TEST_WORD", "")

    @srv.tool()
    def where() -> str:
        """The server's working directory."""
        return os.getcwd()

    @srv.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @srv.tool(structured_output=False)
    def picture() -> list[Any]:
        """A caption, a PNG and a WAV."""
        return ["a tiny picture", Image(data=PNG, format="png"), Audio(data=WAV, format="wav")]

    @srv.tool()
    def document() -> types.CallToolResult:
        """An embedded text resource with structured content."""
        return types.CallToolResult(
            content=[
                types.EmbeddedResource(
                    type="resource",
                    resource=types.TextResourceContents(uri="file:///notes.txt", mime_type="text/plain", text="notes"),
                )
            ],
            structured_content={"pages": 3},
        )

    @srv.tool()
    def weather(city: str) -> dict[str, Any]:
        """Today's weather in a city (structured output)."""
        return {"city": city, "temperature_c": 21}

    @srv.tool()
    def fail(reason: str) -> str:
        """Always fails with the reason (an MCP tool error: is_error=True)."""
        raise ValueError(reason)

    @srv.tool()
    def sleep(seconds: float) -> str:
        """Sleep, then answer."""
        time.sleep(seconds)
        return "awake"

    @srv.tool()
    def die() -> str:
        """Kill the server process in the middle of the call."""
        os._exit(3)

    return srv


if __name__ == "__main__":
    server = build("lollms-test")
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
