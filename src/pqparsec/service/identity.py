"""Who is asking: the authenticator that vouched and the application name it gave."""

from __future__ import annotations

from dataclasses import dataclass

from pqparsec.protocol.ids import AuthType


@dataclass(frozen=True)
class Identity:
    auth_type: AuthType
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.auth_type.name})"
