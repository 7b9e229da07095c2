"""PSA key attribute builders that several test files share."""

from __future__ import annotations

from pqparsec.protocol.psa import (
    Algorithm,
    EccFamily,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
    UsageFlags,
)


def attrs(kt: KeyType, bits: int, alg: Algorithm | None = None, **flags: bool) -> KeyAttributes:
    """`kt` of `bits` bits with the usage `flags` (UsageFlags keywords) and `alg` (none by default)."""
    return KeyAttributes(kt, bits, KeyPolicy(UsageFlags(**flags), alg or NoAlgorithm()))


def ecc_p256_sign_attrs(export: bool = False) -> KeyAttributes:
    """ECC P-256 key pair for ECDSA(SHA-256) sign/verify hash (and message)."""
    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy(
        UsageFlags(export=export, sign_hash=True, verify_hash=True, sign_message=True,
                   verify_message=True), SignAlg(SignKind.ECDSA, Hash.SHA_256)))


def rsa_sign_attrs(bits: int = 2048) -> KeyAttributes:
    """RSA key pair for PKCS#1 v1.5 SHA-256 sign/verify hash."""
    return KeyAttributes(KeyType.rsa_key_pair(), bits, KeyPolicy(
        UsageFlags(sign_hash=True, verify_hash=True),
        SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)))
