"""Key generation, import, and the one declaration of what the software provider supports.

Stored (wrapped) material is the PSA export format of the key (protocol/psa/crypto.py converts
between those formats and `cryptography` key objects); symmetric keys are their raw bytes.

`KEY_SPECS` below says which key types and sizes exist here and which algorithms each can
perform. Key creation checks sizes against it, the operations check algorithms against it, and
CanDoCrypto answers from it, so the three cannot disagree.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa, x448, x25519

from pqparsec.protocol.psa import (
    Algorithm,
    AnyHash,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyType,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.psa.crypto import (
    DH_GROUPS,
    HASHES,
    MONTGOMERY_BITS,
    WEIERSTRASS,
    PrivateKey,
    curve_for,
    dh_parameters,
    export_private,
    export_public,
    key_size_bits,
    load_private,
    load_public,
)
from pqparsec.protocol.psa.policy import invalid_argument, not_supported

# ------------------------------------------------------------------------------------------------
# Hashes: every PSA hash this OpenSSL computes (crypto.HASHES) is the one table behind
# PsaHashCompute / PsaHashCompare, the hash of signature algorithms and of HMAC, and CanDoCrypto's
# answers for all of them (so that a hash is offered exactly where it works).

# Hashes usable in RSA PKCS#1 v1.5 / PSS and (deterministic) ECDSA signatures.
SIGN_HASHES = frozenset(HASHES)
# Hashes usable in RSA OAEP (label hash and MGF1 are the same hash, as PSA defines OAEP).
OAEP_HASHES = frozenset({Hash.SHA_1, Hash.SHA_224, Hash.SHA_256, Hash.SHA_384,
                         Hash.SHA_512}) & SIGN_HASHES

# ------------------------------------------------------------------------------------------------
# Sizes

RSA_MIN_BITS, RSA_MAX_BITS = 1024, 4096
RSA_BITS = range(RSA_MIN_BITS, RSA_MAX_BITS + 1)
# PSA_MAX_KEY_BITS: the largest key size the PSA API can express.
MAX_KEY_BITS = 0xFFF8
UNSTRUCTURED_BITS = range(8, MAX_KEY_BITS + 1, 8)

# ------------------------------------------------------------------------------------------------
# The declaration: key types, sizes, algorithms


def _rsa_alg(alg: Algorithm) -> bool:
    if isinstance(alg, SignAlg) and alg.is_rsa:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
            return alg.hash is None
        return isinstance(alg.hash, AnyHash) or alg.hash in SIGN_HASHES
    if isinstance(alg, EncryptAlg):
        if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
            return alg.hash is None
        return alg.hash in OAEP_HASHES
    return False


def _ecdsa_alg(alg: Algorithm) -> bool:
    if isinstance(alg, SignAlg) and alg.is_ecc:
        if alg.kind == SignKind.ECDSA_ANY:
            return alg.hash is None
        return isinstance(alg.hash, AnyHash) or alg.hash in SIGN_HASHES
    return False


def _ecc_pair_alg(alg: Algorithm) -> bool:
    return _ecdsa_alg(alg) or alg == KeyAgreementAlg(RawKeyAgreement.ECDH)


def _montgomery_alg(alg: Algorithm) -> bool:
    return alg == KeyAgreementAlg(RawKeyAgreement.ECDH)


def _ffdh_alg(alg: Algorithm) -> bool:
    return alg == KeyAgreementAlg(RawKeyAgreement.FFDH)


def _no_alg(alg: Algorithm) -> bool:
    return False


@dataclass(frozen=True)
class KeySpec:
    """What the provider does with keys of one type."""

    sizes: Collection[int]  # the key sizes in bits it can hold
    generate: bool  # can it generate them (public keys: no, they are imported)
    # Asymmetric algorithms a key of this type can perform here. Symmetric keys answer False:
    # their algorithms are checked by the symmetric operations' own validation.
    algorithms: Callable[[Algorithm], bool]
    structured: bool = True  # a size outside `sizes` is NotSupported (else InvalidArgument)


def _ecc_specs() -> dict[tuple[KeyKind, EccFamily | DhFamily | None], KeySpec]:
    out: dict[tuple[KeyKind, EccFamily | DhFamily | None], KeySpec] = {}
    families = sorted({fam for fam, _ in WEIERSTRASS})
    for fam in families:
        sizes = frozenset(b for f, b in WEIERSTRASS if f == fam)
        out[(KeyKind.ECC_KEY_PAIR, fam)] = KeySpec(sizes, True, _ecc_pair_alg)
        out[(KeyKind.ECC_PUBLIC_KEY, fam)] = KeySpec(sizes, False, _ecdsa_alg)
    out[(KeyKind.ECC_KEY_PAIR, EccFamily.MONTGOMERY)] = KeySpec(frozenset(MONTGOMERY_BITS), True,
                                                                _montgomery_alg)
    # A Montgomery public key is only ever a peer key: it can be imported and exported.
    out[(KeyKind.ECC_PUBLIC_KEY, EccFamily.MONTGOMERY)] = KeySpec(frozenset(MONTGOMERY_BITS), False,
                                                                  _no_alg)
    return out


KEY_SPECS: dict[tuple[KeyKind, EccFamily | DhFamily | None], KeySpec] = {
    (KeyKind.RSA_KEY_PAIR, None): KeySpec(RSA_BITS, True, _rsa_alg),
    (KeyKind.RSA_PUBLIC_KEY, None): KeySpec(RSA_BITS, False, _rsa_alg),
    **_ecc_specs(),
    (KeyKind.DH_KEY_PAIR, DhFamily.RFC7919): KeySpec(frozenset(DH_GROUPS), True, _ffdh_alg),
    (KeyKind.DH_PUBLIC_KEY, DhFamily.RFC7919): KeySpec(frozenset(DH_GROUPS), False, _no_alg),
    (KeyKind.AES, None): KeySpec(frozenset({128, 192, 256}), True, _no_alg, structured=False),
    (KeyKind.CHACHA20, None): KeySpec(frozenset({256}), True, _no_alg, structured=False),
    (KeyKind.HMAC, None): KeySpec(UNSTRUCTURED_BITS, True, _no_alg, structured=False),
    (KeyKind.RAW_DATA, None): KeySpec(UNSTRUCTURED_BITS, True, _no_alg, structured=False),
    (KeyKind.DERIVE, None): KeySpec(UNSTRUCTURED_BITS, True, _no_alg, structured=False),
}


def spec_of(kt: KeyType) -> KeySpec | None:
    family: EccFamily | DhFamily | None = kt.ecc_family if kt.is_ecc else \
        kt.dh_family if kt.is_dh else None
    return KEY_SPECS.get((kt.kind, family))


def require_spec(kt: KeyType) -> KeySpec:
    spec = spec_of(kt)
    if spec is None:
        raise not_supported(f"key type {kt.describe()} is not supported by the software provider")
    return spec


def check_bits(attrs: KeyAttributes) -> None:
    """Reject key types and sizes this provider cannot hold (key_bits must be known here)."""
    kt, bits = attrs.key_type, attrs.key_bits
    spec = require_spec(kt)
    if bits in spec.sizes:
        return
    if spec.structured or bits > MAX_KEY_BITS:
        raise not_supported(f"{kt.describe()} keys of {bits} bits are not supported")
    raise invalid_argument(f"{kt.describe()} keys cannot have {bits} bits")


def algorithm_supported(kt: KeyType, alg: Algorithm) -> bool:
    """Can a key of this type perform this asymmetric algorithm here?"""
    spec = spec_of(kt)
    return spec is not None and spec.algorithms(alg)


# ------------------------------------------------------------------------------------------------
# Generation and import

def generate(attrs: KeyAttributes) -> bytearray:
    """New key material in the stored format."""
    kt, bits = attrs.key_type, attrs.key_bits
    if kt.is_public_key:
        raise invalid_argument("a public key cannot be generated; generate the key pair")
    if bits == 0:
        raise invalid_argument("key_bits must be set to generate a key")
    check_bits(attrs)
    if kt.kind == KeyKind.RSA_KEY_PAIR:
        key: PrivateKey = rsa.generate_private_key(65537, bits)
        return export_private(key)
    if kt.kind == KeyKind.ECC_KEY_PAIR:
        if kt.ecc_family == EccFamily.MONTGOMERY:
            key = x25519.X25519PrivateKey.generate() if bits == 255 else x448.X448PrivateKey.generate()
        else:
            key = ec.generate_private_key(curve_for(kt.ecc_family, bits))
        return export_private(key)
    if kt.kind == KeyKind.DH_KEY_PAIR:
        return export_private(dh_parameters(bits).parameters().generate_private_key())
    return bytearray(os.urandom(bits // 8))


def import_material(attrs: KeyAttributes, data: bytes) -> tuple[bytearray, int]:
    """Validate imported data; return the material to store and the key's size in bits."""
    kt = attrs.key_type
    require_spec(kt)
    if kt.is_key_pair:
        key = load_private(data, attrs)
        bits = key_size_bits(key)
        material = export_private(key)
    elif kt.is_public_key:
        pub = load_public(data, attrs)
        bits = key_size_bits(pub)
        material = bytearray(export_public(pub))
    else:
        if not data:
            raise invalid_argument("empty key data")
        bits = len(data) * 8
        material = bytearray(data)
    if attrs.key_bits and attrs.key_bits != bits:
        raise invalid_argument(f"key_bits is {attrs.key_bits} but the key data has {bits} bits")
    check_bits(KeyAttributes(kt, bits, attrs.policy))
    return material, bits

