"""``LollmsTTIBinding``: text-to-image (seed 001 §4)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ..errors import NotSupportedError
from ..types import ImageInput, Modality
from ._checks import text_input
from .base import LollmsBinding

__all__ = ["LollmsTTIBinding"]


class LollmsTTIBinding(LollmsBinding):
    """Base class of image generators. Implement :meth:`_generate_image` (and :meth:`_edit_image`)."""

    modality: ClassVar[Modality] = Modality.TTI

    @abstractmethod
    def _generate_image(self, prompt: str, params: dict[str, Any]) -> bytes:
        """Return one encoded image (PNG unless the manifest says otherwise)."""

    def _edit_image(self, images: list[ImageInput], prompt: str, params: dict[str, Any]) -> bytes:
        """Return the edited image; ``params["mask"]`` is set for inpainting."""
        raise NotSupportedError(f"the {self.binding_name} binding cannot edit images")

    def generate_image(
        self,
        prompt: str,
        negative_prompt: str = "",
        width: int | None = None,
        height: int | None = None,
        **params: Any,
    ) -> bytes:
        """Generate an image from ``prompt``; returns the image file's bytes."""
        known = {"negative_prompt": negative_prompt or None, "width": width, "height": height}
        prompt = text_input("generate_image", "prompt", prompt)
        return self._invoke("generate_image", self._generate_image, prompt, params=params, known=known)

    def edit_image(
        self,
        images: ImageInput | list[ImageInput],
        prompt: str,
        mask: ImageInput | None = None,
        **params: Any,
    ) -> bytes:
        """Edit ``images`` following ``prompt``; with ``mask``, only its transparent area (inpainting)."""
        imgs = images if isinstance(images, list) else [images]
        prompt = text_input("edit_image", "prompt", prompt)
        return self._invoke("edit_image", self._edit_image, imgs, prompt, params=params, known={"mask": mask})

    async def agenerate_image(self, prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`generate_image` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.generate_image, prompt, **kwargs)

    async def aedit_image(self, images: ImageInput | list[ImageInput], prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`edit_image`."""
        import asyncio

        return await asyncio.to_thread(self.edit_image, images, prompt, **kwargs)

    def list_models(self) -> list[dict[str, Any]]:
        """Image models available: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()

    def set_settings(self, settings: dict[str, Any]) -> bool:
        """Seed 001: switch settings such as the model; only ``model_name`` is applied by default."""
        if "model_name" in settings:
            self.model_name = settings["model_name"]
        return True
