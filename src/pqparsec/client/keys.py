"""Key formats between the Parsec wire (PSA export formats) and `cryptography` key objects.

PSA formats: an RSA public key is a DER RSAPublicKey (PKCS#1), an RSA key pair a DER
RSAPrivateKey; a Weierstrass ECC public key is the uncompressed point 0x04||X||Y and a key pair
the big-endian private scalar; Montgomery keys (X25519/X448) are their RFC 7748 raw bytes. An
ECDSA signature on the wire is r||s, each as long as the curve's scalar.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (
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

from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.psa import EccFamily, Hash, KeyKind, KeyType
from pqparsec.protocol.psa.hashes import CRYPTOGRAPHY_HASHES, WEIERSTRASS

# Post-quantum keys `cryptography` can hold (FIPS 203 / 204; SPKI and PKCS#8 per RFC 9881 /
# RFC 9935): PSA's key_bits for each class, and the PSA key-pair format is the class's raw form
# (ML-DSA: the 32-byte seed xi; ML-KEM: the 64-byte seed d || z). Public keys are raw too.
_PQ_PUBLIC_CLASSES: dict[type, tuple[KeyKind, int]] = {
    mldsa.MLDSA44PublicKey: (KeyKind.ML_DSA_PUBLIC_KEY, 128),
    mldsa.MLDSA65PublicKey: (KeyKind.ML_DSA_PUBLIC_KEY, 192),
    mldsa.MLDSA87PublicKey: (KeyKind.ML_DSA_PUBLIC_KEY, 256),
    mlkem.MLKEM768PublicKey: (KeyKind.ML_KEM_PUBLIC_KEY, 768),
    mlkem.MLKEM1024PublicKey: (KeyKind.ML_KEM_PUBLIC_KEY, 1024),
}
_PQ_PRIVATE_CLASSES: dict[type, tuple[KeyKind, int]] = {
    mldsa.MLDSA44PrivateKey: (KeyKind.ML_DSA_KEY_PAIR, 128),
    mldsa.MLDSA65PrivateKey: (KeyKind.ML_DSA_KEY_PAIR, 192),
    mldsa.MLDSA87PrivateKey: (KeyKind.ML_DSA_KEY_PAIR, 256),
    mlkem.MLKEM768PrivateKey: (KeyKind.ML_KEM_KEY_PAIR, 768),
    mlkem.MLKEM1024PrivateKey: (KeyKind.ML_KEM_KEY_PAIR, 1024),
}

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey | \
    x448.X448PublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | \
    mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey | \
    mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey | \
    x448.X448PrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | \
    mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey | \
    mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey

HASHES = CRYPTOGRAPHY_HASHES
_PRIVATE_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey,
                  x448.X448PrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey,
                  mldsa.MLDSA44PrivateKey, mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey,
                  mlkem.MLKEM768PrivateKey, mlkem.MLKEM1024PrivateKey)
_PUBLIC_TYPES = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, x25519.X25519PublicKey,
                 x448.X448PublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey,
                 mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey,
                 mlkem.MLKEM768PublicKey, mlkem.MLKEM1024PublicKey)
_HASH_BY_NAME: dict[str, Hash] = {cls().name: h for h, cls in HASHES.items()}

_CURVE_BY_NAME: dict[str, tuple[EccFamily, int]] = {cls().name: key
                                                   for key, cls in WEIERSTRASS.items()}

# The hash that goes with a curve size when a key is created for ECDSA without naming one.
CURVE_HASH = {192: Hash.SHA_256, 224: Hash.SHA_256, 256: Hash.SHA_256, 384: Hash.SHA_384,
              512: Hash.SHA_512, 521: Hash.SHA_512}


# -- hashes ---------------------------------------------------------------------------------------

def hash_algorithm(h: Hash) -> hashes.HashAlgorithm:
    cls = HASHES.get(h)
    if cls is None:
        raise KeyTypeError(f"hash {h.name} is not available on the client side")
    return cls()


def psa_hash(alg: hashes.HashAlgorithm | Prehashed) -> Hash:
    """The PSA hash of a `cryptography` hash (or of the hash behind a `Prehashed`)."""
    # Prehashed has no public accessor for the hash it wraps.
    inner: hashes.HashAlgorithm = alg._algorithm if isinstance(alg, Prehashed) else alg
    h = _HASH_BY_NAME.get(inner.name)
    if h is None:
        raise KeyTypeError(f"hash {inner.name} has no PSA equivalent")
    return h


def digest(h: Hash, data: bytes) -> bytes:
    if h == Hash.RIPEMD160:
        return hashlib.new("ripemd160", data).digest()
    ctx = hashes.Hash(hash_algorithm(h))
    ctx.update(data)
    return ctx.finalize()


# -- curves ---------------------------------------------------------------------------------------

def curve_for(family: EccFamily | None, bits: int) -> ec.EllipticCurve:
    cls = WEIERSTRASS.get((family, bits)) if family is not None else None
    if cls is None:
        fam = family.name if family is not None else "?"
        raise KeyTypeError(f"no supported curve for family {fam} with {bits} bits")
    return cls()


def curve_params(curve: ec.EllipticCurve) -> tuple[EccFamily, int]:
    """(PSA family, key bits) of a `cryptography` curve."""
    params = _CURVE_BY_NAME.get(curve.name)
    if params is None:
        raise KeyTypeError(f"curve {curve.name} has no PSA equivalent")
    return params


def scalar_len(bits: int) -> int:
    return (bits + 7) // 8


# -- ECDSA signature encodings ------------------------------------------------------------------

def ecdsa_raw_to_der(raw: bytes) -> bytes:
    """r||s (two equal halves) to the DER `ECDSA-Sig-Value` X.509 and openssl use."""
    if not raw or len(raw) % 2:
        raise ValueError(f"a raw ECDSA signature has two equal halves, not {len(raw)} bytes")
    n = len(raw) // 2
    return encode_dss_signature(int.from_bytes(raw[:n], "big"), int.from_bytes(raw[n:], "big"))


def ecdsa_der_to_raw(der: bytes, bits: int) -> bytes:
    """DER `ECDSA-Sig-Value` to r||s for a curve of `bits` bits."""
    r, s = decode_dss_signature(der)
    n = scalar_len(bits)
    if r.bit_length() > 8 * n or s.bit_length() > 8 * n:
        raise ValueError("signature values are larger than the curve")
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


# -- public keys ----------------------------------------------------------------------------------

def public_key_from_psa(key_type: KeyType, bits: int, data: bytes) -> PublicKey:
    """A `cryptography` public key from what PsaExportPublicKey returned."""
    try:
        if key_type.is_rsa:
            key = serialization.load_der_public_key(data)  # accepts DER RSAPublicKey
            if not isinstance(key, rsa.RSAPublicKey):
                raise KeyTypeError("the service did not return an RSA public key")
            return key
        if key_type.is_ecc:
            if key_type.ecc_family == EccFamily.MONTGOMERY:
                if len(data) == 32:
                    return x25519.X25519PublicKey.from_public_bytes(data)
                return x448.X448PublicKey.from_public_bytes(data)
            if key_type.ecc_family == EccFamily.TWISTED_EDWARDS:
                if len(data) == 32:
                    return ed25519.Ed25519PublicKey.from_public_bytes(data)
                return ed448.Ed448PublicKey.from_public_bytes(data)
            return ec.EllipticCurvePublicKey.from_encoded_point(
                curve_for(key_type.ecc_family, bits), data)
        if key_type.is_ml_dsa or key_type.is_ml_kem:
            return _pq_public_key(key_type, bits, data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyTypeError(f"cannot load a {key_type.describe()} public key: {exc}") from None
    raise KeyTypeError(f"{key_type.describe()} keys have no public key the client can load")


def _pq_public_key(key_type: KeyType, bits: int, data: bytes) -> PublicKey:
    """ML-DSA / ML-KEM public keys (ML-KEM-512 has no `cryptography` class)."""
    wanted = (key_type.public_type().kind, bits)
    for cls, kind_bits in _PQ_PUBLIC_CLASSES.items():
        if kind_bits == wanted:
            key: PublicKey = cls.from_public_bytes(data)  # type: ignore[attr-defined]
            return key
    raise KeyTypeError(f"{key_type.describe()} public keys of {bits} bits cannot be loaded by "
                       "the cryptography package")


def pq_key_params(key: PrivateKey | PublicKey) -> tuple[KeyType, int]:
    """(PSA key type, key_bits) of an ML-DSA or ML-KEM `cryptography` key."""
    for table in (_PQ_PRIVATE_CLASSES, _PQ_PUBLIC_CLASSES):
        for cls, (kind, bits) in table.items():
            if isinstance(key, cls):
                return KeyType(kind), bits
    raise KeyTypeError(f"{type(key).__name__} is not an ML-DSA or ML-KEM key")


def public_key_to_psa(key: PublicKey) -> tuple[KeyType, int, bytes]:
    """(public key type, bits, PSA public format) of a `cryptography` public key."""
    if isinstance(key, rsa.RSAPublicKey):
        return (KeyType.rsa_public_key(), key.key_size,
                key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    if isinstance(key, ec.EllipticCurvePublicKey):
        family, bits = curve_params(key.curve)
        return (KeyType.ecc_public_key(family), bits,
                key.public_bytes(serialization.Encoding.X962,
                                 serialization.PublicFormat.UncompressedPoint))
    if isinstance(key, (x25519.X25519PublicKey, x448.X448PublicKey)):
        bits = 255 if isinstance(key, x25519.X25519PublicKey) else 448
        return (KeyType.ecc_public_key(EccFamily.MONTGOMERY), bits,
                key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        bits = 255 if isinstance(key, ed25519.Ed25519PublicKey) else 448
        return (KeyType.ecc_public_key(EccFamily.TWISTED_EDWARDS), bits,
                key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    for cls, (kind, bits) in _PQ_PUBLIC_CLASSES.items():
        if isinstance(key, cls):
            return KeyType(kind), bits, key.public_bytes_raw()
    raise KeyTypeError(f"{type(key).__name__} has no PSA key type")


def private_key_to_psa(key: PrivateKey) -> tuple[KeyType, int, bytes]:
    """(key pair type, bits, PSA key-pair format) of a `cryptography` private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return (KeyType.rsa_key_pair(), key.key_size,
                key.private_bytes(serialization.Encoding.DER,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        family, bits = curve_params(key.curve)
        scalar = key.private_numbers().private_value.to_bytes(scalar_len(bits), "big")
        return KeyType.ecc_key_pair(family), bits, scalar
    if isinstance(key, (x25519.X25519PrivateKey, x448.X448PrivateKey)):
        bits = 255 if isinstance(key, x25519.X25519PrivateKey) else 448
        return (KeyType.ecc_key_pair(EccFamily.MONTGOMERY), bits,
                key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption()))
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        bits = 255 if isinstance(key, ed25519.Ed25519PrivateKey) else 448
        return (KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), bits,
                key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption()))
    for cls, (kind, bits) in _PQ_PRIVATE_CLASSES.items():
        if isinstance(key, cls):
            return KeyType(kind), bits, key.private_bytes_raw()
    raise KeyTypeError(f"{type(key).__name__} has no PSA key type")


