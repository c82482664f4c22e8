"""The ``llamacpp`` binding: local GGUF models in-process (xllamacpp), no server to run, no compiler."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lollms_core.bindings import LollmsLLMBinding
from lollms_core.errors import BindingLoadError, ConfigError, NotFoundError, NotSupportedError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta

from .engine import EngineSettings, LlamaEngine, load_header
from .gguf_header import GGUFError, read_gguf_header
from .limits import check_load_settings
from .wire import chat_body, chunks_from_frame

__all__ = ["LlamaCppBinding"]


class LlamaCppBinding(LollmsLLMBinding):
    """Chat, streaming, tokens and embeddings with a GGUF model loaded in this process.

    The model comes from ``model_path`` (a .gguf file) or ``models_path`` + ``model_name``;
    with neither, from the ``LOLLMS_DEFAULT_MODEL`` environment variable. One model is
    loaded at a time; concurrent calls share it through llama.cpp's slots.

    :raises BindingLoadError: the model file is missing, not GGUF, truncated or unloadable
        (the message names the path and the reason).
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        cfg = self.config
        self._models_dir = Path(cfg["models_path"]).expanduser() if cfg.get("models_path") else None
        self._engine: LlamaEngine | None = None
        self._engine_lock = threading.RLock()
        self._stops: set[threading.Event] = set()
        self._stops_lock = threading.Lock()
        mmproj = cfg.get("mmproj_path") or ""
        self._mmproj = Path(mmproj).expanduser() if mmproj else None
        self._load_settings: dict[str, Any] = {
            "ctx_size": int(cfg.get("ctx_size", 4096)),
            "n_threads": int(cfg.get("n_threads", 0)),
            "n_parallel": int(cfg.get("n_parallel", 2)),
            "embeddings": bool(cfg.get("embeddings", True)),
            "verbose": bool(cfg.get("verbose", False)),
        }
        self._progress = bool(cfg.get("show_progress", True))
        model_path = cfg.get("model_path") or ""
        # model_path's folder is searched too, so `-m other.gguf` picks a neighbour of the default model.
        self._default_dir = Path(model_path).expanduser().parent if model_path else None
        target = model_path
        if cfg.get("model_name"):
            target = str(self._resolve(str(cfg["model_name"]), must_exist=False))
        if not target and not self._models_dir:
            # The embedded default: `lollms generate` with no binding named runs this model.
            target = os.environ.get("LOLLMS_DEFAULT_MODEL", "")
        if target:
            self._load(Path(target).expanduser())

    # -- models ---------------------------------------------------------------------------

    def _resolve(self, name: str, must_exist: bool = True) -> Path:
        """A model name → its file: a path as given, else ``models_path/name`` (``.gguf`` optional)."""
        candidates = [Path(name).expanduser()]
        for folder in (self._models_dir, self._default_dir):
            if folder is not None:
                candidates += [folder / name, folder / f"{name}.gguf"]
        for path in candidates:
            if path.is_file():
                return path
        if must_exist:
            where = f" in {self._models_dir}" if self._models_dir else " (no models_path is set)"
            known = ", ".join(m["model_name"] for m in self.list_models()) or "none"
            raise NotFoundError(f"no model file '{name}'{where}; available: {known}")
        return candidates[1] if self._models_dir is not None else candidates[0]

    def _load(self, path: Path, **overrides: Any) -> None:
        """Load ``path`` (freeing the current model first), with optional load-setting overrides."""
        header = load_header(path)
        settings = EngineSettings(model_path=path, mmproj_path=self._mmproj, **{**self._load_settings, **overrides})
        check_load_settings(settings, header)  # before the engine: bad values crash llama.cpp, not raise
        if settings.mmproj_path is not None and not settings.mmproj_path.is_file():
            raise BindingLoadError(f"mmproj_path does not exist: {settings.mmproj_path}")
        with self._engine_lock:
            self._free()
            self._engine = LlamaEngine(settings, header, progress=self._progress)
            self._load_settings.update(overrides)
            self.model_name = self._display_name(path)

    def _display_name(self, path: Path) -> str:
        if self._models_dir is not None:
            try:
                return str(path.relative_to(self._models_dir))
            except ValueError:
                pass
        return path.name if path.suffix == ".gguf" else str(path)

    def _free(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            # A stream still running on it keeps its own reference; memory goes when it ends.
            engine.close()

    def load_model(self, model_name: str) -> bool:
        """Switch to ``model_name`` (a path, or a file in ``models_path``), freeing the current model.

        :returns: ``False`` when no such file exists (the current model stays loaded).
        :raises BindingLoadError: the file exists but is not a loadable GGUF model.
        """
        try:
            path = self._resolve(model_name)
        except NotFoundError:
            return False
        self._load(path)
        return True

    def list_models(self) -> list[dict[str, Any]]:
        """The .gguf files in ``models_path`` (and the loaded model), with facts read from their headers."""
        files: list[Path] = []
        if self._models_dir is not None and self._models_dir.is_dir():
            files = sorted({*self._models_dir.glob("*.gguf"), *self._models_dir.glob("*/*.gguf")})
        loaded = self._engine.settings.model_path if self._engine is not None else None
        # Compare paths as named, not resolved: two symlinks to one file are two models to the user.
        if loaded is not None and all(loaded.absolute() != f.absolute() for f in files):
            files.insert(0, loaded)
        models = []
        for path in files:
            entry: dict[str, Any] = {"model_name": self._display_name(path), "path": str(path)}
            try:
                header = read_gguf_header(path)
            except (GGUFError, OSError) as exc:
                entry["error"] = str(exc)
                models.append(entry)
                continue
            if header.is_projector:
                continue  # an mmproj file is not a model one can load
            entry.update(
                size_gb=round(header.size_bytes / 1e9, 3),
                architecture=header.architecture,
                context_length=header.context_length,
                quantization=header.quantization,
                n_params=header.n_params,
                loaded=loaded is not None and path.absolute() == loaded.absolute(),
            )
            models.append(entry)
        return models

    def get_model_info(self) -> dict[str, Any]:
        """n_ctx, n_params, architecture, quantisation and more for the loaded model."""
        engine = self._require_engine()
        header, facts = engine.header, engine.facts()
        meta = facts["meta"]
        return {
            "binding": self.binding_name,
            "model_name": self.model_name,
            "path": str(engine.settings.model_path),
            "loaded": True,
            "architecture": header.architecture,
            "quantization": header.quantization or facts["ftype"],
            "n_params": int(meta.get("n_params") or header.n_params),
            "n_ctx": engine.n_ctx,
            "n_ctx_train": meta.get("n_ctx_train", header.context_length),
            "n_vocab": meta.get("n_vocab"),
            "n_embd": meta.get("n_embd"),
            "size_bytes": header.size_bytes,
            "n_parallel": facts["total_slots"],
            "n_threads": engine.settings.n_threads or None,
            "vision": facts["vision"],
            "embeddings": engine.settings.embeddings,
            "has_chat_template": bool(facts["chat_template"]),
            "supports_tools": _template_has_tools(engine),
            "supports_structured_output": True,
        }

    def _require_engine(self) -> LlamaEngine:
        engine = self._engine
        if engine is None:
            hint = f"one of: {', '.join(m['model_name'] for m in self.list_models())}" if self._models_dir else ""
            raise NotFoundError(
                "no model is loaded: set model_path (a .gguf file) or models_path + model_name, "
                f"or call load_model(name){'; ' + hint if hint else ''}"
            )
        return engine

    def _engine_for(self, request: ChatRequest) -> LlamaEngine:
        """The engine for a request: switch model or reload with new ctx_size/n_threads when asked."""
        with self._engine_lock:
            engine = self._engine
            wanted = request.model
            if wanted and (engine is None or wanted not in (self.model_name, str(engine.settings.model_path))):
                self._load(self._resolve(wanted))
            engine = self._require_engine()
            opts = request.options
            changes = {
                k: v
                for k, v in (("ctx_size", opts.ctx_size), ("n_threads", opts.n_threads))
                if v is not None and v != getattr(engine.settings, k)
            }
            if changes:
                # Context size and threads are fixed when llama.cpp loads a model.
                self._load(engine.settings.model_path, **changes)
                engine = self._require_engine()
            return engine

    # -- generation -----------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[Chunk | ToolCallDelta]:
        """Stream the answer from the in-process engine; closing stops decoding at the next token."""
        engine = self._engine_for(request)
        if any(m.get("images") for m in request.messages) and not engine.facts()["vision"]:
            raise NotSupportedError(
                f"{self.model_name} cannot read images: it has no multimodal projector. "
                "Set mmproj_path to the model's mmproj .gguf file."
            )
        if request.tools and request.tool_choice != "none" and not _template_has_tools(engine):
            # llama.cpp would evaluate the prompt without the tools and answer in prose, silently.
            raise NotSupportedError(
                f"{self.model_name}'s chat template has no tool support (llama.cpp's template caps), so "
                "llama.cpp would ignore the tools. Use tool_mode='prompt' (tools described in the prompt, "
                "the answer constrained by a JSON schema) or a model whose template supports tools."
            )
        body = chat_body(request)
        stop = threading.Event()
        with self._stops_lock:
            self._stops.add(stop)
        try:
            for frame in engine.stream_chat(body, stop):
                yield from chunks_from_frame(frame)
        finally:
            stop.set()
            with self._stops_lock:
                self._stops.discard(stop)

    def supports_tools(self, model: str | None = None) -> bool:
        """Whether the loaded model's chat template takes tools, as llama.cpp reports it (never assumed)."""
        engine = self._engine
        return engine is not None and _template_has_tools(engine)

    def supports_json_schema(self, model: str | None = None) -> bool:
        """True: llama.cpp turns ``json_schema`` into a grammar that constrains decoding."""
        return True

    def cancel(self) -> None:
        """Stop every generation of this binding; decoding stops even if nobody pulls chunks."""
        super().cancel()
        with self._stops_lock:
            for stop in self._stops:
                stop.set()

    # -- tokens and embeddings --------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` with the model's own tokenizer (no BOS added)."""
        return self._require_engine().tokenize(text)

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens`` with the model's tokenizer."""
        return self._require_engine().detokenize([int(t) for t in tokens])

    def count_tokens(self, text: str) -> int:
        """Exact number of tokens of ``text``."""
        return len(self.tokenize(text))

    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """Mean-pooled embeddings, one per input."""
        if kwargs:
            raise ConfigError(f"embed() of llamacpp takes no options; got {', '.join(sorted(kwargs))}")
        engine = self._require_engine()
        if not engine.settings.embeddings:
            raise NotSupportedError("embeddings are off for this binding: create it with embeddings=true")
        vectors: list[list[float]] = engine.embed(inputs)
        return vectors

    def close(self) -> None:
        """Free the loaded model. Safe to call twice."""
        self.cancel()
        with self._engine_lock:
            self._free()


def _template_has_tools(engine: LlamaEngine) -> bool:
    caps = engine.facts()["chat_template_caps"]
    return bool(caps.get("supports_tools")) and bool(caps.get("supports_tool_calls", True))
