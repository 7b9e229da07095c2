"""PSA <-> `cryptography`: the one module of conversions that the client library and every
provider share.

- hashes: PSA `Hash` <-> `cryptography` hash classes, digests;
- curves: (PSA ECC family, key bits) <-> `cryptography` Weierstrass curves, scalar sizes;
- RSA-PSS: the salt length PSA_ALG_RSA_PSS uses;
- ECDSA signatures: PSA's r || s <-> the DER `ECDSA-Sig-Value` `cryptography` and X.509 use;
- keys: the PSA export formats <-> `cryptography` key objects.

The PSA export formats: an RSA key pair is a DER RSAPrivateKey, an RSA public key a DER
RSAPublicKey (PKCS#1); a Weierstrass ECC key pair is the big-endian private scalar, its public
key the uncompressed point 0x04 || x || y; a Montgomery key pair is the RFC 7748 scalar
(little-endian, with the bits decodeScalar forces set), its public key the u-coordinate; a
finite-field DH key pair is the private exponent, big-endian, as long as the prime, its public key
the public value, as long. Twisted Edwards keys (Ed25519, Ed448) are their RFC 8032 raw bytes, and
ML-DSA / ML-KEM key pairs their seed (xi; d || z), public keys raw (pqparsec extension).

Which of these a provider offers is the provider's own declaration; this module only converts.
Errors are `ParsecError`s (InvalidArgument for data that is not in the format, NotSupported for
what `cryptography` has no class for); the client library turns them into `KeyTypeError`.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import (
    dh,
    ec,
    ed448,
    ed25519,
    mldsa,
    mlkem,
    rsa,
    x448,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.utils import CryptographyDeprecationWarning

from pqparsec.protocol.psa import EccFamily, Hash, KeyAttributes, KeyKind, KeyType
from pqparsec.protocol.psa.policy import invalid_argument, not_supported

# `cryptography` warns that finite-field DH is on its way out; RFC 7919 groups are part of the
# PSA surface we implement, so the warning is noise in the service log.
warnings.filterwarnings("ignore", message="Diffie-Hellman over finite fields",
                        category=CryptographyDeprecationWarning)

# `cryptography.hazmat.primitives.serialization` is imported inside the functions that use it:
# the package loads its SSH key code with it, about 1.8 MiB of RSS in every service process, and
# the service's common path (elliptic-curve keys, symmetric keys) never needs it.

# -- hashes ----------------------------------------------------------------------------------------

CRYPTOGRAPHY_HASHES: dict[Hash, type[hashes.HashAlgorithm]] = {
    Hash.MD5: hashes.MD5,
    Hash.SHA_1: hashes.SHA1,
    Hash.SHA_224: hashes.SHA224,
    Hash.SHA_256: hashes.SHA256,
    Hash.SHA_384: hashes.SHA384,
    Hash.SHA_512: hashes.SHA512,
    Hash.SHA_512_224: hashes.SHA512_224,
    Hash.SHA_512_256: hashes.SHA512_256,
    Hash.SHA3_224: hashes.SHA3_224,
    Hash.SHA3_256: hashes.SHA3_256,
    Hash.SHA3_384: hashes.SHA3_384,
    Hash.SHA3_512: hashes.SHA3_512,
}


class RIPEMD160(hashes.HashAlgorithm):
    """RIPEMD-160. `cryptography` has no class for it but looks a hash up in OpenSSL by `name`, so
    this one works (digests, HMAC, signatures) wherever OpenSSL has RIPEMD-160 (its default
    provider does since 3.0.7). Kept out of CRYPTOGRAPHY_HASHES, whose classes `cryptography`
    always has: a table that adds it filters itself through `computable`."""

    name = "ripemd160"
    digest_size = 20
    block_size = 64


def computable(table: dict[Hash, type[hashes.HashAlgorithm]]) -> dict[Hash, type[hashes.HashAlgorithm]]:
    """The entries of `table` that this OpenSSL computes."""
    out: dict[Hash, type[hashes.HashAlgorithm]] = {}
    for h, cls in table.items():
        try:
            hashes.Hash(cls())
        except UnsupportedAlgorithm:
            continue
        out[h] = cls
    return out


# Every PSA hash this OpenSSL computes. MD2 and MD4 are not in OpenSSL 3's default provider;
# RIPEMD-160 is, but `cryptography` names no class for it.
HASHES = computable({**CRYPTOGRAPHY_HASHES, Hash.RIPEMD160: RIPEMD160})

_HASH_BY_NAME: dict[str, Hash] = {cls().name: h for h, cls in CRYPTOGRAPHY_HASHES.items()}


def hash_algorithm(h: Hash, table: dict[Hash, type[hashes.HashAlgorithm]] = HASHES
                   ) -> hashes.HashAlgorithm:
    """The `cryptography` hash of `h`; NotSupported if `table` does not have it."""
    cls = table.get(h)
    if cls is None:
        raise not_supported(f"hash {h.name} is not supported")
    return cls()


def digest(h: Hash, data: bytes, table: dict[Hash, type[hashes.HashAlgorithm]] = HASHES) -> bytes:
    d = hashes.Hash(hash_algorithm(h, table))
    d.update(data)
    return d.finalize()


def psa_hash(alg: hashes.HashAlgorithm | Prehashed) -> Hash:
    """The PSA hash of a `cryptography` hash (or of the hash behind a `Prehashed`)."""
    # Prehashed has no public accessor for the hash it wraps.
    inner: hashes.HashAlgorithm = alg._algorithm if isinstance(alg, Prehashed) else alg
    h = _HASH_BY_NAME.get(inner.name)
    if h is None:
        raise not_supported(f"hash {inner.name} has no PSA equivalent")
    return h


# -- curves ----------------------------------------------------------------------------------------

WEIERSTRASS: dict[tuple[EccFamily, int], type[ec.EllipticCurve]] = {
    (EccFamily.SECP_R1, 192): ec.SECP192R1,
    (EccFamily.SECP_R1, 224): ec.SECP224R1,
    (EccFamily.SECP_R1, 256): ec.SECP256R1,
    (EccFamily.SECP_R1, 384): ec.SECP384R1,
    (EccFamily.SECP_R1, 521): ec.SECP521R1,
    (EccFamily.SECP_K1, 256): ec.SECP256K1,
    (EccFamily.BRAINPOOL_P_R1, 256): ec.BrainpoolP256R1,
    (EccFamily.BRAINPOOL_P_R1, 384): ec.BrainpoolP384R1,
    (EccFamily.BRAINPOOL_P_R1, 512): ec.BrainpoolP512R1,
}
WEIERSTRASS_FAMILIES = frozenset(fam for fam, _ in WEIERSTRASS)
_CURVE_BY_NAME: dict[str, tuple[EccFamily, int]] = {cls().name: key
                                                   for key, cls in WEIERSTRASS.items()}
# key bits -> key size in bytes
MONTGOMERY_BITS = {255: 32, 448: 56}
EDWARDS_BITS = {255: 32, 448: 57}


def scalar_len(bits: int) -> int:
    """Bytes of a scalar (and of each coordinate, and of r and s) for a curve of `bits` bits."""
    return (bits + 7) // 8


def curve_for(family: EccFamily | None, bits: int) -> ec.EllipticCurve:
    cls = WEIERSTRASS.get((family, bits)) if family is not None else None
    if cls is None:
        fam = family.name if family is not None else "?"
        raise not_supported(f"curve {fam} with {bits} bits is not supported")
    return cls()


def curve_params(curve: ec.EllipticCurve) -> tuple[EccFamily, int]:
    """(PSA family, key bits) of a `cryptography` curve."""
    params = _CURVE_BY_NAME.get(curve.name)
    if params is None:
        raise not_supported(f"curve {curve.name} has no PSA equivalent")
    return params


# -- RSA-PSS and ECDSA signature forms -------------------------------------------------------------

def pss_salt_length(key_bits: int, h: Hash | hashes.HashAlgorithm) -> int:
    """PSA_ALG_RSA_PSS (and what a TPM makes): a salt as long as the hash, or the longest the key
    leaves room for."""
    room = (key_bits - 1 + 7) // 8 - h.digest_size - 2
    if room < 0:
        raise invalid_argument(f"a {key_bits}-bit RSA key is too small for PSS with {h.name}")
    return min(h.digest_size, room)


def ecdsa_raw_to_der(raw: bytes) -> bytes:
    """PSA's r || s (two equal halves) to the DER `ECDSA-Sig-Value`. ValueError if odd."""
    if not raw or len(raw) % 2:
        raise ValueError(f"a raw ECDSA signature has two equal halves, not {len(raw)} bytes")
    n = len(raw) // 2
    return encode_dss_signature(int.from_bytes(raw[:n], "big"), int.from_bytes(raw[n:], "big"))


