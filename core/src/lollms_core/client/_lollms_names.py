"""lollms_client 1.21 client names the seeds did not have.

Prompt-format headers, the context size, image token estimates, switching the LLM binding
or model, ranking answers and map-reduce over a text longer than the context window. Each
behaves as lollms_client's does unless noted (docs/migrating-from-lollms-client.md).
"""

from __future__ import annotations

import math
import struct
from typing import Any

from ..errors import BackendError, ConfigError, NotSupportedError, StructuredContentError, error_dict
from ..types import ImageInput, Message
from ._modalities import require
from ._text import TextMixin

__all__ = ["LollmsClientNames"]

_MAP_PROMPT = (
    "You are reading part {i} of {n} of a long document. Extract only the facts, figures, quotes and steps "
    "from this part that help with the task below. Do not do the task yet.\nTask: {task}\n\nPart {i}:\n{chunk}"
)
_REDUCE_PROMPT = "Notes taken from a long document, part by part:\n{notes}\n\nUsing these notes, {task}"


class LollmsClientNames(TextMixin):
    """lollms_client's helper names on :class:`~lollms_core.LollmsClient`, over the text helpers."""

    # Set by LollmsClient.__init__ (declared here so the headers type-check).
    user_name: str
    ai_name: str

    # -- prompt-format headers (lollms text format: "!@>name: ") -----------------------------

    #: Opens a header in the lollms text format.
    start_header_id_template = "!@>"
    #: Closes a header.
    end_header_id_template = ": "
    #: The system sender's name.
    system_message_template = "system"
    #: Between two messages.
    separator_template = "\n"

    def _header(self, name: str) -> str:
        return f"{self.start_header_id_template}{name}{self.end_header_id_template}"

    @property
    def system_full_header(self) -> str:
        """``"!@>system: "``."""
        return self._header(self.system_message_template)

    @property
    def user_full_header(self) -> str:
        """``"!@>{user_name}: "``."""
        return self._header(self.user_name)

    @property
    def ai_full_header(self) -> str:
        """``"!@>{ai_name}: "``."""
        return self._header(self.ai_name)

    def system_custom_header(self, name: str) -> str:
        """A system-style header with another name: ``"!@>{name}: "``."""
        return self._header(name)

    def user_custom_header(self, name: str = "user") -> str:
        """A user header with another name."""
        return self._header(name)

    def ai_custom_header(self, name: str = "assistant") -> str:
        """An assistant header with another name."""
        return self._header(name)

    # -- the server, the context, the model --------------------------------------------------

    def listMountedPersonalities(self) -> list[Any]:
        """Personalities mounted on a lollms server (seed 004): a list.

        :raises NotSupportedError: the LLM binding is not a lollms server binding (none of
            the bindings shipped with lollms-core is; an OpenAI-compatible lollms server has no such route).
        """
        llm = require(self.llm, "llm", self.registry)
        method = getattr(llm, "lollms_listMountedPersonalities", None)
        if not callable(method):
            raise NotSupportedError(
                f"listMountedPersonalities needs a lollms server binding; the '{llm.binding_name}' binding has no "
                "personalities (lollms-core has no personality layer: put the persona in the system prompt)"
            )
        return list(method())

    def get_ctx_size(self, model_name: str | None = None) -> int | None:
        """The LLM's context window in tokens: the ``ctx_size`` option or setting, else the model's.

        ``None`` when nothing says (lollms_client guesses 32000; a wrong guess overflows silently).
        ``model_name``, if given, must be the active model.
        """
        llm = require(self.llm, "llm", self.registry)
        if model_name is not None and model_name != llm.model_name:
            raise NotSupportedError(
                f"get_ctx_size({model_name!r}): only the active model's context is known ({llm.model_name!r})"
            )
        value = llm.default_options.ctx_size
        if value is None:
            try:
                value = llm.config.get("ctx_size")
            except Exception:  # a config mapping that refuses unknown keys: same as absent
                value = None
        if value is None:
            info = llm.get_model_info()
            value = info.get("ctx_size") if isinstance(info, dict) else None
        return int(value) if value else None

    def count_image_tokens(self, image: ImageInput) -> int:
        """Estimated prompt tokens for ``image`` (path, bytes, base64 or data URL).

        OpenAI's tile rule (85 + 170 per 512-pixel tile after scaling to 2048/768) when the
        size can be read from the header, else lollms_client's byte-size estimate.

        :raises ConfigError: the image cannot be read (lollms_client returns -1).
        """
        import base64

        from ..media import image_to_base64

        raw = base64.b64decode(image_to_base64(image))
        size = _image_size(raw)
        if size is None:
            return int(len(raw) * 128 / (512 * 512))
        scale = min(1.0, 2048 / max(size))
        fitted = (size[0] * scale, size[1] * scale)
        scale = min(1.0, 768 / max(1.0, min(fitted)))
        tiles = math.ceil(fitted[0] * scale / 512) * math.ceil(fitted[1] * scale / 512)
        return 85 + 170 * tiles

    # -- multi-call recipes --------------------------------------------------------------------

    def multichoice_ranking(
        self,
        question: str,
        possible_answers: list[Any],
        context: str = "",
        return_explanation: bool = False,
        **kwargs: Any,
    ) -> list[int] | dict[str, Any]:
        """Rank ``possible_answers`` from best to worst: a list of their indices.

        ``[]`` (or ``{"ranking": [], "explanation": "Failed"}``) when the model gives no valid
        ranking, as lollms_client does; with ``strict=True`` that raises.
        """
        n = len(possible_answers)
        choices = "\n".join(f"{i}. {a}" for i, a in enumerate(possible_answers))
        prompt = "Rank the possible answers from best to worst by returning a list of their indices."
        if context:
            prompt += f"\n\nContext:\n{context}"
        prompt += f"\n\nQuestion:\n{question}\n\nPossible answers:\n{choices}"
        items = {"type": "integer", "minimum": 0, "maximum": max(0, n - 1)}
        schema = {"type": "object", "required": ["ranking"], "properties": {
            "ranking": {"type": "array", "items": items, "minItems": n, "maxItems": n},
            "explanation": {"type": "string"}}}  # fmt: skip
        try:
            out = self._structured(prompt, schema, None, None, 2, **kwargs)
        except StructuredContentError:
            if self.strict:
                raise
            return {"ranking": [], "explanation": "Failed"} if return_explanation else []
        ranking = [int(i) for i in out["ranking"]]
        if sorted(ranking) != list(range(n)):  # JSON schema cannot say "each index once"
            if self.strict:
                raise StructuredContentError(f"ranking {ranking} is not a permutation of 0..{n - 1}", str(out))
            ranking = []
        return {"ranking": ranking, "explanation": str(out.get("explanation", ""))} if return_explanation else ranking

    def long_context_processing(
        self,
        text_to_process: str,
        contextual_prompt: str,
        processing_type: str = "text",
        chunk_size_ratio: float = 0.5,
        overlap_ratio: float = 0.1,
        synthesis_prompt: str | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> str | dict[str, Any]:
        """Do ``contextual_prompt`` on a text that may exceed the context window (map-reduce).

        If the text fits in 70 % of the window it is answered in one call. Otherwise it is cut
        into token chunks of ``chunk_size_ratio`` of that room (overlapping by ``overlap_ratio``);
        notes are taken from each, then the task is answered from the notes (themselves
        condensed again while they do not fit). Returns the text, or the seeds' error dict on a
        backend failure (raises with ``strict=True``).

        :raises NotSupportedError: a ``processing_type`` other than ``"text"``.
        :raises ConfigError: ratios out of range, or no context size known (set ``ctx_size``).
        """
        if processing_type != "text":
            raise NotSupportedError(
                f"long_context_processing(processing_type={processing_type!r}) is not offered: only 'text'; "
                "run generate_structured_content/yes_no on its text result instead"
            )
        if not 0 < chunk_size_ratio <= 1 or not 0 <= overlap_ratio < 1:
            raise ConfigError("chunk_size_ratio must be in (0, 1] and overlap_ratio in [0, 1)")
        ctx = self.get_ctx_size()
        if ctx is None:
            raise ConfigError("long_context_processing needs the context size: set ctx_size on the client or binding")
        llm = require(self.llm, "llm", self.registry)
        room = int(ctx * 0.7) - llm.count_tokens(contextual_prompt + (system_prompt or ""))
        system: list[Message] = [{"role": "system", "content": system_prompt}] if system_prompt else []
        try:
            text = text_to_process
            while llm.count_tokens(text) > room:
                tokens = llm.tokenize(text)
                size = max(16, int(room * chunk_size_ratio))
                step = max(1, size - int(size * overlap_ratio))
                chunks = [llm.detokenize(tokens[i : i + size]) for i in range(0, len(tokens), step)]
                notes = []
                for i, chunk in enumerate(chunks):
                    ask = _MAP_PROMPT.format(i=i + 1, n=len(chunks), task=contextual_prompt, chunk=chunk)
                    notes.append(self._complete([*system, {"role": "user", "content": ask}], **kwargs))
                condensed = "\n\n".join(f"[part {i + 1}] {note.strip()}" for i, note in enumerate(notes))
                if llm.count_tokens(condensed) >= llm.count_tokens(text):
                    raise ConfigError(
                        "long_context_processing: the notes are not shorter than the text; lower n_predict"
                    )
                text = condensed
            task = synthesis_prompt or contextual_prompt
            final = _REDUCE_PROMPT.format(notes=text, task=task)
            return self._complete([*system, {"role": "user", "content": final}], **kwargs)
        except BackendError as exc:
            if self.strict:
                raise
            return error_dict(exc)


def _image_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF or JPEG header; ``None`` for anything else."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) >= 24:
        width, height = struct.unpack(">II", raw[16:24])
        return int(width), int(height)
    if raw.startswith(b"GIF8") and len(raw) >= 10:
        width, height = struct.unpack("<HH", raw[6:10])
        return int(width), int(height)
    if raw.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(raw):
            if raw[i] != 0xFF:
                return None
            marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", raw[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None
