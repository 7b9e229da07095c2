"""PSA key policy rules shared by every provider: usage flags (with the ones PSA implies),
permitted algorithms (with the 'any hash' wildcard), key type / algorithm compatibility,
deprecated primitives, and the checks of each family of operations in Parsec's order.

Parsec's order (parsec-interface's `validate`), which every provider follows by calling the
`check_*_request` function of the family: the usage flag (NotPermitted), the key's permitted
algorithm (NotPermitted), whether the key type can do the algorithm at all (InvalidArgument);
only then what the provider itself supports (NotSupported) and the request's input."""

from __future__ import annotations

from pqparsec.protocol.psa import (
    PCR_COUNT,
    SIGN_KINDS_WITH_HASH,
    SIGN_TWINS,
    AeadAlg,
    AeadKind,
    Algorithm,
    AnyHash,
    CipherAlg,
    CipherMode,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    HashAlg,
    KdfAlg,
    KemAlg,
    KemKind,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyType,
    MacAlg,
    MacKind,
    PcrBinding,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus


def not_permitted(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_NOT_PERMITTED, msg)


def invalid_argument(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_INVALID_ARGUMENT, msg)


def not_supported(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED, msg)


def invalid_signature(msg: str = "the signature is not valid") -> ParsecError:
    """A signature, MAC, AEAD tag or hash that does not match (PSA's INVALID_SIGNATURE)."""
    return ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, msg)


def permits(policy: Algorithm, alg: Algorithm, verify: bool = False) -> bool:
    """Does a key whose policy names `policy` allow an operation with `alg`?

    `verify`: the operation verifies a signature. The PSA PQC extension makes the hedged and
    deterministic variants of ML-DSA / SLH-DSA (and their Hash- forms) equivalent for that."""
    if policy == alg:
        return True
    if isinstance(policy, SignAlg) and isinstance(alg, SignAlg):
        if verify and SIGN_TWINS.get(alg.kind) == policy.kind:
            return permits(policy, SignAlg(policy.kind, alg.hash))
        # A signature policy with the wildcard hash permits the same scheme with any specific hash.
        return (isinstance(policy.hash, AnyHash) and policy.kind == alg.kind
                and isinstance(alg.hash, Hash))
    # A MAC or AEAD policy permits truncations/shortenings of at least its own length? PSA's
    # "at least this length" wildcards are not in Parsec's protocol: exact match only, plus the
    # full-length algorithm permitting itself.
    if isinstance(policy, AeadAlg) and isinstance(alg, AeadAlg):
        return policy.kind == alg.kind and policy.effective_tag_length == alg.effective_tag_length
    if isinstance(policy, MacAlg) and isinstance(alg, MacAlg):
        return policy.full() == alg.full() and _mac_len(policy) == _mac_len(alg)
    return False


def _mac_len(alg: MacAlg) -> int | None:
    """The MAC length `alg` produces: a truncation to the full length is the full-length MAC, as
    a shortened AEAD tag of the default length is the default-tag AEAD."""
    if alg.length is not None:
        return alg.length
    if alg.hash is not None:
        return alg.hash.digest_size  # HMAC
    return 16 if alg.kind in (MacKind.CMAC, MacKind.CBC_MAC) else None  # the AES block


# The usage flags PSA implies: sign_hash permits sign_message and verify_hash permits
# verify_message (PSA Crypto 1.0.1; Parsec's book says the same). Flag -> the flag implying it.
IMPLIED_BY = {"sign_message": "sign_hash", "verify_message": "verify_hash"}


def check_usage(attrs: KeyAttributes, flag: str, op: str) -> None:
    if not getattr(attrs.usage, flag):
        raise not_permitted(f"the key's policy does not allow {op} (usage flag {flag} not set)")


def check_export(attrs: KeyAttributes) -> None:
    """PsaExportKey's policy check. A public key can always be exported: the export usage flag
    guards key pairs and secret keys only (PSA Crypto API, `PSA_KEY_USAGE_EXPORT`; Mbed TLS and so
    Parsec drop the flag from the check for a public key)."""
    if attrs.key_type.is_public_key:
        return
    check_usage(attrs, "export", "export")


