"""Fixtures of the CLI tests: they run the installed `pqparsec` executable in a subprocess, with
PARSEC_SERVICE_ENDPOINT pointing at a real service, as a user (or parsec-tool's test script)
would."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pqptest.cli import Cli, pqparsec_executable
from pqptest.service import ServiceProcess

from pqparsec.protocol.opcodes import Opcode

_names = itertools.count()


@pytest.fixture
def cli(direct_service: ServiceProcess, tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k not in ("PQPARSEC_APP_NAME",)}
    env.update({"PARSEC_SERVICE_ENDPOINT": direct_service.endpoint,
                "XDG_DATA_HOME": str(tmp_path / "xdg"), "PYTHONUNBUFFERED": "1"})
    return Cli(pqparsec_executable(), direct_service.endpoint, f"cli-test-{next(_names)}", env)


@pytest.fixture(scope="session")
def openssl() -> str:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("the openssl command line tool is not installed")
    return exe


@pytest.fixture
def require_opcode(cli: Cli) -> Callable[[Opcode], None]:
    """Skip when the default provider does not (yet) list an opcode, extensions included."""
    client = cli.client()
    supported = set(client.list_opcodes(int(client.provider), include_extensions=True))

    def check(op: Opcode) -> None:
        if int(op) not in supported:
            pytest.skip(f"provider {client.provider.name} does not list {op.name} yet")
    return check
