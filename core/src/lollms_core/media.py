"""Turning the inputs users give (paths, bytes, base64, URLs) into what backends want."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from .errors import ConfigError

__all__ = ["image_to_base64", "image_to_data_url", "read_bytes_source", "sniff_image_mime"]

_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
    (b"BM", "image/bmp"),
]


def sniff_image_mime(data: bytes) -> str:
    """The MIME type of image bytes, from their magic number (``image/png`` when unknown)."""
    return next((mime for sig, mime in _SIGNATURES if data.startswith(sig)), "image/png")


def read_bytes_source(source: str | Path | bytes, what: str = "file") -> bytes:
    """Bytes of a path or of bytes given directly.

    :raises ConfigError: naming the path when it does not exist or cannot be read.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    path = Path(source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} '{path}': {exc.strerror or exc}") from None


def image_to_data_url(image: str | Path | bytes) -> str:
    """A ``data:`` URL (or the ``http(s)``/``data:`` URL given) for an image path, bytes or base64 text."""
    if isinstance(image, str) and image.startswith(("http://", "https://", "data:")):
        return image
    raw = _image_bytes(image)
    return f"data:{sniff_image_mime(raw)};base64,{base64.b64encode(raw).decode('ascii')}"


def image_to_base64(image: str | Path | bytes) -> str:
    """Plain base64 (no ``data:`` prefix) of an image path, bytes, base64 text or data URL."""
    if isinstance(image, str) and image.startswith("data:"):
        return image.split(",", 1)[1]
    return base64.b64encode(_image_bytes(image)).decode("ascii")


def _image_bytes(image: str | Path | bytes) -> bytes:
    if isinstance(image, str) and not Path(image).exists() and len(image) > 64:
        try:
            return base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError):
            pass
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        raise ConfigError(f"image URL '{image}' must be downloaded first for this backend")
    return read_bytes_source(image, "image")
