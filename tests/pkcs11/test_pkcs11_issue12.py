"""Issue 12: a key whose policy names an algorithm the token cannot do is refused when it is
created (PsaErrorNotSupported), not stored to fail at every use; CanDoCrypto says the same, and
nothing is left on the token or in the key store.

SoftHSM2 decrypts RSA-OAEP with SHA-1 only (measured at start-up, TokenCaps.oaep); the provider
has no deterministic ECDSA, no AES-CCM, no unauthenticated ciphers and no key agreement."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pqptest.psa import attrs
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm, TokenInfo
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient
from pqparsec.client.admin import adopt_key
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    CipherAlg,
    CipherMode,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyType,
    MacAlg,
    MacKind,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus

Maker = Callable[..., ServiceProcess]
NOT_SUPPORTED = ResponseStatus.PSA_ERROR_NOT_SUPPORTED
RSA_PAIR = KeyType.rsa_key_pair()
RSA_PUBLIC = KeyType.rsa_public_key()
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
AES = KeyType.simple(KeyKind.AES)
HMAC = KeyType.simple(KeyKind.HMAC)
OAEP_1 = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_1)
OAEP_256 = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
CRYPT = {"encrypt": True, "decrypt": True}

_RSA = rsa.generate_private_key(65537, 1024)
_EC = ec.generate_private_key(ec.SECP256R1())
RSA_DER = _RSA.private_bytes(serialization.Encoding.DER,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())
RSA_PUBLIC_DER = _RSA.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.PKCS1)
EC_SCALAR = _EC.private_numbers().private_value.to_bytes(32, "big")

# Policies of the key's own type that this provider on SoftHSM2 cannot perform, with key data
# to import them from.
UNUSABLE: list[tuple[str, KeyAttributes, bytes]] = [
    ("oaep-sha256", attrs(RSA_PAIR, 1024, OAEP_256, **CRYPT), RSA_DER),
    ("oaep-sha512", attrs(RSA_PAIR, 1024, EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_512),
                          **CRYPT), RSA_DER),
    ("deterministic-ecdsa", attrs(P256, 256, SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256),
                                  sign_hash=True, verify_hash=True), EC_SCALAR),
    ("ecdh", attrs(P256, 256, KeyAgreementAlg(RawKeyAgreement.ECDH), derive=True), EC_SCALAR),
    ("aes-ccm", attrs(AES, 128, AeadAlg(AeadKind.CCM), **CRYPT), bytes(16)),
    ("aes-cbc", attrs(AES, 128, CipherAlg(CipherMode.CBC_PKCS7), **CRYPT), bytes(16)),
    ("hmac-sha3", attrs(HMAC, 256, MacAlg(MacKind.HMAC, Hash.SHA3_256), sign_message=True,
                        verify_message=True), bytes(32)),
]


@pytest.fixture
def service(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> ServiceProcess:
    """SHA-1 allowed: the only OAEP hash SoftHSM2 has."""
    return make_service(hsm.table(token), core={"allow_deprecated": True}).start()


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceProcess, SoftHsm,
                                                                          TokenInfo]]:
    """One token and service for every refusal case: a refused key leaves nothing behind (each
    case checks that), so the cases need no fresh service of their own."""
    tmp = str(tmp_path_factory.mktemp("p11-refusals"))
    hsm = SoftHsm(tmp)
    token = hsm.init_token("pqp-refusals")
    svc = ServiceProcess(tmp, env=hsm.env, auth_type="Direct", admins=["admin"],
                         providers=[hsm.table(token)], core={"allow_deprecated": True})
    svc.start()
    yield svc, hsm, token
    svc.stop()


def compatible_policy(a: KeyAttributes) -> bool:
    return not isinstance(a.algorithm, EncryptAlg) or a.key_type.is_rsa


def nothing_made(client: BasicClient, hsm: SoftHsm, token: TokenInfo) -> None:
    assert client.list_keys() == []
    assert hsm.objects(token) == []


@pytest.mark.parametrize("case", UNUSABLE, ids=[c[0] for c in UNUSABLE])
def test_unusable_policy_is_refused(refusing: tuple[ServiceProcess, SoftHsm, TokenInfo],
                                    case: tuple[str, KeyAttributes, bytes]) -> None:
    service, hsm, token = refusing
    _, a, data = case
    c = service.client("app")
    assert not c.can_do_crypto(CheckType.GENERATE, a)
    assert not c.can_do_crypto(CheckType.IMPORT, a)
    assert not c.can_do_crypto(CheckType.USE, a)
    assert status(c.generate_key, "k", a) == NOT_SUPPORTED
    assert status(c.import_key, "k", a, data) == NOT_SUPPORTED
    nothing_made(c, hsm, token)


def test_oaep_public_key_import(service: ServiceProcess, hsm: SoftHsm, token: TokenInfo) -> None:
    c = service.client("app")
    a = attrs(RSA_PUBLIC, 1024, OAEP_256, encrypt=True)
    assert not c.can_do_crypto(CheckType.IMPORT, a)
    assert status(c.import_key, "pub", a, RSA_PUBLIC_DER) == NOT_SUPPORTED
    nothing_made(c, hsm, token)
    # The hash the token does: accepted, and it works.
    c.import_key("pub", attrs(RSA_PUBLIC, 1024, OAEP_1, encrypt=True), RSA_PUBLIC_DER)
    assert len(c.asymmetric_encrypt("pub", OAEP_1, b"m")) == 128


def test_usable_policies_still_created(service: ServiceProcess) -> None:
    """The check names what the token cannot do, no more: the same key types with policies it
    can do, and a policy no key of the type could do (as the software provider accepts it)."""
    c = service.client("app")
    usable: list[tuple[KeyAttributes, bytes]] = [
        (attrs(RSA_PAIR, 1024, OAEP_1, **CRYPT), RSA_DER),
        (attrs(P256, 256, SignAlg(SignKind.ECDSA, Hash.SHA_256), sign_hash=True), EC_SCALAR),
        (attrs(AES, 128, AeadAlg(AeadKind.GCM), **CRYPT), bytes(16)),
        (attrs(HMAC, 256, MacAlg(MacKind.HMAC, Hash.SHA_256), sign_message=True), bytes(32)),
        (attrs(AES, 128, MacAlg(MacKind.CMAC), sign_message=True), bytes(16)),
        (attrs(P256, 256, EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), **CRYPT), EC_SCALAR),
    ]
    for i, (a, data) in enumerate(usable):
        if compatible_policy(a):  # CanDoCrypto says no to the last
            assert c.can_do_crypto(CheckType.GENERATE, a), a
            assert c.can_do_crypto(CheckType.USE, a), a
        c.generate_key(f"g{i}", a)
        c.import_key(f"i{i}", a, data)
    assert c.asymmetric_decrypt("g0", OAEP_1, c.asymmetric_encrypt("g0", OAEP_1, b"m")) == b"m"
    assert len(c.list_keys()) == 2 * len(usable)


def test_adopt_with_unusable_policy(service: ServiceProcess, hsm: SoftHsm,
                                    token: TokenInfo) -> None:
    pem = hsm.dir / "rsa.pem"
    pem.write_bytes(_RSA.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    hsm.import_key(token, str(pem), "provisioned", b"\x0a\x0b")
    before = hsm.objects(token)
    admin, alice = service.client("admin"), service.client("alice")
    assert status(adopt_key, admin, "alice", "k", attrs(RSA_PAIR, 0, OAEP_256, **CRYPT), None,
                  b"\x0a\x0b") == NOT_SUPPORTED
    assert alice.list_keys() == []
    assert hsm.objects(token) == before
    adopt_key(admin, "alice", "k", attrs(RSA_PAIR, 0, OAEP_1, **CRYPT), label="provisioned")
    assert alice.asymmetric_decrypt("k", OAEP_1, alice.asymmetric_encrypt("k", OAEP_1, b"m")) \
        == b"m"
