"""Echo bindings: real implementations of every contract with no engine behind them.

They make the conformance kit, the client and the CLI testable in milliseconds, and let
a newcomer try ``lollms generate -b echo "hello"`` before installing a backend.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import threading
import time
import wave
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import errors
from ..bindings import (
    LollmsLLMBinding,
    LollmsSTTBinding,
    LollmsTTIBinding,
    LollmsTTMBinding,
    LollmsTTSBinding,
    LollmsTTVBinding,
)
from ..media import sniff_format
from ..types import MSG_TYPE, ChatRequest, Chunk, ImageInput, ToolCallDelta
from ._echo_tools import echo_tool_stream

__all__ = [
    "EchoLLMBinding",
    "EchoSTTBinding",
    "EchoTTIBinding",
    "EchoTTMBinding",
    "EchoTTSBinding",
    "EchoTTVBinding",
]

_PIECE = re.compile(r"\s*\S+|\s+")
_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_FAILURES: dict[str, type[errors.BackendError]] = {
    "auth": errors.AuthenticationError,
    "not_found": errors.NotFoundError,
    "rate_limit": errors.RateLimitError,
    "server": errors.ServerError,
    "connection": errors.BackendConnectionError,
    "timeout": errors.BackendTimeoutError,
}


class _Vocab:
    """A shared, growing word-piece vocabulary: exact round trips without a model file."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.pieces: list[str] = []
        self.lock = threading.Lock()

    def encode(self, text: str) -> list[int]:
        out = []
        with self.lock:
            for piece in _PIECE.findall(text):
                if piece not in self.ids:
                    self.ids[piece] = len(self.pieces)
                    self.pieces.append(piece)
                out.append(self.ids[piece])
        return out

    def decode(self, tokens: list[int]) -> str:
        try:
            return "".join(self.pieces[t] for t in tokens)
        except (IndexError, TypeError):
            raise errors.ConfigError(f"unknown token id in {tokens!r}") from None


_VOCAB = _Vocab()


def _maybe_fail(binding: Any) -> None:
    kind = binding.config.get("fail_with") or ""
    if kind in _FAILURES:
        raise _FAILURES[kind](f"echo binding asked to fail with '{kind}'", status_code=None)
    if kind == "engine":  # what a crashing engine raises: not a lollms error at all
        raise RuntimeError("echo engine asked to crash")


class EchoLLMBinding(LollmsLLMBinding):
    """Streams the last user message back, one word piece per chunk.

    ``<think>...</think>`` in the prompt comes back as thought chunks; images add a
    ``[N image(s)]`` prefix; ``n_predict`` limits the number of pieces (= tokens).
    ``/call NAME ARGS`` lines make it call tools (natively, through a JSON Schema, or in
    lollms_client's ``<tool>`` text protocol): see :mod:`lollms_core.builtin._echo_tools`.
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        #: How many streams were opened and closed: lets tests prove "stop closes upstream".
        self.streams_opened = 0
        self.streams_closed = 0

    def _stream(self, request: ChatRequest) -> Iterator[Chunk | ToolCallDelta]:
        self.streams_opened += 1
        try:
            _maybe_fail(self)
            scripted = echo_tool_stream(request, str(self.config.get("tool_calling") or "native"))
            if scripted is not None:  # tool calls or constrained output: see _echo_tools
                yield from scripted
                yield Chunk("", meta={"finish_reason": "stop"})
                return
            last = next((m for m in reversed(request.messages) if m.get("role") == "user"), {"content": ""})
            text = str(last.get("content") or "")
            delay = float(self.config.get("delay") or 0.0)
            for thought in _THINK.findall(text):
                yield Chunk(thought, MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK)
            text = _THINK.sub("", text)
            if request.images:
                text = f"[{len(request.images)} image(s)] {text}"
            text = str(request.extra.get("prefix") or "") + text
            pieces = _PIECE.findall(text)
            limit = request.options.n_predict
            for i, piece in enumerate(pieces[:limit] if limit else pieces):
                if delay:
                    time.sleep(delay)
                if self.config.get("fail_with") == "cut" and i == 2:
                    raise errors.ServerError("echo stream cut after 2 chunks")
                yield Chunk(piece)
            finish = "length" if limit and len(pieces) > limit else "stop"
            n_out = min(len(pieces), limit or len(pieces))
            yield Chunk("", meta={"finish_reason": finish, "usage": {"completion_tokens": n_out}})
        finally:
            self.streams_closed += 1

    def supports_tools(self, model: str | None = None) -> bool:
        """Unless configured ``tool_calling: none``."""
        return self.config.get("tool_calling") != "none"

    def supports_json_schema(self, model: str | None = None) -> bool:
        """Unless configured ``json_schema: false``."""
        return self.config.get("json_schema") is not False

    def tokenize(self, text: str) -> list[int]:
        """Word-piece ids (exact round trip with :meth:`detokenize`)."""
        return _VOCAB.encode(text)

    def detokenize(self, tokens: list[int]) -> str:
        """Text of word-piece ids."""
        return _VOCAB.decode(tokens)

    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """A deterministic 16-dimension hashed bag of words per input, normalised."""
        return [self._vector(t) for t in inputs]

    @staticmethod
    def _vector(text: str) -> list[float]:
        v = [0.0] * 16
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % 16] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def list_models(self) -> list[dict[str, Any]]:
        """The one echo model."""
        return [{"model_name": "echo", "size_gb": 0.0}]

    def get_model_info(self) -> dict[str, Any]:
        """Echo's model facts."""
        return {
            "binding": "echo",
            "model_name": self.model_name,
            "ctx_size": 4096,
            "vision": True,
            "supports_tools": self.supports_tools(),
            "supports_structured_output": self.supports_json_schema(),
        }


