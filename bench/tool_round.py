"""One tool round through lollms vs raw httpx on the same local server, in one run.

A tool round is two requests: the question with ``tools`` (the answer is a call), then the history with
the call and the tool's result (the answer is text). The server is the project's native tool-call wire
fake (plugins/lollms-openai/tests/servers/tool_calls_server.py, built from OpenAI's published examples):
no engine that runs here emits native calls, and an instant server makes client overhead the whole
measure (the harshest ratio). Sides run ABBA (raw, lollms, lollms, raw...), wall time and this
process's CPU time are recorded per round; medians and the median per-round ratio are printed with the
load average. Goal: <= 1.05x raw httpx.

Sides: ``raw httpx`` (two POSTs by hand), ``lollms binding`` (the openai binding's ``run`` twice, the
tool called by the caller), ``lollms loop`` (``lollms_core.tools.run_tool_loop``: schema derivation,
argument validation, the call and the second request, all in the loop), and ``lollms client``
(``LollmsClient.generate_with_tools``, when the client has it).

usage: python bench/tool_round.py [--rounds 200] [--stream]
needs: lollms-core + lollms-openai, starlette + uvicorn (the test extras).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "lollms-openai" / "tests" / "servers"))

from process import ServerProcess, free_port, uvicorn_argv  # noqa: E402

MODEL = "weather-one"
QUESTION = "What's the weather like in Paris today?"


def get_weather(location: str) -> str:
    """Get current temperature for a given location.

    Args:
        location: City and country e.g. Bogotá, Colombia
    """
    return f"14°C in {location}"


TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get current temperature for a given location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"}},
            "required": ["location"],
        },
    },
}


def make_sides(base_url: str, stream: bool) -> dict[str, Callable[[], str]]:
    """Name -> one tool round returning the final text."""
    from lollms_core import LollmsClient, LollmsLLMBindingManager
    from lollms_core.types import ChatRequest, ToolDefinition

    raw = httpx.Client(base_url=base_url, timeout=httpx.Timeout(60, connect=10))

    def raw_post(messages: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": MODEL, "messages": messages, "tools": [TOOL_SCHEMA]}
        if not stream:
            message: dict[str, Any] = raw.post("/chat/completions", json=body).json()["choices"][0]["message"]
            return message
        calls: dict[int, dict[str, Any]] = {}
        text = ""
        with raw.stream("POST", "/chat/completions", json={**body, "stream": True}) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = (json.loads(line[6:])["choices"] or [{}])[0].get("delta") or {}
                text += delta.get("content") or ""
                for part in delta.get("tool_calls") or ():
                    call = calls.setdefault(part["index"], {"id": None, "function": {"name": None, "arguments": ""}})
                    call["id"] = call["id"] or part.get("id")
                    fn = part.get("function") or {}
                    call["function"]["name"] = call["function"]["name"] or fn.get("name")
                    call["function"]["arguments"] += fn.get("arguments") or ""
        return {"role": "assistant", "content": text or None, "tool_calls": [calls[i] for i in sorted(calls)] or None}

    def raw_round() -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
        first = raw_post(messages)
        call = first["tool_calls"][0]
        result = get_weather(**json.loads(call["function"]["arguments"]))
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [{**call, "type": "function"}]},
            {"role": "tool", "tool_call_id": call["id"], "content": result},
        ]
        return str(raw_post(messages)["content"])

    llm = LollmsLLMBindingManager().create_binding("openai", host_address=base_url, model_name=MODEL, strict=True)
    definition = ToolDefinition(**{k: TOOL_SCHEMA["function"][k] for k in ("name", "description", "parameters")})

    def binding_round() -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
        first = llm.run(ChatRequest(messages=messages, model=MODEL, tools=(definition,), streaming=stream))
        call = first.tool_calls[0]
        result = get_weather(**call.arguments)
        messages += [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.raw_arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": result},
        ]
        return llm.run(ChatRequest(messages=messages, model=MODEL, tools=(definition,), streaming=stream)).text

    sides: dict[str, Callable[[], str]] = {"raw httpx": raw_round, "lollms binding": binding_round}
    from lollms_core.tools import run_tool_loop

    callback = (lambda *_a, **_k: True) if stream else None

    def loop_round() -> str:
        return run_tool_loop(llm, QUESTION, [get_weather], streaming_callback=callback).response

    sides["lollms loop"] = loop_round
    client = LollmsClient(llm_binding_name="openai", llm_binding_config={"host_address": base_url, "model_name": MODEL})
    if hasattr(client, "generate_with_tools"):  # the client delegates to the same loop

        def client_round() -> str:
            out = client.generate_with_tools(QUESTION, tools=[get_weather], streaming_callback=callback)
            return str(out["response"])

        sides["lollms client"] = client_round
    return sides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--stream", action="store_true", help="stream both requests (SSE) instead of plain JSON")
    args = parser.parse_args()
    port = free_port()
    server = ServerProcess(
        "bench-tools", uvicorn_argv("tool_calls_server:app", port), port, "/health", Path(tempfile.mkdtemp())
    ).start()
    try:
        sides = make_sides(server.base_url + "/v1", args.stream)
        for fn in sides.values():  # warm-up: connections, imports, schema caches
            answer = fn()
            assert "14°C in Paris, France" in answer, answer
        names = list(sides)
        wall: dict[str, list[float]] = {n: [] for n in names}
        cpu: dict[str, list[float]] = {n: [] for n in names}
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]  # ABBA: A B C, C B A, ...
            for name in order:
                c0, t0 = time.process_time(), time.perf_counter()
                sides[name]()
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    finally:
        server.stop()

    def ratio(name: str, data: dict[str, list[float]]) -> float:
        pairs = zip(data[name], data["raw httpx"], strict=True)
        return statistics.median(a / b for a, b in pairs if b > 0)

    mode = "streamed (SSE)" if args.stream else "non-streamed"
    print(f"one tool round (2 requests, {mode}), {args.rounds} rounds ABBA; load average {os.getloadavg()}")
    print(f"{'side':<16}{'wall ms':>10}{'ratio':>9}{'cpu ms':>10}{'ratio':>9}")
    for name in names:
        w, c = statistics.median(wall[name]) * 1000, statistics.median(cpu[name]) * 1000
        print(f"{name:<16}{w:10.2f}{ratio(name, wall):8.3f}x{c:10.2f}{ratio(name, cpu):8.3f}x")


if __name__ == "__main__":
    main()
