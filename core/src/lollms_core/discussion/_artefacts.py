"""Artefacts: versioned documents kept with a discussion, the active ones sent in its system prompt.

lollms_client 1.21's ``discussion.artefacts`` (an ``ArtefactManager``) keeps every version of
every artefact as a dict; ``update()`` adds the next version and makes it the active one,
and the active artefacts' contents go into the prompt under ``-- Active Artefacts --``.
Same dicts and method names here; what lollms_client adds on top (a workspace folder
mirrored on disk, visibility tiers, archives and bundles, patches) is not offered: see
docs/migrating-from-lollms-client.md.

The manager holds no state: it reads the discussion's list and hands every new list to the
discussion's ``save`` (which writes the store first), so a refused write changes nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, ClassVar

from ..errors import ConfigError

__all__ = ["ArtefactManager", "ArtefactType"]


class ArtefactType:
    """lollms_client's artefact categories (plain strings), with :meth:`register_custom_type` for more."""

    FILE = "file"
    SEARCH_RESULT = "search_result"
    NOTE = "note"
    SKILL = "skill"
    CODE = "code"
    DOCUMENT = "document"
    IMAGE = "image"
    PRESENTATION = "presentation"
    DATA = "data"
    TOOL = "tool"
    SCRATCHPAD = "scratchpad"

    #: Every known type name.
    ALL: ClassVar[set[str]] = {
        FILE, SEARCH_RESULT, NOTE, SKILL, CODE, DOCUMENT, IMAGE, PRESENTATION, DATA, TOOL, SCRATCHPAD
    }  # fmt: skip
    #: A display label per type.
    LABELS: ClassVar[dict[str, str]] = {
        FILE: "File", SEARCH_RESULT: "Search Result", NOTE: "Note", SKILL: "Skill", CODE: "Code",
        DOCUMENT: "Document", IMAGE: "Image", PRESENTATION: "Presentation", DATA: "Data Interface",
        TOOL: "Tool", SCRATCHPAD: "Scratchpad",
    }  # fmt: skip

    @classmethod
    def register_custom_type(cls, type_name: str, label: str | None = None) -> None:
        """Allow ``type_name`` (lower-cased) as an artefact type, shown as ``label``."""
        name = type_name.lower().strip()
        cls.ALL.add(name)
        cls.LABELS[name] = label or cls.LABELS.get(name) or name.capitalize()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class ArtefactManager:
    """``discussion.artefacts``: add, get, update, list, remove and activate versioned artefacts.

    :param read: returns the discussion's artefacts (every version), oldest first.
    :param save: persists a new list in place of the old one (raises, changing nothing, if it cannot).
    """

    def __init__(self, read: Callable[[], builtins.list[dict[str, Any]]], save: Callable[..., None]) -> None:
        self._read = read
        self._save = save

    def _all(self) -> builtins.list[dict[str, Any]]:
        return [dict(a) for a in self._read()]  # copies: a caller's edit never reaches the discussion unsaved

    def _titles(self) -> str:
        titles = sorted({a["title"] for a in self._read()})
        return ", ".join(titles) if titles else "none yet"

    def add(
        self,
        title: str,
        artefact_type: str = ArtefactType.DOCUMENT,
        content: str = "",
        images: builtins.list[str] | None = None,
        language: str | None = None,
        url: str | None = None,
        tags: builtins.list[str] | None = None,
        version: int = 1,
        active: bool | None = None,
        commit_message: str | None = None,
        **extra_data: Any,
    ) -> dict[str, Any]:
        """Store ``title`` at ``version`` (replacing that version if it exists) and return it.

        Other versions of the same title become inactive. ``active`` defaults to ``False``,
        as in lollms_client (an artefact is sent to the model once activated). Extra keyword
        fields are kept in the dict.

        :raises ConfigError: an empty title, an unknown type, a bad version or content.
        """
        if not isinstance(title, str) or not title.strip():
            raise ConfigError(f"artefact title must be a non-empty str, not {title!r}")
        if artefact_type not in ArtefactType.ALL:
            raise ConfigError(
                f"unknown artefact type {artefact_type!r}; expected one of {', '.join(sorted(ArtefactType.ALL))} "
                "(or ArtefactType.register_custom_type(name) first)"
            )
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ConfigError(f"artefact version must be an int >= 1, not {version!r}")
        if not isinstance(content, str):
            raise ConfigError(f"artefact content must be a str, not {type(content).__name__}")
        now = _now()
        new = {
            **extra_data,
            "title": title, "type": artefact_type, "version": version, "content": content,
            "images": list(images or []), "language": language, "url": url, "tags": list(tags or []),
            "active": bool(active), "commit_message": commit_message, "created_at": now, "updated_at": now,
        }  # fmt: skip
        kept = [a for a in self._all() if not (a["title"] == title and a["version"] == version)]
        if new["active"]:
            for a in kept:
                if a["title"] == title:
                    a["active"] = False
        self._save([*kept, new])
        return dict(new)

    def get(self, title: str, version: int | None = None) -> dict[str, Any] | None:
        """The latest version of ``title`` (or that ``version``), ``None`` when there is none."""
        found = [a for a in self._all() if a["title"] == title and (version is None or a["version"] == version)]
        return max(found, key=lambda a: int(a["version"])) if found else None

    def list(
        self, artefact_type: str | None = None, active_only: bool = False, tags: builtins.list[str] | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Every stored version, oldest first, filtered by type, activity and tags (all of them)."""
        out = self._all()
        if artefact_type:
            out = [a for a in out if a["type"] == artefact_type]
        if active_only:
            out = [a for a in out if a.get("active")]
        if tags:
            out = [a for a in out if set(tags) <= set(a.get("tags") or [])]
        return out

    def update(
        self,
        title: str,
        new_content: str | None = None,
        new_type: str | None = None,
        new_images: builtins.list[str] | None = None,
        new_tags: builtins.list[str] | None = None,
        language: str | None = None,
        url: str | None = None,
        new_title: str | None = None,
        bump_version: bool = True,
        active: bool | None = None,
        commit_message: str | None = None,
        version: int | None = None,
        **extra_data: Any,
    ) -> dict[str, Any]:
        """A new version of ``title`` (latest + 1; the same version with ``bump_version=False``).

        Unchanged fields are carried over from the latest version, which stays stored. The new
        version is active if the latest was (or as ``active`` says).

        :raises ConfigError: no artefact has that title (the message lists the stored ones).
        """
        latest = self.get(title)
        if latest is None:
            raise ConfigError(f"cannot update artefact {title!r}: there is none; stored: {self._titles()}")
        carried = {k: v for k, v in latest.items() if k not in ("created_at", "updated_at")}
        number = version if version is not None else int(latest["version"]) + (1 if bump_version else 0)
        fields = {
            **carried, **extra_data,
            "content": latest["content"] if new_content is None else new_content,
            "artefact_type": new_type or latest["type"],
            "images": latest.get("images") if new_images is None else new_images,
            "tags": latest.get("tags") if new_tags is None else new_tags,
            "language": latest.get("language") if language is None else language,
            "url": latest.get("url") if url is None else url,
            "active": bool(latest.get("active")) if active is None else active,
            "commit_message": commit_message, "version": number, "title": new_title or title,
        }  # fmt: skip
        fields.pop("type", None)
        return self.add(**fields)

    def remove(self, title: str, version: int | None = None) -> int:
        """Delete every version of ``title`` (or only ``version``); return how many were removed."""
        artefacts = self._all()
        kept = [a for a in artefacts if not (a["title"] == title and version in (None, a["version"]))]
        if len(kept) != len(artefacts):
            self._save(kept)
        return len(artefacts) - len(kept)

    def activate(self, title: str, version: int | None = None) -> None:
        """Send ``title`` (its latest version, or ``version``) to the model; its other versions stop.

        :raises ConfigError: no such artefact or version.
        """
        chosen = self._require(title, version)
        self._set_active(lambda a: a["title"] == title, lambda a: a["version"] == chosen["version"])

    def deactivate(self, title: str, version: int | None = None) -> None:
        """Stop sending ``title`` (every version, or ``version``) to the model.

        :raises ConfigError: no such artefact or version.
        """
        self._require(title, version)
        self._set_active(lambda a: a["title"] == title and version in (None, a["version"]), lambda a: False)

    def toggle(self, title: str, version: int | None = None) -> bool:
        """Flip whether ``title`` (latest, or ``version``) is sent; return the new state."""
        chosen = self._require(title, version)
        if chosen.get("active"):
            self.deactivate(title, chosen["version"])
            return False
        self.activate(title, chosen["version"])
        return True

    def get_version_history(self, title: str) -> builtins.list[dict[str, Any]]:
        """lollms_client's history rows of ``title``, oldest version first (``[]`` if none)."""
        versions = sorted((a for a in self._all() if a["title"] == title), key=lambda a: int(a["version"]))
        return [
            {
                "version": a["version"],
                "created_at": a.get("created_at", ""),
                "updated_at": a.get("updated_at", ""),
                "content_preview": a["content"][:200] + ("…" if len(a["content"]) > 200 else ""),
                "size_chars": len(a["content"]),
                "image_count": len(a.get("images") or []),
                "is_active": bool(a.get("active")),
            }
            for a in versions
        ]

    def build_artefacts_context_zone(self) -> str:
        """The active artefacts as sent to the model: ``<file path="title">content</file>`` blocks."""
        blocks = [
            f'<file path="{a["title"]}">\n{a["content"].strip()}\n</file>'
            for a in self._all()
            if a.get("active") and a["content"].strip()
        ]
        return "\n\n".join(blocks)

    def get_active_images(self) -> builtins.list[str]:
        """The images of the active artefacts."""
        return [image for a in self._all() if a.get("active") for image in a.get("images") or []]

    def _require(self, title: str, version: int | None) -> dict[str, Any]:
        found = self.get(title, version)
        if found is None:
            what = f"{title!r}" if version is None else f"{title!r} version {version}"
            raise ConfigError(f"no artefact {what}; stored: {self._titles()}")
        return found

    def _set_active(self, selects: Callable[[dict[str, Any]], bool], state: Callable[[dict[str, Any]], bool]) -> None:
        artefacts = self._all()
        for a in artefacts:
            if selects(a):
                a["active"] = state(a)
                a["updated_at"] = _now()
        self._save(artefacts)

    def __repr__(self) -> str:
        return f"<ArtefactManager {len(self._read())} artefact version(s)>"
