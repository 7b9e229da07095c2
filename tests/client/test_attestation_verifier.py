"""The Certify verifier on statements made here in software (no TPM): the checks a real TPM's
output never exercises (magic, type, trailing bytes, unknown algorithms) and RSA-PSS."""

from __future__ import annotations

import dataclasses
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from pqparsec.client.attestation import (
    AttestationVerificationError,
    CertifyAttestation,
    parse_attest,
    parse_public,
    verify_certify,
)

SHA256, NULL, ECC, RSA, ECDSA, RSAPSS = 0x000B, 0x0010, 0x0023, 0x0001, 0x0018, 0x0016
SIGN_ATTRS = 0x00040000 | 0x00000002 | 0x00000020 | 0x00000040  # sign, fixedTPM, sdo, userWithAuth


def b2(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def ecc_public(key: ec.EllipticCurvePublicKey, attrs: int = SIGN_ATTRS) -> bytes:
    n = key.public_numbers()
    return (struct.pack(">HHI", ECC, SHA256, attrs) + b2(b"") + struct.pack(">H", NULL)
            + struct.pack(">H", NULL) + struct.pack(">H", 0x0003) + struct.pack(">H", NULL)
            + b2(n.x.to_bytes(32, "big")) + b2(n.y.to_bytes(32, "big")))


def rsa_public(key: rsa.RSAPublicKey) -> bytes:
    n = key.public_numbers().n
    return (struct.pack(">HHI", RSA, SHA256, SIGN_ATTRS) + b2(b"") + struct.pack(">H", NULL)
            + struct.pack(">H", NULL) + struct.pack(">HI", 2048, 0) + b2(n.to_bytes(256, "big")))


def name_of(public: bytes) -> bytes:
    return struct.pack(">H", SHA256) + hashlib.sha256(public).digest()


def attest(nonce: bytes, name: bytes, magic: int = 0xFF544347, type_: int = 0x8017) -> bytes:
    return (struct.pack(">IH", magic, type_) + b2(b"\x00\x0b" + b"\x11" * 32) + b2(nonce)
            + struct.pack(">QIIBQ", 1234, 1, 2, 1, 0x2019) + b2(name) + b2(b"\x00\x0b" + b"q" * 32))


def ecdsa_sig(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return struct.pack(">HH", ECDSA, SHA256) + b2(r.to_bytes(32, "big")) + b2(s.to_bytes(32, "big"))


@pytest.fixture(scope="module")
def keys() -> tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePrivateKey]:
    return ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())


def make(ak: ec.EllipticCurvePrivateKey, key: ec.EllipticCurvePrivateKey, nonce: bytes = b"n",
         **kw: int) -> CertifyAttestation:
    public = ecc_public(key.public_key())
    statement = attest(nonce, name_of(public), **kw)
    return CertifyAttestation("k", "", nonce, statement, ecdsa_sig(ak, statement), public,
                              ecc_public(ak.public_key()))


def test_a_well_formed_statement_verifies(keys: tuple[ec.EllipticCurvePrivateKey, ...]) -> None:
    ak, key = keys
    att = make(ak, key, b"nonce")
    v = verify_certify(att, b"nonce", attested_public_key=key.public_key(),
                       attesting_public_key=ak.public_key(), require_generated_in_tpm=True)
    assert v.statement.clock == 1234 and v.statement.safe and v.statement.firmware_version == 0x2019
    assert v.attested_key.name == name_of(att.attested_key_public)
    assert parse_attest(att.attest).name == v.attested_key.name


def test_magic_and_type_are_checked(keys: tuple[ec.EllipticCurvePrivateKey, ...]) -> None:
    ak, key = keys
    with pytest.raises(AttestationVerificationError, match="TPM_GENERATED_VALUE"):
        verify_certify(make(ak, key, magic=0xFF544348))
    with pytest.raises(AttestationVerificationError, match="TPM_ST_ATTEST_CERTIFY"):
        verify_certify(make(ak, key, type_=0x8018))  # a quote


def test_malformed_structures(keys: tuple[ec.EllipticCurvePrivateKey, ...]) -> None:
    ak, key = keys
    att = make(ak, key)
    statement = att.attest + b"\0"
    signed = dataclasses.replace(att, attest=statement, signature=ecdsa_sig(ak, statement))
    with pytest.raises(AttestationVerificationError, match="trailing"):
        verify_certify(signed)
    with pytest.raises(AttestationVerificationError, match="truncated"):
        parse_public(att.attested_key_public[:-1])
    with pytest.raises(AttestationVerificationError, match="neither RSA nor ECC"):
        parse_public(struct.pack(">HHI", 0x0008, SHA256, 0) + b2(b""))
    bad_point = bytearray(att.attested_key_public)
    bad_point[-1] ^= 1
    with pytest.raises(AttestationVerificationError, match="not on the curve"):
        parse_public(bytes(bad_point))
    with pytest.raises(AttestationVerificationError, match="scheme"):
        verify_certify(dataclasses.replace(att, signature=struct.pack(">HH", 0x0005, SHA256)))
    with pytest.raises(AttestationVerificationError, match="not a signing key"):
        verify_certify(dataclasses.replace(
            att, attesting_key_public=ecc_public(ak.public_key(), attrs=0x00020000)))


def test_rsa_pss_attesting_key(keys: tuple[ec.EllipticCurvePrivateKey, ...]) -> None:
    _, key = keys
    ak = rsa.generate_private_key(65537, 2048)
    public = ecc_public(key.public_key())
    statement = attest(b"n", name_of(public))
    sig = ak.sign(statement, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    att = CertifyAttestation("k", "ak", b"n", statement,
                             struct.pack(">HH", RSAPSS, SHA256) + b2(sig), public,
                             rsa_public(ak.public_key()))
    verify_certify(att, attesting_public_key=ak.public_key())
    with pytest.raises(AttestationVerificationError, match="ECDSA signature from an RSA"):
        verify_certify(dataclasses.replace(att, signature=ecdsa_sig(
            ec.generate_private_key(ec.SECP256R1()), statement)))