def ecdsa_rs_to_der(r: bytes, s: bytes) -> bytes:
    """r and s as separate big-endian integers (a TPM's TPMS_SIGNATURE_ECDSA) to DER."""
    return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))


def ecdsa_der_to_raw(der: bytes, bits: int) -> bytes:
    """The DER `ECDSA-Sig-Value` to PSA's r || s for a curve of `bits` bits."""
    r, s = decode_dss_signature(der)
    n = scalar_len(bits)
    if r.bit_length() > 8 * n or s.bit_length() > 8 * n:
        raise ValueError("signature values are larger than the curve")
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


# -- finite-field DH groups (RFC 7919) -------------------------------------------------------------

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
def dh_parameters(bits: int) -> dh.DHParameterNumbers:
    return dh.DHParameterNumbers(DH_GROUPS[bits], DH_GENERATOR)


# -- keys: the classic types (RSA, Weierstrass and Montgomery ECC, FFDH) ---------------------------

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey | \
    x448.X448PrivateKey | dh.DHPrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey | \
    x448.X448PublicKey | dh.DHPublicKey


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


def export_private(key: PrivateKey) -> bytearray:
    """The PSA export format of a private key."""
    from cryptography.hazmat.primitives import serialization
    if isinstance(key, rsa.RSAPrivateKey):
        return bytearray(key.private_bytes(serialization.Encoding.DER,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        n = scalar_len(key.curve.key_size)
        return bytearray(key.private_numbers().private_value.to_bytes(n, "big"))
    if isinstance(key, (x25519.X25519PrivateKey, x448.X448PrivateKey)):
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        return clamp_montgomery(bytearray(raw))
    nums = key.private_numbers()
    return bytearray(nums.x.to_bytes(scalar_len(key.key_size), "big"))


def load_private(material: bytes | bytearray, attrs: KeyAttributes, stored: bool = False) -> PrivateKey:
    """A private key from its PSA export format (key pair types).

    `stored`: the material comes from a key store, where it was validated on the way in and is
    integrity-protected since; the (slow) RSA consistency check is then skipped."""
    kt = attrs.key_type
    try:
        if kt.kind == KeyKind.RSA_KEY_PAIR:
            from cryptography.hazmat.primitives import serialization
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
            bits = attrs.key_bits or _ecc_bits(kt, len(material), scalar_len)
            if len(material) != scalar_len(bits):
                raise invalid_argument(f"private scalar of {len(material)} bytes for a "
                                       f"{bits}-bit curve")
            return ec.derive_private_key(int.from_bytes(material, "big"),
                                         curve_for(kt.ecc_family, bits))
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
    from cryptography.hazmat.primitives import serialization
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


def _ecc_bits(kt: KeyType, n: int, size: Any) -> int:
    """The key bits of the curve of `kt`'s family whose `size(bits)` is n bytes."""
    for (fam, bits) in WEIERSTRASS:
        if fam == kt.ecc_family and size(bits) == n:
            return bits
    if kt.ecc_family not in WEIERSTRASS_FAMILIES:
        raise not_supported(f"key type {kt.describe()} is not supported")
    raise invalid_argument(f"no {kt.ecc_family.name if kt.ecc_family else ''} curve has "
                           f"{n}-byte {'scalars' if size is scalar_len else 'uncompressed points'}")


def _point_len(bits: int) -> int:
    return 1 + 2 * scalar_len(bits)


def load_public(material: bytes | bytearray, attrs: KeyAttributes) -> PublicKey:
    """A public key from its PSA public format (public key types, and peer keys)."""
    kt = attrs.key_type
    data = bytes(material)
    try:
        if kt.kind == KeyKind.RSA_PUBLIC_KEY:
            from cryptography.hazmat.primitives import serialization
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
            bits = attrs.key_bits or _ecc_bits(kt, len(data), _point_len)
            if not data.startswith(b"\x04") or len(data) != _point_len(bits):
                raise invalid_argument(f"an ECC public key is an uncompressed point (0x04 || x || y) "
                                       f"of {_point_len(bits)} bytes")
            return ec.EllipticCurvePublicKey.from_encoded_point(curve_for(kt.ecc_family, bits), data)
        if kt.kind == KeyKind.DH_PUBLIC_KEY:
            bits = _dh_group_from_len(kt, len(data))
            y = int.from_bytes(data, "big")
            if not 1 < y < DH_GROUPS[bits] - 1:
                raise invalid_argument("the DH public value is out of range")
            return dh.DHPublicNumbers(y, dh_parameters(bits)).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise invalid_argument(f"key data is not a valid {kt.describe()}: {exc}") from None
    raise invalid_argument(f"{kt.describe()} is not a public key type")


def _rsa_public_spki(pkcs1: bytes) -> bytes:
    """Wrap a DER RSAPublicKey in a SubjectPublicKeyInfo so `cryptography` can load it."""
    alg_id = bytes.fromhex("300d06092a864886f70d0101010500")
    return _der(0x30, alg_id + _der(0x03, b"\x00" + pkcs1))


_RAW_PUBLIC = (x25519.X25519PublicKey, x448.X448PublicKey, ed25519.Ed25519PublicKey,
               ed448.Ed448PublicKey)


def export_public(key: Any) -> bytes:
    """The PSA public format of a key's public part (a private key's, or a public key's), for
    every key type of this module."""
    from cryptography.hazmat.primitives import serialization
    pub: Any = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, rsa.RSAPublicKey):
        return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return pub.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    if isinstance(pub, _RAW_PUBLIC) or pq_key_params(pub) is not None:
        return bytes(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    # Last: naming `dh` makes `cryptography` warn that FFDH is deprecated.
    if isinstance(pub, dh.DHPublicKey):
        return int(pub.public_numbers().y).to_bytes(scalar_len(pub.key_size), "big")
    raise not_supported(f"{type(pub).__name__} has no PSA public format")


def key_size_bits(key: PrivateKey | PublicKey) -> int:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return key.curve.key_size
    if isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey)):
        return 255
    if isinstance(key, (x448.X448PrivateKey, x448.X448PublicKey)):
        return 448
    return key.key_size  # RSA, DH


