"""The whisper plugin uses the layout every in-tree plugin uses: ``class:`` in the manifest,
the class in ``<binding>/binding.py``, ``BindingName`` kept as the seeds' fallback."""

from __future__ import annotations

from importlib import resources

import yaml


def test_manifest_names_the_class_in_binding_py() -> None:
    manifest = yaml.safe_load(resources.files("lollms_whisper.whisper").joinpath("description.yaml").read_text())
    assert manifest["class"] == "lollms_whisper.whisper.binding:WhisperBinding"
    import lollms_whisper.whisper as package
    from lollms_whisper.whisper.binding import WhisperBinding

    assert getattr(package, package.BindingName) is WhisperBinding


def test_the_transcript_module_re_exports_the_core_contract() -> None:
    import lollms_core.bindings as core
    import lollms_whisper.transcript as old

    for name in ("Segment", "Transcription", "Word", "to_srt", "to_vtt", "format_timestamp"):
        assert getattr(old, name) is getattr(core, name)
