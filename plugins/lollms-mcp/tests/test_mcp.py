"""The mcp binding against real MCP servers (the SDK's server API) over stdio and streamable HTTP.

What lollms_client's binding gets wrong is tested here: non-text blocks kept, ``is_error``
honoured, one session reused, a dead server restarted once, no orphan process.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SERVERS, pid_alive, stdio_entry, wait_gone
from lollms_core import LollmsToolBindingManager, ToolResult, ToolServerError
from lollms_core.errors import ConfigError
from lollms_mcp.mcp.binding import McpBinding

SECRET = "sk-mcp-test-SECRET-4d1e9a"


def make(*servers: dict[str, Any], **config: Any) -> McpBinding:
    binding = LollmsToolBindingManager().create_binding("mcp", servers=list(servers), **config)
    assert isinstance(binding, McpBinding)
    return binding


@pytest.fixture(scope="module")
def calc() -> Iterator[McpBinding]:
    binding = make(stdio_entry(env={"LOLLMS_TEST_WORD": SECRET}), timeout=30)
    yield binding
    binding.close()


def test_nothing_starts_before_first_use() -> None:
    binding = make(stdio_entry())
    assert binding._loop is None
    binding.close()


def test_tools_are_named_alias_tool(calc: McpBinding) -> None:
    names = [t["name"] for t in calc.list_tools()]
    assert {"calc::add", "calc::weather", "calc::picture", "calc::fail"} <= set(names)
    add = next(t for t in calc.list_tools() if t["name"] == "calc::add")
    assert add["description"] == "Add two integers."
    assert add["parameters"]["properties"]["a"]["type"] == "integer"
    assert add["parameters"]["required"] == ["a", "b"]


def test_a_call_gives_lollms_clients_dict(calc: McpBinding) -> None:
    out = calc.execute_tool("calc::add", {"a": 2, "b": 3})
    assert out["status_code"] == 200 and out["output"] == 5
    assert out["structured"] == {"result": 5}


def test_image_and_audio_blocks_are_kept(calc: McpBinding) -> None:
    result = calc.call_tool("calc::picture", {})
    assert not result.is_error
    kinds = [p["type"] for p in result.parts]
    assert kinds == ["text", "image", "audio"]
    image, audio = result.parts[1], result.parts[2]
    assert image["mimeType"] == "image/png" and base64.b64decode(image["data"]).startswith(b"\x89PNG")
    assert audio["mimeType"] == "audio/wav" and base64.b64decode(audio["data"]).startswith(b"RIFF")
    assert "a tiny picture" in result.content and "[image: image/png" in result.content
    assert calc.execute_tool("calc::picture", {})["parts"] == [dict(p) for p in result.parts]


def test_embedded_resource_and_structured_content_are_kept(calc: McpBinding) -> None:
    result = calc.call_tool("calc::document", {})
    assert result.parts[0]["type"] == "resource"
    assert result.parts[0]["resource"]["text"] == "notes"
    assert result.structured == {"pages": 3}
    assert "notes" in result.content


def test_a_tool_error_is_an_error_result_never_a_success(calc: McpBinding) -> None:
    result = calc.call_tool("calc::fail", {"reason": "boom"})
    assert result.is_error
    out = calc.execute_tool("calc::fail", {"reason": "boom"})
    assert "output" not in out and out["status_code"] == 500 and "fail" in out["error"]


def test_server_side_argument_validation_is_an_error_result(calc: McpBinding) -> None:
    result = calc.call_tool("calc::add", {"a": "not a number", "b": 1})
    assert result.is_error


def test_env_reaches_the_server_and_is_masked_everywhere(calc: McpBinding) -> None:
    assert calc.call_tool("calc::secret_word", {}).content == SECRET
    for text in (repr(calc), str(calc.config), repr(calc.config), repr(calc.servers), str(calc.get_binding_config())):
        assert SECRET not in text, text


def test_one_session_is_kept_and_reused(calc: McpBinding) -> None:
    pids = {calc.call_tool("calc::pid", {}).content for _ in range(5)}
    assert len(pids) == 1


def test_cwd_is_honoured(tmp_path: Any) -> None:
    binding = make(stdio_entry(cwd=str(tmp_path)))
    try:
        assert binding.call_tool("calc::where", {}).content == str(tmp_path)
    finally:
        binding.close()


def test_a_server_dying_mid_call_is_a_typed_error_then_one_reconnect() -> None:
    binding = make(stdio_entry())
    try:
        first = int(binding.call_tool("calc::pid", {}).content)
        with pytest.raises(ToolServerError, match="'calc'") as info:
            binding.call_tool("calc::die", {})
        assert info.value.server == "calc"
        second = int(binding.call_tool("calc::pid", {}).content)  # a fresh server
        assert second != first and wait_gone(first)
    finally:
        binding.close()


def test_a_server_killed_between_calls_is_restarted_transparently() -> None:
    binding = make(stdio_entry())
    try:
        first = int(binding.call_tool("calc::pid", {}).content)
        os.kill(first, signal.SIGKILL)
        assert wait_gone(first)
        assert binding.execute_tool("calc::add", {"a": 1, "b": 1}) in (
            {"output": 2, "structured": {"result": 2}, "status_code": 200, "parts": [{"type": "text", "text": "2"}]},
            # the kill may be noticed only by this call: then it is an error and the next one reconnects
            {
                "error": "MCP server 'calc': the server closed the connection during the call of 'add' (it exited?)",
                "status_code": 503,
            },
        )
        assert binding.execute_tool("calc::add", {"a": 1, "b": 2})["output"] == 3
    finally:
        binding.close()


def test_close_stops_the_server_process() -> None:
    binding = make(stdio_entry())
    pid = int(binding.call_tool("calc::pid", {}).content)
    binding.close()
    assert wait_gone(pid), "the stdio server outlived close()"
    binding.close()  # twice is fine
    assert binding.execute_tool("calc::add", {"a": 2, "b": 2})["output"] == 4  # and a later call starts anew
    binding.close()


def test_interpreter_exit_leaves_no_orphan() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from lollms_core import LollmsToolBindingManager
        b = LollmsToolBindingManager().create_binding(
            "mcp", servers=[{{"alias": "calc", "command": [sys.executable, {str(SERVERS)!r}, "stdio"]}}])
        print(b.call_tool("calc::pid", {{}}).content, flush=True)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    pid = int(run.stdout.strip().splitlines()[-1])
    assert wait_gone(pid), "a stdio server outlived the interpreter that started it"


def test_http_server_lists_and_calls(http_url: str) -> None:
    binding = make({"alias": "web", "url": http_url, "headers": {"Authorization": f"Bearer {SECRET}"}})
    try:
        assert "web::weather" in [t["name"] for t in binding.list_tools()]
        result = binding.call_tool("web::weather", {"city": "Paris"})
        assert result.structured == {"city": "Paris", "temperature_c": 21}
        assert binding.call_tool("web::picture", {}).parts[1]["type"] == "image"
        assert SECRET not in repr(binding.config)
    finally:
        binding.close()


def test_async_calls_run_concurrently_on_one_session(calc: McpBinding) -> None:
    async def main() -> list[ToolResult]:
        return await asyncio.gather(*(calc.acall_tool("calc::add", {"a": i, "b": 1}) for i in range(6)))

    results = asyncio.run(main())
    assert [r.content for r in results] == [str(i + 1) for i in range(6)]


def test_async_calls_use_their_own_loop_and_end_with_it(calc: McpBinding) -> None:
    """Native async: the caller's loop holds its own session; asyncio.run ending stops that server."""
    sync_pid = int(calc.call_tool("calc::pid", {}).content)

    async def main() -> tuple[int, int]:
        first = await calc.acall_tool("calc::pid", {})
        again = await calc.acall_tool("calc::pid", {})
        return int(first.content), int(again.content)

    first, again = asyncio.run(main())
    assert first == again != sync_pid, "one session per loop, reused within it"
    assert wait_gone(first), "the session of a finished asyncio.run left its server running"
    assert int(calc.call_tool("calc::pid", {}).content) == sync_pid, "the sync session is untouched"


