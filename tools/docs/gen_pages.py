"""Pages of the documentation site made at build time (run by mkdocs-gen-files).

- ``plugins/<distribution>.md``: the plugin's README, then every binding's configuration
  keys and per-call options read from its ``description.yaml`` (the same file the core
  validates user configuration against, so the page cannot drift from the code);
- ``reference/cli.md``: the help of ``lollms`` and of each subcommand, from the argparse
  parser itself.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

import mkdocs_gen_files
import yaml

ROOT = Path(__file__).resolve().parents[2]
REPO = "https://github.com/ParisNeo/lollms"  # placeholder, as in every pyproject's [project.urls]
# Sections of description.yaml holding the binding's configuration (both schemas).
CONFIG_SECTIONS = ("input_parameters", "global_input_parameters")
LIST_ITEM = re.compile(r"^(?:[-*+]|\d+\.) ")


def cell(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|")


def parameter_table(params: list[dict[str, Any]]) -> list[str]:
    """A table of parameters: name, type, default (secret and env noted), description."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for p in params:
        default = "" if p.get("is_secret") else p.get("default", "")
        notes = []
        if p.get("is_secret"):
            notes.append("secret")
        if p.get("env"):
            notes.append(f"env `{p['env']}`")
        if p.get("options"):
            notes.append("one of " + ", ".join(f"`{o}`" for o in p["options"]))
        if p.get("min") is not None or p.get("max") is not None:
            notes.append(f"range [{p.get('min', '')}, {p.get('max', '')}]")
        if p.get("mandatory"):
            notes.append("required")
        description = cell(p.get("description", "")) + (f" ({'; '.join(notes)})" if notes else "")
        lines.append(f"| `{p['name']}` | {p.get('type', 'str')} | `{cell(default)}` | {description} |")
    return lines


def binding_section(path: Path) -> list[str]:
    """The configuration of one binding, from its description.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    name, modality = data.get("name", path.parent.name), data.get("modality", "llm")
    source = f"{REPO}/blob/main/{path.relative_to(ROOT).as_posix()}"
    lines = [f"### `{name}` ({modality})", "", cell(data.get("description", "")), ""]
    lines += [f"Class `{data.get('class', '')}`; manifest: [{path.name}]({source}).", ""]
    config = [p for section in CONFIG_SECTIONS for p in data.get(section) or []]
    if config:
        lines += ["Configuration (`-c KEY=VALUE`, or the `*_binding_config` dict):", "", *parameter_table(config), ""]
    for key, params in data.items():
        if key.endswith("_parameters") and key not in CONFIG_SECTIONS and params:
            method = key.removesuffix("_parameters")
            lines += [f"Per-call options of `{method}`:", "", *parameter_table(params), ""]
    return lines


def starts_a_list_after(previous: str) -> bool:
    """A list item after this line needs a blank line: a paragraph line, not an item or its continuation."""
    return bool(previous.strip()) and not LIST_ITEM.match(previous) and not previous.startswith(" ")


def readme_for_the_site(markdown: str) -> str:
    """A README as part of a page: title dropped, headings one level down, lists made lists.

    GitHub starts a list right after a paragraph line; Python-Markdown needs a blank line
    first, or the items run into the paragraph.
    """
    body = re.sub(r"\A# [^\n]*\n", "", markdown)
    out: list[str] = []
    fenced = False
    for line in body.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            line = "#" + line
        elif not fenced and LIST_ITEM.match(line) and out and starts_a_list_after(out[-1]):
            out.append("")
        out.append(line)
    return "\n".join(out)


def plugin_pages() -> None:
    """One page per plugin distribution."""
    for plugin in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        folder = plugin.parent
        dist = folder.name
        manifests = sorted(folder.glob("src/*/**/description.yaml"))
        changelog = f"{REPO}/blob/main/plugins/{dist}/CHANGELOG.md"
        lines = [f"# {dist}", "", f"`pip install {dist}` · [changelog]({changelog})", ""]
        lines += [readme_for_the_site((folder / "README.md").read_text(encoding="utf-8")), ""]
        lines += ["## Configuration keys", "", "Generated from the bindings' `description.yaml`.", ""]
        for manifest in manifests:
            lines += binding_section(manifest)
        with mkdocs_gen_files.open(f"plugins/{dist}.md", "w") as page:
            page.write("\n".join(lines))
        mkdocs_gen_files.set_edit_path(f"plugins/{dist}.md", f"../plugins/{dist}/README.md")


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """``(prog, parser)`` of every subcommand, depth first, in the order they were added."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                found.append((sub.prog, sub))
                found.extend(subcommands(sub))
    return found


def cli_page() -> None:
    """``reference/cli.md``: every command's help, as ``lollms ... --help`` prints it."""
    # A fixed width and no plugins: the page must not depend on the terminal or what is installed.
    os.environ["COLUMNS"] = "100"
    os.environ["LOLLMS_LOAD_PLUGINS"] = ""
    os.environ["LOLLMS_MANIFEST_CACHE"] = "0"
    from lollms_core.cli import build_parser

    parser = build_parser()
    lines = [
        "# Command line",
        "",
        "`lollms` is installed with `lollms-core`. Plugins may add commands of their own",
        "(`lollms --help` lists them once installed). Generated from the parser.",
        "",
    ]
    for prog, sub in [(parser.prog, parser), *subcommands(parser)]:
        lines += [f"## `{prog}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    with mkdocs_gen_files.open("reference/cli.md", "w") as page:
        page.write("\n".join(lines))


plugin_pages()
cli_page()
