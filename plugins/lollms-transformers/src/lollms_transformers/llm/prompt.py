"""Messages to model inputs: the tokenizer's chat template, the processor's for images, or plain text.

The chat template ships with the model (``tokenizer_config.json``, or the GGUF header), so each
model gets the prompt format it was trained on. A model without one (a base model) gets a
single user message as raw text, or a ``!@>role:`` transcript, lollms' own format.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
from typing import Any

from lollms_core.errors import NotSupportedError
from lollms_core.media import image_to_base64
from lollms_core.types import Message

__all__ = ["encode_messages", "renders_tools"]

# A made-up tool, rendered once per model to see whether its template shows tools at all.
_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "lollms_probe_tool",
        "description": "probe",
        "parameters": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]},
    },
}


def _template_message(message: Message) -> dict[str, Any]:
    """An OpenAI-shaped message as Hugging Face chat templates read it (tool-call arguments as objects)."""
    out: dict[str, Any] = {"role": message.get("role", "user"), "content": message.get("content") or ""}
    for key in ("name", "tool_call_id"):
        if message.get(key):
            out[key] = message[key]
    calls = message.get("tool_calls")
    if calls:
        converted = []
        for call in calls:
            function = dict(call.get("function") or {})
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                with contextlib.suppress(ValueError):  # not JSON: kept as text, the template shows what the model said
                    function["arguments"] = json.loads(arguments or "{}")
            converted.append({**call, "function": function})
        out["tool_calls"] = converted
    return out


def _transcript(messages: list[Message]) -> str:
    """A prompt for a model without a chat template."""
    if len(messages) == 1 and messages[0].get("role") == "user":
        return str(messages[0].get("content") or "")
    lines = [f"!@>{m.get('role', 'user')}: {m.get('content') or ''}" for m in messages]
    return "\n".join(lines) + "\n!@>assistant:"


def _pil_image(image: Any) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(image_to_base64(image)))).convert("RGB")


def encode_messages(
    tokenizer: Any, processor: Any, messages: list[Message], model_name: str, tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``input_ids`` and ``attention_mask`` (and ``pixel_values`` for images) as torch tensors on the CPU.

    :raises NotSupportedError: images were given and the model has no processor.
    """
    images = [img for m in messages for img in (m.get("images") or ())]
    if images and processor is None:
        raise NotSupportedError(
            f"{model_name} cannot read images: it has no image processor. Load a vision model "
            "(a folder with processor_config.json or preprocessor_config.json) to send images."
        )
    if processor is not None:
        # A vision model's template reads content as parts (images and text), with or without images.
        converted = []
        for message in messages:
            parts: list[dict[str, Any]] = [
                {"type": "image", "image": _pil_image(i)} for i in message.get("images") or ()
            ]
            if message.get("content"):
                parts.append({"type": "text", "text": message["content"]})
            converted.append({"role": message.get("role", "user"), "content": parts})
        encoded = processor.apply_chat_template(
            converted, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )
        return dict(encoded)
    if getattr(tokenizer, "chat_template", None):
        encoded = tokenizer.apply_chat_template(
            [_template_message(m) for m in messages],
            tools=tools or None,
            add_generation_prompt=True,
            return_dict=True,
            return_tensors="pt",
        )
        return dict(encoded)
    return dict(tokenizer(_transcript(messages), return_tensors="pt"))


def renders_tools(tokenizer: Any) -> bool:
    """Whether the chat template shows tools to the model and writes calls as ``<tool_call>`` blocks.

    Rendered, not guessed: the template with and without a probe tool, and an assistant turn
    calling it. The call format matters because the binding reads calls back in that format.
    """
    if not getattr(tokenizer, "chat_template", None):
        return False
    ask = [{"role": "user", "content": "hi"}]
    call = {"id": "call_1", "type": "function", "function": {"name": "lollms_probe_tool", "arguments": {"x": "y"}}}
    answered = [*ask, {"role": "assistant", "content": "", "tool_calls": [call]}]
    try:
        with_tools = tokenizer.apply_chat_template(ask, tools=[_PROBE_TOOL], tokenize=False)
        without = tokenizer.apply_chat_template(ask, tokenize=False)
        called = tokenizer.apply_chat_template(answered, tools=[_PROBE_TOOL], tokenize=False)
    except Exception:  # a template that breaks on tools does not support them
        return False
    shows_tools = isinstance(with_tools, str) and with_tools != without and "lollms_probe_tool" in with_tools
    return shows_tools and isinstance(called, str) and "<tool_call>" in called
