"""How many prompt tokens an image costs: OpenAI's tile rule, read from the image's header."""

from __future__ import annotations

import math
import struct

from ..types import ImageInput

__all__ = ["image_tokens"]


def image_tokens(image: ImageInput) -> int:
    """Estimated prompt tokens for ``image`` (path, bytes, base64 or data URL).

    OpenAI's tile rule (85 + 170 per 512-pixel tile after scaling to 2048/768) when the
    size can be read from the header, else lollms_client's byte-size estimate.

    :raises ConfigError: the image cannot be read.
    """
    import base64

    from ..media import image_to_base64

    raw = base64.b64decode(image_to_base64(image))
    size = _image_size(raw)
    if size is None:
        return int(len(raw) * 128 / (512 * 512))
    scale = min(1.0, 2048 / max(size))
    fitted = (size[0] * scale, size[1] * scale)
    scale = min(1.0, 768 / max(1.0, min(fitted)))
    tiles = math.ceil(fitted[0] * scale / 512) * math.ceil(fitted[1] * scale / 512)
    return 85 + 170 * tiles


def _image_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF or JPEG header; ``None`` for anything else."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) >= 24:
        width, height = struct.unpack(">II", raw[16:24])
        return int(width), int(height)
    if raw.startswith(b"GIF8") and len(raw) >= 10:
        width, height = struct.unpack("<HH", raw[6:10])
        return int(width), int(height)
    if raw.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(raw):
            if raw[i] != 0xFF:
                return None
            marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", raw[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None
