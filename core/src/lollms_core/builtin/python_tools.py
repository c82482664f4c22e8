"""The manifest of the built-in ``python`` tools binding (registered with the echo bindings).

The class lives in :mod:`lollms_core.tools._python_binding`, above this layer: it is named by
its dotted path and imported only when a ``python`` binding is created.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MANIFEST"]

MANIFEST: dict[str, Any] = {
    "name": "python",
    "modality": "tools",
    "title": "Python functions",
    "author": "lollms",
    "core_api": 1,
    "class": "lollms_core.tools._python_binding:PythonToolBinding",
    "description": (
        "Your own Python functions as tools, named by module path: pkg.mod:func for one function "
        "(or a @tool, or a class whose methods are tools), pkg.mod:* for every public function the "
        "module defines. Schemas come from the signatures and docstrings; calls are checked against them."
    ),
    "input_parameters": [
        {
            "name": "functions",
            "type": "list",
            "default": [],
            "description": "Module paths of the functions to offer: pkg.mod:func or pkg.mod:* (comma-separated on -c).",
        }
    ],
}