# -- keys: Edwards, ML-DSA and ML-KEM (pqparsec extension), as `cryptography` holds them -----------

# PSA's key_bits for each class; the PSA key-pair format is the class's raw form (ML-DSA: the
# 32-byte seed xi; ML-KEM: the 64-byte seed d || z). Public keys are raw too. (ML-KEM-512 and
# SLH-DSA have no `cryptography` class.)
PQ_PUBLIC_CLASSES: dict[type, tuple[KeyKind, int]] = {
    mldsa.MLDSA44PublicKey: (KeyKind.ML_DSA_PUBLIC_KEY, 128),
    mldsa.MLDSA65PublicKey: (KeyKind.ML_DSA_PUBLIC_KEY, 192),
    mldsa.MLDSA87PublicKey: (KeyKind.ML_DSA_PUBLIC_KEY, 256),
    mlkem.MLKEM768PublicKey: (KeyKind.ML_KEM_PUBLIC_KEY, 768),
    mlkem.MLKEM1024PublicKey: (KeyKind.ML_KEM_PUBLIC_KEY, 1024),
}
PQ_PRIVATE_CLASSES: dict[type, tuple[KeyKind, int]] = {
    mldsa.MLDSA44PrivateKey: (KeyKind.ML_DSA_KEY_PAIR, 128),
    mldsa.MLDSA65PrivateKey: (KeyKind.ML_DSA_KEY_PAIR, 192),
    mldsa.MLDSA87PrivateKey: (KeyKind.ML_DSA_KEY_PAIR, 256),
    mlkem.MLKEM768PrivateKey: (KeyKind.ML_KEM_KEY_PAIR, 768),
    mlkem.MLKEM1024PrivateKey: (KeyKind.ML_KEM_KEY_PAIR, 1024),
}

