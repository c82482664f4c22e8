"""Turning the inputs users give (paths, bytes, base64, URLs) into what backends want."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from .errors import ConfigError

__all__ = [
    "FORMAT_MIME",
    "image_to_base64",
    "image_to_data_url",
    "is_existing_file",
    "read_bytes_source",
    "sniff_format",
    "sniff_image_mime",
    "sniff_mime",
]

#: The MIME type of each format :func:`sniff_format` names.
FORMAT_MIME: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "wav": "audio/wav",
    "aiff": "audio/aiff",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}

# RIFF and FORM are containers: the form type at bytes 8-12 says what is inside.
_RIFF = {b"WAVE": "wav", b"WEBP": "webp", b"AVI ": "avi"}
_PREFIXES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"fLaC", "flac"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
)


def sniff_format(data: bytes) -> str | None:
    """The file format of ``data`` from its first bytes (a key of :data:`FORMAT_MIME`), or ``None``.

    ``RIFF`` files are told apart by their form type (``WAVE``, ``WEBP``, ``AVI``); MP3 is
    recognised by an ID3 tag or an MPEG audio frame header; ISO media by its ``ftyp`` box
    (``M4A`` brands are audio); EBML by its ``webm``/``matroska`` doctype.
    """
    head = bytes(data[:64])
    if head[:4] == b"RIFF":
        return _RIFF.get(head[8:12])
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    for prefix, fmt in _PREFIXES:
        if head.startswith(prefix):
            return fmt
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF0 == 0xF0 and head[1] & 0x06 == 0:
        return "aac"  # ADTS: MPEG sync word with layer bits 00
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3"  # an MPEG-1/2/2.5 layer I-III frame header (files without an ID3 tag)
    if head[4:8] == b"ftyp":
        return "m4a" if head[8:12] in (b"M4A ", b"M4B ") else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "mkv"
    return None


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of ``data`` (see :func:`sniff_format`), or ``None`` when unknown."""
    fmt = sniff_format(data)
    return FORMAT_MIME[fmt] if fmt else None


def sniff_image_mime(data: bytes) -> str:
    """The MIME type of image bytes, from their magic number (``image/png`` when unknown)."""
    mime = sniff_mime(data)
    return mime if mime is not None and mime.startswith("image/") else "image/png"


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


def is_existing_file(text: str) -> bool:
    """Whether ``text`` names an existing file; ``False`` for text no file can have (too long, NUL...)."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # ENAMETOOLONG for base64 text, ValueError for an embedded NUL
        return False


def _image_bytes(image: str | Path | bytes) -> bytes:
    if isinstance(image, str) and not is_existing_file(image) and len(image) > 64:
        try:
            return base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError):
            pass
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        raise ConfigError(f"image URL '{image}' must be downloaded first for this backend")
    return read_bytes_source(image, "image")