def test_aclose_closes_from_async_code() -> None:
    binding = make(stdio_entry())
    sync_pid = int(binding.call_tool("calc::pid", {}).content)

    async def main() -> int:
        pid = int((await binding.acall_tool("calc::pid", {})).content)
        await binding.aclose()
        return pid

    async_pid = asyncio.run(main())
    assert wait_gone(async_pid)
    assert wait_gone(sync_pid)


# -- failing servers: a typed error naming the alias, the others keep working -------------


def test_a_server_that_cannot_start_is_named_and_the_others_work() -> None:
    binding = make(stdio_entry(), {"alias": "ghost", "command": ["/nonexistent/server"]})
    try:
        names = [t["name"] for t in binding.list_tools()]
        assert "calc::add" in names and not any(n.startswith("ghost::") for n in names)
        assert binding.server_errors["ghost"].server == "ghost"
        out = binding.execute_tool("ghost::anything", {})
        assert out["status_code"] == 503 and "'ghost'" in out["error"]
        assert binding.execute_tool("calc::add", {"a": 1, "b": 2})["output"] == 3
    finally:
        binding.close()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("hang-init", "no answer to initialise within 2 s"),
        ("garbage", "'bad'"),
        ("exit", "'bad'"),
        ("bad-schema", "lists tool 'broken' with an invalid input schema: argument 'a' has unknown type 'strnig'"),
        ("bad-shape", "tools/list failed"),
    ],
)
def test_a_misbehaving_server_is_a_typed_error_within_its_timeout(mode: str, expected: str) -> None:
    binding = make(stdio_entry(), stdio_entry("bad", mode=mode, timeout=2))
    try:
        t0 = time.monotonic()
        names = [t["name"] for t in binding.list_tools()]
        assert time.monotonic() - t0 < 15
        assert "calc::add" in names
        error = binding.server_errors["bad"]
        assert isinstance(error, ToolServerError) and error.server == "bad"
        assert expected in str(error)
        assert binding.execute_tool("calc::add", {"a": 2, "b": 2})["output"] == 4
    finally:
        binding.close()


