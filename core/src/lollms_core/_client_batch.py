"""``LollmsClient.batch`` / ``abatch``: the client's face of :mod:`lollms_core.batch`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .batch import BatchResults

__all__ = ["BatchMixin"]


class BatchMixin:
    """Batch jobs over the client's LLM binding (any binding, ``router`` included)."""

    def _need(self, modality: str) -> Any:  # implemented by LollmsClient
        raise NotImplementedError

    def batch(self, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
        """Run many prompts, at most ``concurrency`` at a time; rows come back in input order.

        ``items`` are ``{"id", "prompt"|"messages", ...options}`` dicts or plain prompt strings.
        With ``output="results.jsonl"`` each result is appended as it comes and a rerun skips the
        ids already there. Rows are ``{"id", "text", "finish_reason", "usage"}`` or
        ``{"id", "error": {"type", "message"}}``; ``.summary`` has the counts. Other keyword
        arguments are those of :func:`lollms_core.batch.abatch` and options for every item.
        """
        from .batch import batch

        return batch(self._need("llm"), items, concurrency=concurrency, **kwargs)

    async def abatch(self, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
        """Async :meth:`batch`, in the running event loop."""
        from .batch import abatch

        return await abatch(self._need("llm"), items, concurrency=concurrency, **kwargs)
