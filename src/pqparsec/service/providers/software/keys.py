"""PSA key formats <-> `cryptography` key objects, key generation, and the one declaration of
what the software provider supports.

Stored (wrapped) material is the PSA export format of the key: RSA key pair = DER RSAPrivateKey;
ECC key pair = the private scalar (big-endian; Montgomery: little-endian as in RFC 7748, with the
forced bits set); DH key pair = the private exponent, big-endian, as long as the prime; public
keys = what PsaExportPublicKey returns; symmetric keys = raw bytes.

`KEY_SPECS` below says which key types and sizes exist here and which algorithms each can
perform. Key creation checks sizes against it, the operations check algorithms against it, and
CanDoCrypto answers from it, so the three cannot disagree.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, rsa, x448, x25519
from cryptography.utils import CryptographyDeprecationWarning

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
from pqparsec.protocol.psa.hashes import (
    CRYPTOGRAPHY_HASHES,
    RIPEMD160,
    WEIERSTRASS,
    computable,
)
from pqparsec.protocol.psa.policy import invalid_argument, not_supported

# `cryptography` warns that finite-field DH is on its way out; RFC 7919 groups are part of the
# PSA surface we implement, so the warning is noise in the service log.
warnings.filterwarnings("ignore", message="Diffie-Hellman over finite fields",
                        category=CryptographyDeprecationWarning)

_DER = serialization.Encoding.DER
_RAW = serialization.Encoding.Raw

# ------------------------------------------------------------------------------------------------
# Hashes

# Every PSA hash this provider computes: the one table behind PsaHashCompute / PsaHashCompare,
# the hash of signature algorithms and of HMAC, and CanDoCrypto's answers for all of them (so
# that a hash is offered exactly where it works). MD2 and MD4 are not in OpenSSL 3's default
# provider; RIPEMD-160 is, but `cryptography` names no class for it.
HASHES = computable({**CRYPTOGRAPHY_HASHES, Hash.RIPEMD160: RIPEMD160})
# Hashes usable in RSA PKCS#1 v1.5 / PSS and (deterministic) ECDSA signatures.
SIGN_HASHES = frozenset(HASHES)
# Hashes usable in RSA OAEP (label hash and MGF1 are the same hash, as PSA defines OAEP).
OAEP_HASHES = frozenset({Hash.SHA_1, Hash.SHA_224, Hash.SHA_256, Hash.SHA_384,
                         Hash.SHA_512}) & SIGN_HASHES


def hash_algorithm(h: Hash) -> hashes.HashAlgorithm:
    cls = HASHES.get(h)
    if cls is None:
        raise not_supported(f"hash {h.name} is not supported")
    return cls()


# ------------------------------------------------------------------------------------------------
# Curves, groups, sizes

MONTGOMERY_BITS = {255: 32, 448: 56}
RSA_MIN_BITS, RSA_MAX_BITS = 1024, 4096
RSA_BITS = range(RSA_MIN_BITS, RSA_MAX_BITS + 1)
# PSA_MAX_KEY_BITS: the largest key size the PSA API can express.
MAX_KEY_BITS = 0xFFF8
UNSTRUCTURED_BITS = range(8, MAX_KEY_BITS + 1, 8)


def _rfc7919_prime(bits: int, x: int) -> int:
    """The RFC 7919 ffdhe prime of `bits` bits: p = 2^b - 2^(b-64) + (floor(2^(b-130) e) + X) 2^64 - 1,
    with e computed exactly enough from its series (RFC 7919 section A defines each group so)."""
    scale = bits - 130
    guard = 64  # extra bits so the floor is exact despite the truncated terms
    one = 1 << (scale + guard)
    e_scaled, term, k = 0, one, 0
    while term:
        e_scaled += term
        k += 1
        term //= k
    return (1 << bits) - (1 << (bits - 64)) + ((e_scaled >> guard) + x) * (1 << 64) - 1


# RFC 7919 Appendix A: group size in bits -> the prime (generator 2). The X offsets are those of
# the RFC; tests compare the primes with the ones OpenSSL ships.
DH_GROUPS: dict[int, int] = {bits: _rfc7919_prime(bits, x) for bits, x in (
    (2048, 560316), (3072, 2625351), (4096, 5736041), (6144, 15705020), (8192, 10965728))}
DH_GENERATOR = 2


@cache
def _dh_parameters(bits: int) -> dh.DHParameterNumbers:
    return dh.DHParameterNumbers(DH_GROUPS[bits], DH_GENERATOR)


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
# Key objects

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey | \
    x448.X448PrivateKey | dh.DHPrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey | \
    x448.X448PublicKey | dh.DHPublicKey


def curve_for(kt: KeyType, bits: int) -> ec.EllipticCurve:
    assert kt.ecc_family is not None
    cls = WEIERSTRASS.get((kt.ecc_family, bits))
    if cls is None:
        raise not_supported(f"curve {kt.ecc_family.name} with {bits} bits is not supported")
    return cls()


def scalar_len(bits: int) -> int:
    return (bits + 7) // 8


def clamp_montgomery(scalar: bytearray) -> bytearray:
    """Set the bits RFC 7748 decodeScalar25519/448 force, as PSA's export format requires."""
    if len(scalar) == MONTGOMERY_BITS[255]:
        scalar[0] &= 248
        scalar[31] &= 127
        scalar[31] |= 64
    elif len(scalar) == MONTGOMERY_BITS[448]:
        scalar[0] &= 252
        scalar[55] |= 128
    return scalar


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
            key = ec.generate_private_key(curve_for(kt, bits))
        return export_private(key)
    if kt.kind == KeyKind.DH_KEY_PAIR:
        return export_private(_dh_parameters(bits).parameters().generate_private_key())
    return bytearray(os.urandom(bits // 8))


def export_private(key: PrivateKey) -> bytearray:
    """The PSA export format of a private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return bytearray(key.private_bytes(_DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        n = scalar_len(key.curve.key_size)
        return bytearray(key.private_numbers().private_value.to_bytes(n, "big"))
    if isinstance(key, dh.DHPrivateKey):
        nums = key.private_numbers()
        return bytearray(nums.x.to_bytes(scalar_len(key.key_size), "big"))
    raw = key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return clamp_montgomery(bytearray(raw))


def load_private(material: bytes | bytearray, attrs: KeyAttributes, stored: bool = False) -> PrivateKey:
    """A private key from its PSA export format (key pair types).

    `stored`: the material comes from our key store, where it was validated on the way in and is
    integrity-protected since; the (slow) RSA consistency check is then skipped."""
    kt = attrs.key_type
    try:
        if kt.kind == KeyKind.RSA_KEY_PAIR:
            key = serialization.load_der_private_key(bytes(material), None,
                                                     unsafe_skip_rsa_key_validation=stored)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise invalid_argument("data is not an RSA private key")
            return key
        if kt.kind == KeyKind.ECC_KEY_PAIR:
            if kt.ecc_family == EccFamily.MONTGOMERY:
                if len(material) == MONTGOMERY_BITS[255]:
                    return x25519.X25519PrivateKey.from_private_bytes(bytes(material))
                if len(material) == MONTGOMERY_BITS[448]:
                    return x448.X448PrivateKey.from_private_bytes(bytes(material))
                raise invalid_argument(f"a Montgomery private key has 32 or 56 bytes, not "
                                       f"{len(material)}")
            bits = attrs.key_bits or _ecc_bits_from_len(kt, len(material))
            if len(material) != scalar_len(bits):
                raise invalid_argument(f"private scalar of {len(material)} bytes for a "
                                       f"{bits}-bit curve")
            return ec.derive_private_key(int.from_bytes(material, "big"), curve_for(kt, bits))
        if kt.kind == KeyKind.DH_KEY_PAIR:
            return _load_dh_private(bytes(material), kt)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise invalid_argument(f"key data is not a valid {kt.describe()}: {exc}") from None
    raise invalid_argument(f"{kt.describe()} is not a private key type")


def _dh_group_from_len(kt: KeyType, n: int) -> int:
    for bits in DH_GROUPS:
        if scalar_len(bits) == n:
            return bits
    raise invalid_argument(f"no {kt.describe()} group has {n}-byte values "
                           f"({', '.join(str(b // 8) for b in DH_GROUPS)} bytes are)")


def _load_dh_private(data: bytes, kt: KeyType) -> dh.DHPrivateKey:
    bits = _dh_group_from_len(kt, len(data))
    p = DH_GROUPS[bits]
    x = int.from_bytes(data, "big")
    if not 1 < x < p - 1:
        raise invalid_argument("the DH private exponent is out of range")
    # Through PKCS#8, so that OpenSSL computes the public value (in constant time) on load.
    key = serialization.load_der_private_key(_dh_pkcs8(p, x), None)
    assert isinstance(key, dh.DHPrivateKey)
    return key


def _dh_pkcs8(p: int, x: int) -> bytes:
    """PrivateKeyInfo for PKCS#3 DH (OID 1.2.840.113549.1.3.1): version, algorithm, x."""
    params = _der(0x30, _der_int(p) + _der_int(DH_GENERATOR))
    alg_id = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010301")) + params)
    return _der(0x30, _der_int(0) + alg_id + _der(0x04, _der_int(x)))


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _der_int(n: int) -> bytes:
    return _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _ecc_bits_from_len(kt: KeyType, n: int) -> int:
    for (fam, bits) in WEIERSTRASS:
        if fam == kt.ecc_family and scalar_len(bits) == n:
            return bits
    if (KeyKind.ECC_KEY_PAIR, kt.ecc_family) not in KEY_SPECS:
        raise not_supported(f"key type {kt.describe()} is not supported by the software provider")
    raise invalid_argument(f"no {kt.ecc_family.name if kt.ecc_family else ''} curve has "
                           f"{n}-byte scalars")


def load_public(material: bytes | bytearray, attrs: KeyAttributes) -> PublicKey:
    """A public key from its PSA public format (public key types, and peer keys)."""
    kt = attrs.key_type
    data = bytes(material)
    try:
        if kt.kind == KeyKind.RSA_PUBLIC_KEY:
            key = serialization.load_der_public_key(_rsa_public_spki(data))
            if not isinstance(key, rsa.RSAPublicKey):
                raise invalid_argument("data is not an RSA public key")
            return key
        if kt.kind == KeyKind.ECC_PUBLIC_KEY:
            if kt.ecc_family == EccFamily.MONTGOMERY:
                if len(data) == MONTGOMERY_BITS[255]:
                    return x25519.X25519PublicKey.from_public_bytes(data)
                if len(data) == MONTGOMERY_BITS[448]:
                    return x448.X448PublicKey.from_public_bytes(data)
                raise invalid_argument(f"a Montgomery public key has 32 or 56 bytes, not {len(data)}")
            bits = attrs.key_bits or _ecc_bits_from_point_len(kt, len(data))
            if not data.startswith(b"\x04") or len(data) != 1 + 2 * scalar_len(bits):
                raise invalid_argument(f"an ECC public key is an uncompressed point (0x04 || x || y) "
                                       f"of {1 + 2 * scalar_len(bits)} bytes")
            return ec.EllipticCurvePublicKey.from_encoded_point(curve_for(kt, bits), data)
        if kt.kind == KeyKind.DH_PUBLIC_KEY:
            bits = _dh_group_from_len(kt, len(data))
            y = int.from_bytes(data, "big")
            if not 1 < y < DH_GROUPS[bits] - 1:
                raise invalid_argument("the DH public value is out of range")
            return dh.DHPublicNumbers(y, _dh_parameters(bits)).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise invalid_argument(f"key data is not a valid {kt.describe()}: {exc}") from None
    raise invalid_argument(f"{kt.describe()} is not a public key type")


def _ecc_bits_from_point_len(kt: KeyType, n: int) -> int:
    for (fam, bits) in WEIERSTRASS:
        if fam == kt.ecc_family and 1 + 2 * scalar_len(bits) == n:
            return bits
    if (KeyKind.ECC_PUBLIC_KEY, kt.ecc_family) not in KEY_SPECS:
        raise not_supported(f"key type {kt.describe()} is not supported by the software provider")
    raise invalid_argument(f"no curve of that family has {n}-byte uncompressed points")


def _rsa_public_spki(pkcs1: bytes) -> bytes:
    """Wrap a DER RSAPublicKey in a SubjectPublicKeyInfo so `cryptography` can load it."""
    alg_id = bytes.fromhex("300d06092a864886f70d0101010500")
    return _der(0x30, alg_id + _der(0x03, b"\x00" + pkcs1))


def export_public(key: PrivateKey | PublicKey) -> bytes:
    pub: Any = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, rsa.RSAPublicKey):
        return pub.public_bytes(_DER, serialization.PublicFormat.PKCS1)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return pub.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    if isinstance(pub, dh.DHPublicKey):
        return int(pub.public_numbers().y).to_bytes(scalar_len(pub.key_size), "big")
    return bytes(pub.public_bytes(_RAW, serialization.PublicFormat.Raw))


def key_size_bits(key: PrivateKey | PublicKey) -> int:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey, dh.DHPrivateKey, dh.DHPublicKey)):
        return key.key_size
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return key.curve.key_size
    if isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey)):
        return 255
    return 448


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