def check_alg(attrs: KeyAttributes, alg: Algorithm, op: str, verify: bool = False) -> None:
    if not permits(attrs.algorithm, alg, verify):
        raise not_permitted(f"the key's policy does not permit this algorithm for {op}")


def check_sign_hash_length(alg: SignAlg, digest: bytes) -> None:
    if isinstance(alg.hash, Hash) and len(digest) != alg.hash.digest_size:
        raise invalid_argument(f"hash of {len(digest)} bytes given for {alg.hash.name}, which "
                               f"produces {alg.hash.digest_size}")


def sign_alg_compatible(key_type: KeyType, alg: SignAlg) -> bool:
    if alg.is_rsa:
        return key_type.is_rsa
    if alg.is_ecc:
        return key_type.is_ecc and key_type.ecc_family not in (EccFamily.MONTGOMERY,
                                                               EccFamily.TWISTED_EDWARDS)
    if alg.is_eddsa:
        return key_type.is_edwards
    if alg.is_ml_dsa:
        return key_type.is_ml_dsa
    if alg.is_slh_dsa:
        return key_type.is_slh_dsa
    return False


# -- the checks of each family, in Parsec's order ----------------------------------------------------

# Schemes that sign given bytes rather than a hash: PsaSignHash / PsaVerifyHash only.
RAW_SIGN_KINDS = frozenset({SignKind.RSA_PKCS1V15_SIGN_RAW, SignKind.ECDSA_ANY})


def check_sign_request(attrs: KeyAttributes, alg: SignAlg, flag: str, op: str,
                       message: bool = False) -> None:
    """PsaSignHash/PsaVerifyHash/...Message, in Parsec's order: the usage flag (with the flags PSA
    implies) and the permitted algorithm (NotPermitted); the key type and a specific hash, and with
    `message` a scheme that signs a message (InvalidArgument). The provider then refuses what it
    does not support (NotSupported), and calls `check_sign_input`."""
    usage = attrs.usage
    if not (getattr(usage, flag) or (flag in IMPLIED_BY and getattr(usage, IMPLIED_BY[flag]))):
        check_usage(attrs, flag, op)  # raises: neither the flag nor one that implies it is set
    check_alg(attrs, alg, op, verify=flag.startswith("verify"))
    if not sign_alg_compatible(attrs.key_type, alg):
        raise invalid_argument(f"{alg.kind.name} cannot be used with a {attrs.key_type.describe()} key")
    if alg.kind in SIGN_KINDS_WITH_HASH and not isinstance(alg.hash, Hash):
        raise invalid_argument("a signature request must name a specific hash, not the wildcard")
    if message and alg.kind in RAW_SIGN_KINDS:
        raise invalid_argument(f"{alg.kind.name} signs a hash: use PsaSignHash/PsaVerifyHash")


def check_sign_input(attrs: KeyAttributes, alg: SignAlg, flag: str, context: bytes) -> None:
    """After the provider's NotSupported: a context string with a scheme that takes none, a public
    key asked to sign (InvalidArgument)."""
    if context:
        raise invalid_argument(f"{alg.kind.name} takes no context string")
    if flag.startswith("sign") and not attrs.key_type.is_key_pair:
        raise invalid_argument("a public key cannot sign")


def check_asymmetric_crypt_request(attrs: KeyAttributes, alg: EncryptAlg, flag: str,
                                   op: str) -> None:
    """PsaAsymmetricEncrypt/Decrypt: usage flag, permitted algorithm, an RSA key. The provider then
    refuses what it does not support, and calls `check_encrypt_salt`."""
    check_usage(attrs, flag, op)
    check_alg(attrs, alg, op)
    if not attrs.key_type.is_rsa:
        raise invalid_argument(f"{alg.kind.name} needs an RSA key, not {attrs.key_type.describe()}")


def check_encrypt_salt(alg: EncryptAlg, salt: bytes) -> None:
    if salt and alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        raise invalid_argument("RSA PKCS#1 v1.5 encryption takes no salt")


# The key kind each AEAD algorithm needs.
AEAD_KEY_KIND = {AeadKind.GCM: KeyKind.AES, AeadKind.CCM: KeyKind.AES,
                 AeadKind.CHACHA20_POLY1305: KeyKind.CHACHA20}


