"""Old home of the echo plugin's hook: re-exports :mod:`lollms_core.builtin.echo_plugin`."""

from __future__ import annotations

from ..builtin.echo_plugin import MANIFESTS, lollms_register_bindings

__all__ = ["MANIFESTS", "lollms_register_bindings"]
