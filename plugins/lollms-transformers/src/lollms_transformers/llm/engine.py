"""One model loaded with transformers: device and dtype chosen, weights placed, memory given back.

Imported only when a binding is created; torch and transformers are imported inside the
functions, so ``lollms bindings`` and ``import lollms_core`` never pay for them.
"""

from __future__ import annotations

import contextlib
import gc
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lollms_core.errors import BindingLoadError, ConfigError

from .models import ModelSource

__all__ = ["DTYPES", "LoadSettings", "LoadedModel", "check_device", "free_memory"]

#: The ``dtype`` values the manifest allows.
DTYPES = ("auto", "float32", "bfloat16", "float16")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass(frozen=True)
class LoadSettings:
    """What loading depends on; changing any of it means loading the model again."""

    device: str = "auto"
    dtype: str = "auto"
    max_memory: dict[str, Any] = field(default_factory=dict)
    trust_remote_code: bool = False
    allow_download: bool = False
    verbose: bool = False


def check_device(device: str) -> None:
    """Refuse a device string before anything loads.

    :raises ConfigError: naming the value and the accepted forms.
    """
    if not _DEVICE.match(device):
        raise ConfigError(
            f"transformers: device={device!r} is not one of: auto, cpu, cuda, cuda:N (N = 0, 1, ...), mps"
        )


def pick_device(wanted: str) -> str:
    """``wanted`` as a torch device string, checked against the hardware present.

    :raises BindingLoadError: a CUDA or MPS device was asked for and is not there (the message
        names the devices that are).
    """
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    present = (
        ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count() if cuda else 0)] + (["mps"] if mps else [])
    )
    if wanted == "auto":
        return "cuda:0" if cuda else "mps" if mps else "cpu"
    if wanted == "cuda":
        wanted = "cuda:0"
    if wanted not in present:
        raise BindingLoadError(f"device '{wanted}' is not available on this machine; available: {', '.join(present)}")
    return wanted


def _torch_dtype(name: str, device: str) -> Any:
    """The ``dtype=`` for ``from_pretrained``: float32 on CPU for ``auto`` (half precision is slow there)."""
    import torch

    if name == "auto":
        return torch.float32 if device == "cpu" else "auto"
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def _placement(device: str, max_memory: dict[str, Any]) -> dict[str, Any]:
    """``device_map`` / ``max_memory`` arguments: accelerate spreads a model only on a GPU with caps given."""
    if not device.startswith("cuda"):
        return {}
    if max_memory:
        # accelerate names GPUs by index: {"cuda:0": "10GiB"} -> {0: "10GiB"}.
        caps = {(int(k.split(":", 1)[1]) if k.startswith("cuda:") else k): v for k, v in max_memory.items()}
        return {"device_map": "auto", "max_memory": caps}
    return {"device_map": {"": device}}


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Silence transformers' warnings and progress bars for the load, then restore what was set."""
    if verbose:
        yield
        return
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


class LoadedModel:
    """A model, its tokenizer and (for vision models) its processor, on one device.

    :raises BindingLoadError: the files are missing, not a model transformers can load, or need
        code from the model (``trust_remote_code``); the message names the model and the cause.
    """

    def __init__(self, source: ModelSource, settings: LoadSettings, progress: bool = False) -> None:
        import transformers

        self.source, self.settings = source, settings
        self.device = pick_device(settings.device)
        common: dict[str, Any] = {
            "trust_remote_code": settings.trust_remote_code,
            "local_files_only": not settings.allow_download,
        }
        if source.gguf_file:
            common["gguf_file"] = source.gguf_file
        t0 = time.perf_counter()
        if progress:
            sys.stderr.write(f"lollms-transformers: loading {source.name} ({source.kind}) on {self.device}")
            sys.stderr.flush()
        try:
            with _quiet(settings.verbose):
                self.tokenizer: Any = transformers.AutoTokenizer.from_pretrained(source.location, **common)
                self.processor: Any = self._processor(transformers, common)
                model_class = (
                    transformers.AutoModelForImageTextToText
                    if self.processor is not None
                    else transformers.AutoModelForCausalLM
                )
                self.model: Any = model_class.from_pretrained(
                    source.location,
                    dtype=_torch_dtype(settings.dtype, self.device),
                    **_placement(self.device, settings.max_memory),
                    **common,
                )
            if self.device == "mps" or (self.device != "cpu" and not hasattr(self.model, "hf_device_map")):
                self.model.to(self.device)
            self.model.eval()
        except Exception as exc:
            if progress:
                sys.stderr.write(" failed\n")
            raise BindingLoadError(_load_failure(source, settings, exc)) from None
        if self.tokenizer.pad_token_id is None:
            # Batched embeddings pad; a model without a pad token pads with its end token (masked out).
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.load_seconds = time.perf_counter() - t0
        if progress:
            sys.stderr.write(f" ready in {self.load_seconds:.1f} s\n")
            sys.stderr.flush()
        config = self.model.config
        text_config = getattr(config, "text_config", None) or config
        #: The context the model was trained for (``max_position_embeddings``), if the config says.
        self.n_ctx_train: int | None = getattr(text_config, "max_position_embeddings", None)
        self.n_params = int(sum(p.numel() for p in self.model.parameters()))
        self.dtype = str(self.model.dtype).removeprefix("torch.")
        self.architecture = str(getattr(config, "model_type", "") or "")

    def _processor(self, transformers: Any, common: dict[str, Any]) -> Any:
        """The model's processor when it has one (images in, pixel values out), else ``None``."""
        if self.source.gguf_file:
            return None  # GGUF checkpoints here are text models: transformers reads no vision tower from them
        if not self.source.download:
            folder = self.source.path
            names = ("processor_config.json", "preprocessor_config.json")
            if folder is None or not any((folder / n).is_file() for n in names):
                return None
        try:
            processor = transformers.AutoProcessor.from_pretrained(self.source.location, **common)
        except (OSError, ValueError, KeyError):
            return None
        # A text-only model's "processor" is its tokenizer: that is not an image processor.
        return processor if hasattr(processor, "image_processor") else None

    def close(self) -> None:
        """Drop the model and give its memory back (to the OS on Linux, to the GPU's cache)."""
        on_gpu = self.device.startswith("cuda")
        for name in ("model", "tokenizer", "processor"):
            if hasattr(self, name):
                delattr(self, name)
        free_memory(on_gpu)


def free_memory(on_gpu: bool) -> None:
    """Collect freed tensors now and return their pages: torch's CUDA cache, glibc's heap."""
    gc.collect()
    if on_gpu:
        import torch

        torch.cuda.empty_cache()
    if sys.platform.startswith("linux"):
        # Small tensors come from glibc's heap, which keeps freed pages; malloc_trim hands them back.
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _load_failure(source: ModelSource, settings: LoadSettings, exc: Exception) -> str:
    """Why ``source`` did not load, with the fix where one is known."""
    text = " ".join(str(exc).split())[:600] or type(exc).__name__
    what = f"transformers could not load {source.name}"
    if source.gguf_file:
        what += f" (GGUF {source.gguf_file}, dequantized on load)"
    if "trust_remote_code" in text and not settings.trust_remote_code:
        return (
            f"{what}: the model needs its own Python code. Set trust_remote_code=true only if you trust "
            f"the code in {source.location} (it runs with your rights). Cause: {text}"
        )
    if not settings.allow_download and ("offline" in text.lower() or "local_files_only" in text):
        return f"{what}: files are missing locally and downloads are off (allow_download=false). Cause: {text}"
    return f"{what}: {type(exc).__name__}: {text}"
