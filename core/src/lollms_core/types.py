"""Enums and small value types shared by every modality.

``MSG_TYPE`` keeps lollms_client's numbering so callbacks written for the original
compare equal; ``MSG_OPERATION_TYPE`` is seed 000's older enum, kept for compatibility.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any, Literal, Union

__all__ = [
    "CORE_API_VERSION",
    "ELF_COMPLETION_FORMAT",
    "ELF_GENERATION_FORMAT",
    "MSG_OPERATION_TYPE",
    "MSG_TYPE",
    "ChatRequest",
    "Chunk",
    "GenerationEvent",
    "GenerationOptions",
    "GenerationResult",
    "ImageInput",
    "Message",
    "Modality",
    "StreamingCallback",
    "ToolCall",
    "ToolCallDelta",
    "ToolDefinition",
    "ToolResult",
]


#: The binding contract version this core implements; a manifest's ``core_api`` must match.
CORE_API_VERSION = 1


class MSG_TYPE(IntEnum):
    """Kind of a streamed piece of output (lollms_client numbering)."""

    MSG_TYPE_CHUNK = 0
    MSG_TYPE_CONTENT = 1
    MSG_TYPE_CONTENT_INVISIBLE_TO_AI = 2
    MSG_TYPE_CONTENT_INVISIBLE_TO_USER = 3
    MSG_TYPE_THOUGHT_CHUNK = 4
    MSG_TYPE_THOUGHT_CONTENT = 5
    MSG_TYPE_EXCEPTION = 6
    MSG_TYPE_WARNING = 7
    MSG_TYPE_INFO = 8
    MSG_TYPE_STEP = 9
    MSG_TYPE_STEP_START = 10
    MSG_TYPE_STEP_PROGRESS = 11
    MSG_TYPE_STEP_END = 12
    MSG_TYPE_JSON_INFOS = 13
    MSG_TYPE_REF = 14
    MSG_TYPE_CODE = 15
    MSG_TYPE_UI = 16
    MSG_TYPE_NEW_MESSAGE = 17
    MSG_TYPE_FINISHED_MESSAGE = 18
    MSG_TYPE_TOOL_CALL = 19
    MSG_TYPE_TOOL_OUTPUT = 20
    MSG_TYPE_REASONING = 21
    MSG_TYPE_SCRATCHPAD = 22
    MSG_TYPE_OBSERVATION = 23
    MSG_TYPE_ERROR = 24


class MSG_OPERATION_TYPE(IntEnum):
    """Seed 000's operation enum (older LoLLMs bindings); compatibility only."""

    MSG_OPERATION_TYPE_ADD_CHUNK = 0
    MSG_OPERATION_TYPE_SET_CONTENT = 1
    MSG_OPERATION_TYPE_SET_CONTENT_INVISIBLE_TO_AI = 2
    MSG_OPERATION_TYPE_SET_CONTENT_INVISIBLE_TO_USER = 3
    MSG_OPERATION_TYPE_EXCEPTION = 4
    MSG_OPERATION_TYPE_WARNING = 5
    MSG_OPERATION_TYPE_INFO = 6
    MSG_OPERATION_TYPE_STEP = 7
    MSG_OPERATION_TYPE_STEP_START = 8
    MSG_OPERATION_TYPE_STEP_PROGRESS = 9
    MSG_OPERATION_TYPE_STEP_END_SUCCESS = 10
    MSG_OPERATION_TYPE_STEP_END_FAILURE = 11
    MSG_OPERATION_TYPE_JSON_INFOS = 12
    MSG_OPERATION_TYPE_REF = 13
    MSG_OPERATION_TYPE_CODE = 14
    MSG_OPERATION_TYPE_UI = 15
    MSG_OPERATION_TYPE_NEW_MESSAGE = 16
    MSG_OPERATION_TYPE_FINISHED_MESSAGE = 17


class ELF_GENERATION_FORMAT(Enum):
    """Seed 004's generation formats; the client maps each onto an installed binding."""

    LOLLMS = 0
    OPENAI = 1
    OLLAMA = 2
    LITELLM = 3
    TRANSFORMERS = 4
    VLLM = 5


class ELF_COMPLETION_FORMAT(Enum):
    """Seed 004's completion formats."""

    Instruct = 0
    Chat = 1


class Modality(str, Enum):
    """The seven kinds of binding; the value is the manifest's ``modality`` string."""

    LLM = "llm"
    TTI = "tti"
    STT = "stt"
    TTS = "tts"
    TTV = "ttv"
    TTM = "ttm"
    TOOLS = "tools"


#: An image given to a vision model: a file path, a URL or data URL, raw bytes, or base64 text.
ImageInput = Union[str, Path, bytes]
#: The seeds' streaming callback: ``(chunk, msg_type, meta) -> bool | None``; only ``False`` stops.
StreamingCallback = Callable[..., bool | None]
#: One chat message, OpenAI-shaped: ``{"role": ..., "content": ..., "images": [...]?}``.
Message = dict[str, Any]


