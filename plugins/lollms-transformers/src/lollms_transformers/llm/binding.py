"""The ``transformers`` binding: Hugging Face models in this process, on the CPU or a GPU.

This module imports torch and transformers: the core imports it only when a binding is created.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from lollms_core.bindings import LollmsLLMBinding, max_engine_threads
from lollms_core.errors import ConfigError, NotFoundError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta

from .engine import LoadedModel, LoadSettings, check_device
from .generation import GenerationRun, StopScanner, StopSignal, generation_config, prompt_budget
from .models import ModelSource, default_hub_cache, list_local_models, resolve_model
from .prompt import encode_messages, renders_tools
from .structured import GrammarConstraint, guidance_tokenizer, json_schema_grammar, tool_call_grammar
from .toolcalls import ToolCallScanner, parse_call
from .turns import Turns

__all__ = ["TransformersBinding"]

# Texts embedded per forward pass: bounds the padded batch's memory.
_EMBED_BATCH = 16


class TransformersBinding(LollmsLLMBinding):
    """Chat, streaming, tokens and embeddings with a model loaded by transformers.

    The model comes from ``model_path`` or ``model_name`` (a folder, a .gguf file, a name in
    ``models_path``, or a hub id already in the local cache); with neither, from the
    ``LOLLMS_DEFAULT_MODEL`` environment variable. One model is loaded at a time, and one
    generation runs at a time: concurrent callers queue in arrival order (``cancel()`` also
    ends the waiting ones).

    :raises ConfigError: a bad ``device`` or ``n_threads`` value (before anything loads).
    :raises NotFoundError: the named model is neither on disk nor in the hub cache.
    :raises BindingLoadError: the model exists but transformers cannot load it (the message says why).
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        cfg = self.config
        check_device(str(cfg.get("device") or "auto"))
        self._settings = LoadSettings(
            device=str(cfg.get("device") or "auto"),
            dtype=str(cfg.get("dtype") or "auto"),
            max_memory=dict(cfg.get("max_memory") or {}),
            trust_remote_code=bool(cfg.get("trust_remote_code", False)),
            allow_download=bool(cfg.get("allow_download", False)),
            verbose=bool(cfg.get("verbose", False)),
        )
        self._threads = _checked_threads(int(cfg.get("n_threads") or 0), "n_threads")
        self._ctx_size = int(cfg.get("ctx_size") or 0)
        self._models_dir = Path(cfg["models_path"]).expanduser() if cfg.get("models_path") else None
        self._hub_cache = Path(cfg["hub_cache"]).expanduser() if cfg.get("hub_cache") else default_hub_cache()
        self._gguf_file = str(cfg.get("gguf_file") or "")
        self._progress = bool(cfg.get("show_progress", True))
        self._loaded: LoadedModel | None = None
        self._turns = Turns()
        self._stops: set[threading.Event] = set()
        self._stops_lock = threading.Lock()
        self._tools_rendered: bool | None = None
        self._guidance: Any = None
        self._last_run: Any = None
        target = str(cfg.get("model_path") or cfg.get("model_name") or "")
        if not target and self._models_dir is None:
            # The embedded default, as for llamacpp: `lollms generate -b transformers` with nothing else set.
            target = os.environ.get("LOLLMS_DEFAULT_MODEL", "")
        self.model_name = None
        if target:
            self._load(self._resolve(target))

    # -- models ---------------------------------------------------------------------------

    def _resolve(self, name: str) -> ModelSource:
        return resolve_model(
            name,
            models_dir=self._models_dir,
            hub_cache=self._hub_cache,
            gguf_file=self._gguf_file,
            allow_download=self._settings.allow_download,
        )

    def _load(self, source: ModelSource) -> None:
        """Free the current model, then load ``source`` (the caller holds the turn, or nothing runs yet)."""
        self._free()
        if self._threads:
            torch.set_num_threads(self._threads)
        self._loaded = LoadedModel(source, self._settings, progress=self._progress)
        self.model_name = source.name

    def _free(self) -> None:
        loaded, self._loaded = self._loaded, None
        self.model_name = None
        # The last run holds the model's tensors too: drop it, or the old model outlives the switch.
        self._tools_rendered, self._guidance, self._last_run = None, None, None
        if loaded is not None:
            loaded.close()

    def load_model(self, model_name: str) -> bool:
        """Switch to ``model_name``, freeing the current model first (its memory goes back to the OS/GPU).

        Waits for a running generation to end. If the new model fails to load, no model is
        loaded afterwards (the old one was already freed, so two never share the memory).

        :returns: ``False`` when no such model exists here (the current model stays loaded).
        :raises BindingLoadError: the model exists but cannot be loaded.
        """
        try:
            source = self._resolve(model_name)
        except NotFoundError:
            return False
        self._turns.acquire()
        try:
            self._load(source)
        finally:
            self._turns.release()
        return True

    def list_models(self) -> list[dict[str, Any]]:
        """Model folders and .gguf files in ``models_path``, cached hub models, and the loaded model."""
        models = list_local_models(self._models_dir, self._hub_cache)
        loaded = self._loaded
        if loaded is not None:
            path = str(loaded.source.path) if loaded.source.path is not None else loaded.source.location
            for entry in models:
                entry["loaded"] = entry["path"] == path
            if not any(entry["loaded"] for entry in models):
                models.insert(
                    0, {"model_name": loaded.source.name, "path": path, "kind": loaded.source.kind, "loaded": True}
                )
        return models

    def _require_model(self) -> LoadedModel:
        loaded = self._loaded
        if loaded is None:
            known = ", ".join(m["model_name"] for m in list_local_models(self._models_dir, self._hub_cache)) or "none"
            raise NotFoundError(
                "no model is loaded: set model_path (a model folder or .gguf file) or model_name, "
                f"or call load_model(name); available here: {known}"
            )
        return loaded

    def _model_for(self, request: ChatRequest) -> LoadedModel:
        """The model for ``request``, switching when it names another one (the caller holds the turn)."""
        wanted = request.model
        loaded = self._loaded
        if wanted and (loaded is None or wanted not in (self.model_name, loaded.source.location)):
            self._load(self._resolve(wanted))
        return self._require_model()

    def _context(self, loaded: LoadedModel, per_call: int | None) -> int:
        """Tokens a request may use: ``ctx_size`` (per call, else config), never above the model's own."""
        trained = loaded.n_ctx_train or 4096
        wanted = per_call or self._ctx_size
        return min(wanted, trained) if wanted else trained

    def get_model_info(self) -> dict[str, Any]:
        """Context length, parameters, dtype, device and capabilities of the loaded model."""
        loaded = self._require_model()
        source = loaded.source
        return {
            "binding": self.binding_name,
            "model_name": self.model_name,
            "path": str(source.path) if source.path is not None else source.location,
            "source": source.kind,
            "gguf_file": source.gguf_file,
            "loaded": True,
            "architecture": loaded.architecture,
            "n_params": loaded.n_params,
            "dtype": loaded.dtype,
            "device": str(loaded.model.device),
            "n_ctx": self._context(loaded, None),
            "n_ctx_train": loaded.n_ctx_train,
            "n_vocab": len(loaded.tokenizer),
            "memory_bytes": int(loaded.model.get_memory_footprint()),
            "load_seconds": round(loaded.load_seconds, 2),
            "has_chat_template": bool(getattr(loaded.tokenizer, "chat_template", None)),
            "vision": loaded.processor is not None,
            "embeddings": True,
            "supports_tools": self.supports_tools(),
            "supports_structured_output": self.supports_json_schema(),
            "trust_remote_code": self._settings.trust_remote_code,
        }

    def supports_tools(self, model: str | None = None) -> bool:
        """Whether the loaded model's chat template shows tools and writes calls as ``<tool_call>`` blocks.

        Checked by rendering the template, not guessed from the model's name. A template with
        another call format is reported unsupported (the core's ``tool_mode="prompt"`` serves it).
        """
        loaded = self._loaded
        if loaded is None or (model and model not in (self.model_name, loaded.source.location)):
            return False
        if self._tools_rendered is None:
            self._tools_rendered = renders_tools(loaded.tokenizer)
        return self._tools_rendered

    def supports_json_schema(self, model: str | None = None) -> bool:
        """Answers can be constrained to a JSON Schema (llguidance) whenever a model is loaded."""
        return self._loaded is not None

    # -- generation -----------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
        """Generate in a worker thread and yield text as it decodes; closing this stops at the next token."""
        stop = StopSignal()
        with self._stops_lock:
            self._stops.add(stop)
        try:
            self._turns.acquire(stop)
            try:
                yield from self._generate(request, stop)
            finally:
                self._turns.release()
        finally:
            stop.set()
            with self._stops_lock:
                self._stops.discard(stop)

    def _generate(self, request: ChatRequest, stop: StopSignal) -> Iterator[Chunk]:
        loaded = self._model_for(request)
        options = request.options
        tools = [t.to_openai() for t in request.tools] if request.tools and request.tool_choice != "none" else []
        inputs = encode_messages(loaded.tokenizer, loaded.processor, request.messages, loaded.source.name, tools)
        inputs = {k: v.to(loaded.model.device) if hasattr(v, "to") else v for k, v in inputs.items()}
        prompt_tokens = int(inputs["input_ids"].shape[-1])
        budget = prompt_budget(prompt_tokens, self._context(loaded, options.ctx_size), options.n_predict)
        config, processors = generation_config(
            loaded.model.generation_config, options, budget, loaded.tokenizer.pad_token_id
        )
        constraint = self._constraint(loaded, request, prompt_tokens, bool(tools))
        if constraint is not None:
            processors.append(constraint)
        if options.seed is not None:
            torch.manual_seed(options.seed)  # sampling draws from torch's global generator
        stops, calls = StopScanner(options.stop), ToolCallScanner() if tools else None
        run = GenerationRun(loaded.model, loaded.tokenizer, inputs, config, stop, processors)
        self._last_run = run  # for inspection: token counts, and how far decoding ran past a stop
        with _threads_for_call(options.n_threads, self._threads):
            texts = iter(run)
            try:
                for text in texts:
                    shown = stops.feed(text)
                    if calls is not None:
                        shown = calls.feed(shown)
                    if shown:
                        yield Chunk(shown)
                    if stops.hit:
                        break
            finally:
                close = getattr(texts, "close", None)
                if close is not None:
                    close()  # sets stop and joins the worker: decoding has ended when this returns
        tail = stops.flush()
        if calls is not None:
            tail = calls.feed(tail) + calls.flush()
        if tail:
            yield Chunk(tail)
        for index, block in enumerate(calls.blocks if calls is not None else ()):
            name, arguments = parse_call(block)
            # The contract's primitive yields deltas beside chunks (typed Iterator[Chunk] in the base).
            yield ToolCallDelta(index, name=name, arguments=arguments)  # type: ignore[misc]
        completion = run.completion_tokens
        finish = "length" if completion >= budget and not stops.hit else "stop"
        if calls is not None and calls.blocks:
            finish = "tool_calls"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
        }
        yield Chunk("", meta={"finish_reason": finish, "usage": usage})

    def _constraint(self, loaded: LoadedModel, request: ChatRequest, prompt_tokens: int, tools: bool) -> Any:
        """The llguidance constraint of this request: its json_schema, or tool calls when one is required."""
        forced = tools and request.tool_choice not in (None, "auto", "none")
        if request.json_schema is None and not forced:
            return None
        if self._guidance is None:
            self._guidance = guidance_tokenizer(loaded.tokenizer)
        if request.json_schema is not None:
            grammar = json_schema_grammar(request.json_schema)
        else:
            grammar = tool_call_grammar(request.tools, str(request.tool_choice), request.parallel_tool_calls)
        return GrammarConstraint(self._guidance, grammar, prompt_tokens)

    def cancel(self) -> None:
        """Stop every generation of this binding at its next token, and every caller waiting for a turn."""
        super().cancel()
        with self._stops_lock:
            for stop in self._stops:
                stop.set()
        self._turns.wake()

    # -- tokens and embeddings --------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` with the model's own tokenizer (no special tokens added)."""
        ids = self._require_model().tokenizer.encode(text, add_special_tokens=False)
        return [int(t) for t in ids]

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens`` with the model's tokenizer."""
        return str(self._require_model().tokenizer.decode([int(t) for t in tokens]))

    def count_tokens(self, text: str) -> int:
        """Exact number of tokens of ``text``."""
        return len(self.tokenize(text))

    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """Mean of the last hidden layer over each text's tokens (padding masked out), one vector per text."""
        if kwargs:
            raise ConfigError(f"embed() of transformers takes no options; got {', '.join(sorted(kwargs))}")
        self._turns.acquire()
        try:
            loaded = self._require_model()
            body = getattr(loaded.model, "base_model", loaded.model)
            limit = self._context(loaded, None)
            vectors: list[list[float]] = []
            for start in range(0, len(inputs), _EMBED_BATCH):
                batch = inputs[start : start + _EMBED_BATCH]
                encoded = loaded.tokenizer(batch, padding=True, truncation=True, max_length=limit, return_tensors="pt")
                encoded = {k: v.to(loaded.model.device) for k, v in encoded.items()}
                with torch.inference_mode():
                    hidden = body(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                vectors += pooled.float().cpu().tolist()
            return vectors
        finally:
            self._turns.release()

    def close(self) -> None:
        """Stop generations, free the model (memory back to the OS/GPU). Safe to call twice."""
        self.cancel()
        self._turns.acquire()
        try:
            self._free()
        finally:
            self._turns.release()


def _checked_threads(value: int, name: str) -> int:
    """``value`` if this machine can run that many engine threads (0 = torch's default)."""
    limit = max_engine_threads()
    if value < 0 or value > limit:
        raise ConfigError(
            f"transformers: {name}={value} is out of range for this machine: "
            f"allowed 0 .. {limit} (0 keeps torch's default)"
        )
    return value


@contextlib.contextmanager
def _threads_for_call(per_call: int | None, configured: int) -> Iterator[None]:
    """A call's ``n_threads`` for its duration (torch's thread count is process-wide: restored after)."""
    if not per_call or per_call == configured:
        yield
        return
    _checked_threads(per_call, "n_threads")
    before = torch.get_num_threads()
    torch.set_num_threads(per_call)
    try:
        yield
    finally:
        torch.set_num_threads(before)
