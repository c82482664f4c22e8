"""``-c KEY=@FILE``: a config value read from a YAML or JSON file (pool lists, header maps...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["read_value_file"]


def read_value_file(key: str, path: str) -> Any:
    """The value stored in ``path``: JSON for ``*.json``, YAML (a superset of JSON) otherwise.

    :raises ConfigError: the file is missing, unreadable or not valid YAML/JSON (names ``key`` and the file).
    """
    if not path:
        raise ConfigError(f"-c {key}=@FILE: no file name after '@' (use @@ for a value that starts with '@')")
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"-c {key}=@{path}: cannot read the file: {reason}") from None
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except ValueError as exc:
        raise ConfigError(f"-c {key}=@{path}: not valid JSON: {exc}") from None
    except Exception as exc:  # yaml.YAMLError, without importing yaml for the JSON case
        first = " ".join(str(exc).split())[:200]
        raise ConfigError(f"-c {key}=@{path}: not valid YAML: {first}") from None
