"""The Pkcs11 [[provider]] keys: PIN formats, token selection, start-up failures, allow_export."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from p11_helpers import key_id
from pqptest.psa import attrs
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm, TokenInfo
from pqptest.status import raised_status as status

from pqparsec.protocol.psa import EccFamily, Hash, KeyType, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus
from pqparsec.service.config import ConfigError
from pqparsec.service.providers.pkcs11.options import parse_pin

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
DIGEST = hashlib.sha256(b"pkcs11 config").digest()

Maker = Callable[..., ServiceProcess]


def _start_fails(svc: ServiceProcess) -> str:
    with pytest.raises(RuntimeError) as err:
        svc.start()
    assert "exited with 2" in str(err.value)
    return svc.log()


def test_parse_pin() -> None:
    assert parse_pin("1234", "w") == b"1234"
    assert parse_pin("str:hex:12", "w") == b"hex:12"
    assert parse_pin("hex:00ff31", "w") == b"\x00\xff1"
    for bad in ("hex:0", "hex:zz", "", "str:"):
        with pytest.raises(ConfigError):
            parse_pin(bad, "w")


@pytest.mark.parametrize("pin", ["str:1234", "hex:31323334"])
def test_pin_formats(make_service: Maker, hsm: SoftHsm, token: TokenInfo, pin: str) -> None:
    c = make_service(hsm.table(token, user_pin=pin)).start().client("app")
    c.generate_key("k", attrs(P256, 256, ECDSA, sign_hash=True, verify_hash=True))
    c.verify_hash("k", ECDSA, DIGEST, c.sign_hash("k", ECDSA, DIGEST))


def test_without_pin_private_operations_fail_clearly(make_service: Maker, hsm: SoftHsm,
                                                     token: TokenInfo) -> None:
    # A key made while logged in...
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    c.generate_key("k", attrs(P256, 256, ECDSA, sign_hash=True, verify_hash=True))
    sig = c.sign_hash("k", ECDSA, DIGEST)
    svc.stop()
    # ...is still there without login (not pruned), usable for public operations only.
    svc = make_service(hsm.table(token, user_pin=None), core={"log_error_details": True}).start()
    c = svc.client("app")
    assert [k.name for k in c.list_keys()] == ["k"]
    c.verify_hash("k", ECDSA, DIGEST, sig)
    assert c.export_public_key("k")[0] == 4
    assert status(c.sign_hash, "k", ECDSA, DIGEST) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(c.generate_key, "k2", attrs(P256, 256, ECDSA, sign_hash=True)) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(c.destroy_key, "k") == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert "no user_pin is configured" in svc.log()
    # Public keys need no login.
    pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    c.import_key("pub", attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDSA,
                              verify_hash=True),
                 pub.public_bytes(serialization.Encoding.X962,
                                  serialization.PublicFormat.UncompressedPoint))
    c.destroy_key("pub")


def test_select_by_serial_then_by_slot(make_service: Maker, hsm: SoftHsm) -> None:
    a, b = hsm.init_token("token-a"), hsm.init_token("token-b")
    # serial_number wins over slot_number, and is compared trimmed.
    svc = make_service(hsm.table(b, serial_number=f"  {b.serial} ", slot_number=a.slot)).start()
    c = svc.client("app")
    c.generate_key("on-b", attrs(P256, 256, ECDSA, sign_hash=True))
    assert {o["id"] for o in hsm.objects(b)} == {key_id(svc, "app", "on-b")}
    assert hsm.objects(a) == []
    svc.stop()
    svc = make_service(hsm.table(a, serial_number=None, slot_number=a.slot)).start()
    c = svc.client("app")
    c.generate_key("on-a", attrs(P256, 256, ECDSA, sign_hash=True))
    assert {o["id"] for o in hsm.objects(a)} == {key_id(svc, "app", "on-a")}
    # The mapping of the key on b is gone: this service's token does not have it.
    assert [k.name for k in c.list_keys()] == ["on-a"]


def test_no_such_token(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    log = _start_fails(make_service(hsm.table(token, serial_number="0000deadbeef")))
    assert "no initialised token with serial_number '0000deadbeef'" in log
    assert token.serial in log  # the tokens it did find are listed
    log = _start_fails(make_service(hsm.table(token, serial_number=None, slot_number=424242)))
    assert "no token in slot_number 424242" in log


def test_wrong_pin_fails_start_up_naming_the_token(make_service: Maker, hsm: SoftHsm,
                                                   token: TokenInfo) -> None:
    log = _start_fails(make_service(hsm.table(token, user_pin="9999")))
    assert f"token {token.label!r}" in log and token.serial in log
    assert "the PIN is incorrect" in log
    assert "Traceback" not in log


def test_config_errors_name_key_and_file(make_service: Maker, hsm: SoftHsm,
                                         token: TokenInfo) -> None:
    svc = make_service(hsm.table(token, bogus_key=1))
    log = _start_fails(svc)
    assert "unknown key(s) bogus_key" in log and svc.config_path in log
    log = _start_fails(make_service(hsm.table(token, library_path=None)))
    assert "library_path: required" in log
    log = _start_fails(make_service(hsm.table(token, user_pin="hex:xyz")))
    assert "user_pin" in log
    log = _start_fails(make_service(hsm.table(token, allow_export="yes")))
    assert "allow_export: expected bool" in log


def test_allow_export(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    exportable = attrs(P256, 256, ECDSA, sign_hash=True, export=True)
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    c.generate_key("x", exportable)
    scalar = c.export_key("x")
    key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    assert key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint) == \
        c.export_public_key("x")
    c.generate_key("y", attrs(P256, 256, ECDSA, sign_hash=True))
    assert status(c.export_key, "y") == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # On the token: only the exportable key is extractable and not sensitive.
    flags = {o["id"]: (o["extractable"], o["sensitive"])
             for o in hsm.private_objects(token)}
    assert flags[key_id(svc, "app", "x")] == (True, False)
    assert flags[key_id(svc, "app", "y")] == (False, True)
    svc.stop()

    svc = make_service(hsm.table(token, allow_export=False)).start()
    c = svc.client("app")
    assert status(c.generate_key, "z", exportable) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(c.import_key, "z", exportable, scalar) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(c.export_key, "x") == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    c.generate_key("z", attrs(P256, 256, ECDSA, sign_hash=True))
    assert sorted(k.name for k in c.list_keys()) == ["x", "y", "z"]
