"""One GGUF model loaded in llama.cpp's server, run in-process through xllamacpp.

xllamacpp gives chat completions and embeddings as direct calls, but tokenize, detokenize
and the model facts only as HTTP routes of the listener every ``Server`` opens; those are
asked on 127.0.0.1 with the standard library. Imported only when a binding is created.
"""

from __future__ import annotations

import http.client
import json
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lollms_core.errors import BindingLoadError, ServerError

from .gguf_header import GGUFError, GGUFHeader, read_gguf_header
from .limits import effective_context

__all__ = ["EngineSettings", "LlamaEngine", "StreamCancelled"]

# How long close() waits for the engine to acknowledge a stop; one token is milliseconds.
_STOP_WAIT_S = 10.0


@dataclass(frozen=True)
class EngineSettings:
    """Load-time settings; changing any of them means loading the model again."""

    model_path: Path
    ctx_size: int = 4096
    n_threads: int = 0
    n_parallel: int = 2
    embeddings: bool = True
    mmproj_path: Path | None = None
    verbose: bool = False


class StreamCancelled(Exception):
    """Internal: the stream was stopped before the engine finished."""


class LlamaEngine:
    """A loaded model: ``stream_chat``, ``embed``, ``tokenize``, ``detokenize``, ``facts``.

    Concurrent calls share the one model: llama.cpp batches them over ``n_parallel`` slots
    that share one KV cache (``kv_unified``), so each request may use the whole context.
    """

    def __init__(self, settings: EngineSettings, header: GGUFHeader, progress: bool = False) -> None:
        import xllamacpp  # type: ignore[import-untyped,unused-ignore]

        self.settings, self.header = settings, header
        params = xllamacpp.CommonParams()
        params.model.path = str(settings.model_path)
        # 0 = the model's own training context; never more than it was trained for.
        params.n_ctx = effective_context(header, settings.ctx_size)
        params.n_parallel = settings.n_parallel
        params.kv_unified = True
        if settings.n_threads > 0:
            params.cpuparams.n_threads = settings.n_threads
            params.cpuparams_batch.n_threads = settings.n_threads
        if settings.embeddings:
            params.embedding = True
            params.pooling_type = 1  # mean: one vector per input, OpenAI-shaped
        if settings.mmproj_path is not None:
            params.mmproj.path = str(settings.mmproj_path)
        params.verbosity = 3 if settings.verbose else -1
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port: the listener only serves tokenize/props to this process
        self.n_ctx = params.n_ctx
        with _LoadProgress(header, enabled=progress):
            try:
                self._server: Any = xllamacpp.Server(params)
            except Exception as exc:
                raise BindingLoadError(
                    f"llama.cpp could not load {settings.model_path} ({header.architecture}, "
                    f"{header.quantization or 'unknown quantisation'}): {exc}. Is this architecture supported by "
                    f"xllamacpp {getattr(xllamacpp, '__version__', '?')}? Run with verbose=true to see llama.cpp's log."
                ) from None
        url = urlsplit(self._server.listening_address)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._facts: dict[str, Any] | None = None
        # xllamacpp returns from Server() just before its task loop starts, and a stop sent in that
        # gap is lost (freeing the model then hangs forever). /slots is answered by the loop itself,
        # so once it answers, the loop runs and a later free() is safe.
        self._http("GET", "/slots")

    # -- generation ---------------------------------------------------------------------

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """One blocking chat completion (OpenAI response dict)."""
        try:
            result: dict[str, Any] = self._server.handle_chat_completions({**body, "stream": False})
        except (RuntimeError, ValueError) as exc:
            raise ServerError(f"llama.cpp refused the request for {self.settings.model_path.name}: {exc}") from None
        _raise_if_error(result, self.settings.model_path.name)
        return result

    def stream_chat(self, body: dict[str, Any], stop: threading.Event) -> Iterator[dict[str, Any]]:
        """Yield the OpenAI stream deltas of a chat completion.

        Decoding runs in a worker thread (the engine's call blocks, with the GIL released).
        Its callback returns ``True`` — llama.cpp's "stop" — once ``stop`` is set, so
        closing this generator or setting ``stop`` from another thread ends decoding at the
        next token; ``close()`` waits until the engine has let go of the slot.
        """
        frames: queue.Queue[Any] = queue.Queue()
        done = object()

        def on_frame(frame: dict[str, Any]) -> bool:
            if stop.is_set():
                return True
            frames.put(frame)
            return False

        def work() -> None:
            try:
                self._server.handle_chat_completions({**body, "stream": True}, on_frame)
            except BaseException as exc:  # delivered to the consumer, raised there
                frames.put(exc)
            finally:
                frames.put(done)

        worker = threading.Thread(target=work, name="lollms-llamacpp-stream", daemon=True)
        worker.start()
        try:
            while True:
                item = frames.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    if isinstance(item, (RuntimeError, ValueError)):
                        raise ServerError(f"llama.cpp refused the request for {self.settings.model_path.name}: {item}")
                    raise item
                _raise_if_error(item, self.settings.model_path.name)
                yield item
        finally:
            stop.set()
            worker.join(_STOP_WAIT_S)

    # -- embeddings and tokens ------------------------------------------------------------

    def embed(self, inputs: list[str]) -> list[list[float]]:
        """Mean-pooled vectors, one per input, in input order."""
        result = self._server.handle_embeddings({"input": inputs})
        _raise_if_error(result, self.settings.model_path.name)
        rows = sorted(result.get("data") or [], key=lambda r: r.get("index", 0))
        if len(rows) != len(inputs):
            raise ServerError(f"llama.cpp returned {len(rows)} embeddings for {len(inputs)} inputs")
        return [[float(x) for x in row["embedding"]] for row in rows]

    def tokenize(self, text: str, add_special: bool = False) -> list[int]:
        """Token ids with the model's own tokenizer."""
        tokens = self._http("POST", "/tokenize", {"content": text, "add_special": add_special})["tokens"]
        return [int(t) for t in tokens]

    def detokenize(self, tokens: list[int]) -> str:
        """Text of token ids."""
        return str(self._http("POST", "/detokenize", {"tokens": tokens})["content"])

    def facts(self) -> dict[str, Any]:
        """What the loaded engine reports: meta (n_params, n_ctx_train...), vision, slots, chat template."""
        if self._facts is None:
            meta = self._http("GET", "/v1/models")["data"][0].get("meta", {})
            props = self._http("GET", "/props")
            self._facts = {
                "meta": meta,
                "vision": bool((props.get("modalities") or {}).get("vision")),
                "total_slots": props.get("total_slots"),
                "chat_template": props.get("chat_template") or "",
                # What llama.cpp found the template can do (supports_tools, supports_tool_calls...).
                "chat_template_caps": dict(props.get("chat_template_caps") or {}),
                "ftype": props.get("model_ftype"),
            }
        return self._facts

    def close(self) -> None:
        """Free the model: llama.cpp's server loop stops and its memory is released."""
        server, self._server = getattr(self, "_server", None), None
        del server

    def _http(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._server is None:
            raise ServerError(f"the model {self.settings.model_path.name} was unloaded")
        conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = json.loads(response.read() or b"null")
        except (OSError, ValueError) as exc:
            raise ServerError(f"llama.cpp's in-process listener failed on {path}: {exc}") from None
        finally:
            conn.close()
        if response.status != 200:
            raise ServerError(f"llama.cpp answered {response.status} on {path}: {data}", status_code=response.status)
        return data


def load_header(path: Path) -> GGUFHeader:
    """Read and check a model file's header, turning every failure into a BindingLoadError naming the path."""
    try:
        header = read_gguf_header(path)
    except FileNotFoundError:
        raise BindingLoadError(f"model file not found: {path}") from None
    except IsADirectoryError:
        raise BindingLoadError(f"model path is a directory, not a .gguf file: {path}") from None
    except (GGUFError, OSError) as exc:
        raise BindingLoadError(f"cannot load model: {exc}") from None
    if header.is_projector:
        raise BindingLoadError(f"{path} is a multimodal projector (mmproj); pass it as mmproj_path, not as the model")
    return header


def _raise_if_error(result: Any, model: str) -> None:
    if isinstance(result, dict) and "error" in result and "choices" not in result:
        error = result["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        code = error.get("code") if isinstance(error, dict) else None
        raise ServerError(
            f"llama.cpp error for {model}: {message}", status_code=code if isinstance(code, int) else None
        )


class _LoadProgress:
    """Loading a big model takes seconds with no engine callback: show elapsed time on stderr."""

    def __init__(self, header: GGUFHeader, enabled: bool) -> None:
        self.header, self.enabled = header, enabled
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._t0 = 0.0

    def __enter__(self) -> _LoadProgress:
        if not self.enabled:
            return self
        h = self.header
        size = h.size_bytes / 1e9
        self._t0 = time.perf_counter()
        sys.stderr.write(
            f"lollms-llamacpp: loading {h.path.name} ({size:.2f} GB, {h.architecture}, {h.quantization or '?'})"
        )
        sys.stderr.flush()
        if sys.stderr.isatty():
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            sys.stderr.write(".")
            sys.stderr.flush()

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if not self.enabled:
            return
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        outcome = "failed" if exc_type is not None else "ready"
        sys.stderr.write(f" {outcome} in {time.perf_counter() - self._t0:.1f} s\n")
        sys.stderr.flush()
