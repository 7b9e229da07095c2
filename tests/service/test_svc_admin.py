"""Admin operations: ListClients and DeleteClient (core provider, admin only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pqptest.psa import ecc_p256_sign_attrs, rsa_sign_attrs
from pqptest.service import ServiceProcess
from pqptest.wire import send_raw, wire_request

from pqparsec.client import BasicClient
from pqparsec.client.errors import ServiceError
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ALG = SignAlg(SignKind.ECDSA, Hash.SHA_256)


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path_factory.mktemp("adm")), auth_type="Direct",
                       admins=["admin", "second-admin"])
    s.start()
    yield s
    s.stop()


@pytest.fixture
def admin(svc: ServiceProcess) -> BasicClient:
    return svc.client("admin")


def status(fn: Callable[[], Any]) -> int:
    with pytest.raises(ServiceError) as e:
        fn()
    return int(e.value.status)


def test_non_admin_is_refused(svc: ServiceProcess, admin: BasicClient) -> None:
    victim = svc.client("victim")
    victim.generate_key("k", ecc_p256_sign_attrs())
    user = svc.client("user")
    assert status(user.list_clients) == S.ADMIN_OPERATION
    assert status(lambda: user.delete_client("victim")) == S.ADMIN_OPERATION
    # an application cannot even delete itself through the admin operation
    assert status(lambda: victim.delete_client("victim")) == S.ADMIN_OPERATION
    assert [k.name for k in victim.list_keys()] == ["k"]
    admin.delete_client("victim")


def test_admin_names_are_exact(svc: ServiceProcess) -> None:
    for name in ("Admin", "admin ", "admin2", "adm"):
        assert status(svc.client(name).list_clients) == S.ADMIN_OPERATION, name
    assert isinstance(svc.client("second-admin").list_clients(), list)


@pytest.mark.parametrize("opcode,body", [
    (Opcode.LIST_CLIENTS, b""),
    (Opcode.DELETE_CLIENT, ops.encode_request(Opcode.DELETE_CLIENT, ops.DeleteClientRequest("x"))),
])
def test_no_auth_is_not_authenticated(svc: ServiceProcess, opcode: Opcode, body: bytes) -> None:
    r = send_raw(svc.socket_path, wire_request(opcode, body, auth=b"admin", auth_type=AuthType.NO_AUTH))
    assert r.status == S.NOT_AUTHENTICATED
    assert r.header is not None and r.header["opcode"] == opcode


def test_list_clients_lists_apps_with_keys(svc: ServiceProcess, admin: BasicClient) -> None:
    a, b = svc.client("lc-a"), svc.client("lc-b")
    svc.client("lc-nokeys").list_keys()  # talked to the service, owns nothing
    a.generate_key("k1", ecc_p256_sign_attrs())
    a.generate_key("k2", ecc_p256_sign_attrs())
    b.generate_key("k1", ecc_p256_sign_attrs())
    clients = admin.list_clients()
    assert clients == sorted(clients)
    assert len(clients) == len(set(clients))
    assert {"lc-a", "lc-b"} <= set(clients)
    assert "lc-nokeys" not in clients
    # an application disappears with its last key
    b.destroy_key("k1")
    clients = admin.list_clients()
    assert "lc-b" not in clients and "lc-a" in clients
    a.destroy_key("k1")
    assert "lc-a" in admin.list_clients()
    a.destroy_key("k2")
    assert "lc-a" not in admin.list_clients()


def test_delete_client_removes_every_key(svc: ServiceProcess, admin: BasicClient) -> None:
    doomed, bystander = svc.client("doomed"), svc.client("bystander")
    names = [f"key-{i}" for i in range(5)]
    for n in names:
        doomed.generate_key(n, ecc_p256_sign_attrs())
    doomed.generate_key("rsa", rsa_sign_attrs(2048))
    bystander.generate_key("key-0", ecc_p256_sign_attrs())
    bystander_pub = bystander.export_public_key("key-0")
    assert len(doomed.list_keys()) == 6

    admin.delete_client("doomed")

    assert doomed.list_keys() == []
    assert "doomed" not in admin.list_clients()
    for n in [*names, "rsa"]:
        assert status(lambda n=n: doomed.sign_hash(n, ALG, b"\0" * 32)) == S.PSA_ERROR_DOES_NOT_EXIST
    # other applications keep their keys, even with the same names
    assert [k.name for k in bystander.list_keys()] == ["key-0"]
    assert bystander.export_public_key("key-0") == bystander_pub
    assert "bystander" in admin.list_clients()
    # the names are free again
    doomed.generate_key("key-0", ecc_p256_sign_attrs())
    assert [k.name for k in doomed.list_keys()] == ["key-0"]
    admin.delete_client("doomed")
    admin.delete_client("bystander")


def test_delete_unknown_client_succeeds(admin: BasicClient) -> None:
    # the Rust service's behaviour (best effort); the parsec-mock vector says 1140
    admin.delete_client("nobody-has-this-name")
    admin.delete_client("")


def test_admin_keys_are_ordinary_keys(svc: ServiceProcess, admin: BasicClient) -> None:
    admin.generate_key("admin-key", ecc_p256_sign_attrs())
    assert "admin" in admin.list_clients()
    assert status(lambda: svc.client("other").destroy_key("admin-key")) == S.PSA_ERROR_DOES_NOT_EXIST
    admin.delete_client("admin")
    assert admin.list_keys() == []


def test_admin_operations_only_on_core(svc: ServiceProcess) -> None:
    for opcode in (Opcode.LIST_CLIENTS, Opcode.DELETE_CLIENT):
        r = send_raw(svc.socket_path, wire_request(opcode, auth=b"admin", auth_type=1, provider=1))
        assert r.status == S.PSA_ERROR_NOT_SUPPORTED


def test_core_does_not_advertise_admin_opcodes(admin: BasicClient) -> None:
    assert admin.list_opcodes(0) == [1, 8, 9, 14, 26]
