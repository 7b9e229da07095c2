"""Key management end to end: PsaGenerateKey, PsaImportKey, PsaExportKey, PsaExportPublicKey,
PsaDestroyKey, with the PSA export formats checked by `cryptography` outside the service."""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from capabilities import Pinned
from capabilities.needs import Need, Needs, assert_refused, generates, imports
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x448, x25519
from pqptest.psa import attrs
from pqptest.service import ServiceProcess
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    DhFamily,
    EccFamily,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyType,
    NoAlgorithm,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus
from pqparsec.service.providers.software import keys

DATA = Path(__file__).parent / "data" / "asymmetric"
_names = itertools.count()

ECDSA_256 = SignAlg(SignKind.ECDSA, Hash.SHA_256)
RSA_PKCS1_256 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
ECDH = KeyAgreementAlg(RawKeyAgreement.ECDH)
FFDH = KeyAgreementAlg(RawKeyAgreement.FFDH)
DH_PAIR = KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919)
DH_PUBLIC = KeyType(KeyKind.DH_PUBLIC_KEY, dh_family=DhFamily.RFC7919)

CURVES: dict[tuple[EccFamily, int], ec.EllipticCurve] = {
    (EccFamily.SECP_R1, 256): ec.SECP256R1(), (EccFamily.SECP_R1, 384): ec.SECP384R1(),
    (EccFamily.SECP_R1, 521): ec.SECP521R1(), (EccFamily.SECP_K1, 256): ec.SECP256K1(),
    (EccFamily.BRAINPOOL_P_R1, 256): ec.BrainpoolP256R1(),
    (EccFamily.BRAINPOOL_P_R1, 384): ec.BrainpoolP384R1(),
    (EccFamily.BRAINPOOL_P_R1, 512): ec.BrainpoolP512R1(),
}


def name() -> str:
    return f"key-{next(_names)}"


def is_software(client: BasicClient) -> bool:
    return client.provider == ProviderId.MBED_CRYPTO


# What the tests need of a provider (capabilities/needs.py): a test runs where the pinned table
# has all of it, and test_unsupported_needs_are_refused checks the refusals everywhere else.
NEEDS = Needs()
EXPORTING = (Opcode.PSA_EXPORT_KEY, Opcode.PSA_IMPORT_KEY, Opcode.PSA_EXPORT_PUBLIC_KEY)
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)


# ------------------------------------------------------------------------------------------------
# Generation and export formats


def _check_ecc_export(curve: ec.EllipticCurve, private: bytes, public: bytes) -> None:
    n = (curve.key_size + 7) // 8
    assert len(private) == n
    key = ec.derive_private_key(int.from_bytes(private, "big"), curve)
    assert public == key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
    assert len(public) == 1 + 2 * n and public[0] == 4


@NEEDS.cases("family, bits", sorted(CURVES),
             lambda c: [generates(KeyType.ecc_key_pair(c[0]), c[1], ECDSA_256, *EXPORTING)],
             ids=lambda c: f"{c[0].name}-{c[1]}")
def test_generate_ecc_export_formats(client: BasicClient, family: EccFamily, bits: int) -> None:
    a = attrs(KeyType.ecc_key_pair(family), bits, ECDSA_256, export=True, sign_hash=True)
    k = name()
    client.generate_key(k, a)
    _check_ecc_export(CURVES[(family, bits)], client.export_key(k), client.export_public_key(k))
    # The private export imports back as the same key; the size comes from the data.
    k2 = name()
    client.import_key(k2, attrs(KeyType.ecc_key_pair(family), 0, ECDSA_256, export=True),
                      client.export_key(k))
    assert client.export_public_key(k2) == client.export_public_key(k)
    info = {i.name: i for i in client.list_keys()}
    assert info[k2].attributes.key_bits == bits


@NEEDS.cases("bits", [1024, 2048],
             lambda bits: [generates(KeyType.rsa_key_pair(), bits, RSA_PKCS1_256, *EXPORTING)])
def test_generate_rsa_export_formats(client: BasicClient, bits: int) -> None:
    a = attrs(KeyType.rsa_key_pair(), bits, RSA_PKCS1_256, export=True, sign_hash=True)
    k = name()
    client.generate_key(k, a)
    der = client.export_key(k)
    priv = serialization.load_der_private_key(der, None)
    assert isinstance(priv, rsa.RSAPrivateKey) and priv.key_size == bits
    assert priv.public_key().public_numbers().e == 65537
    # Exactly PKCS#1 RSAPrivateKey (not PKCS#8), and RSAPublicKey for the public part.
    assert der == priv.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption())
    pub = client.export_public_key(k)
    assert pub == priv.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.PKCS1)


