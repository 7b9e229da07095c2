"""Refusals a provider's pinned table promises but the service does not make yet: each is a bug
in src/ (reported, not fixed in the tests), and its refusal test is xfail(strict=True), so that
the fix shows up as an XPASS failure and this entry is removed with it.

(provider, cell or opcode name) -> what is wrong.
"""

from __future__ import annotations

KNOWN_BUGS: dict[tuple[str, str], str] = {}
