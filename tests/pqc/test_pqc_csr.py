"""CSRs signed by Ed25519, Ed448 and ML-DSA keys that stay in the service (client library,
`pqparsec.client.csr.build_csr`, over a real socket), checked by `cryptography`."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, mldsa
from cryptography.x509.oid import NameOID

from pqparsec.client.adapter import ServiceMLDSA65PrivateKey, service_private_key
from pqparsec.client.csr import build_csr
from pqparsec.client.errors import KeyTypeError
from pqparsec.client.pqc import PqcClient
from pqparsec.protocol.psa import (
    EccFamily,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.service.providers.software.pqc import DETERMINISTIC_ML_DSA_AVAILABLE

SIGN = UsageFlags(sign_message=True, verify_message=True)
SUBJECT = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pqparsec.example"),
                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Parsec")])
SANS = [x509.DNSName("localhost"), x509.DNSName("pqparsec.example")]


def _spki(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo))


def _check(pq: PqcClient, name: str, csr: x509.CertificateSigningRequest, oid: str) -> None:
    """Parses back from PEM, carries the service key's public key, the scheme's signature
    AlgorithmIdentifier (no parameters), and a signature that verifies over the request info."""
    csr = x509.load_pem_x509_csr(csr.public_bytes(serialization.Encoding.PEM))
    assert csr.signature_algorithm_oid.dotted_string == oid
    assert csr.signature_hash_algorithm is None
    assert csr.subject == SUBJECT
    assert list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value) == SANS
    assert _spki(csr.public_key()) == _spki(pq.public_key(name))
    assert csr.is_signature_valid
    # the same check by hand: the public key verifies the signature over tbs_certrequest_bytes
    pub = csr.public_key()
    if isinstance(pub, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        pub.verify(csr.signature, csr.tbs_certrequest_bytes)
    else:
        assert isinstance(pub, (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey,
                                mldsa.MLDSA87PublicKey))
        pub.verify(csr.signature, csr.tbs_certrequest_bytes)  # empty context: X.509's
        with pytest.raises(InvalidSignature):
            pub.verify(csr.signature, csr.tbs_certrequest_bytes, b"ctx")


@pytest.mark.parametrize(("bits", "oid"), [(255, "1.3.101.112"), (448, "1.3.101.113")])
def test_eddsa_csr(pq: PqcClient, bits: int, oid: str) -> None:
    pq.generate_key("ed", KeyAttributes(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), bits,
                                        KeyPolicy(SIGN, SignAlg(SignKind.PURE_EDDSA))))
    _check(pq, "ed", build_csr(pq, "ed", SUBJECT, sans=SANS), oid)


@pytest.mark.parametrize(("bits", "oid", "kind"), [
    (128, "2.16.840.1.101.3.4.3.17", SignKind.ML_DSA),
    (192, "2.16.840.1.101.3.4.3.18", SignKind.ML_DSA),
    (256, "2.16.840.1.101.3.4.3.19", SignKind.ML_DSA),
    (192, "2.16.840.1.101.3.4.3.18", SignKind.DETERMINISTIC_ML_DSA),
], ids=["ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "ml-dsa-65-deterministic"])
def test_ml_dsa_csr(pq: PqcClient, bits: int, oid: str, kind: SignKind) -> None:
    if kind == SignKind.DETERMINISTIC_ML_DSA and not DETERMINISTIC_ML_DSA_AVAILABLE:
        pytest.skip("deterministic ML-DSA needs pycryptodome in the service")
    pq.generate_key("ml", KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), bits,
                                        KeyPolicy(SIGN, SignAlg(kind))))
    csr = build_csr(pq, "ml", SUBJECT, sans=SANS)
    _check(pq, "ml", csr, oid)
    if kind == SignKind.DETERMINISTIC_ML_DSA:  # the service signs the same bytes the same way
        assert build_csr(pq, "ml", SUBJECT, sans=SANS).signature == csr.signature


def test_adapter_keeps_the_key_in_the_service(pq: PqcClient) -> None:
    pq.generate_key("ml", KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), 192,
                                        KeyPolicy(SIGN, SignAlg(SignKind.ML_DSA))))
    key = service_private_key(pq, "ml")
    assert isinstance(key, ServiceMLDSA65PrivateKey) and isinstance(key, mldsa.MLDSA65PrivateKey)
    sig = key.sign(b"data", b"a context")  # PsaSignMessage with the context string
    key.public_key().verify(sig, b"data", b"a context")
    with pytest.raises(KeyTypeError):
        key.private_bytes_raw()


def test_keys_that_cannot_sign_a_csr(pq: PqcClient) -> None:
    pq.generate_key("hash-ml", KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128, KeyPolicy(
        SIGN, SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_512))))
    with pytest.raises(KeyTypeError, match="HashML-DSA"):
        build_csr(pq, "hash-ml", SUBJECT)
    pq.generate_key("slh", KeyAttributes(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F), 128,
                                         KeyPolicy(SIGN, SignAlg(SignKind.SLH_DSA))))
    with pytest.raises(KeyTypeError, match="SLH_DSA"):  # cryptography has no SLH-DSA keys
        build_csr(pq, "slh", SUBJECT)