@NEEDS.cases("bits", [1024, 2048], lambda bits: [generates(
    KeyType.rsa_key_pair(), bits, RSA_PKCS1_256, Opcode.PSA_EXPORT_PUBLIC_KEY)])
def test_generated_rsa_public_key(client: BasicClient, bits: int) -> None:
    a = attrs(KeyType.rsa_key_pair(), bits, RSA_PKCS1_256, sign_hash=True)
    k = name()
    client.generate_key(k, a)
    pub = serialization.load_der_public_key(client.export_public_key(k))
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == bits
    assert pub.public_numbers().e == 65537


@NEEDS.cases("bits, cls, size", [(255, x25519.X25519PrivateKey, 32), (448, x448.X448PrivateKey, 56)],
             lambda c: [generates(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), c[0], ECDH, *EXPORTING)],
             ids=["X25519", "X448"])
def test_generate_montgomery_export_formats(client: BasicClient, bits: int, cls: Any,
                                            size: int) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), bits, ECDH, export=True, derive=True)
    k = name()
    client.generate_key(k, a)
    raw = client.export_key(k)
    assert len(raw) == size
    if bits == 255:  # RFC 7748 decodeScalar25519's forced bits
        assert raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40
    else:
        assert raw[0] & 3 == 0 and raw[55] & 0x80
    pub = cls.from_private_bytes(raw).public_key().public_bytes(serialization.Encoding.Raw,
                                                                serialization.PublicFormat.Raw)
    assert client.export_public_key(k) == pub


@NEEDS.test(imports(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 0, ECDH, *EXPORTING))
def test_import_montgomery_scalar_is_clamped(client: BasicClient) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 0, ECDH, export=True, derive=True)
    scalar = bytes(range(200, 232))  # low bits set, top bit set: not clamped
    k = name()
    client.import_key(k, a, scalar)
    exported = client.export_key(k)
    assert exported[1:31] == scalar[1:31]
    assert exported[0] == scalar[0] & 248 and exported[31] == (scalar[31] & 127) | 64
    expected_pub = x25519.X25519PrivateKey.from_private_bytes(scalar).public_key()
    assert client.export_public_key(k) == expected_pub.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@NEEDS.cases("bits", [2048, 3072, 8192], lambda bits: [
    generates(DH_PAIR, bits, FFDH, *EXPORTING), imports(DH_PAIR, 0, FFDH), imports(DH_PUBLIC, bits)])
def test_generate_dh_export_formats(client: BasicClient, bits: int) -> None:
    a = attrs(DH_PAIR, bits, FFDH, export=True, derive=True)
    k = name()
    client.generate_key(k, a)
    x = client.export_key(k)
    y = client.export_public_key(k)
    p = keys.DH_GROUPS[bits]
    assert len(x) == len(y) == bits // 8  # leading zeros kept
    assert 1 < int.from_bytes(x, "big") < p - 1
    assert int.from_bytes(y, "big") == pow(2, int.from_bytes(x, "big"), p)
    # Re-import: the pair and the public value.
    k2, k3 = name(), name()
    client.import_key(k2, attrs(DH_PAIR, 0, FFDH, derive=True), x)
    assert client.export_public_key(k2) == y
    client.import_key(k3, attrs(DH_PUBLIC, bits), y)
    assert client.export_public_key(k3) == y
    assert {i.name: i.attributes.key_bits for i in client.list_keys()}[k3] == bits


@NEEDS.cases("kind, bits", [(KeyKind.AES, 128), (KeyKind.AES, 192), (KeyKind.AES, 256),
                            (KeyKind.CHACHA20, 256), (KeyKind.HMAC, 264), (KeyKind.RAW_DATA, 8),
                            (KeyKind.DERIVE, 512)],
             lambda c: [generates(KeyType.simple(c[0]), c[1], NoAlgorithm(), *EXPORTING)])
