"""Multi-tenancy with the Direct authenticator: applications share nothing but the socket.

Another application's key behaves exactly like a missing key (PsaErrorDoesNotExist, 1140), for
every operation; the same name in two applications is two keys (e2e auth.rs, multitenancy.rs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ALG = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = hashlib.sha256(b"multitenancy").digest()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path_factory.mktemp("mt")), auth_type="Direct", admins=["admin"])
    s.start()
    yield s
    s.stop()


def status(fn: Callable[[], Any]) -> int:
    with pytest.raises(ServiceError) as e:
        fn()
    return int(e.value.status)


def verify_locally(pub: bytes, sig: bytes, digest: bytes = DIGEST) -> None:
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub).verify(
        der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


@pytest.fixture(scope="module")
def tenants(svc: ServiceProcess) -> tuple[BasicClient, BasicClient]:
    alice, bob = svc.client("alice"), svc.client("bob")
    alice.generate_key("shared", ecc_p256_sign_attrs(export=True))
    alice.generate_key("alice-only", ecc_p256_sign_attrs(export=True))
    bob.generate_key("shared", ecc_p256_sign_attrs(export=True))
    return alice, bob


def test_same_name_two_keys(tenants: tuple[BasicClient, BasicClient]) -> None:
    alice, bob = tenants
    pa, pb = alice.export_public_key("shared"), bob.export_public_key("shared")
    assert pa != pb
    sa = alice.sign_hash("shared", ALG, DIGEST)
    verify_locally(pa, sa)
    alice.verify_hash("shared", ALG, DIGEST, sa)
    # alice's signature does not verify under bob's "shared"
    assert status(lambda: bob.verify_hash("shared", ALG, DIGEST, sa)) == S.PSA_ERROR_INVALID_SIGNATURE
    assert alice.export_key("shared") != bob.export_key("shared")


def test_name_taken_only_within_an_application(tenants: tuple[BasicClient, BasicClient]) -> None:
    alice, _ = tenants
    assert status(lambda: alice.generate_key("shared", ecc_p256_sign_attrs())) == \
        S.PSA_ERROR_ALREADY_EXISTS


@pytest.mark.parametrize("op", ["sign_hash", "verify_hash", "sign_message", "export_public_key",
                                "export_key", "destroy_key", "generate_then_collide"])
def test_other_applications_key_does_not_exist(tenants: tuple[BasicClient, BasicClient],
                                               op: str) -> None:
    alice, bob = tenants
    sig = alice.sign_hash("alice-only", ALG, DIGEST)
    calls: dict[str, Callable[[], Any]] = {
        "sign_hash": lambda: bob.sign_hash("alice-only", ALG, DIGEST),
        "verify_hash": lambda: bob.verify_hash("alice-only", ALG, DIGEST, sig),
        "sign_message": lambda: bob.sign_message("alice-only", ALG, b"m"),
        "export_public_key": lambda: bob.export_public_key("alice-only"),
        "export_key": lambda: bob.export_key("alice-only"),  # export is allowed: still 1140
        "destroy_key": lambda: bob.destroy_key("alice-only"),
    }
    if op == "generate_then_collide":
        # bob may create "alice-only" in his namespace; it is a different key; he removes it
        bob.generate_key("alice-only", ecc_p256_sign_attrs())
        assert bob.export_public_key("alice-only") != alice.export_public_key("alice-only")
        bob.destroy_key("alice-only")
    else:
        assert status(calls[op]) == S.PSA_ERROR_DOES_NOT_EXIST
    # alice's key is intact whatever bob tried
    verify_locally(alice.export_public_key("alice-only"), alice.sign_hash("alice-only", ALG, DIGEST))


def test_list_keys_shows_only_own(tenants: tuple[BasicClient, BasicClient],
                                  svc: ServiceProcess) -> None:
    alice, bob = tenants
    assert sorted(k.name for k in alice.list_keys()) == ["alice-only", "shared"]
    assert [k.name for k in bob.list_keys()] == ["shared"]
    assert svc.client("carol").list_keys() == []
    for k in alice.list_keys():
        assert k.provider_id == 1
        assert k.attributes == ecc_p256_sign_attrs(export=True)


def test_names_are_compared_exactly(tenants: tuple[BasicClient, BasicClient],
                                    svc: ServiceProcess) -> None:
    """Application names differing in case, whitespace or Unicode form are different tenants."""
    for other in ("Alice", "alice ", " alice", "alice\0", "al\u0131ce", "ALICE"):
        c = svc.client(other)
        assert c.list_keys() == [], other
        assert status(lambda c=c: c.sign_hash("alice-only", ALG, DIGEST)) == S.PSA_ERROR_DOES_NOT_EXIST


def test_destroying_own_key_leaves_the_other(tenants: tuple[BasicClient, BasicClient],
                                             svc: ServiceProcess) -> None:
    alice, _ = tenants
    dave = svc.client("dave")
    dave.generate_key("shared", ecc_p256_sign_attrs())
    dave.destroy_key("shared")
    assert dave.list_keys() == []
    verify_locally(alice.export_public_key("shared"), alice.sign_hash("shared", ALG, DIGEST))
    assert status(lambda: dave.destroy_key("shared")) == S.PSA_ERROR_DOES_NOT_EXIST


def test_unicode_application_name(svc: ServiceProcess) -> None:
    c = svc.client("приложение-🔑")
    c.generate_key("ключ", ecc_p256_sign_attrs())
    assert [k.name for k in c.list_keys()] == ["ключ"]
    assert "приложение-🔑" in svc.client("admin").list_clients()
    c.destroy_key("ключ")
