"""``LollmsClient.batch`` / ``abatch``: the client's face of :mod:`lollms_core.batch`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._modalities import require

if TYPE_CHECKING:
    from ..batch._jobs import BatchResults
    from ..bindings import LollmsLLMBinding
    from ..registry._table import Registry

__all__ = ["BatchMixin"]


class BatchMixin:
    """Batch jobs over the client's LLM binding (any binding, ``router`` included)."""

    # Set by LollmsClient.__init__ (declared here so these methods type-check against the real base).
    registry: Registry
    llm: LollmsLLMBinding | None

    def batch(self, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
        """Run many prompts, at most ``concurrency`` at a time; rows come back in input order.

        ``items`` are ``{"id", "prompt"|"messages", ...options}`` dicts or plain prompt strings.
        With ``output="results.jsonl"`` each result is appended as it comes and a rerun skips the
        ids already there. Rows are ``{"id", "text", "finish_reason", "usage"}`` or
        ``{"id", "error": {"type", "message"}}``; ``.summary`` has the counts. Other keyword
        arguments are those of :func:`lollms_core.batch.abatch` and options for every item.
        """
        from ..batch._jobs import batch

        return batch(require(self.llm, "llm", self.registry), items, concurrency=concurrency, **kwargs)

    async def abatch(self, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
        """Async :meth:`batch`, in the running event loop."""
        from ..batch._jobs import abatch

        return await abatch(require(self.llm, "llm", self.registry), items, concurrency=concurrency, **kwargs)