def test_generate_symmetric_export(client: BasicClient, kind: KeyKind, bits: int) -> None:
    a = attrs(KeyType.simple(kind), bits, export=True)
    k = name()
    client.generate_key(k, a)
    data = client.export_key(k)
    assert len(data) == bits // 8
    assert client.export_key(k) == data  # stable
    k2 = name()
    client.generate_key(k2, a)
    assert client.export_key(k2) != data or bits == 8  # fresh randomness
    assert status(client.export_public_key, k) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(imports(KeyType.simple(KeyKind.HMAC), 0, NoAlgorithm(), *EXPORTING))
def test_import_symmetric_round_trip(client: BasicClient) -> None:
    a = attrs(KeyType.simple(KeyKind.HMAC), 0, export=True)
    k = name()
    client.import_key(k, a, b"\x0b" * 20)
    assert client.export_key(k) == b"\x0b" * 20
    assert {i.name: i.attributes.key_bits for i in client.list_keys()}[k] == 160


@NEEDS.test(imports(KeyType.ecc_public_key(EccFamily.SECP_R1), 384, ECDSA_256, Opcode.PSA_IMPORT_KEY,
                    Opcode.PSA_EXPORT_PUBLIC_KEY))
def test_ecc_public_key_import_export(client: BasicClient) -> None:
    a = attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 384, ECDSA_256, verify_hash=True)
    priv = ec.generate_private_key(ec.SECP384R1())
    point = priv.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    k = name()
    client.import_key(k, a, point)
    assert client.export_public_key(k) == point  # always permitted, no usage flag needed


@NEEDS.test(imports(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDSA_256, *EXPORTING),
            imports(KeyType.ecc_public_key(EccFamily.SECP_R1), 256))
def test_public_key_export_key_rules(client: BasicClient) -> None:
    a = attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDSA_256, verify_hash=True)
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    k, k2 = name(), name()
    client.import_key(k, a, point)
    # PsaExportKey of a public key needs no export flag (PSA, Mbed TLS, Parsec): that rule is
    # test_export_issue12.py's, which also covers the providers still lacking it.
    client.import_key(k2, attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, export=True), point)
    assert client.export_key(k2) == point


@NEEDS.test(imports(KeyType.rsa_public_key(), 0, RSA_PKCS1_256, Opcode.PSA_IMPORT_KEY,
                    Opcode.PSA_EXPORT_PUBLIC_KEY))
def test_rsa_public_key_import_export(client: BasicClient) -> None:
    a = attrs(KeyType.rsa_public_key(), 0, RSA_PKCS1_256, verify_hash=True)
    rsa_pub = rsa.generate_private_key(65537, 2048).public_key()
    der = rsa_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    k = name()
    client.import_key(k, a, der)
    assert client.export_public_key(k) == der
    assert {i.name: i.attributes.key_bits for i in client.list_keys()}[k] == 2048


# ------------------------------------------------------------------------------------------------
# Policy and lifecycle failures


NOT_EXPORTABLE = [attrs(P256, 256, ECDSA_256, sign_hash=True, verify_hash=True),
                  attrs(KeyType.simple(KeyKind.AES), 128, AeadAlg(AeadKind.GCM), encrypt=True,
                        decrypt=True)]


@NEEDS.cases("a", NOT_EXPORTABLE, lambda a: [generates(a.key_type, a.key_bits, a.algorithm,
                                                       Opcode.PSA_EXPORT_KEY)],
             ids=lambda a: a.key_type.describe())
def test_export_needs_export_flag(client: BasicClient, a: KeyAttributes) -> None:
    k = name()
    client.generate_key(k, a)
    assert status(client.export_key, k) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    if a.key_type.is_key_pair:
        assert len(client.export_public_key(k)) == 65  # the public part stays exportable


@NEEDS.test(generates(P256, 256, ECDSA_256, Opcode.PSA_IMPORT_KEY, Opcode.PSA_EXPORT_PUBLIC_KEY))
def test_create_twice_already_exists(client: BasicClient) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDSA_256, sign_hash=True)
    k = name()
    client.generate_key(k, a)
    pub = client.export_public_key(k)
    assert status(client.generate_key, k, a) == ResponseStatus.PSA_ERROR_ALREADY_EXISTS
    assert status(client.import_key, k, a, b"\x01" * 32) == ResponseStatus.PSA_ERROR_ALREADY_EXISTS
    assert client.export_public_key(k) == pub  # the first key is untouched


