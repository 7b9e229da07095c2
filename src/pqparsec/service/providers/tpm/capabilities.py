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
    KeyAttributes,
    KeyKind,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.psa.policy import not_supported

# Key sizes by key type. Public keys are used in software, key pairs live in the TPM.
RSA_BITS = (2048, 3072)
ECC_BITS: dict[EccFamily, tuple[int, ...]] = {EccFamily.SECP_R1: (256, 384)}

# Hashes the TPM signs with (SHA-1 only where allow_deprecated lets it through).
HASHES = (Hash.SHA_1, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512)
RSA_SIGN = (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS)
ECC_SIGN = (SignKind.ECDSA,)
OAEP_HASHES = (Hash.SHA_1, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512)


def key_type_supported(kt: KeyType, bits: int) -> bool:
    if kt.is_rsa:
        return bits in RSA_BITS
    if kt.is_ecc:
        return kt.ecc_family in ECC_BITS and bits in ECC_BITS[kt.ecc_family]
    return False


def check_key_type(kt: KeyType, bits: int) -> None:
    """NotSupported unless the provider handles keys of this type and size."""
    if not (kt.is_rsa or kt.is_ecc) or (kt.is_ecc and kt.ecc_family not in ECC_BITS):
        raise not_supported(f"key type {kt.describe()} is not supported by the TPM provider")
    if not key_type_supported(kt, bits):
        sizes = RSA_BITS if kt.is_rsa else ECC_BITS[kt.ecc_family]  # type: ignore[index]
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


def _use_supported(attrs: KeyAttributes) -> bool:
    alg = attrs.algorithm
    u = attrs.usage
    if isinstance(alg, NoAlgorithm):
        return False
    if not (u.decrypt or u.encrypt or u.sign_hash or u.sign_message or u.verify_hash
            or u.verify_message):
        return False
    if isinstance(alg, SignAlg):
        return sign_supported(attrs.key_type, alg)
    if isinstance(alg, EncryptAlg):
        return encrypt_supported(attrs.key_type, alg)
    return False


def can_do(check: CheckType, attrs: KeyAttributes) -> bool:
    """CanDoCrypto, with Parsec's rules: the key type and size first, then the operation."""
    kt = attrs.key_type
    if check == CheckType.DERIVE or not key_type_supported(kt, attrs.key_bits):
        return False
    if check == CheckType.GENERATE and not kt.is_key_pair:
        return False
    if check in (CheckType.GENERATE, CheckType.IMPORT) and isinstance(attrs.algorithm,
                                                                      NoAlgorithm):
        return True
    return _use_supported(attrs)


KEY_KINDS = (KeyKind.RSA_KEY_PAIR, KeyKind.RSA_PUBLIC_KEY, KeyKind.ECC_KEY_PAIR,
             KeyKind.ECC_PUBLIC_KEY)