AnyPublicKey = PublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | \
    mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey | \
    mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey
AnyPrivateKey = PrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | \
    mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey | \
    mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey


def pq_key_params(key: object) -> tuple[KeyType, int] | None:
    """(PSA key type, key_bits) of an ML-DSA or ML-KEM `cryptography` key, else None."""
    for table in (PQ_PRIVATE_CLASSES, PQ_PUBLIC_CLASSES):
        for cls, (kind, bits) in table.items():
            if isinstance(key, cls):
                return KeyType(kind), bits
    return None


def key_params(key: object) -> tuple[KeyType, int]:
    """(PSA key type, key_bits) of a `cryptography` key: a key pair type for a private key, a
    public key type for a public key."""
    pq = pq_key_params(key)
    if pq is not None:
        return pq
    private = isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey,
                               x25519.X25519PrivateKey, x448.X448PrivateKey,
                               ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        kt = KeyType.rsa_key_pair() if private else KeyType.rsa_public_key()
        return kt, key.key_size
    family: EccFamily
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        family, bits = curve_params(key.curve)
    elif isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey,
                          x448.X448PrivateKey, x448.X448PublicKey)):
        family = EccFamily.MONTGOMERY
        bits = 255 if isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey)) else 448
    elif isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey,
                          ed448.Ed448PrivateKey, ed448.Ed448PublicKey)):
        family = EccFamily.TWISTED_EDWARDS
        bits = 255 if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)) \
            else 448
    else:
        raise not_supported(f"{type(key).__name__} has no PSA key type")
    return (KeyType.ecc_key_pair(family) if private else KeyType.ecc_public_key(family)), bits