@NEEDS.test(generates(P256, 256, ECDSA_256, Opcode.PSA_SIGN_HASH, Opcode.PSA_EXPORT_PUBLIC_KEY))
def test_use_after_destroy(client: BasicClient) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDSA_256, sign_hash=True)
    k = name()
    client.generate_key(k, a)
    client.destroy_key(k)
    digest = hashlib.sha256(b"x").digest()
    for call, args in ((client.export_public_key, (k,)), (client.destroy_key, (k,)),
                       (client.sign_hash, (k, ECDSA_256, digest))):
        assert status(call, *args) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    assert k not in [i.name for i in client.list_keys()]
    client.generate_key(k, a)  # the name is free again


def test_destroy_missing_key(client: BasicClient) -> None:
    assert status(client.destroy_key, "never-created") == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


BAD_IMPORTS = [
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, b"\x00" * 32),  # scalar 0
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, b"\xff" * 32),  # scalar >= n
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 0, b"\x01" * 31),  # no curve has 31-byte scalars
    (KeyType.ecc_public_key(EccFamily.SECP_R1), 256, b"\x04" + b"\x01" * 64),  # not on the curve
    (KeyType.ecc_public_key(EccFamily.SECP_R1), 256, b"\x02" + b"\x01" * 32),  # compressed
    (KeyType.rsa_key_pair(), 0, b"\x30\x03\x02\x01\x00"),
    (KeyType.rsa_public_key(), 0, b"not der"),
    (DH_PUBLIC, 0, b"\x00" * 255 + b"\x01"),  # y = 1
    (DH_PUBLIC, 0, b"\x01" * 100),  # no group has 100-byte values
    (DH_PAIR, 0, b"\x00" * 256),  # x = 0
    (KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 0, b"\x01" * 33),
]


@NEEDS.cases("kt, bits, data", BAD_IMPORTS,
             lambda c: [imports(c[0], c[1], NoAlgorithm(), Opcode.PSA_IMPORT_KEY), imports(c[0], 0)],
             ids=lambda c: f"{c[0].describe()}-{c[1]}-{c[2][:2].hex()}")
def test_failed_import_leaves_no_mapping(client: BasicClient, kt: KeyType, bits: int,
                                         data: bytes) -> None:
    k = name()
    assert status(client.import_key, k, attrs(kt, bits), data) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert k not in [i.name for i in client.list_keys()]
    client.import_key(k, attrs(kt, 0), _valid_key_data(kt))  # the name is reusable at once


def _valid_key_data(kt: KeyType) -> bytes:
    if kt.kind == KeyKind.ECC_KEY_PAIR and kt.ecc_family == EccFamily.MONTGOMERY:
        return bytes(range(32))
    if kt.kind == KeyKind.ECC_KEY_PAIR:
        return (12345).to_bytes(32, "big")
    if kt.kind == KeyKind.ECC_PUBLIC_KEY:
        return ec.derive_private_key(12345, ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    if kt.is_rsa:
        priv = rsa.generate_private_key(65537, 1024)
        if kt.kind == KeyKind.RSA_PUBLIC_KEY:
            return priv.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.PKCS1)
        return priv.private_bytes(serialization.Encoding.DER,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption())
    value = pow(2, 12345, keys.DH_GROUPS[2048]) if kt.kind == KeyKind.DH_PUBLIC_KEY else 12345
    return value.to_bytes(256, "big")


@NEEDS.test(imports(KeyType.rsa_public_key(), 1024), imports(KeyType.rsa_public_key(), 0))
def test_import_rsa_public_key_in_spki_is_refused(client: BasicClient) -> None:
    pub = rsa.generate_private_key(65537, 1024).public_key()
    spki = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert status(client.import_key, name(), attrs(KeyType.rsa_public_key(), 0), spki) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(imports(P256, 256))