def check_aead_key(attrs: KeyAttributes, alg: AeadAlg) -> None:
    want = AEAD_KEY_KIND[alg.kind]
    if attrs.key_type.kind != want:
        raise invalid_argument(f"{alg.kind.name} needs a {want.name} key, not "
                               f"{attrs.key_type.describe()}")


def check_aead_request(attrs: KeyAttributes, alg: AeadAlg, flag: str, op: str, data: bytes,
                       nonce: bytes) -> None:
    """PsaAeadEncrypt/Decrypt: usage flag, permitted algorithm, the key type the algorithm needs,
    an input and a nonce (Parsec's interface refuses empty ones)."""
    check_usage(attrs, flag, op)
    check_alg(attrs, alg, op)
    check_aead_key(attrs, alg)
    if not data or not nonce:
        raise invalid_argument(f"{op}: the input and the nonce must not be empty")


def check_cipher_key(attrs: KeyAttributes, mode: CipherMode) -> None:
    """The key a cipher mode needs: ChaCha20 for the stream cipher, AES for the others (XTS: two
    AES-128 keys in one 256-bit key)."""
    kind = attrs.key_type.kind
    if mode == CipherMode.STREAM_CIPHER:
        if kind != KeyKind.CHACHA20:
            raise invalid_argument(f"STREAM_CIPHER needs a CHACHA20 key, not "
                                   f"{attrs.key_type.describe()}")
        return
    if kind != KeyKind.AES:
        raise invalid_argument(f"{mode.name} needs an AES key, not {attrs.key_type.describe()}")
    if mode == CipherMode.XTS and attrs.key_bits != 256:
        raise invalid_argument(f"XTS needs two AES keys of equal size (a 256-bit key here), "
                               f"not {attrs.key_bits} bits")


def check_cipher_request(attrs: KeyAttributes, mode: CipherMode, flag: str, op: str,
                         data: bytes) -> None:
    """PsaCipherEncrypt/Decrypt: usage flag, permitted algorithm, the key the mode needs (XTS: two
    AES-128 keys in one), an input."""
    check_usage(attrs, flag, op)
    check_alg(attrs, CipherAlg(mode), op)
    check_cipher_key(attrs, mode)
    if not data:
        raise invalid_argument(f"{op}: the input must not be empty")


def check_mac_key(attrs: KeyAttributes, alg: MacAlg) -> None:
    want = KeyKind.HMAC if alg.kind == MacKind.HMAC else KeyKind.AES
    if attrs.key_type.kind != want:
        raise invalid_argument(f"{alg.kind.name} needs a {want.name} key, not "
                               f"{attrs.key_type.describe()}")


def check_mac_request(attrs: KeyAttributes, alg: MacAlg, flag: str, op: str) -> None:
    """PsaMacCompute (sign_message) / PsaMacVerify (verify_message): usage flag, permitted
    algorithm, an HMAC key for HMAC and an AES key for the others."""
    check_usage(attrs, flag, op)
    check_alg(attrs, alg, op)
    check_mac_key(attrs, alg)


# The key-pair kind each raw key agreement works with.
AGREEMENT_KEY_KIND = {RawKeyAgreement.ECDH: KeyKind.ECC_KEY_PAIR,
                      RawKeyAgreement.FFDH: KeyKind.DH_KEY_PAIR}


def check_key_agreement_request(attrs: KeyAttributes, alg: RawKeyAgreement, op: str) -> None:
    """PsaRawKeyAgreement: usage flag derive, permitted algorithm, a key pair of the kind the
    agreement needs."""
    check_usage(attrs, "derive", op)
    check_alg(attrs, KeyAgreementAlg(alg), op)
    want = AGREEMENT_KEY_KIND[alg]
    if attrs.key_type.kind != want:
        raise invalid_argument(f"{alg.name} needs a {want.name} key, not "
                               f"{attrs.key_type.describe()}")


def kem_alg_compatible(kt: KeyType, alg: KemKind) -> bool:
    return (alg == KemKind.ML_KEM and kt.is_ml_kem) or (alg == KemKind.X_WING and kt.is_xwing)