def private_key_from_psa(key_type: KeyType, bits: int, data: bytes) -> PrivateKey:
    """A `cryptography` private key from what PsaExportKey returned for a key pair."""
    try:
        if key_type.kind == KeyKind.RSA_KEY_PAIR:
            key = serialization.load_der_private_key(data, None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise KeyTypeError("the service did not return an RSA private key")
            return key
        if key_type.kind == KeyKind.ECC_KEY_PAIR:
            if key_type.ecc_family == EccFamily.MONTGOMERY:
                if len(data) == 32:
                    return x25519.X25519PrivateKey.from_private_bytes(data)
                return x448.X448PrivateKey.from_private_bytes(data)
            if key_type.ecc_family == EccFamily.TWISTED_EDWARDS:
                if len(data) == 32:
                    return ed25519.Ed25519PrivateKey.from_private_bytes(data)
                return ed448.Ed448PrivateKey.from_private_bytes(data)
            return ec.derive_private_key(int.from_bytes(data, "big"),
                                         curve_for(key_type.ecc_family, bits))
        for cls, kind_bits in _PQ_PRIVATE_CLASSES.items():
            if kind_bits == (key_type.kind, bits):
                pq: PrivateKey = cls.from_seed_bytes(data)  # type: ignore[attr-defined]
                return pq
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyTypeError(f"cannot load a {key_type.describe()} key: {exc}") from None
    raise KeyTypeError(f"{key_type.describe()} is not an asymmetric key pair")


def load_key(data: bytes, password: bytes | None = None) -> PrivateKey | PublicKey:
    """Parse a key file: PEM or DER; PKCS#8, SubjectPublicKeyInfo, PKCS#1 (RSA) or SEC1 (EC)."""
    pem = data.lstrip().startswith(b"-----BEGIN")

    def private() -> object:
        if pem:
            return serialization.load_pem_private_key(data, password)
        return serialization.load_der_private_key(data, password)

    def public() -> object:
        if pem:
            return serialization.load_pem_public_key(data)
        return serialization.load_der_public_key(data)

    for load in (private, public):
        try:
            key = load()
        except TypeError as exc:  # encrypted without a password, or a password not needed
            raise KeyTypeError(str(exc)) from None
        except (ValueError, UnsupportedAlgorithm):
            continue
        if isinstance(key, (*_PRIVATE_TYPES, *_PUBLIC_TYPES)):
            return key
        raise KeyTypeError(f"{type(key).__name__} keys cannot be used with Parsec")
    raise KeyTypeError("not a PEM or DER key (PKCS#8, SubjectPublicKeyInfo, PKCS#1 or SEC1)")


def spki_der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def public_pem(key: PublicKey, pkcs1: bool = False) -> str:
    """PEM SubjectPublicKeyInfo, or the PKCS#1 "RSA PUBLIC KEY" form for RSA."""
    if pkcs1:
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyTypeError("the PKCS#1 format exists for RSA keys only")
        fmt = serialization.PublicFormat.PKCS1
    else:
        fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.PEM, fmt).decode()


def private_pem(key: PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
