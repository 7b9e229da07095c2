from __future__ import annotations

import hashlib

from pqptest.service import ServiceProcess

from pqparsec.protocol.psa import (
    EccFamily,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)


def test_generate_sign_verify_over_socket(direct_service: ServiceProcess) -> None:
    client = direct_service.client("smoke")
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    attrs = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                          KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True), alg))
    client.generate_key("k1", attrs)
    digest = hashlib.sha256(b"hello").digest()
    sig = client.sign_hash("k1", alg, digest)
    assert len(sig) == 64
    client.verify_hash("k1", alg, digest, sig)
    client.destroy_key("k1")
    assert [k.name for k in client.list_keys()] == []
