"""The TPM provider's pure parts: key blob format, OAEP decoding, the capability table."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.providers.tpm import blob, capabilities, oaep


def test_blob_round_trip() -> None:
    key = blob.TpmKeyBlob(b"\x00\x0bname", os.urandom(32), b"pub" * 30, b"priv" * 40)
    data = blob.encode(key)
    assert data.startswith(b"PQTPM\x01\x01")
    assert blob.decode(data) == key
    assert key.auth.hex() not in repr(key)
    pub = blob.PublicKeyBlob(b"\x04" + b"\x01" * 64)
    assert blob.decode(blob.encode(pub)) == pub


@pytest.mark.parametrize("data", [b"", b"PQW1xxxx", b"PQTPM\x02\x01", b"PQTPM\x01\x01\x00\x00\x00\x05ab",
                                  b"PQTPM\x01\x09" + b"\x00\x00\x00\x00",
                                  b"PQTPM\x01\x01" + b"\x00\x00\x00\x00" * 3])
def test_bad_blobs_are_data_invalid(data: bytes) -> None:
    with pytest.raises(ParsecError) as exc:
        blob.decode(data)
    assert exc.value.status == ResponseStatus.PSA_ERROR_DATA_INVALID


_KEY = rsa.generate_private_key(65537, 2048)


def _raw_decrypt(key: rsa.RSAPrivateKey, ct: bytes) -> bytes:
    n = key.private_numbers()
    m = pow(int.from_bytes(ct, "big"), n.d, n.public_numbers.n)
    return m.to_bytes(key.key_size // 8, "big")


@pytest.mark.parametrize("h", [hashes.SHA1, hashes.SHA256, hashes.SHA512])
@pytest.mark.parametrize("label", [b"", b"label", b"x" * 200])
def test_oaep_decode_matches_cryptography(h: type[hashes.HashAlgorithm], label: bytes) -> None:
    key = _KEY
    for msg in (b"", b"m", os.urandom(40)):
        ct = key.public_key().encrypt(msg, padding.OAEP(padding.MGF1(h()), h(), label or None))
        em = _raw_decrypt(key, ct)
        assert oaep.decode(em, h(), label, 256) == msg
        with pytest.raises(ParsecError) as exc:
            oaep.decode(em, h(), label + b"?", 256)
        assert exc.value.status == ResponseStatus.PSA_ERROR_INVALID_PADDING
    for garbage in (b"\0" * 256, os.urandom(256)):
        with pytest.raises(ParsecError):
            oaep.decode(garbage, h(), label, 256)


def ecc(bits: int, alg: SignAlg | None = None) -> KeyAttributes:
    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), bits,
                         KeyPolicy(UsageFlags(sign_hash=True),
                                   alg or SignAlg(SignKind.ECDSA, ANY_HASH)))


def test_capability_table() -> None:
    assert capabilities.can_do(CheckType.GENERATE, ecc(256), False)
    assert capabilities.can_do(CheckType.USE, ecc(384, SignAlg(SignKind.ECDSA, Hash.SHA_512)), False)
    assert not capabilities.can_do(CheckType.USE, ecc(256, SignAlg(SignKind.ECDSA, Hash.SHA3_256)), False)
    assert not capabilities.can_do(CheckType.USE, ecc(256, SignAlg(SignKind.RSA_PSS, Hash.SHA_256)), False)
    assert not capabilities.can_do(CheckType.GENERATE,
                                   KeyAttributes(KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), 256),
                                   False)
    sha1 = ecc(256, SignAlg(SignKind.ECDSA, Hash.SHA_1))
    assert not capabilities.can_do(CheckType.GENERATE, sha1, False)
    assert capabilities.can_do(CheckType.GENERATE, sha1, True)
    assert capabilities.can_do(CheckType.IMPORT, sha1, False)
    assert capabilities.can_do(CheckType.IMPORT, KeyAttributes(KeyType.rsa_key_pair(), 0), False)
    oaep_attrs = KeyAttributes(KeyType.rsa_public_key(), 3072,
                               KeyPolicy(UsageFlags(encrypt=True),
                                         EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)))
    assert capabilities.can_do(CheckType.IMPORT, oaep_attrs, False)
    assert capabilities.can_do(CheckType.USE, oaep_attrs, False)
    assert not capabilities.can_do(CheckType.GENERATE, oaep_attrs, False)
    with pytest.raises(ParsecError) as exc:
        capabilities.check_key_type(KeyType.rsa_key_pair(), 4096)
    assert exc.value.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
