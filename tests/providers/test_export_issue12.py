"""PsaExportKey and the export usage flag (issue 12): a public key can always be exported, as in
PSA, Mbed TLS and Parsec; the flag guards key pairs and secret keys only."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from capabilities import Pinned
from capabilities.needs import Need, Needs, assert_refused, generates, imports
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pqptest.psa import ecc_p256_sign_attrs

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    EccFamily,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus as S

_names = itertools.count()
VERIFY_ONLY = UsageFlags(verify_hash=True)


def _status(fn: Callable[[], object]) -> S:
    with pytest.raises(ServiceError) as err:
        fn()
    return err.value.status


def _rsa_public() -> bytes:
    pub = rsa.generate_private_key(65537, 2048).public_key()
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def _ecc_public() -> bytes:
    pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


# What the tests need of a provider (capabilities/needs.py): a test runs where the pinned table
# has all of it, and test_unsupported_needs_are_refused checks the refusals everywhere else.
NEEDS = Needs()
EXPORTING = (Opcode.PSA_EXPORT_KEY, Opcode.PSA_IMPORT_KEY, Opcode.PSA_EXPORT_PUBLIC_KEY)
ECDSA_256 = SignAlg(SignKind.ECDSA, Hash.SHA_256)
RSA_PKCS1_256 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
ML_DSA = SignAlg(SignKind.ML_DSA)


@pytest.fixture
def exporting(client: BasicClient) -> BasicClient:
    return client


@NEEDS.cases("case", ["rsa", "ecc"], lambda case: [
    imports(KeyType.rsa_public_key(), 2048, RSA_PKCS1_256, *EXPORTING) if case == "rsa" else
    imports(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDSA_256, *EXPORTING)])
def test_public_key_exports_without_the_export_flag(exporting: BasicClient, case: str) -> None:
    if case == "rsa":
        kt, bits, data = KeyType.rsa_public_key(), 2048, _rsa_public()
        alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
    else:
        kt, bits, data = KeyType.ecc_public_key(EccFamily.SECP_R1), 256, _ecc_public()
        alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    name = f"pub-{next(_names)}"
    exporting.import_key(name, KeyAttributes(kt, bits, KeyPolicy(VERIFY_ONLY, alg)), data)
    assert exporting.export_key(name) == data
    assert exporting.export_public_key(name) == data


@NEEDS.test(imports(KeyType(KeyKind.ML_DSA_PUBLIC_KEY), 128, ML_DSA, *EXPORTING),
            generates(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128, ML_DSA))
def test_pqc_public_key_exports_without_the_export_flag(exporting: BasicClient) -> None:
    pub_attrs = KeyAttributes(KeyType(KeyKind.ML_DSA_PUBLIC_KEY), 128,
                              KeyPolicy(VERIFY_ONLY, SignAlg(SignKind.ML_DSA)))
    pair = f"mldsa-{next(_names)}"
    exporting.generate_key(pair, KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128, KeyPolicy(
        UsageFlags(sign_hash=True, verify_hash=True), SignAlg(SignKind.ML_DSA))))
    data = exporting.export_public_key(pair)
    assert _status(lambda: exporting.export_key(pair)) == S.PSA_ERROR_NOT_PERMITTED
    pub = f"mldsa-pub-{next(_names)}"
    exporting.import_key(pub, pub_attrs, data)
    assert exporting.export_key(pub) == data


@NEEDS.test(generates(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDSA_256, *EXPORTING),
            generates(KeyType.simple(KeyKind.AES), 128, AeadAlg(AeadKind.GCM)))
def test_key_pair_and_secret_key_still_need_the_export_flag(exporting: BasicClient) -> None:
    name = f"pair-{next(_names)}"
    exporting.generate_key(name, ecc_p256_sign_attrs(export=False))
    assert _status(lambda: exporting.export_key(name)) == S.PSA_ERROR_NOT_PERMITTED
    # its public part is still there for the asking, through PsaExportPublicKey
    assert len(exporting.export_public_key(name)) == 65
    exportable = f"pair-{next(_names)}"
    exporting.generate_key(exportable, ecc_p256_sign_attrs(export=True))
    assert len(exporting.export_key(exportable)) == 32
    secret = f"aes-{next(_names)}"
    exporting.generate_key(secret, KeyAttributes(KeyType.simple(KeyKind.AES), 128, KeyPolicy(
        UsageFlags(encrypt=True, decrypt=True), AeadAlg(AeadKind.GCM))))
    assert _status(lambda: exporting.export_key(secret)) == S.PSA_ERROR_NOT_PERMITTED


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
