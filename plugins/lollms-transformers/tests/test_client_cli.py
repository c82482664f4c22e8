"""The binding as users reach it: LollmsClient's TRANSFORMERS generation format, the CLI, import cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from transformers_probe import switch_models


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def test_lollms_client_transformers_format_answers_then_switching_frees_the_model(
    gguf_path: Path, models_dir: Path
) -> None:
    """LollmsClient(default_generation_mode=TRANSFORMERS) runs SmolLM2 offline; load_model("tiny") then
    gives its ~540 MB back (measured in a fresh process, so this one's history does not blur RSS)."""
    result = switch_models({"n_threads": 1}, str(gguf_path), str(models_dir / "tiny"), via="client", back=False)
    assert result["binding"] == "transformers"
    assert "Paris" in result["answers"][0]
    rss, (smollm2, tiny) = result["rss"], result["sizes"]
    assert smollm2 > 400e6
    assert rss["first"] - rss["second"] > 0.6 * (smollm2 - tiny), f"switching to tiny freed too little: {rss}"
    assert result["model"] == str(models_dir / "tiny")


def test_cli_generate_streams_the_answer(gguf_path: Path) -> None:
    """`lollms generate -b transformers -c model_path=...` prints the answer on stdout, exit 0."""
    cli = [sys.executable, "-m", "lollms_core.cli"]
    result = _run(
        [
            *cli,
            "generate",
            "-b",
            "transformers",
            "-c",
            f"model_path={gguf_path}",
            "-c",
            "n_threads=1",
            "-t",
            "0",
            "-n",
            "16",
            "What is the capital of France?",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout


def test_cli_models_lists_the_models_folder(models_dir: Path, tmp_path: Path) -> None:
    """`lollms models -b transformers` lists checkpoint folders and .gguf files without loading any."""
    result = _run(
        [
            sys.executable,
            "-m",
            "lollms_core.cli",
            "models",
            "-b",
            "transformers",
            "-c",
            f"models_path={models_dir}",
            "-c",
            f"hub_cache={tmp_path}",
            "--json",
        ],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    names = {m["model_name"] for m in json.loads(result.stdout)}
    assert {"tiny", "wide", "smollm2.gguf"} <= names


def test_torch_is_imported_when_a_binding_is_created_not_before(tmp_path: Path) -> None:
    """With this plugin installed, `import lollms_core` merges its manifest without torch or transformers."""
    code = (
        "import sys\n"
        "from lollms_core import LollmsLLMBindingManager\n"
        "heavy = ('torch', 'transformers', 'accelerate', 'llguidance')\n"
        "manager = LollmsLLMBindingManager()\n"
        "assert 'transformers' in manager.get_available_bindings()\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        f"manager.create_binding('transformers', models_path={str(tmp_path)!r}, hub_cache={str(tmp_path)!r})\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = _run([sys.executable, "-c", code], timeout=120)
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.strip().splitlines()
    assert before == "[]"
    assert "'torch'" in after
    assert "'transformers'" in after
