"""``lollms new-binding NAME --modality MOD [--engine local|http] [-o DIR]``: a plugin to fill in."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_new_binding_command", "cmd_new_binding"]


def add_new_binding_command(sub: Any) -> None:
    """Register the ``new-binding`` subcommand on ``sub`` (the CLI's subparsers)."""
    from ..scaffold._writer import ENGINES, MODALITIES

    p = sub.add_parser("new-binding", help="write a new binding's distribution folder (passes its own tests)")
    p.add_argument("name", metavar="NAME", help="binding name, e.g. parrot (the folder is lollms-NAME)")
    p.add_argument("--modality", required=True, choices=MODALITIES)
    p.add_argument(
        "--engine", choices=ENGINES, default="local",
        help="local: an in-process engine; http: a server reached through lollms_core.http",
    )  # fmt: skip
    p.add_argument("-o", "--output", default=".", metavar="DIR", help="where to create the folder (default: .)")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty folder")
    p.set_defaults(func=cmd_new_binding)


def cmd_new_binding(args: argparse.Namespace) -> int:
    """Write the folder and say what to do next."""
    from ..scaffold._writer import BindingScaffold, check_name, write_scaffold

    scaffold = BindingScaffold(check_name(args.name), args.modality, args.engine)
    root = write_scaffold(scaffold, Path(args.output), force=args.force)
    print(root)
    print(
        f"next: pip install -e '{root}[test]' && pytest {root / 'tests'}   (then fill in the places marked FILL IN)",
        file=sys.stderr,
    )
    return 0
