"""The conformance kit's tools suite, against the real test server over stdio and over streamable HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import free_port, stdio_entry
from lollms_core import LollmsToolBindingManager
from lollms_core.testing import ToolBindingTests


class TestMcpStdio(ToolBindingTests):
    @pytest.fixture(scope="class")
    @classmethod
    def binding(cls) -> Iterator[Any]:
        made = LollmsToolBindingManager().create_binding("mcp", servers=[stdio_entry()])
        yield made
        made.close()

    @pytest.fixture
    def tool_call(self) -> tuple[str, dict[str, Any], str]:
        return "calc::add", {"a": 20, "b": 22}, "42"

    @pytest.fixture
    def failing_binding(self) -> Iterator[Any]:
        """The same alias, but its command does not exist: the server cannot start."""
        made = LollmsToolBindingManager().create_binding(
            "mcp", servers=[{"alias": "calc", "command": ["/nonexistent/mcp-server"]}], timeout=10
        )
        yield made
        made.close()


class TestMcpHttp(ToolBindingTests):
    @pytest.fixture(scope="class")
    @classmethod
    def binding(cls, http_url: str) -> Iterator[Any]:
        made = LollmsToolBindingManager().create_binding("mcp", servers=[{"alias": "web", "url": http_url}])
        yield made
        made.close()

    @pytest.fixture
    def tool_call(self) -> tuple[str, dict[str, Any], str]:
        return "web::weather", {"city": "Lyon"}, "Lyon"

    @pytest.fixture
    def failing_binding(self) -> Iterator[Any]:
        """The same alias on a port nobody listens on."""
        url = f"http://127.0.0.1:{free_port()}/mcp"
        made = LollmsToolBindingManager().create_binding("mcp", servers=[{"alias": "web", "url": url}], timeout=10)
        yield made
        made.close()