def check_kem_request(attrs: KeyAttributes, alg: KemKind, flag: str, op: str) -> None:
    """PsaEncapsulate (encrypt) / PsaDecapsulate (decrypt), an extension Parsec has no order for:
    an ML-KEM or X-Wing key as the algorithm needs (InvalidArgument) comes first here, as the
    extension has always answered (tests/pqc pin it), then the usage flag and the permitted
    algorithm (NotPermitted)."""
    if not kem_alg_compatible(attrs.key_type, alg):
        raise invalid_argument(f"{alg.name} cannot be used with a {attrs.key_type.describe()} key")
    check_usage(attrs, flag, op)
    check_alg(attrs, KemAlg(alg), op)


# -- deprecated primitives (Parsec's list) ---------------------------------------------------------

DEPRECATED_HASHES = frozenset({Hash.MD2, Hash.MD4, Hash.MD5, Hash.SHA_1})
DEPRECATED_KEY_KINDS = frozenset({KeyKind.DES, KeyKind.ARC4})
DEPRECATED_ECC_FAMILIES = frozenset({EccFamily.SECP_R2, EccFamily.SECT_R2})


def _alg_hashes(alg: Algorithm) -> list[Hash]:
    if isinstance(alg, HashAlg):
        return [alg.hash]
    if isinstance(alg, (SignAlg,)) and isinstance(alg.hash, Hash):
        return [alg.hash]
    if isinstance(alg, KdfAlg):
        return [alg.hash]
    if isinstance(alg, KeyAgreementAlg) and alg.kdf is not None:
        return [alg.kdf.hash]
    h = getattr(alg, "hash", None)
    return [h] if isinstance(h, Hash) else []


def deprecated_reason(attrs: KeyAttributes) -> str | None:
    kt = attrs.key_type
    if kt.kind in DEPRECATED_KEY_KINDS:
        return f"key type {kt.kind.name} is deprecated"
    if kt.ecc_family in DEPRECATED_ECC_FAMILIES:
        return f"curve family {kt.ecc_family.name} is deprecated"
    if kt.ecc_family in (EccFamily.SECT_K1, EccFamily.SECT_R1) and attrs.key_bits == 163:
        return f"{kt.ecc_family.name} 163-bit curves are deprecated"
    if kt.ecc_family == EccFamily.BRAINPOOL_P_R1 and attrs.key_bits == 160:
        return "brainpoolP160r1 is deprecated"
    for h in _alg_hashes(attrs.algorithm):
        if h in DEPRECATED_HASHES:
            return f"hash {h.name} is deprecated"
    return None


def check_not_deprecated(attrs: KeyAttributes, allow_deprecated: bool) -> None:
    reason = deprecated_reason(attrs)
    if reason and not allow_deprecated:
        raise ParsecError(ResponseStatus.DEPRECATED_PRIMITIVE,
                          f"{reason} (set core_settings.allow_deprecated = true to allow it)")


# -- PCR bindings (extension) ----------------------------------------------------------------------

def check_pcr_binding(binding: PcrBinding) -> PcrBinding:
    """InvalidArgument unless the binding names 1 to 24 distinct PCRs in 0..23 and its digest,
    if given, has the bank hash's length. Returns it with the indices in ascending order, the
    order the digest covers them in (a TPM's PCR selection is a bitmap)."""
    pcrs = binding.pcrs
    if not pcrs:
        raise invalid_argument("a PCR binding must name at least one PCR")
    bad = [i for i in pcrs if not 0 <= i < PCR_COUNT]
    if bad:
        raise invalid_argument(f"PCR index {bad[0]} is out of range (0 to {PCR_COUNT - 1})")
    if len(set(pcrs)) != len(pcrs):
        dup = next(i for i in pcrs if pcrs.count(i) > 1)
        raise invalid_argument(f"PCR {dup} is named more than once")
    if binding.digest and len(binding.digest) != binding.bank.digest_size:
        raise invalid_argument(f"a PCR digest of {len(binding.digest)} bytes for the "
                               f"{binding.bank.name} bank, whose digests have "
                               f"{binding.bank.digest_size}")
    return PcrBinding(tuple(sorted(pcrs)), binding.bank, binding.digest)
