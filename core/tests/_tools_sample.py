"""Functions the ``python`` tools binding serves in the tests (``_tools_sample:*``)."""

from __future__ import annotations


def add(a: int, b: int) -> int:
    """Add two integers.

    :param a: the first number
    :param b: the second number
    """
    return a + b


def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


async def slow_echo(text: str) -> str:
    """Echo, asynchronously."""
    return text


def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(reason)


def _hidden() -> None:
    """Private: never offered."""
