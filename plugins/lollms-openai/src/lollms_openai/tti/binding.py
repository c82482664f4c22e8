"""``OpenAIImageBinding``: /images/generations and /images/edits on OpenAI-compatible servers."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from lollms_core import http
from lollms_core.bindings import LollmsTTIBinding
from lollms_core.errors import ConfigError, ServerError
from lollms_core.media import read_bytes_source, sniff_format, sniff_image_mime
from lollms_core.types import ImageInput

from .._connection import OpenAIConnection

__all__ = ["OpenAIImageBinding"]


class OpenAIImageBinding(LollmsTTIBinding):
    """Text-to-image and (masked) image editing; b64_json and URL answers both become image bytes."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.connection = OpenAIConnection(self.config)
        self.host_address = self.connection.base_url

    def _fields(self, params: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
        model = params.get("model") or self.model_name
        out: dict[str, Any] = {"model": model} if model else {}
        width, height = params.get("width"), params.get("height")
        if width or height:
            out["size"] = f"{width or height}x{height or width}"
        for name in names:
            value = params.get(name)
            if value not in (None, "") and not (name == "size" and "size" in out):
                out[name] = value
        return out

    def _first_image(self, payload: Any, endpoint: str) -> bytes:
        where = f"{self.host_address}{endpoint}"
        try:
            item = payload["data"][0]
        except (KeyError, IndexError, TypeError):
            raise ServerError(f"{where}: the answer has no data[0] image: {str(payload)[:200]}") from None
        if item.get("b64_json"):
            try:
                return base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError):
                raise ServerError(f"{where}: data[0].b64_json is not valid base64") from None
        if item.get("url"):
            # The image lives elsewhere (often a signed blob URL): no API headers go there.
            settings = _download_settings(self.connection.settings)
            with http.make_client(settings) as client:
                return http.request(client, "GET", item["url"], settings=settings).content
        raise ServerError(f"{where}: data[0] has neither b64_json nor url")

    def _generate_image(self, prompt: str, params: dict[str, Any]) -> bytes:
        body = {"prompt": prompt, **self._fields(params, ("size", "quality", "n", "response_format", "style"))}
        if params.get("negative_prompt"):
            body["prompt"] = f"{prompt}\nAvoid: {params['negative_prompt']}"  # OpenAI has no negative prompt
        return self._first_image(self.connection.post_json("/images/generations", body), "/images/generations")

    def _edit_image(self, images: list[ImageInput], prompt: str, params: dict[str, Any]) -> bytes:
        if not images:
            raise ConfigError("edit_image needs at least one image")
        data = {k: str(v) for k, v in self._fields(params, ("size", "n", "response_format")).items()}
        data["prompt"] = prompt
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        field = "image" if len(images) == 1 else "image[]"
        for i, image in enumerate(images):
            raw = read_bytes_source(image, "image")
            files.append((field, (f"image{i}.{sniff_format(raw) or 'png'}", raw, sniff_image_mime(raw))))
        if params.get("mask") is not None:
            mask = read_bytes_source(params["mask"], "mask")
            files.append(("mask", ("mask.png", mask, sniff_image_mime(mask))))
        response = self.connection.post("/images/edits", data=data, files=files)
        return self._first_image(response.json(), "/images/edits")

    def list_models(self) -> list[dict[str, Any]]:
        """/models as ``model_name`` dicts (the configured model when the server has no /models)."""
        return self.connection.list_models(self.model_name)

    def close(self) -> None:
        """Close the HTTP pools."""
        self.connection.close()
        super().close()


def _download_settings(s: http.HttpSettings) -> http.HttpSettings:
    """Retry/timeout settings for downloading a `url` image (same policy, no API headers)."""
    return http.HttpSettings(
        base_url="",
        read_timeout=s.read_timeout,
        connect_timeout=s.connect_timeout,
        retry=s.retry,
        service="image download",
    )
