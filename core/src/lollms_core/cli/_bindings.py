"""``lollms bindings [--json] [--check [NAME]]``: what is installed, and whether it can start.

Statuses are exactly ``ok``, ``unverified`` (works; the manifest declares no ``core_api``)
and ``error``. The command exits 1 when any listed row is an error, with ``--json`` too.
``--check`` also imports each binding class and the engine modules its manifest declares
(``engine_modules``), and names the ``pip install`` line that fixes a missing one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from typing import Any

from ..discovery._default_registry import default_registry
from ..errors import BindingNotFoundError, LollmsError
from ..registry._spec import BindingSpec

__all__ = ["check_binding", "cmd_bindings", "matches"]

EXIT_OK, EXIT_BROKEN = 0, 1


def matches(spec: BindingSpec, name: str) -> bool:
    """Whether ``name`` (bare or ``DIST:NAME``) designates this row."""
    return spec.answers_to(name)


def check_binding(spec: BindingSpec) -> list[str]:
    """Problems that would stop this binding from starting: its class and its engine modules, imported now."""
    if not spec.usable:
        return [spec.error or "broken"]
    with contextlib.redirect_stdout(sys.stderr):  # engines and plugins that print must not corrupt --json
        try:
            spec.load_class()
        except LollmsError as exc:
            return [" ".join(str(exc).split())]
        problems = []
        manifest = spec.manifest
        for module, requirement in (manifest.engine_modules if manifest else {}).items():
            try:
                importlib.import_module(module)
            except ImportError as exc:
                missing = getattr(exc, "name", None) or module
                problems.append(f"engine module {missing} is missing: pip install '{requirement}'")
            except (Exception, SystemExit) as exc:  # a broken native library, not a missing one
                problems.append(f"engine module {module} failed to import: {type(exc).__name__}: {exc}")
        return problems


def cmd_bindings(args: argparse.Namespace) -> int:
    """``lollms bindings [--json] [--check [NAME]]``: every row, broken ones with their reason; 1 if any is broken."""
    specs = default_registry().entries
    check = getattr(args, "check", None)
    rows: list[dict[str, Any]] = []
    if check is not None:
        if check:
            specs = [s for s in specs if matches(s, check)]
            if not specs:
                names = sorted({e.name for e in default_registry().entries})
                raise BindingNotFoundError(f"no binding named '{check}'; installed: {', '.join(names) or 'none'}")
        for spec in specs:
            row = spec.as_dict()
            problems = check_binding(spec)
            if problems:
                row.update(status="error", error="; ".join(problems))
            rows.append(row)
    else:
        rows = [s.as_dict() for s in specs]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return EXIT_BROKEN if any(r["status"] == "error" for r in rows) else EXIT_OK


def _print_table(rows: list[dict[str, Any]]) -> None:
    heads = ("name", "modality", "distribution", "version")
    widths = [max([len(h), *(len(str(r[h] or "-")) for r in rows)]) for h in heads]
    for r in rows:
        cells = [str(r[h] or "-").ljust(w) for h, w in zip(heads, widths, strict=True)]
        line = f"{'  '.join(cells)}  {r['status']}"
        print(f"{line}  {r['error']}" if r["status"] == "error" else line)
        if r.get("warning"):
            print(f"    warning: {r['warning']}")
