"""The core's router with tool requests: members without native tools are skipped, and the pool says so.

Members: the real llama.cpp server (its /props say SmolLM2's template has no tools) and the fake
native tool-call wire (an OpenAI-style server: no /props, tools assumed).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lollms_core import LollmsLLMBindingManager
from lollms_core.errors import NotSupportedError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta, ToolDefinition

WEATHER = ToolDefinition(
    "get_weather",
    "Get current temperature for a given location.",
    {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)
ASK = [{"role": "user", "content": "What's the weather like in Paris today?"}]


def _router(*members: dict[str, Any]) -> Any:
    return LollmsLLMBindingManager().create_binding(
        "router", members=list(members), strategy="round-robin", strict=True
    )


@pytest.fixture
def llama_member(llama_base_url: str) -> dict[str, Any]:
    return {"binding": "openai", "host_address": llama_base_url, "model_name": "smollm2"}


@pytest.fixture
def tools_member(tool_calls_server: Any) -> dict[str, Any]:
    return {"binding": "openai", "host_address": tool_calls_server.base_url + "/v1", "model_name": "weather-one"}


def _requests_seen(server: Any) -> int:
    return len(httpx.get(server.base_url + "/_requests", timeout=5).json())


def test_tool_requests_go_only_to_members_with_tools(
    llama_member: dict[str, Any], tools_member: dict[str, Any], tool_calls_server: Any
) -> None:
    router = _router(llama_member, tools_member)
    try:
        assert router.supports_tools() is True
        before = _requests_seen(tool_calls_server)
        for _ in range(3):  # round-robin would alternate; the llama.cpp member is skipped every time
            request = ChatRequest(messages=ASK, model="weather-one", tools=(WEATHER,))
            deltas = [d for d in router._stream(request) if isinstance(d, ToolCallDelta)]
            assert deltas[0].id == "call_DdmO9pD3xa9XTPNJ32zg2hcA"
        assert _requests_seen(tool_calls_server) == before + 3
        statuses = router.status()
        assert statuses[0]["successes"] == 0 and statuses[1]["successes"] == 3
    finally:
        router.close()


def test_a_pool_without_tools_says_so(llama_member: dict[str, Any]) -> None:
    router = _router(llama_member, dict(llama_member))
    try:
        assert router.supports_tools() is False
        with pytest.raises(NotSupportedError, match=r"no member can take this request.*lacks native tools"):
            list(router._stream(ChatRequest(messages=ASK, tools=(WEATHER,))))
        # Without tools (or with tool_choice none) the same pool answers.
        text = "".join(
            c.text
            for c in router._stream(
                ChatRequest(
                    messages=ASK,
                    tools=(WEATHER,),
                    tool_choice="none",
                    options=router.build_request("x", n_predict=3).options,
                )
            )
            if isinstance(c, Chunk)
        )
        assert text
    finally:
        router.close()
