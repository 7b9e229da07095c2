"""PSA key policy rules shared by every provider: usage flags, permitted algorithms (with the
'any hash' wildcard), key type / algorithm compatibility and deprecated primitives."""

from __future__ import annotations

from pqparsec.protocol.psa import (
    PCR_COUNT,
    SIGN_KINDS_WITH_HASH,
    SIGN_TWINS,
    AeadAlg,
    Algorithm,
    AnyHash,
    EccFamily,
    Hash,
    HashAlg,
    KdfAlg,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyType,
    MacAlg,
    MacKind,
    PcrBinding,
    SignAlg,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus


def not_permitted(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_NOT_PERMITTED, msg)


def invalid_argument(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_INVALID_ARGUMENT, msg)


def not_supported(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED, msg)


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


def check_sign_request(attrs: KeyAttributes, alg: SignAlg, flag: str, op: str) -> None:
    """The checks of PsaSignHash/PsaVerifyHash/...Message, in Parsec's order."""
    check_usage(attrs, flag, op)
    if not sign_alg_compatible(attrs.key_type, alg):
        raise invalid_argument(f"{alg.kind.name} cannot be used with a {attrs.key_type.describe()} key")
    if alg.kind in SIGN_KINDS_WITH_HASH and not isinstance(alg.hash, Hash):
        raise invalid_argument("a signature request must name a specific hash, not the wildcard")
    check_alg(attrs, alg, op, verify=flag.startswith("verify"))


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
