"""``RouterBinding``: an LLM binding whose engine is a pool of other LLM bindings.

It implements the base's one primitive, ``_stream`` (and ``_astream``, so members with a
native async client keep it); the base derives every other form from those. Both faces are
the same short loop around :class:`~lollms_core.router._pool.Pool`, which holds every decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..bindings._streaming import StreamItem, closable
from ..bindings.llm import LollmsLLMBinding
from ..errors import BindingNotFoundError, ConfigError, EngineError, LollmsError, NotSupportedError
from ..registry import Registry
from ..types import ChatRequest, Modality
from ._pool import Attempt, Member, Pool, prefix_key, should_fail_over

__all__ = ["RouterBinding"]

T = TypeVar("T")
_MEMBER_KEYS = ("binding", "weight", "max_concurrency")


class RouterBinding(LollmsLLMBinding):
    """Spreads requests over member bindings; fails over before the first chunk; cools failing members down.

    Config: ``members`` (list of ``{"binding": NAME, ...config, "weight"?, "max_concurrency"?}``),
    ``strategy`` (``least-busy`` | ``round-robin`` | ``latency`` | ``prefix-affinity``),
    ``cooldown``, ``max_cooldown``. Each member's config is validated against its own manifest
    here, at construction; an error names the member's index and the key.

    A member whose manifest declares ``max_retries`` gets ``max_retries=0`` unless its config sets
    it: the router moves a failed request to another member instead of retrying the same one.
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        members: list[Member] = []
        try:
            for index, entry in enumerate(self.config["members"]):
                members.append(self._make_member(index, entry))
        except BaseException:
            for m in members:
                m.binding.close()
            raise
        if not members:
            raise ConfigError("llm binding 'router': 'members' is empty; give at least one {binding: NAME, ...}")
        self.pool = Pool(members, self.config["strategy"], self.config["cooldown"], self.config["max_cooldown"])
        # Members' secrets (service_key...) sit inside the 'members' list, out of reach of the base's
        # masking: keep each member's own masked view instead, so no repr or log shows them.
        shown = [
            {"binding": m.binding.binding_name, **m.binding.config.masked(), "weight": m.weight,
             "max_concurrency": m.max_concurrency}
            for m in members
        ]  # fmt: skip
        self.config = type(self.config)({**self.config, "members": shown})

    def _members_registry(self) -> Registry:
        """The registry this router came from: its members are made from the same table."""
        sink = self.registry
        if not isinstance(sink, Registry):
            raise ConfigError("llm binding 'router' needs a registry to make its members: create it through one")
        return sink

    def _make_member(self, index: int, entry: Any) -> Member:
        where = f"llm binding 'router': member #{index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a mapping like {{binding: openai, host_address: ...}}, got {entry!r}")
        name = entry.get("binding")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where} has no 'binding' (the member's binding name, e.g. 'openai')")
        weight = entry.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ConfigError(f"{where}: 'weight' must be a number > 0, got {weight!r}")
        limit = entry.get("max_concurrency", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ConfigError(f"{where}: 'max_concurrency' must be an integer >= 0 (0: no limit), got {limit!r}")
        config = {k: v for k, v in entry.items() if k not in _MEMBER_KEYS}
        try:
            registry = self._members_registry()
            spec = registry.get(Modality.LLM, name)
            checker = spec.checker  # the cached manifest: no pydantic on the warm path
            if checker is not None and checker.parameter("max_retries") is not None:
                config.setdefault("max_retries", 0)
            binding = registry.create(Modality.LLM, name, strict=True, **config)
        except (ConfigError, BindingNotFoundError) as exc:
            raise type(exc)(f"{where} ({name}): {exc}") from None
        if not isinstance(binding, LollmsLLMBinding):
            raise ConfigError(f"{where}: '{name}' is not an LLM binding")
        return Member(
            index=index,
            binding=binding,
            label=_label(name, binding.config),
            weight=float(weight),
            max_concurrency=limit,
            call_options=_call_options(binding),
        )

    # == the primitive ====================================================================

    def build_request(self, prompt: Any, *, method: str = "generate_text", **params: Any) -> ChatRequest:
        """As the base, plus per-call options declared by members (``http_stream``, ``json_mode``...).

        Such an option is checked now against every member that declares it, and later given
        only to those members.
        """
        declared = {name for m in self.pool.members for name in m.call_options}
        passthrough = {k: params.pop(k) for k in list(params) if k in declared}
        request = super().build_request(prompt, method=method, **params)
        for m in self.pool.members:
            mine = {k: v for k, v in passthrough.items() if k in m.call_options}
            if mine:
                m.binding._checker().validate_call("generate_text", mine)
        request.extra.update(passthrough)
        return request

    def _member_request(self, request: ChatRequest, member: Member) -> ChatRequest:
        """The request as this member expects it: its own declared options, with its defaults."""
        mine = {k: v for k, v in request.extra.items() if k in member.call_options}
        return replace(request, extra=member.binding._checker().validate_call("generate_text", mine))

    def _key(self, request: ChatRequest) -> str | None:
        return prefix_key(request.messages) if self.pool.strategy == "prefix-affinity" else None

    # == capabilities =======================================================================

    def supports_tools(self, model: str | None = None) -> bool:
        """True when at least one member supports native tools (tool requests go only to those)."""
        return any(_capable(m.binding.supports_tools, model) for m in self.pool.members)

    def supports_json_schema(self, model: str | None = None) -> bool:
        """True when at least one member constrains output to a JSON Schema (such requests go only to those)."""
        return any(_capable(m.binding.supports_json_schema, model) for m in self.pool.members)

    def _skipped(self, request: ChatRequest) -> set[int]:
        """Members that cannot serve ``request`` (tools or json_schema they lack), as if already tried.

        :raises NotSupportedError: no member can; the message names each member and what it lacks.
        """
        needs: list[tuple[str, str]] = []
        if request.tools and request.tool_choice != "none":
            needs.append(("supports_tools", "native tools"))
        if request.json_schema is not None:
            needs.append(("supports_json_schema", "constrained JSON output (json_schema)"))
        if not needs:
            return set()
        lacking: dict[int, list[str]] = {}
        for m in self.pool.members:
            missing = [what for method, what in needs if not _capable(getattr(m.binding, method), request.model)]
            if missing:
                lacking[m.index] = missing
        if len(lacking) == len(self.pool.members):
            detail = "; ".join(f"#{m.index} {m.label} lacks {', '.join(lacking[m.index])}" for m in self.pool.members)
            raise NotSupportedError(
                f"router: no member can take this request ({detail}). Add a member that supports it, "
                "or use tool_mode='prompt' (tools described in the prompt, no native support needed)"
            )
        return set(lacking)

    def _stream(self, request: ChatRequest) -> Iterator[StreamItem]:
        """Stream from one member; move to another if it fails before delivering its first chunk.

        Tool and json_schema requests go only to members that support them.
        """
        key, tried = self._key(request), self._skipped(request)
        while True:
            attempt = Attempt(self.pool, self._choose_blocking(tried, key))
            tried.add(attempt.member.index)
            stream = closable(attempt.member.binding._stream(self._member_request(request, attempt.member)))
            try:
                for chunk in stream:
                    yield from attempt.feed(chunk)
            except Exception as exc:
                error = _member_error(attempt.member, exc)
                if attempt.failed(error):
                    continue
                if error is exc:
                    raise
                raise error from exc
            finally:
                stream.close()
                self.pool.released(attempt.member)
            yield from attempt.finished()
            return

    async def _astream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """Async twin of :meth:`_stream`, over each member's ``_astream`` (native when the member has one)."""
        key, tried = self._key(request), self._skipped(request)
        while True:
            attempt = Attempt(self.pool, await self._choose_async(tried, key))
            tried.add(attempt.member.index)
            stream = attempt.member.binding._astream(self._member_request(request, attempt.member))
            try:
                async for chunk in stream:
                    for out in attempt.feed(chunk):
                        yield out
            except Exception as exc:
                error = _member_error(attempt.member, exc)
                if attempt.failed(error):
                    continue
                if error is exc:
                    raise
                raise error from exc
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
                self.pool.released(attempt.member)
            for out in attempt.finished():
                yield out
            return

    def _choose_blocking(self, tried: set[int], key: str | None) -> Member:
        while True:
            woken = threading.Event()
            got = self.pool.choose(tried, key, woken.set)
            if isinstance(got, Member):
                return got
            woken.wait(got)

    async def _choose_async(self, tried: set[int], key: str | None) -> Member:
        loop = asyncio.get_running_loop()
        while True:
            woken = asyncio.Event()

            def wake(event: asyncio.Event = woken) -> None:
                loop.call_soon_threadsafe(event.set)

            got = self.pool.choose(tried, key, wake)
            if isinstance(got, Member):
                return got
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woken.wait(), got)

    # == status ===========================================================================

    def status(self) -> list[dict[str, Any]]:
        """A snapshot of every member, in pool order.

        Per member: ``index``, ``member`` (binding@host/model), ``state`` (``ok``, ``cooling``,
        ``probe-due``, ``probing``), ``in_flight``, ``successes``, ``failures``,
        ``cooling_down_until`` (epoch seconds or ``None``), ``latency`` (EWMA of time-to-first-chunk,
        seconds, or ``None``), ``last_error``, ``weight``, ``max_concurrency``.
        """
        return self.pool.status()

    def check(self) -> list[dict[str, Any]]:
        """Ask every member for its model list (a cheap request), counting the outcome like traffic.

        A member that fails is cooled down; one that answers is marked healthy. Returns :meth:`status`.
        """
        threads = [threading.Thread(target=self._check_one, args=(m,), daemon=True) for m in self.pool.members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self.status()

    def _check_one(self, member: Member) -> None:
        try:
            member.binding.list_models()
        except NotSupportedError:
            return
        except Exception as exc:
            self.pool.failed(member, exc, cool=should_fail_over(exc))
            return
        self.pool.succeeded(member)

    # == delegation =======================================================================

    def _first_answer(self, call: Callable[[LollmsLLMBinding], T]) -> T:
        """``call`` on the first member (pool order) that is not cooling down, failing over like generation.

        Members that cannot do it (:class:`NotSupportedError`) are skipped.
        """
        tried: set[int] = set()
        unsupported: NotSupportedError | None = None
        while True:
            try:
                member = self._choose_first(tried)
            except LollmsError:
                if unsupported is not None and len(tried) == len(self.pool.members):
                    raise unsupported from None
                raise
            tried.add(member.index)
            try:
                out = call(member.binding)
            except NotSupportedError as exc:
                unsupported = exc
                continue
            except Exception as exc:
                self.pool.failed(member, exc, cool=should_fail_over(exc))
                if should_fail_over(exc):
                    continue
                raise
            finally:
                self.pool.released(member)
            self.pool.succeeded(member)
            return out

    def _choose_first(self, tried: set[int]) -> Member:
        # Pool order, not the strategy: tokens and vectors should come from one predictable member.
        while True:
            woken = threading.Event()
            got = self.pool.choose(tried, None, woken.set, in_order=True)
            if isinstance(got, Member):
                return got
            woken.wait(got)

    def tokenize(self, text: str) -> list[int]:
        """Tokens from the first member (in ``members`` order) that is up and can tokenize."""
        return self._first_answer(lambda b: b.tokenize(text))

    def detokenize(self, tokens: list[int]) -> str:
        """Text from the first member that is up and can detokenize."""
        return self._first_answer(lambda b: b.detokenize(tokens))

    def count_tokens(self, text: str) -> int:
        """Count from the first member that is up and can count."""
        return self._first_answer(lambda b: b.count_tokens(text))

    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """Vectors from the first member that is up and has embeddings (one member: vectors stay comparable)."""
        return self._first_answer(lambda b: b._embed(inputs, **kwargs))

    def list_models(self) -> list[dict[str, Any]]:
        """Every member's models, merged by ``model_name``; ``members`` lists the indices serving each.

        Members that fail are skipped; if all fail, the first error is raised.
        """
        merged: dict[str, dict[str, Any]] = {}
        first_error: Exception | None = None
        for m in self.pool.members:
            try:
                models = m.binding.list_models()
            except Exception as exc:
                first_error = first_error or exc
                continue
            for model in models:
                entry = merged.setdefault(str(model.get("model_name")), {**model, "members": []})
                entry["members"].append(m.index)
        if not merged and first_error is not None:
            raise first_error
        return list(merged.values())

    def get_model_info(self) -> dict[str, Any]:
        """The first available member's model info, with ``binding='router'``, ``answered_by`` and ``members``."""
        info = dict(self._first_answer(lambda b: b.get_model_info()))
        info.update(binding=self.binding_name, members=[m.label for m in self.pool.members])
        return info

    def load_model(self, model_name: str) -> bool:
        """Switch every member to ``model_name``; ``True`` only if all of them could."""
        return all([m.binding.load_model(model_name) for m in self.pool.members])

    def close(self) -> None:
        """Close every member."""
        for m in self.pool.members if hasattr(self, "pool") else ():
            m.binding.close()
        super().close()

    def __repr__(self) -> str:
        return f"<RouterBinding strategy={self.pool.strategy} members={[m.label for m in self.pool.members]}>"


def _capable(check: Callable[[str | None], bool], model: str | None) -> bool:
    """A member's capability answer.

    One that cannot answer (server down) is not ruled out here: sending it the request decides,
    with the usual fail-over.
    """
    try:
        return bool(check(model))
    except Exception:
        return True


def _call_options(binding: LollmsLLMBinding) -> frozenset[str]:
    """Per-call options a binding declares for generation (read once, when the member is made)."""
    checker = binding._checker()
    return frozenset(p.name for key in ("generate_text", "model") for p in checker.method_parameters.get(key, ()))


def _member_error(member: Member, exc: Exception) -> Exception:
    """``exc`` as the router reports it: an engine crash becomes an EngineError naming the member.

    The member's primitive is called directly (the member's own base never wraps it), so a crash
    arrives raw; wrapped by the router's base it would only say "the router binding's engine failed".
    Lollms errors pass unchanged; the member's secrets are blanked from the copied message.
    """
    wrapped = member.binding._engine_error("_stream", exc)
    if wrapped is exc or not isinstance(wrapped, Exception):
        return exc
    error = EngineError(f"router member #{member.index} {member.label}: {wrapped}")
    error.__cause__ = exc
    return error


#: Query parameters that carry credentials in URLs people paste (``?api_key=``, ``?token=``, ``?sig=``...).
_SECRET_QUERY = re.compile(r"key|token|secret|pass|pwd|sig|auth|cred|session", re.IGNORECASE)


def _safe_location(value: str) -> str:
    """A host address as a label may show it: no ``user:password@``, no credential-like query parameters."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "<unparsable address>"
    if not parts.scheme or not parts.netloc:
        return value  # a path (model_path), not a URL
    host = parts.netloc.rpartition("@")[2]
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _SECRET_QUERY.search(pair.partition("=")[0])
    )
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def _label(name: str, config: Any) -> str:
    """``binding@host/model``: enough to tell members apart, never a secret (userinfo and key-like query stripped)."""
    host = _safe_location(str(config.get("host_address") or config.get("model_path") or ""))
    model = config.get("model_name") or ""
    return name + (f"@{host}" if host else "") + (f"/{model}" if model else "")
