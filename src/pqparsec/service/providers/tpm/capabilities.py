"""What the TPM provider supports, declared once: the operations check requests against this
table and CanDoCrypto answers from it, so the two cannot disagree."""

from __future__ import annotations

from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    AnyHash,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
    describe_algorithm,
)
from pqparsec.protocol.psa.policy import deprecated_reason, not_supported, sign_alg_compatible

# Key sizes by key type. Key pairs live in the TPM (what TPMs commonly implement); public keys
# are used in software, so they may be larger.
RSA_PAIR_BITS = (1024, 2048, 3072)
RSA_PUBLIC_BITS = (1024, 2048, 3072, 4096)
ECC_BITS: dict[EccFamily, tuple[int, ...]] = {EccFamily.SECP_R1: (256, 384)}

# Hashes the TPM signs with (SHA-1 only where allow_deprecated lets it through).
HASHES = (Hash.SHA_1, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512)
RSA_SIGN = (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS)
ECC_SIGN = (SignKind.ECDSA,)
OAEP_HASHES = (Hash.SHA_1, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512)


def key_type_supported(kt: KeyType, bits: int) -> bool:
    """Keys of this type and size (key_bits 0: of some size) are handled here."""
    sizes = key_sizes(kt)
    return bool(sizes) and (bits == 0 or bits in sizes)


def key_sizes(kt: KeyType) -> tuple[int, ...]:
    if kt.is_rsa:
        return RSA_PAIR_BITS if kt.is_key_pair else RSA_PUBLIC_BITS
    if kt.is_ecc and kt.ecc_family in ECC_BITS:
        return ECC_BITS[kt.ecc_family]
    return ()


def check_key_type(kt: KeyType, bits: int) -> None:
    """NotSupported unless the provider handles keys of this type and size."""
    sizes = key_sizes(kt)
    if not sizes:
        raise not_supported(f"key type {kt.describe()} is not supported by the TPM provider")
    if bits not in sizes:
        raise not_supported(f"{kt.describe()} keys of {bits} bits are not supported by the TPM "
                            f"provider ({', '.join(map(str, sizes))})")


def sign_supported(kt: KeyType, alg: SignAlg) -> bool:
    kinds = RSA_SIGN if kt.is_rsa else ECC_SIGN if kt.is_ecc else ()
    if alg.kind not in kinds:
        return False
    return isinstance(alg.hash, AnyHash) or alg.hash in HASHES


def encrypt_supported(kt: KeyType, alg: EncryptAlg) -> bool:
    if not kt.is_rsa:
        return False
    if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        return True
    return alg.kind == EncryptKind.RSA_OAEP and alg.hash in OAEP_HASHES


def check_sign_alg(kt: KeyType, alg: SignAlg) -> None:
    if not sign_supported(kt, alg):
        raise not_supported(f"the TPM provider does not support {alg.kind.name} with "
                            f"{alg.hash!r} on {kt.describe()} keys")


def check_encrypt_alg(kt: KeyType, alg: EncryptAlg) -> None:
    if not encrypt_supported(kt, alg):
        raise not_supported(f"the TPM provider does not support {alg.kind.name}"
                            f"{'' if alg.hash is None else '/' + alg.hash.name} on "
                            f"{kt.describe()} keys")


def check_policy(attrs: KeyAttributes) -> None:
    """A key to create whose policy names an algorithm of its type that the TPM cannot do
    (deterministic ECDSA, ECDSA with SHA3, OAEP with SHA-224) would be stored but never usable:
    NotSupported, as CanDoCrypto answers. A policy naming an algorithm no key of its type can do
    is accepted, as by the software provider: using the key is then InvalidArgument."""
    alg, kt = attrs.algorithm, attrs.key_type
    if isinstance(alg, SignAlg) and sign_alg_compatible(kt, alg):
        check_sign_alg(kt, alg)
    elif isinstance(alg, EncryptAlg) and kt.is_rsa:
        check_encrypt_alg(kt, alg)
    elif isinstance(alg, KeyAgreementAlg) and kt.is_ecc:
        raise not_supported("the TPM provider does no key agreement: a key whose policy names "
                            f"{describe_algorithm(alg)} could never be used")


_OPERATION_FLAGS = ("encrypt", "decrypt", "sign_message", "verify_message", "sign_hash",
                    "verify_hash")


def _use_supported(attrs: KeyAttributes) -> bool:
    alg = attrs.algorithm
    if not any(getattr(attrs.usage, flag) for flag in _OPERATION_FLAGS):
        return False
    if isinstance(alg, SignAlg):
        return sign_supported(attrs.key_type, alg)
    if isinstance(alg, EncryptAlg):
        return encrypt_supported(attrs.key_type, alg)
    return False  # no algorithm, or one this provider has no operation for


def can_do(check: CheckType, attrs: KeyAttributes, allow_deprecated: bool) -> bool:
    """CanDoCrypto, with the software provider's semantics (Parsec's): the key type and size
    (key_bits 0 = any size), then per check type: Use, the policy's algorithm with a usage flag
    that permits an operation; Generate, a key pair and no deprecated primitive unless allowed,
    plus Use if the policy names an algorithm; Import, plus Use if it names one; Derive, never."""
    kt = attrs.key_type
    if check == CheckType.DERIVE or not key_type_supported(kt, attrs.key_bits):
        return False
    if check == CheckType.USE:
        return _use_supported(attrs)
    if check == CheckType.GENERATE and (not kt.is_key_pair or (
            deprecated_reason(attrs) is not None and not allow_deprecated)):
        return False
    return isinstance(attrs.algorithm, NoAlgorithm) or _use_supported(attrs)
