"""``core_api`` in a manifest: which lollms core API versions a binding was built for.

A manifest says ``core_api: 1`` (exactly API 1) or gives a PEP 440 specifier such as
``">=1,<2"``; no ``core_api`` at all means "unverified" (it is loaded, and listed as such).
The API version is :data:`~lollms_core.types.CORE_API_VERSION`, a plain integer, so the
release-number part of PEP 440 is all that is needed: no dependency on ``packaging``.
"""

from __future__ import annotations

from typing import Any

from ..errors import ManifestError

__all__ = ["core_api_mismatch", "normalise_core_api"]

_OPERATORS = ("===", "~=", "==", "!=", ">=", "<=", ">", "<")


def normalise_core_api(value: Any) -> int | str | None:
    """Check the manifest value's shape: ``None``, a non-negative integer or a specifier string.

    :raises ManifestError: naming the value and the two accepted forms.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ManifestError(f"core_api: {value!r} is neither an integer (1) nor a PEP 440 specifier ('>=1,<2')")
    if isinstance(value, int):
        if value < 0:
            raise ManifestError(f"core_api: {value!r} must be >= 0")
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    for clause in text.split(","):
        _parse_clause(clause, text)
    return text


def core_api_mismatch(declared: int | str | None, implemented: int) -> str | None:
    """``None`` when ``implemented`` satisfies ``declared`` (or nothing was declared), else the reason."""
    if declared is None:
        return None
    if isinstance(declared, int):
        ok, shown = declared == implemented, str(declared)
    else:
        ok, shown = all(_satisfies(_parse_clause(c, declared), implemented) for c in declared.split(",")), declared
    if ok:
        return None
    return f"built for lollms core API {shown}; this lollms-core implements core API {implemented}"


def _parse_clause(clause: str, whole: str) -> tuple[str, tuple[int, ...], bool]:
    clause = clause.strip()
    op = next((o for o in _OPERATORS if clause.startswith(o)), None)
    rest = clause[len(op) :].strip() if op else ""
    wildcard = rest.endswith(".*") and op in ("==", "!=")
    numbers = rest[:-2] if wildcard else rest
    parts = numbers.split(".")
    if op is None or not numbers or not all(p.isdigit() for p in parts) or (op == "~=" and len(parts) < 2):
        raise ManifestError(
            f"core_api: {whole!r} is not a PEP 440 specifier over release numbers "
            "(write e.g. '>=1,<2', '==1' or just 1)"
        )
    return op, tuple(int(p) for p in parts), wildcard


def _satisfies(parsed: tuple[str, tuple[int, ...], bool], implemented: int) -> bool:
    op, want, wildcard = parsed
    have = (implemented,) + (0,) * (len(want) - 1)
    width = max(len(want), len(have))
    have, padded = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    if wildcard:
        equal = have[: len(want)] == want
        return equal if op == "==" else not equal
    if op == "~=":  # ~=1.2 means >=1.2, ==1.*
        return have >= padded and have[: len(want) - 1] == want[:-1]
    return {
        "==": have == padded,
        "===": have == padded,
        "!=": have != padded,
        ">=": have >= padded,
        "<=": have <= padded,
        ">": have > padded,
        "<": have < padded,
    }[op]
