"""The one media-type sniffer (``lollms_core.media``), on real files made by real encoders.

Audio comes from espeak-ng (WAV) re-encoded by sox (FLAC, Ogg Vorbis, MP3 with and without an
ID3 tag, AIFF); images from Pillow. CI installs espeak-ng, sox and libsox-fmt-all (``.ci/run``).
"""

from __future__ import annotations

import base64
import io
import subprocess
from pathlib import Path

import pytest
from lollms_core.media import FORMAT_MIME, image_to_data_url, sniff_format, sniff_image_mime, sniff_mime


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wav = tmp_path_factory.mktemp("sniff") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "media types"], check=True, capture_output=True)
    return wav


def _sox(source: Path, suffix: str, *effects: str) -> bytes:
    out = source.with_name(f"{source.stem}-{len(effects)}.{suffix}")
    subprocess.run(["sox", str(source), str(out), *effects], check=True, capture_output=True)
    return out.read_bytes()


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [("flac", "flac"), ("ogg", "ogg"), ("mp3", "mp3"), ("aiff", "aiff")],
)
def test_real_audio_formats(speech: Path, suffix: str, expected: str) -> None:
    data = _sox(speech, suffix)
    assert sniff_format(data) == expected
    assert sniff_mime(data) == FORMAT_MIME[expected]


def test_real_wav_is_audio_not_webp(speech: Path) -> None:
    # Before: media.py called every RIFF file image/webp.
    data = speech.read_bytes()
    assert data[:4] == b"RIFF"
    assert sniff_format(data) == "wav"
    assert sniff_mime(data) == "audio/wav"
    assert not image_to_data_url(data).startswith("data:image/webp")


def test_mp3_without_an_id3_tag_is_found_by_its_frame_header(speech: Path) -> None:
    data = _sox(speech, "mp3")
    if data.startswith(b"ID3"):  # skip the tag: what remains starts with a frame header
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        data = data[10 + size :]
    assert data[0] == 0xFF
    assert sniff_format(data) == "mp3"


@pytest.mark.parametrize(
    ("pil_format", "expected"),
    [("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif"), ("WEBP", "webp"), ("BMP", "bmp"), ("TIFF", "tiff")],
)
def test_real_images(pil_format: str, expected: str) -> None:
    image = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    image.new("RGB", (16, 16), (200, 30, 30)).save(buf, format=pil_format)
    data = buf.getvalue()
    assert sniff_format(data) == expected
    assert sniff_image_mime(data) == FORMAT_MIME[expected]
    url = image_to_data_url(data)
    assert url.startswith(f"data:{FORMAT_MIME[expected]};base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == data


def test_riff_is_decided_by_its_form_type() -> None:
    assert sniff_format(b"RIFF\x24\x00\x00\x00AVI LIST") == "avi"
    assert sniff_format(b"RIFF\x24\x00\x00\x00CDXA") is None  # a RIFF of a kind we do not know


def test_iso_media_and_matroska() -> None:
    assert sniff_format(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00") == "mp4"
    assert sniff_format(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00") == "m4a"
    assert sniff_format(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm") == "webm"
    assert sniff_format(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska") == "mkv"


def test_adts_aac_is_not_mp3() -> None:
    assert sniff_format(b"\xff\xf1\x50\x80\x02\x1f\xfc") == "aac"


def test_unknown_bytes() -> None:
    assert sniff_format(b"hello world") is None
    assert sniff_mime(b"") is None
    assert sniff_image_mime(b"hello") == "image/png"  # the documented fallback for images


def test_the_kit_uses_the_same_sniffer() -> None:
    from lollms_core.testing.suites import sniff_format as kit_sniff

    assert kit_sniff is sniff_format


def test_long_base64_image_text_is_decoded_not_taken_for_a_file_name():
    """Regression: base64 longer than a file name can be made Path.exists() raise ENAMETOOLONG."""
    import base64

    from lollms_core.media import image_to_base64, image_to_data_url

    png = b"\x89PNG\r\n\x1a\n" + bytes(600)
    text = base64.b64encode(png).decode("ascii")
    assert len(text) > 255
    assert image_to_base64(text) == text
    assert image_to_data_url(text) == f"data:image/png;base64,{text}"
