"""A key belongs to the provider that made it (issue 12): a request through another provider never
finds it, so DestroyKey through the PKCS#11 provider cannot destroy the caller's software key of
the same name, nor the other way round. A service with both providers, on a SoftHSM2 token."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = hashlib.sha256(b"whose key?").digest()
SW, P11 = ProviderId.MBED_CRYPTO, ProviderId.PKCS11


def status(fn: Callable[[], Any]) -> S:
    with pytest.raises(ServiceError) as e:
        fn()
    return e.value.status


def signs_as(client: BasicClient, name: str, pub: bytes) -> None:
    """`name` signs through `client`'s provider, with the key whose public key is `pub`."""
    sig = client.sign_hash(name, ECDSA, DIGEST)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub).verify(
        der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


def listed(client: BasicClient) -> set[tuple[str, int]]:
    return {(k.name, k.provider_id) for k in client.list_keys()}


def start(tmp_path: Path, separate_key_managers: bool) -> ServiceProcess:
    hsm = SoftHsm(str(tmp_path))  # skips the test when SoftHSM2 is missing
    p11: dict[str, Any] = hsm.table(hsm.init_token("issue12"))
    if separate_key_managers:
        p11["key_info_manager"] = "pkcs11-manager"
    svc = ServiceProcess(str(tmp_path), env=hsm.env, auth_type="Direct", admins=["admin"],
                         providers=[{"provider_type": "MbedCrypto"}, p11])
    svc.write_config()
    if separate_key_managers:
        with open(svc.config_path, "a") as f:
            f.write('[[key_manager]]\nname = "pkcs11-manager"\nmanager_type = "SQLite"\n'
                    f'sqlite_db_path = "{os.path.join(svc.tmp, "pkcs11-kim.sqlite3")}"\n')
    return svc.start(write_config=False)


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[ServiceProcess]:
    svc = start(tmp_path, separate_key_managers=False)
    yield svc
    svc.stop()


@pytest.fixture
def separate(tmp_path: Path) -> Iterator[ServiceProcess]:
    svc = start(tmp_path, separate_key_managers=True)
    yield svc
    svc.stop()


def test_shared_key_manager(shared: ServiceProcess) -> None:
    """One key manager: a name is the application's once, across providers (as in Parsec). The
    wrong provider answers DoesNotExist and leaves the key alone."""
    sw = shared.client("app", provider=SW)
    p11 = shared.client("app", provider=P11)
    sw.generate_key("same", ecc_p256_sign_attrs())
    sw_pub = sw.export_public_key("same")
    assert status(lambda: p11.generate_key("same", ecc_p256_sign_attrs())) \
        == S.PSA_ERROR_ALREADY_EXISTS
    for wrong in (lambda: p11.destroy_key("same"), lambda: p11.sign_hash("same", ECDSA, DIGEST),
                  lambda: p11.export_public_key("same")):
        assert status(wrong) == S.PSA_ERROR_DOES_NOT_EXIST
    signs_as(sw, "same", sw_pub)
    assert listed(sw) == {("same", SW)}

    p11.generate_key("other", ecc_p256_sign_attrs())
    p11_pub = p11.export_public_key("other")
    for wrong in (lambda: sw.destroy_key("other"), lambda: sw.sign_hash("other", ECDSA, DIGEST),
                  lambda: sw.export_public_key("other")):
        assert status(wrong) == S.PSA_ERROR_DOES_NOT_EXIST
    signs_as(p11, "other", p11_pub)
    assert listed(sw) == {("same", SW), ("other", P11)}
    # each through its own provider
    p11.destroy_key("other")
    sw.destroy_key("same")
    assert listed(sw) == set()


def test_separate_key_managers(separate: ServiceProcess) -> None:
    """One key manager per provider: "same" exists in both, and destroying one leaves the
    other."""
    sw = separate.client("app", provider=SW)
    p11 = separate.client("app", provider=P11)
    sw.generate_key("same", ecc_p256_sign_attrs())
    p11.generate_key("same", ecc_p256_sign_attrs())
    sw_pub, p11_pub = sw.export_public_key("same"), p11.export_public_key("same")
    assert sw_pub != p11_pub
    assert listed(sw) == {("same", SW), ("same", P11)}

    p11.destroy_key("same")
    signs_as(sw, "same", sw_pub)
    assert listed(sw) == {("same", SW)}
    assert status(lambda: p11.sign_hash("same", ECDSA, DIGEST)) == S.PSA_ERROR_DOES_NOT_EXIST

    p11.generate_key("same", ecc_p256_sign_attrs())
    p11_pub = p11.export_public_key("same")
    sw.destroy_key("same")
    signs_as(p11, "same", p11_pub)
    assert listed(sw) == {("same", P11)}
    assert status(lambda: sw.sign_hash("same", ECDSA, DIGEST)) == S.PSA_ERROR_DOES_NOT_EXIST
