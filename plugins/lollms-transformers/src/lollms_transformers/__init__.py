"""lollms plugin for Hugging Face transformers: registers the ``transformers`` LLM binding.

Nothing heavy is imported here: torch and transformers load when a binding is created.
"""

from __future__ import annotations

from lollms_core import hookimpl

#: The distribution version: the one source hatch reads at build time (pyproject ``dynamic``).
__version__ = "0.1.0"

__all__ = ["lollms_register_bindings"]


@hookimpl
def lollms_register_bindings() -> list[str]:
    """The binding packages of this plugin; the core reads their description.yaml without importing them."""
    return ["lollms_transformers.llm"]