@dataclass(slots=True)
class GenerationOptions:
    """Sampling options in the seeds' vocabulary; ``None`` means the backend's default.

    ``n_predict`` counts tokens, never characters.
    """

    n_predict: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repeat_penalty: float | None = None
    repeat_last_n: int | None = None
    seed: int | None = None
    n_threads: int | None = None
    ctx_size: int | None = None
    stop: list[str] | None = None

    def set_fields(self) -> dict[str, Any]:
        """Return only the options that were given (not ``None``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(slots=True)
class ChatRequest:
    """What an LLM binding's one streaming primitive receives.

    :param messages: OpenAI-shaped messages; a message may carry ``images``.
    :param model: the model to use, or ``None`` for the binding's current one.
    :param options: sampling options, already validated.
    :param extra: per-call parameters declared by the manifest (``generate_text_parameters``), validated.
    :param streaming: ``False`` when nobody consumes chunks as they arrive (a blocking call with no
        callback and no observer): an HTTP binding may then ask for one non-streamed response and
        yield its chunks from that. The base sets it; a binding may ignore it.
    :param tools: tools the model may call, names already valid on every wire
        (``^[a-zA-Z0-9_-]{1,64}$``: the base maps other names before the binding sees them).
        Only set when the binding says :meth:`~lollms_core.LollmsLLMBinding.supports_tools`.
    :param tool_choice: ``"auto"``, ``"none"``, ``"required"`` or one tool's (wire) name; ``None``
        leaves the backend's default.
    :param parallel_tool_calls: whether the model may make several calls in one turn (``None``: default).
    :param json_schema: constrain the answer text to this JSON Schema (OpenAI ``response_format``,
        Ollama ``format``, llama.cpp ``json_schema``). Only set when the binding says
        :meth:`~lollms_core.LollmsLLMBinding.supports_json_schema`.
    :param wire_names: wire name -> the name the caller gave, for the names the base had to map
        (the base maps calls back with it; bindings can ignore it).
    """

    messages: list[Message]
    model: str | None = None
    options: GenerationOptions = field(default_factory=GenerationOptions)
    extra: dict[str, Any] = field(default_factory=dict)
    streaming: bool = True
    tools: tuple[ToolDefinition, ...] = ()
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None
    json_schema: dict[str, Any] | None = None
    wire_names: dict[str, str] = field(default_factory=dict)

    @property
    def images(self) -> list[ImageInput]:
        """All images attached to any message, in order."""
        return [img for m in self.messages for img in (m.get("images") or ())]


@dataclass(slots=True)
class Chunk:
    """One piece of streamed output.

    ``type`` is ``MSG_TYPE_CHUNK`` for answer text and ``MSG_TYPE_THOUGHT_CHUNK`` for
    reasoning. A last chunk with empty ``text`` may carry ``meta`` such as
    ``finish_reason`` and ``usage``.
    """

    text: str
    type: MSG_TYPE = MSG_TYPE.MSG_TYPE_CHUNK
    meta: dict[str, Any] | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class GenerationResult:
    """Everything a finished (or stopped) text generation produced."""

    text: str
    thoughts: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    stopped_by: Literal["callback", "cancel"] | None = None
    #: The complete tool calls the model made, in order (assembled and parsed once by the base).
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(slots=True)
class GenerationEvent:
    """What observers of ``lollms_on_generation_event`` receive.

    ``kind`` is ``"start"``, ``"chunk"``, ``"end"`` or ``"error"``; ``call_id`` ties the
    events of one call together; ``elapsed`` is seconds since ``start``.
    """

    kind: Literal["start", "chunk", "end", "error"]
    binding: str
    modality: str
    method: str
    call_id: int
    model: str | None = None
    chunk: Chunk | None = None
    result: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0


# -- tool calling (OpenAI Chat Completions shapes: the lingua franca every backend converts to) --


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A tool as the model sees it: a name, what it does, and its arguments as a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def new_call_id() -> str:
    """An id for a call the backend gave none (``call_<hex>``)."""
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One complete call the model made.

    ``error`` is set (and ``arguments == {}``) when the model's argument text is not a JSON
    object: the tool loop answers it with an error result; it is never an exception.
    """

    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (what ``MSG_TYPE_TOOL_CALL`` events carry as ``meta["tool_call"]``)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "arguments": self.arguments}
        if self.error is not None:
            out["error"] = self.error
            out["raw_arguments"] = self.raw_arguments
        return out

    def to_openai(self) -> dict[str, Any]:
        """The entry of an assistant message's ``tool_calls`` (arguments as JSON text)."""
        text = self.raw_arguments if self.error is not None else json.dumps(self.arguments, ensure_ascii=False)
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": text}}


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool gave back for one call; ``content`` is what the model sees.

    ``parts`` keeps rich blocks (images, audio, resources as OpenAI content parts or MCP block
    dicts); ``structured`` keeps an MCP tool's ``structured_content``.
    """

    call_id: str
    name: str
    content: str
    is_error: bool = False
    parts: tuple[dict[str, Any], ...] = ()
    structured: Any = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (what ``MSG_TYPE_TOOL_OUTPUT`` events carry as ``meta["tool_result"]``)."""
        return {"call_id": self.call_id, "name": self.name, "content": self.content, "is_error": self.is_error}

    def to_message(self) -> Message:
        """The ``role: tool`` message that gives this result back to the model."""
        return {"role": "tool", "tool_call_id": self.call_id, "name": self.name, "content": self.content}


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A streamed fragment of a tool call, yielded by a binding's ``_stream`` beside :class:`Chunk`.

    Fragments with the same ``index`` belong to one call: ``arguments`` pieces are concatenated
    and parsed once when the stream ends; ``id`` and ``name`` are taken from the first fragment
    that has them. A backend that gives whole calls yields one delta per call with the full
    JSON text (or a complete :class:`ToolCall`).
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
