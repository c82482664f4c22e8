"""Facts about a GGUF file, shaped the way Ollama's /api/tags, /api/show and /api/ps report them.

Everything here is read from the file itself (the ``gguf`` package's reader, the file's size, mtime
and sha256), so the test server answers model-listing calls with real data, not invented numbers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def human_parameter_count(count: int) -> str:
    """Format a parameter count the way Ollama's ``parameter_size`` does (``134.52M``, ``8.0B``)."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if count >= limit:
            value = count / limit
            text = f"{value:.2f}".rstrip("0").rstrip(".") if suffix != "B" else f"{value:.1f}"
            return f"{text}{suffix}"
    return str(count)


@dataclass
class GGUFFacts:
    """Metadata of one GGUF model file, read once."""

    path: Path
    architecture: str
    parameter_count: int
    quantization_level: str
    context_length: int
    size: int
    modified_at: str
    scalars: dict[str, Any] = field(default_factory=dict)
    chat_template: str = ""
    license: str = ""
    _digest: str | None = None

    @classmethod
    def read(cls, path: str | Path) -> GGUFFacts:
        """Read the key/value metadata and tensor shapes of ``path``."""
        import gguf  # heavy (numpy); only when a test server starts

        gguf_path = Path(path)
        reader = gguf.GGUFReader(str(gguf_path))
        scalars: dict[str, Any] = {}
        for key, gguf_field in reader.fields.items():
            if key.startswith("GGUF."):
                continue
            value = gguf_field.contents()
            # Ollama leaves the big arrays (tokens, merges) empty unless verbose=true.
            scalars[key] = [] if isinstance(value, list) and len(value) > 64 else value
        architecture = str(scalars.get("general.architecture", "unknown"))
        file_type = int(scalars.get("general.file_type", 0))
        stat = gguf_path.stat()
        return cls(
            path=gguf_path,
            architecture=architecture,
            parameter_count=sum(int(t.n_elements) for t in reader.tensors),
            quantization_level=gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_"),
            context_length=int(scalars.get(f"{architecture}.context_length", 0)),
            size=stat.st_size,
            modified_at=_dt.datetime.fromtimestamp(stat.st_mtime, _dt.timezone.utc).isoformat(),
            scalars=scalars,
            chat_template=str(scalars.pop("tokenizer.chat_template", "")),
            license=str(scalars.get("general.license", "")),
        )

    @property
    def digest(self) -> str:
        """sha256 of the file (hex), computed on first use: hashing 100 MB takes a moment."""
        if self._digest is None:
            sha = hashlib.sha256()
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
            self._digest = sha.hexdigest()
        return self._digest

    def details(self) -> dict[str, Any]:
        """The ``details`` object of /api/tags, /api/show and /api/ps."""
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.architecture,
            "families": [self.architecture],
            "parameter_size": human_parameter_count(self.parameter_count),
            "quantization_level": self.quantization_level,
        }

    def model_info(self) -> dict[str, Any]:
        """The ``model_info`` object of /api/show (GGUF keys, big arrays left empty)."""
        info = dict(self.scalars)
        info["general.parameter_count"] = self.parameter_count
        return info
