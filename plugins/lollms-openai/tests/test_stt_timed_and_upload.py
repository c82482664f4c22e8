"""STT: timed segments from the real faster-whisper server, and the upload's sniffed file type.

The upload test needs to see the multipart part the binding sends, which no real server
reports back: a 30-line recording server on 127.0.0.1 answers ``{"text": ...}`` and keeps it.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import re
import threading
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def test_transcribe_segments_are_the_servers_verbose_json_segments(
    make_binding: Any, stt_server: Any, speech_wav: Path
) -> None:
    stt = make_binding("STT", host_address=stt_server.base_url)
    result = stt.transcribe_segments(speech_wav)
    assert "hello world" in result.text.lower()
    assert result.segments, result
    with wave.open(str(speech_wav)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 0.0 <= result.segments[0].start < result.segments[-1].end <= seconds + 0.5
    assert result.segments[0].avg_logprob is not None  # real whisper confidence, not the base's default cue
    assert result.language == "en"
    srt = result.to_srt()
    assert re.match(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n\S", srt), srt
    assert "hello world" in srt.lower()


class _Recorder(BaseHTTPRequestHandler):
    parts: list[dict[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                self.parts.append({"filename": str(part.get_filename()), "type": part.get_content_type()})
        out = json.dumps({"text": "recorded"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    _Recorder.parts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Recorder.parts
    finally:
        server.shutdown()
        server.server_close()


def test_uploaded_bytes_carry_their_sniffed_type_and_extension(
    make_binding: Any, recorder: Any, speech_wav: Path, tmp_path: Path
) -> None:
    import subprocess

    url, parts = recorder
    stt = make_binding("STT", host_address=url)
    flac = tmp_path / "speech.flac"
    subprocess.run(["sox", str(speech_wav), str(flac)], check=True, capture_output=True)
    buf = io.BytesIO()
    pil = pytest.importorskip("PIL.Image")
    pil.new("RGB", (4, 4)).save(buf, format="WEBP")  # a RIFF file that is not audio
    for data in (speech_wav.read_bytes(), flac.read_bytes(), buf.getvalue()):
        assert stt.transcribe_audio(data) == "recorded"
    # Before: every RIFF file was sent as audio/wav, and the extension guessed from that.
    assert parts == [
        {"filename": "audio.wav", "type": "audio/wav"},
        {"filename": "audio.flac", "type": "audio/flac"},
        {"filename": "audio.webp", "type": "image/webp"},
    ]
