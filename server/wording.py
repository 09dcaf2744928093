"""How counts read, on pages and in the terminal (without Flask: ``kb lint`` uses it)."""

from __future__ import annotations


def counted(count: int, thing: str) -> str:
    """``count`` of ``thing``, singular for one: "1 error", "2 errors"."""
    return f"{count} {thing}" if count == 1 else f"{count} {thing}s"
