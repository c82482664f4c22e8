"""Answers constrained to a JSON Schema (or to tool calls), token by token, with llguidance.

Why llguidance: it compiles a JSON Schema against the model's own tokenizer and gives, per step,
the bitmask of tokens that keep the text valid (Rust, ~50 µs a step; llama.cpp, vLLM and SGLang
use it). Its wheel has no dependencies and works with any torch. lm-format-enforcer (pure
Python, last release 2025-08) and outlines (a dozen dependencies) were the alternatives; xgrammar
pulls triton onto Linux x86_64. The mask is applied here with plain torch ops rather than
llguidance's ``torch.compile``d kernel, which would compile C++ on first use on a CPU.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import torch
from lollms_core.errors import ConfigError, NotSupportedError
from transformers import LogitsProcessor

from .toolcalls import CLOSE, OPEN

__all__ = ["GrammarConstraint", "guidance_tokenizer", "json_schema_grammar", "tool_call_grammar"]


def guidance_tokenizer(tokenizer: Any) -> Any:
    """The llguidance view of a fast (Rust-backed) Hugging Face tokenizer; about a second: cache it.

    :raises NotSupportedError: the tokenizer has no Rust backend (a slow, Python-only tokenizer).
    """
    import llguidance

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise NotSupportedError(
            f"json_schema needs a fast (Rust) tokenizer; {type(tokenizer).__name__} is not one. "
            "Use the core's validate-and-retry path (generate_structured_content) instead."
        )
    backend = copy.copy(backend)
    backend.no_padding()
    backend.no_truncation()
    return llguidance.LLTokenizer(backend.to_str(), eos_token=tokenizer.eos_token_id)


def _compact(schema: Any) -> Any:
    """``schema`` with JSON's optional whitespace turned off.

    With it on, a model may fill its whole answer with newlines that keep the JSON "valid" but
    never finish it (seen with a small model: 96 lines of blanks); ``", "`` and ``": "`` remain.
    """
    if not isinstance(schema, dict):
        return schema
    options = dict(schema.get("x-guidance") or {})
    options.setdefault("whitespace_flexible", False)
    return {**schema, "x-guidance": options}


def json_schema_grammar(schema: dict[str, Any]) -> str:
    """The llguidance grammar of answers matching ``schema``.

    :raises ConfigError: the schema is not a JSON object.
    """
    import llguidance

    try:
        grammar: str = llguidance.LLMatcher.grammar_from_json_schema(json.dumps(_compact(schema)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"json_schema is not a JSON object: {exc}") from None
    return grammar


def tool_call_grammar(tools: Sequence[Any], choice: str, parallel: bool | None) -> str:
    """The grammar of an answer that is only tool calls: ``<tool_call>{"name", "arguments"}</tool_call>`` blocks.

    Used for ``tool_choice="required"`` (any offered tool) or a tool's name (that one), so the call
    is well formed whatever the model would have said; ``parallel=False`` allows one block.

    :raises ConfigError: ``choice`` names no offered tool.
    """
    import llguidance

    wanted = [t for t in tools if choice in ("required", t.name)]
    if not wanted:
        raise ConfigError(f"tool_choice {choice!r} names no offered tool; offered: {', '.join(t.name for t in tools)}")
    calls = [
        {
            "type": "object",
            "properties": {"name": {"const": t.name}, "arguments": t.parameters or {"type": "object"}},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for t in wanted
    ]
    block = f'"{OPEN}\\n" call "\\n{CLOSE}"'
    start = f"start: {block}" if parallel is False else f'start: {block} ("\\n" {block})*'
    schema = json.dumps(_compact({"anyOf": calls}))
    grammar: str = llguidance.LLMatcher.grammar_from_lark(f"{start}\ncall: %json {schema}")
    return grammar


class GrammarConstraint(LogitsProcessor):  # type: ignore[misc,unused-ignore]
    """Masks every token that would take the answer out of ``grammar``'s language (llguidance).

    :param prompt_tokens: the prompt length; tokens after it are the answer, fed to the matcher.
    :raises ConfigError: llguidance cannot compile the grammar (its message kept).
    """

    def __init__(self, lltokenizer: Any, grammar: str, prompt_tokens: int) -> None:
        import llguidance

        problem = llguidance.LLMatcher.validate_grammar(grammar, lltokenizer)
        if problem and not problem.startswith("WARNING"):
            raise ConfigError(f"the output constraint cannot be enforced: {problem}")
        self.matcher = llguidance.LLMatcher(lltokenizer, grammar, log_level=0)
        self.prompt_tokens = prompt_tokens
        self.vocab = int(lltokenizer.vocab_size)
        self.words = torch.full(((self.vocab + 31) // 32,), -1, dtype=torch.int32)
        self.bits = torch.arange(32, dtype=torch.int32)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Feed the last sampled token to the matcher, then allow only what it accepts next."""
        if input_ids.shape[-1] > self.prompt_tokens:
            self.matcher.consume_token(int(input_ids[0, -1]))
        if self.matcher.is_error():
            raise ConfigError(f"the constrained answer went off its grammar: {self.matcher.get_error()}")
        self.matcher.unsafe_compute_mask_ptr(self.words.data_ptr(), self.words.numel() * 4)
        allowed = ((self.words.unsqueeze(-1) >> self.bits) & 1).reshape(-1)[: self.vocab].bool()
        width = scores.shape[-1]
        keep = torch.zeros(width, dtype=torch.bool, device=scores.device)
        n = min(width, self.vocab)
        keep[:n] = allowed[:n].to(scores.device)
        return scores.masked_fill(~keep, float("-inf"))  # type: ignore[return-value,unused-ignore]