def test_import_bits_must_match_data(client: BasicClient) -> None:
    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
    assert status(client.import_key, name(), attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 384),
                  scalar) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@pytest.mark.parametrize(("kt", "bits", "expected"), [
    (KeyType.rsa_key_pair(), 512, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (KeyType.rsa_key_pair(), 8192, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 200, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (KeyType.ecc_key_pair(EccFamily.SECT_K1), 233, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 256, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (DH_PAIR, 1024, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (KeyType.simple(KeyKind.CAMELLIA), 128, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (KeyType.simple(KeyKind.AES), 100, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (KeyType.simple(KeyKind.HMAC), 12, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (KeyType.simple(KeyKind.RAW_DATA), 0, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 0, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (KeyType.rsa_public_key(), 2048, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (DH_PUBLIC, 2048, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
])
def test_generate_refusals(client: BasicClient, kt: KeyType, bits: int,
                           expected: ResponseStatus) -> None:
    """What cannot be generated fails, leaves no key, and CanDoCrypto agrees (key_bits 0 asks it
    about any size, so not there). The exact status is the software provider's decision."""
    a = attrs(kt, bits)
    if bits:
        assert not client.can_do_crypto(CheckType.GENERATE, a)
    k = name()
    got = status(client.generate_key, k, a)
    if is_software(client):
        assert got == expected
    else:
        assert got in (ResponseStatus.PSA_ERROR_NOT_SUPPORTED, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT)
    assert k not in [i.name for i in client.list_keys()]


@NEEDS.test(imports(P256, 256, SignAlg(SignKind.ECDSA, Hash.SHA_1), Opcode.PSA_SIGN_HASH))
def test_deprecated_primitives(client: BasicClient) -> None:
    sha1 = SignAlg(SignKind.ECDSA, Hash.SHA_1)
    a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, sha1, sign_hash=True)
    assert status(client.generate_key, name(), a) == ResponseStatus.DEPRECATED_PRIMITIVE
    # Import only warns: the key exists and works.
    k = name()
    client.import_key(k, a, ec.generate_private_key(ec.SECP256R1()).private_numbers()
                      .private_value.to_bytes(32, "big"))
    assert len(client.sign_hash(k, sha1, hashlib.sha1(b"m").digest())) == 64


@pytest.fixture(scope="module")
def lenient_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(str(tmp_path_factory.mktemp("lenient")), auth_type="Direct",
                         core={"allow_deprecated": True})
    svc.start()
    yield svc
    svc.stop()


def test_deprecated_generation_allowed_by_config(lenient_service: ServiceProcess) -> None:
    c = lenient_service.client("lenient-app")
    sha1 = SignAlg(SignKind.ECDSA, Hash.SHA_1)
    c.generate_key("k", attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, sha1, sign_hash=True))
    assert len(c.sign_hash("k", sha1, hashlib.sha1(b"m").digest())) == 64


@NEEDS.test(generates(P256, 256, ECDSA_256, Opcode.PSA_SIGN_HASH, Opcode.PSA_EXPORT_PUBLIC_KEY))
def test_other_application_key_is_missing(client: BasicClient, provider_service: ServiceProcess) -> None:
    a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDSA_256, sign_hash=True, export=True)
    k = name()
    client.generate_key(k, a)
    pub = client.export_public_key(k)
    other = provider_service.client(f"other-{next(_names)}")
    for call in (other.export_public_key, other.export_key, other.destroy_key):
        assert status(call, k) in (ResponseStatus.PSA_ERROR_DOES_NOT_EXIST,
                                   ResponseStatus.PSA_ERROR_NOT_SUPPORTED)  # no PsaExportKey
    assert status(other.export_public_key, k) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    assert status(other.destroy_key, k) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    assert status(other.sign_hash, k, ECDSA_256, b"\x00" * 32) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    other.generate_key(k, a)
    assert other.export_public_key(k) != pub
    assert client.export_public_key(k) == pub


# ------------------------------------------------------------------------------------------------
# What a provider's table lacks is refused


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)


# ------------------------------------------------------------------------------------------------
# The RFC 7919 groups are the published ones


def _reference_primes() -> dict[int, int]:
    out = {}
    for line in (DATA / "rfc7919_primes.txt").read_text().splitlines():
        m = re.fullmatch(r"ffdhe(\d+) = ([0-9A-F]+)", line.strip())
        if m:
            out[int(m.group(1))] = int(m.group(2), 16)
    return out


def test_dh_primes_match_openssl_reference_file() -> None:
    ref = _reference_primes()
    assert sorted(ref) == [2048, 3072, 4096, 6144, 8192]
    assert keys.DH_GROUPS == ref


@pytest.mark.filterwarnings("ignore:Diffie-Hellman")
def test_dh_primes_match_live_openssl(tmp_path: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("no openssl command")
    for bits, p in keys.DH_GROUPS.items():
        pem = tmp_path / f"ffdhe{bits}.pem"
        subprocess.run([exe, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                        f"group:ffdhe{bits}", "-out", str(pem)], check=True, capture_output=True)
        params = serialization.load_pem_parameters(pem.read_bytes()).parameter_numbers()
        assert (params.p, params.g) == (p, 2)