def load_extension_public(key_type: KeyType, bits: int, data: bytes) -> AnyPublicKey:
    """An Edwards, ML-DSA or ML-KEM public key (`key_type` a key pair or public key type) from
    its raw PSA form."""
    try:
        if key_type.is_ecc and key_type.ecc_family == EccFamily.TWISTED_EDWARDS:
            if len(data) == EDWARDS_BITS[255]:
                return ed25519.Ed25519PublicKey.from_public_bytes(data)
            return ed448.Ed448PublicKey.from_public_bytes(data)
        wanted = (key_type.public_type().kind, bits)
        for cls, kind_bits in PQ_PUBLIC_CLASSES.items():
            if kind_bits == wanted:
                key: AnyPublicKey = cls.from_public_bytes(data)  # type: ignore[attr-defined]
                return key
    except ValueError as exc:
        raise invalid_argument(f"key data is not a valid {key_type.describe()}: {exc}") from None
    raise not_supported(f"{key_type.describe()} public keys of {bits} bits cannot be loaded by "
                        "the cryptography package")


def load_extension_private(key_type: KeyType, bits: int, data: bytes) -> AnyPrivateKey:
    """An Edwards, ML-DSA or ML-KEM key pair from its raw (seed) PSA form."""
    try:
        if key_type.kind == KeyKind.ECC_KEY_PAIR and \
                key_type.ecc_family == EccFamily.TWISTED_EDWARDS:
            if len(data) == EDWARDS_BITS[255]:
                return ed25519.Ed25519PrivateKey.from_private_bytes(data)
            return ed448.Ed448PrivateKey.from_private_bytes(data)
        for cls, kind_bits in PQ_PRIVATE_CLASSES.items():
            if kind_bits == (key_type.kind, bits):
                key: AnyPrivateKey = cls.from_seed_bytes(data)  # type: ignore[attr-defined]
                return key
    except ValueError as exc:
        raise invalid_argument(f"key data is not a valid {key_type.describe()}: {exc}") from None
    raise not_supported(f"{key_type.describe()} keys of {bits} bits cannot be loaded by the "
                        "cryptography package")


def export_extension_private(key: AnyPrivateKey) -> bytes:
    """The PSA key-pair format of an Edwards key (raw) or an ML-DSA / ML-KEM key (the seed)."""
    from cryptography.hazmat.primitives import serialization
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    if pq_key_params(key) is not None:
        return bytes(key.private_bytes_raw())  # type: ignore[union-attr]
    raise not_supported(f"{type(key).__name__} is not an Edwards, ML-DSA or ML-KEM key")
