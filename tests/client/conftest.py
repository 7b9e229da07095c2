"""Fixtures of the client library tests: a real `pqparsec serve` (Direct authenticator) per
module, and a client with a fresh application name (so no keys) and its own label directory."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.protocol.opcodes import Opcode

_names = itertools.count()


@pytest.fixture
def client(direct_service: ServiceProcess, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> BasicClient:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return BasicClient(app_name=f"client-test-{next(_names)}", endpoint=direct_service.endpoint,
                       timeout=30.0)


@pytest.fixture
def admin(direct_service: ServiceProcess) -> BasicClient:
    return direct_service.client("admin")


@pytest.fixture
def require_opcode(client: BasicClient) -> Callable[[Opcode], None]:
    """Skip a test when the default provider does not list the opcode (extensions included):
    the server side of some operations may not be finished yet."""
    supported = set(client.list_opcodes(int(client.provider), include_extensions=True))

    def check(op: Opcode) -> None:
        if int(op) not in supported:
            pytest.skip(f"provider {client.provider.name} does not list {op.name} yet")
    return check