def test_a_hanging_server_process_is_stopped() -> None:
    binding = make(stdio_entry("bad", mode="hang-init", timeout=1))
    before = _children()
    try:
        binding.list_tools()
        assert "bad" in binding.server_errors
        assert not (_children() - before), "the server that hung at initialise is still running"
    finally:
        binding.close()


def _children() -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(os.getpid())], capture_output=True, text=True, check=False)
    return {int(p) for p in out.stdout.split() if pid_alive(int(p))}


def test_a_call_past_the_timeout_is_a_typed_error_and_the_session_survives() -> None:
    # The timeout also bounds start-up (a Python server importing the SDK: seconds on a busy machine).
    binding = make(stdio_entry(timeout=10))
    try:
        assert binding.execute_tool("calc::add", {"a": 0, "b": 0})["output"] == 0
        t0 = time.monotonic()
        out = binding.execute_tool("calc::sleep", {"seconds": 60})
        assert time.monotonic() - t0 < 20
        assert out["status_code"] == 504 and "'calc'" in out["error"] and "within 10 s" in out["error"]
        assert binding.execute_tool("calc::add", {"a": 1, "b": 1})["output"] == 2
    finally:
        binding.close()


def test_an_unreachable_http_server_does_not_leak_its_headers() -> None:
    from conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/mcp"
    binding = make({"alias": "web", "url": url, "headers": {"X-Api-Key": SECRET}, "timeout": 5})
    try:
        binding.list_tools()
        error = binding.server_errors["web"]
        assert "'web'" in str(error) and SECRET not in str(error)
    finally:
        binding.close()


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ([{"alias": "a b", "command": ["x"]}], "alias must be"),
        ([{"alias": "a", "command": ["x"]}, {"alias": "a", "command": ["y"]}], "used twice"),
        ([{"alias": "a", "command": ["x"], "comand": 1}], "did you mean 'command'"),
        ([{"alias": "a", "command": ["x"], "url": "http://x"}], "either command .* or url"),
        ([{"alias": "a", "type": "stdio", "command": ["x"], "url": "http://x"}], "url do not apply to a stdio server"),
        ([{"alias": "a", "type": "sse", "url": "http://x"}], "type must be 'stdio' or 'http'"),
        ([{"alias": "a", "url": "ftp://x"}], "http:// or https://"),
        ([{"alias": "a", "url": "https://user:pw@x/mcp"}], "credentials in headers"),
        ([{"alias": "a", "command": []}], "non-empty list"),
        ([{"alias": "a", "command": ["x"], "timeout": 0}], "timeout"),
        ([{"alias": "a", "url": "https://x/mcp", "auth_config": {}}], "headers"),
        (["python server.py"], "must be a dict"),
    ],
)
def test_bad_server_entries_are_config_errors(servers: list[Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make(*servers)


def test_a_bad_secret_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        make({"alias": "a", "url": "https://x/mcp", "headers": {"Authorization": f"Bearer {SECRET}\n"}})
    assert SECRET not in str(info.value)


def test_importing_lollms_core_does_not_import_the_sdk() -> None:
    script = "import sys, lollms_core; print('mcp' in sys.modules, 'lollms_mcp.mcp' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.split() == ["False", "False"]
