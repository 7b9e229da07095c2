"""Multi-tenancy with the UnixPeerCredentials authenticator and two real Unix users.

The client code runs in a forked child that drops to the user's uid/gid before it connects, so
the kernel reports that uid (SO_PEERCRED) for the connection. (A fresh `.venv/bin/python` cannot be
started as those users here: the interpreter lives under /root, which they cannot enter.)
Needs root: it creates the users pqp-test-1 and pqp-test-2 when they are missing.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess, public_tmpdir
from pqptest.status import expect_status

from pqparsec.client import BasicClient
from pqparsec.client.errors import ServiceError
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

USERS = ("pqp-test-1", "pqp-test-2")
ALG = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = b"\x5a" * 32

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to create and switch to two Unix users")


def ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not available to create the test users")
    run = subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name],
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"cannot create user {name}: {run.stderr.strip()}")
    return pwd.getpwnam(name)


@pytest.fixture(scope="module")
def users() -> tuple[pwd.struct_passwd, pwd.struct_passwd]:
    u1, u2 = (ensure_user(n) for n in USERS)
    return u1, u2


@pytest.fixture(scope="module")
def svc(users: tuple[pwd.struct_passwd, pwd.struct_passwd]) -> Iterator[ServiceProcess]:
    tmp = public_tmpdir("pqp-peercred-")  # 0755: the users must reach the socket
    s = ServiceProcess(tmp, auth_type="UnixPeerCredentials", admins=[str(users[0].pw_uid)])
    s.start()
    try:
        assert os.stat(s.socket_path).st_mode & 0o777 == 0o666
        yield s
    finally:
        s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def as_user(user: pwd.struct_passwd, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Run fn() in a child process with the user's uid and gid; return its JSON-able result.
    A ServiceError in the child comes back as {"status": n}."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            assert os.getuid() == user.pw_uid and os.geteuid() == user.pw_uid
            try:
                out: Any = {"ok": fn()}
            except ServiceError as exc:
                out = {"status": int(exc.status)}
            os.write(w, json.dumps(out).encode())
        except BaseException as exc:  # report anything to the parent
            try:
                os.write(w, json.dumps({"error": repr(exc)}).encode())
            finally:
                code = 1
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"child as {user.pw_name} timed out")
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    result = json.loads(data)
    assert "error" not in result, f"as {user.pw_name}: {result['error']}"
    return result


def client(svc: ServiceProcess) -> BasicClient:
    return BasicClient(endpoint=svc.endpoint, timeout=10.0)


def raw_status(svc: ServiceProcess, opcode: Opcode, body: bytes, auth: bytes,
               provider: int = 0) -> int:
    header, _ = client(svc).transport.exchange(int(opcode), provider, body,
                                               int(AuthType.UNIX_PEER_CREDENTIALS), auth)
    return header.status


@pytest.fixture(scope="module")
def keys_made(svc: ServiceProcess, users: tuple[pwd.struct_passwd, pwd.struct_passwd]) -> None:
    u1, u2 = users

    def make(names: list[str]) -> Callable[[], list[str]]:
        def fn() -> list[str]:
            c = client(svc)
            assert c.auth_type == AuthType.UNIX_PEER_CREDENTIALS
            for n in names:
                c.generate_key(n, ecc_p256_sign_attrs())
            return [k.name for k in c.list_keys()]
        return fn

    assert as_user(u1, make(["shared", "u1-only"]))["ok"] == ["shared", "u1-only"]
    assert as_user(u2, make(["shared"]))["ok"] == ["shared"]


def test_authenticator_is_peer_credentials(svc: ServiceProcess) -> None:
    auths = client(svc).list_authenticators()
    assert [a.id for a in auths] == [AuthType.UNIX_PEER_CREDENTIALS]


def test_each_user_sees_only_its_keys(svc: ServiceProcess, users: Any, keys_made: None) -> None:
    u1, u2 = users

    def names() -> list[str]:
        return sorted(k.name for k in client(svc).list_keys())

    assert as_user(u1, names)["ok"] == ["shared", "u1-only"]
    assert as_user(u2, names)["ok"] == ["shared"]
    assert names() == []  # root (this process) is a tenant of its own


def test_same_name_different_keys(svc: ServiceProcess, users: Any, keys_made: None) -> None:
    u1, u2 = users

    def pub() -> str:
        return client(svc).export_public_key("shared").hex()

    assert as_user(u1, pub)["ok"] != as_user(u2, pub)["ok"]


def test_other_users_key_does_not_exist(svc: ServiceProcess, users: Any, keys_made: None) -> None:
    u1, u2 = users
    for fn in (lambda: client(svc).sign_hash("u1-only", ALG, DIGEST).hex(),
               lambda: client(svc).export_public_key("u1-only").hex(),
               lambda: client(svc).destroy_key("u1-only")):
        assert as_user(u2, fn) == {"status": S.PSA_ERROR_DOES_NOT_EXIST}
    # still there for its owner
    assert len(bytes.fromhex(as_user(u1, lambda: client(svc).sign_hash(
        "u1-only", ALG, DIGEST).hex())["ok"])) == 64


def test_claiming_another_uid_is_an_authentication_error(svc: ServiceProcess, users: Any,
                                                         keys_made: None) -> None:
    u1, u2 = users
    body = ops.encode_request(Opcode.LIST_KEYS, ops.ListKeysRequest())

    def claim(uid: int) -> Callable[[], int]:
        return lambda: raw_status(svc, Opcode.LIST_KEYS, body, struct.pack("<I", uid))

    assert as_user(u2, claim(u1.pw_uid))["ok"] == S.AUTHENTICATION_ERROR
    assert as_user(u2, claim(0))["ok"] == S.AUTHENTICATION_ERROR
    assert as_user(u2, claim(u2.pw_uid))["ok"] == S.SUCCESS
    # root is not every user either
    assert claim(u1.pw_uid)() == S.AUTHENTICATION_ERROR
    # the uid is exactly 4 bytes, little-endian
    for auth in (b"", struct.pack("<I", u2.pw_uid)[:3], struct.pack("<Q", u2.pw_uid),
                 struct.pack(">I", u2.pw_uid)):
        got = as_user(u2, lambda a=auth: raw_status(svc, Opcode.LIST_KEYS, body, a))["ok"]
        assert got == S.AUTHENTICATION_ERROR, auth.hex()
    # a forged uid cannot sign with that user's key
    sign = ops.encode_request(Opcode.PSA_SIGN_HASH, ops.PsaSignHashRequest("u1-only", ALG, DIGEST))
    assert as_user(u2, lambda: raw_status(svc, Opcode.PSA_SIGN_HASH, sign,
                                          struct.pack("<I", u1.pw_uid), provider=1))["ok"] == \
        S.AUTHENTICATION_ERROR


def test_admin_is_a_uid(svc: ServiceProcess, users: Any, keys_made: None) -> None:
    u1, u2 = users
    clients = as_user(u1, lambda: client(svc).list_clients())["ok"]
    assert {str(u1.pw_uid), str(u2.pw_uid)} <= set(clients)
    assert as_user(u2, lambda: client(svc).list_clients()) == {"status": S.ADMIN_OPERATION}
    with expect_status(S.ADMIN_OPERATION):
        client(svc).list_clients()  # root is not in the admin list


def test_admin_deletes_a_user(svc: ServiceProcess, users: Any, keys_made: None) -> None:
    u1, u2 = users

    def names() -> list[str]:
        return sorted(k.name for k in client(svc).list_keys())

    as_user(u1, lambda: client(svc).delete_client(str(u2.pw_uid)))
    assert as_user(u2, names)["ok"] == []
    assert as_user(u1, names)["ok"] == ["shared", "u1-only"]
    assert str(u2.pw_uid) not in as_user(u1, lambda: client(svc).list_clients())["ok"]