def _png(rgb: tuple[int, int, int], size: int) -> bytes:
    row = b"\x00" + bytes(rgb) * size
    chunks = [
        (b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)),
        (b"IDAT", zlib.compress(row * size)),
        (b"IEND", b""),
    ]
    body = b"".join(struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d)) for t, d in chunks)
    return b"\x89PNG\r\n\x1a\n" + body


def _colour(text: str) -> tuple[int, int, int]:
    h = hashlib.sha256(text.encode()).digest()
    return h[0], h[1], h[2]


class EchoTTIBinding(LollmsTTIBinding):
    """A solid-colour PNG whose colour is derived from the prompt."""

    def _generate_image(self, prompt: str, params: dict[str, Any]) -> bytes:
        _maybe_fail(self)
        return _png(_colour(prompt), int(params.get("size", 8)))

    def _edit_image(self, images: list[ImageInput], prompt: str, params: dict[str, Any]) -> bytes:
        _maybe_fail(self)
        return _png(_colour(prompt + ("+mask" if params.get("mask") is not None else "")), int(params.get("size", 8)))

    def list_models(self) -> list[dict[str, Any]]:
        """The one echo image model."""
        return [{"model_name": "echo-png"}]


_TEXT_CHUNK = b"lmtx"  # a private RIFF chunk: players skip it, the echo STT reads it


def _wav(seconds: float, text: str = "", freq: float = 440.0) -> bytes:
    rate = 8000
    frames = int(rate * seconds)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(frames))
        )
    data = buf.getvalue()
    if text:
        payload = text.encode()
        payload += b"\x00" * (len(payload) % 2)
        data += _TEXT_CHUNK + struct.pack("<I", len(payload)) + payload
        data = data[:4] + struct.pack("<I", len(data) - 8) + data[8:]
    return data


class EchoTTSBinding(LollmsTTSBinding):
    """A WAV tone (0.05 s per word) that carries the text in a private chunk."""

    def _generate_audio(self, text: str, voice: str | None, params: dict[str, Any]) -> bytes:
        _maybe_fail(self)
        if voice is not None and voice not in self.list_voices():
            raise errors.ConfigError(f"unknown voice '{voice}'; available: {', '.join(self.list_voices())}")
        return _wav(0.05 * max(1, len(text.split())), text, 440.0 if voice != "echo-low" else 220.0)

    def list_voices(self) -> list[str]:
        """Two tones."""
        return ["echo-high", "echo-low"]


class EchoSTTBinding(LollmsSTTBinding):
    """Reads back the text the echo TTS hid in its WAV; plain audio (or silence) gives ``""``."""

    def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
        _maybe_fail(self)
        data = audio if isinstance(audio, bytes) else audio.read_bytes()
        name = "<bytes>" if isinstance(audio, bytes) else str(audio)
        if sniff_format(data) != "wav":
            raise errors.ConfigError(f"audio '{name}' is not a WAV file (the echo binding reads WAV only)")
        pos = 12
        while pos + 8 <= len(data):
            cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
            if cid == _TEXT_CHUNK:
                return data[pos + 8 : pos + 8 + size].rstrip(b"\x00").decode()
            pos += 8 + size + (size % 2)
        return ""

    def list_models(self) -> list[dict[str, Any]]:
        """The one echo transcription model."""
        return [{"model_name": "echo-stt"}]


class EchoTTVBinding(LollmsTTVBinding):
    """A minimal MP4 (``ftyp`` + empty ``mdat``) whose brand box carries a prompt hash."""

    def _generate_video(self, prompt: str, params: dict[str, Any]) -> bytes:
        _maybe_fail(self)
        ftyp = b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
        mdat = b"mdat" + hashlib.sha256(prompt.encode()).digest()
        return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(mdat) + 4) + mdat


class EchoTTMBinding(LollmsTTMBinding):
    """A WAV tone whose pitch depends on the prompt."""

    def _generate_music(self, prompt: str, params: dict[str, Any]) -> bytes:
        _maybe_fail(self)
        return _wav(0.25, "", 220.0 + _colour(prompt)[0])
