"""What every conformance suite shares: manifest, config, secret-masking and model-list checks.

Also the small helpers the suites and plugin tests use: :func:`sniff_format` (file type from
magic bytes; the core's one sniffer, :func:`lollms_core.media.sniff_format`) and
:func:`loose_match` (transcripts that differ in case and punctuation).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from typing import Any, ClassVar

import pytest

from ..errors import ConfigError
from ..media import sniff_format
from ..types import Modality

__all__ = ["BindingTestsBase", "loose_match", "sniff_format"]

#: A value no real configuration contains; suites look for it in reprs and messages.
SECRET_MARKER = "sk-lollms-conformance-SECRET-7f3a9c"

# A value of the wrong type for each manifest parameter type (strings are parsed, so the
# text ones must be unparsable).
_WRONG_VALUE: dict[str, Any] = {
    "str": 12345,
    "int": "not-an-int",
    "float": "not-a-float",
    "bool": "maybe",
    "list": 12345,
    "dict": 12345,
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def loose_match(got: str, expected: str, min_ratio: float = 0.6) -> bool:
    """Whether a transcript ``got`` says roughly ``expected``: case, punctuation and a few words may differ.

    Compares the word sequences with :class:`difflib.SequenceMatcher`; ``min_ratio`` is the
    share of matching words required.
    """
    a, b = _words(got), _words(expected)
    if not b:
        return not a
    return difflib.SequenceMatcher(None, a, b).ratio() >= min_ratio


def _all_parameters(manifest: Any) -> Iterable[tuple[str, Any]]:
    for p in manifest.parameters:
        yield "input_parameters", p
    for method, params in manifest.method_parameters.items():
        for p in params:
            yield f"{method}_parameters", p


class BindingTestsBase:
    """Tests every binding must pass, whatever its modality.

    Subclass a modality suite (not this class) and provide a ``binding`` fixture. No test
    of the kit closes, reconfigures or breaks the ``binding`` it is given, so an expensive
    engine can be loaded once per class::

        @pytest.fixture(scope="class")
        @classmethod
        def binding(cls):
            made = LollmsSTTBindingManager().create_binding("mybinding", model_name="tiny")
            yield made
            made.close()

    Optional fixtures, overridden in the subclass:

    * ``config_for_validation`` — a config the binding accepts (default: the ``binding``'s
      own config); the config tests add one wrong value to it;
    * ``failing_binding`` — a binding whose backend fails (a closed port, a server answering
      500; for a local engine, one whose engine raises at call time, which the base turns
      into an :class:`~lollms_core.errors.EngineError`); default ``None`` skips the error tests.
    """

    #: The modality the suite checks (set by each modality suite).
    modality: ClassVar[Modality]
    #: Top-level modules ``import lollms_core`` must not load, even with this plugin installed.
    heavy_modules: ClassVar[frozenset[str]] = frozenset(
        {"httpx", "requests", "aiohttp", "openai", "numpy", "torch", "transformers", "xllamacpp", "llama_cpp"}
        | {"faster_whisper", "ctranslate2", "onnxruntime", "av", "mcp", "httpx2", "anyio"}
    )

    @pytest.fixture
    def config_for_validation(self, binding: Any) -> dict[str, Any]:
        """A config the binding class accepts; wrong values are added to it one at a time."""
        return {k: v for k, v in dict(binding.config).items() if v is not None}

    @pytest.fixture
    def failing_binding(self) -> Any:
        """A binding whose backend fails; ``None`` (the default) skips the error tests."""
        return None

    # -- manifest ---------------------------------------------------------------------------

    def test_manifest_is_valid(self, binding: Any) -> None:
        """The class carries a validated Manifest of the suite's modality."""
        from ..manifest._model import Manifest

        manifest = binding._resolve_manifest()
        assert isinstance(manifest, Manifest), f"{type(binding).__name__} has no Manifest (got {manifest!r})"
        assert manifest.modality == self.modality, f"manifest modality {manifest.modality} != {self.modality}"
        assert binding.modality == self.modality
        assert manifest.name
        assert binding.binding_name == manifest.name
        assert manifest.description.strip(), "the manifest needs a description"

    def test_every_parameter_has_a_description(self, binding: Any) -> None:
        """Users read parameter descriptions in ``lollms bindings show``; none may be empty."""
        manifest = binding._resolve_manifest()
        missing = [f"{where}:{p.name}" for where, p in _all_parameters(manifest) if not p.description.strip()]
        assert not missing, f"parameters without a description: {', '.join(missing)}"

    def test_secrets_are_masked(self, binding: Any, config_for_validation: dict[str, Any]) -> None:
        """A secret config value never shows in ``repr(binding)``, ``repr(binding.config)`` or ``str``."""
        manifest = binding._resolve_manifest()
        secrets = [p.name for p in manifest.parameters if p.is_secret]
        if not secrets:
            pytest.skip("the manifest declares no is_secret parameter")
        config = {**config_for_validation, **dict.fromkeys(secrets, SECRET_MARKER)}
        with_secret = type(binding)(**config)
        try:
            for name in secrets:
                assert with_secret.config[name] == SECRET_MARKER, "the binding must read the real secret value"
            for text in (repr(with_secret), str(with_secret), repr(with_secret.config), str(with_secret.config)):
                assert SECRET_MARKER not in text, f"secret leaked into {text!r}"
        finally:
            with_secret.close()

    def test_discovery_imports_neither_the_binding_nor_anything_heavy(self, binding: Any) -> None:
        """A fresh ``import lollms_core`` (which discovers this plugin) loads no binding module and no engine."""
        spec = binding.spec
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        if spec is not None and spec.distribution != "lollms-core":
            env["LOLLMS_LOAD_PLUGINS"] = spec.distribution
        script = "import json, sys, lollms_core; print(json.dumps(sorted(sys.modules)))"
        cmd = [sys.executable, "-c", script]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stderr[-2000:]
        loaded = set(json.loads(run.stdout.strip().splitlines()[-1]))
        assert type(binding).__module__ not in loaded, f"{type(binding).__module__} was imported at discovery"
        heavy = sorted(self.heavy_modules & {m.split(".")[0] for m in loaded})
        assert not heavy, f"import lollms_core loaded {heavy}; import them when the binding is created"

    # -- configuration ----------------------------------------------------------------------

    def test_unknown_config_key_is_a_config_error(self, binding: Any, config_for_validation: dict[str, Any]) -> None:
        """An unknown key is refused before anything starts, and the message names it."""
        bad = {**config_for_validation, "definitely_not_a_parameter": 1}
        with pytest.raises(ConfigError, match="definitely_not_a_parameter"):
            type(binding)(**bad)

    def test_wrong_config_type_is_a_config_error(self, binding: Any, config_for_validation: dict[str, Any]) -> None:
        """A value of the wrong type is refused with a ConfigError naming the parameter."""
        manifest = binding._resolve_manifest()
        if not manifest.parameters:
            pytest.skip("the manifest declares no input_parameters")
        for p in manifest.parameters:
            bad = {**config_for_validation, p.name: _WRONG_VALUE[p.type]}
            with pytest.raises(ConfigError, match=re.escape(p.name)):
                type(binding)(**bad)

    # -- models -----------------------------------------------------------------------------

    def test_list_models_shape(self, binding: Any) -> None:
        """``list_models()`` is a list of dicts, each with a string ``model_name``."""
        models = binding.list_models()
        assert isinstance(models, list)
        for m in models:
            assert isinstance(m, dict), f"list_models() item {m!r} is not a dict"
            assert isinstance(m.get("model_name"), str), f"{m!r} has no string model_name"
            assert m["model_name"], f"{m!r} has an empty model_name"
        assert isinstance(binding.listModels(), list), "listModels() (seed alias) must return a list too"
