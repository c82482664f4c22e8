"""Tool calling: Python functions as tools, and the loop that lets a model call them.

``tool`` turns a function into a :class:`Tool` (JSON Schema from the type hints, descriptions
from the docstring); :func:`run_tool_loop` / :func:`arun_tool_loop` run a model with tools to
its final answer (``LollmsClient.generate_with_tools`` delegates here). See docs/tools.md.

This package may import the binding contracts, the value types and the errors; never the
client, the discussion or the command line (they import it).
"""

from __future__ import annotations

from ..types import ToolCall, ToolCallDelta, ToolDefinition, ToolResult
from ._loop import BeforeCall, ToolLoop, ToolRun, arun_tool_loop, run_tool_loop, tool_run_of
from ._prompt import fit_history
from ._schema import signature_schema
from ._tool import DEFAULT_MAX_RESULT_CHARS, Tool, result_text, tool
from ._toolset import ToolResolver, ToolSet, no_tool_names

__all__ = [
    "DEFAULT_MAX_RESULT_CHARS",
    "BeforeCall",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolDefinition",
    "ToolLoop",
    "ToolResolver",
    "ToolResult",
    "ToolRun",
    "ToolSet",
    "arun_tool_loop",
    "fit_history",
    "no_tool_names",
    "result_text",
    "run_tool_loop",
    "signature_schema",
    "tool",
    "tool_run_of",
]
