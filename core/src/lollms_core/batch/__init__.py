"""Batch jobs: many prompts through one LLM binding with bounded concurrency, resumable from a JSONL file.

The face of :mod:`lollms_core.batch`: the run itself lives in ``_jobs``, the exactly-once
JSONL reading and writing in ``_jsonl``.
"""

from __future__ import annotations

from ._jobs import BatchControl, BatchResults, BatchSummary, abatch, batch

__all__ = ["BatchControl", "BatchResults", "BatchSummary", "abatch", "batch"]
