"""Fixtures of the PKCS#11 module tests: the module built once per session (gcc, python3-dev,
cffi), a C program that loads it, and a real service (Unix peer credentials: the identity a
consumer gets is its uid)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pqptest.service import ServiceProcess, public_tmpdir

from pqparsec.cli.p11module_cmd import pkcs11_module
from pqparsec.client import BasicClient
from pqparsec.p11module import builder

HERE = Path(__file__).resolve().parent

@pytest.fixture(scope="session")
def p11lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module, built as `pqparsec pkcs11-module build` builds it."""
    out = tmp_path_factory.mktemp("p11module")
    res = CliRunner().invoke(pkcs11_module, ["build", "-o", str(out)])
    assert res.exit_code == 0, res.output
    lib = Path(res.output.strip())
    assert lib.parent == out and lib.is_file()
    path = CliRunner().invoke(pkcs11_module, ["path", "-o", str(out)])
    assert path.exit_code == 0 and path.output.strip() == str(lib)
    os.chmod(out, 0o755)
    return lib


@pytest.fixture(scope="session")
def p11caller(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/p11module/p11caller.c, compiled."""
    out = tmp_path_factory.mktemp("p11caller")
    (out / "pkcs11_types.h").write_text(builder.c_header())
    exe = out / "p11caller"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", str(exe), str(HERE / "p11caller.c"),
                    f"-I{out}", "-ldl", "-lpthread"], check=True, capture_output=True, text=True)
    return exe


@pytest.fixture(scope="session")
def p11svc() -> Iterator[ServiceProcess]:
    tmp = public_tmpdir("pqp-p11-")  # 0755: the isolation test connects as other uids
    s = ServiceProcess(tmp, auth_type="UnixPeerCredentials")
    s.start()
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def p11client(p11svc: ServiceProcess) -> BasicClient:
    client: BasicClient = p11svc.client()
    return client


@pytest.fixture
def p11env(p11svc: ServiceProcess, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PQPARSEC_P11_APP_NAME", "PQPARSEC_P11_CONFIG", "OPENSSL_CONF",
                        "SSH_AUTH_SOCK", "SSH_AGENT_PID")}
    env.update({"PARSEC_SERVICE_ENDPOINT": p11svc.endpoint, "HOME": str(tmp_path)})
    return env
