"""``lollms new-binding``: every modality x engine is written, built, pip-installed into a fresh
venv, discovered by ``lollms bindings`` and passes its own generated tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from _venv import LayeredVenv
from lollms_core.errors import ConfigError
from lollms_core.scaffold import ENGINES, MODALITIES, BindingScaffold, check_name, render, write_scaffold

CASES = [(m, e) for m in MODALITIES for e in ENGINES]


def _name(modality: str, engine: str) -> str:
    return f"scaf_{modality}_{engine}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[LayeredVenv, Path, dict[str, Path]]:
    """All twelve distributions, written by the real CLI and installed into one fresh venv."""
    work = tmp_path_factory.mktemp("scaffold")
    folders: dict[str, Path] = {}
    for modality, engine in CASES:
        cmd = [sys.executable, "-m", "lollms_core.cli", "new-binding", _name(modality, engine)]
        out = subprocess.run(
            [*cmd, "--modality", modality, "--engine", engine, "-o", str(work)],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        folders[f"{modality}-{engine}"] = Path(out.stdout.strip())
    venv = LayeredVenv(work / "venv")
    done = venv.install(*folders.values())
    assert done.returncode == 0, done.stdout + done.stderr
    return venv, work, folders


def test_the_folder_is_a_complete_distribution(installed: tuple[LayeredVenv, Path, dict[str, Path]]) -> None:
    _, _, folders = installed
    root = folders["tts-http"]
    assert root.name == "lollms-scaf-tts-http"
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."lollms.bindings"]\nscaf_tts_http = "lollms_scaf_tts_http"' in pyproject
    assert 'dependencies = ["lollms-core>=0.1,<0.2"]' in pyproject
    manifest = (root / "src/lollms_scaf_tts_http/tts/description.yaml").read_text()
    assert "class: lollms_scaf_tts_http.tts.binding:ScafTtsHttpTTSBinding" in manifest
    assert 'core_api: ">=1,<2"' in manifest
    assert "FILL IN" in (root / "src/lollms_scaf_tts_http/tts/binding.py").read_text()
    assert "TTSBindingTests" in (root / "tests/test_conformance.py").read_text()
    assert (root / "README.md").is_file()


def test_every_binding_is_discovered_ok(installed: tuple[LayeredVenv, Path, dict[str, Path]]) -> None:
    venv, work, _ = installed
    env = venv.env(work / "cache")
    listing = venv.run("-m", "lollms_core.cli", "bindings", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    import json

    rows = {(r["name"], r["modality"]): r for r in json.loads(listing.stdout)}
    for modality, engine in CASES:
        row = rows[(_name(modality, engine), modality)]
        assert row["status"] == "ok", row
        assert row["distribution"] == f"lollms-scaf-{modality}-{engine}"
    help_text = venv.run("-m", "lollms_core.cli", "bindings", "--help", env=env).stdout
    if "--check" in help_text:  # `lollms bindings --check` (issue 10.6) once it is on this branch
        check = venv.run("-m", "lollms_core.cli", "bindings", "--check", env=env)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(("modality", "engine"), CASES)
def test_generated_tests_pass(installed: tuple[LayeredVenv, Path, dict[str, Path]], modality: str, engine: str) -> None:
    venv, work, folders = installed
    root = folders[f"{modality}-{engine}"]
    run = venv.run(
        "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
        cwd=root, env=venv.env(work / "cache"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    assert " failed" not in run.stdout
    assert "Class-scoped fixtures defined as instance methods" not in run.stdout  # the kit's documented form


def test_render_blocks_and_values() -> None:
    template = "a\n#% if http\nb {{x}}\n#% if tts\nc\n#% end\n#% end\nd\n"
    assert render(template, {"x": "1"}, {"http", "tts"}) == "a\nb 1\nc\nd\n"
    assert render(template, {"x": "1"}, {"http"}) == "a\nb 1\nd\n"
    assert render(template, {"x": "1"}, {"local"}) == "a\nd\n"
    with pytest.raises(ValueError, match="unclosed"):
        render("#% if x\n", {}, set())


@pytest.mark.parametrize("bad", ["", "9lives", "has space", "class", "ÿ", "parrot_", "parrot-", "_parrot"])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="cannot be used"):
        check_name(bad)


@pytest.mark.parametrize("ours", ["core", "lollms-core", "OpenAI", "ollama", "llamacpp", "whisper", "mcp", "server"])
def test_names_of_our_own_distributions_are_refused(ours: str) -> None:
    # Before: `new-binding core` wrote a lollms-core distribution with package lollms_core.
    with pytest.raises(ConfigError, match=r"is a lollms distribution .*choose another name"):
        check_name(ours)


@pytest.mark.parametrize("builtin", ["echo", "router", "python"])
def test_names_of_built_in_bindings_are_refused(builtin: str) -> None:
    # Before: `new-binding echo` generated a package failing its own tests (create_binding("echo")
    # picked the core's echo).
    with pytest.raises(ConfigError, match="built into lollms-core"):
        check_name(builtin)


def test_every_accepted_name_gives_a_valid_pep_508_distribution_name() -> None:
    pep508 = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
    for name in ["parrot", "my_tts", "a", "x2", "two__parts", "Lollms-Parrot9"]:
        assert pep508.match(BindingScaffold(check_name(name), "llm").dist), name


def test_names_are_normalised() -> None:
    assert check_name("My-TTS") == "my_tts"
    assert check_name("lollms-parrot") == "parrot"


def test_an_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    scaffold = BindingScaffold("parrot", "llm")
    write_scaffold(scaffold, tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        write_scaffold(scaffold, tmp_path)
    write_scaffold(scaffold, tmp_path, force=True)


def test_cli_usage_errors(tmp_path: Path) -> None:
    from lollms_core.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["new-binding", "parrot", "--modality", "sound", "-o", str(tmp_path)])
    assert caught.value.code == 2
    assert main(["new-binding", "9bad", "--modality", "llm", "-o", str(tmp_path)]) == 1
