"""Key formats between the Parsec wire (PSA export formats) and `cryptography` key objects, for
client programs: the conversions of `pqparsec.protocol.psa.crypto` (which the providers use too),
with the client's errors (`KeyTypeError`), and key files (PEM / DER).

PSA formats: an RSA public key is a DER RSAPublicKey (PKCS#1), an RSA key pair a DER
RSAPrivateKey; a Weierstrass ECC public key is the uncompressed point 0x04||X||Y and a key pair
the big-endian private scalar; Montgomery keys (X25519/X448) are their RFC 7748 raw bytes. An
ECDSA signature on the wire is r||s, each as long as the curve's scalar.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.psa import EccFamily, Hash, KeyAttributes, KeyKind, KeyType, crypto
from pqparsec.protocol.psa.crypto import ecdsa_der_to_raw, ecdsa_raw_to_der, scalar_len
from pqparsec.protocol.status import ParsecError

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey | \
    x448.X448PublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | \
    mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey | \
    mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey | \
    x448.X448PrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | \
    mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey | \
    mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey

HASHES = crypto.CRYPTOGRAPHY_HASHES
_PRIVATE_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey,
                  x448.X448PrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey,
                  mldsa.MLDSA44PrivateKey, mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey,
                  mlkem.MLKEM768PrivateKey, mlkem.MLKEM1024PrivateKey)
_PUBLIC_TYPES = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, x25519.X25519PublicKey,
                 x448.X448PublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey,
                 mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey,
                 mlkem.MLKEM768PublicKey, mlkem.MLKEM1024PublicKey)
_CLASSIC_PRIVATE = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey,
                    x448.X448PrivateKey)

# The hash that goes with a curve size when a key is created for ECDSA without naming one.
CURVE_HASH = {192: Hash.SHA_256, 224: Hash.SHA_256, 256: Hash.SHA_256, 384: Hash.SHA_384,
              512: Hash.SHA_512, 521: Hash.SHA_512}

__all__ = [
    "CURVE_HASH", "HASHES", "PrivateKey", "PublicKey", "curve_for", "curve_params", "digest",
    "ecdsa_der_to_raw", "ecdsa_raw_to_der", "hash_algorithm", "load_key", "pq_key_params",
    "private_key_from_psa", "private_key_to_psa", "private_pem", "psa_hash", "public_key_from_psa",
    "public_key_to_psa", "public_pem", "scalar_len", "spki_der",
]


@contextmanager
def _key_type_errors() -> Iterator[None]:
    """The conversions' ParsecErrors as the client's KeyTypeError."""
    try:
        yield
    except ParsecError as exc:
        raise KeyTypeError(exc.message) from None


# -- hashes and curves ----------------------------------------------------------------------------

def hash_algorithm(h: Hash) -> hashes.HashAlgorithm:
    with _key_type_errors():
        return crypto.hash_algorithm(h, HASHES)


def psa_hash(alg: hashes.HashAlgorithm | Prehashed) -> Hash:
    """The PSA hash of a `cryptography` hash (or of the hash behind a `Prehashed`)."""
    with _key_type_errors():
        return crypto.psa_hash(alg)


def digest(h: Hash, data: bytes) -> bytes:
    with _key_type_errors():
        return crypto.digest(h, data)


def curve_for(family: EccFamily | None, bits: int) -> ec.EllipticCurve:
    with _key_type_errors():
        return crypto.curve_for(family, bits)


def curve_params(curve: ec.EllipticCurve) -> tuple[EccFamily, int]:
    """(PSA family, key bits) of a `cryptography` curve."""
    with _key_type_errors():
        return crypto.curve_params(curve)


# -- keys -----------------------------------------------------------------------------------------

def _extension(key_type: KeyType) -> bool:
    """Edwards, ML-DSA and ML-KEM keys: raw formats (crypto.load_extension_*)."""
    return key_type.ecc_family == EccFamily.TWISTED_EDWARDS or key_type.is_ml_dsa \
        or key_type.is_ml_kem


def public_key_from_psa(key_type: KeyType, bits: int, data: bytes) -> PublicKey:
    """A `cryptography` public key from what PsaExportPublicKey returned."""
    with _key_type_errors():
        if _extension(key_type):
            key: PublicKey = crypto.load_extension_public(key_type, bits, data)  # type: ignore[assignment]
            return key
        if key_type.is_rsa or key_type.is_ecc:
            pub = crypto.load_public(data, KeyAttributes(key_type.public_type(), bits))
            assert isinstance(pub, _PUBLIC_TYPES)
            return pub
    raise KeyTypeError(f"{key_type.describe()} keys have no public key the client can load")


def pq_key_params(key: PrivateKey | PublicKey) -> tuple[KeyType, int]:
    """(PSA key type, key_bits) of an ML-DSA or ML-KEM `cryptography` key."""
    params = crypto.pq_key_params(key)
    if params is None:
        raise KeyTypeError(f"{type(key).__name__} is not an ML-DSA or ML-KEM key")
    return params


def public_key_to_psa(key: PublicKey) -> tuple[KeyType, int, bytes]:
    """(public key type, bits, PSA public format) of a `cryptography` public key."""
    if not isinstance(key, _PUBLIC_TYPES):
        raise KeyTypeError(f"{type(key).__name__} has no PSA key type")
    with _key_type_errors():
        kt, bits = crypto.key_params(key)
        return kt, bits, crypto.export_public(key)


def private_key_to_psa(key: PrivateKey) -> tuple[KeyType, int, bytes]:
    """(key pair type, bits, PSA key-pair format) of a `cryptography` private key."""
    if not isinstance(key, _PRIVATE_TYPES):
        raise KeyTypeError(f"{type(key).__name__} has no PSA key type")
    with _key_type_errors():
        kt, bits = crypto.key_params(key)
        if isinstance(key, _CLASSIC_PRIVATE):
            return kt, bits, bytes(crypto.export_private(key))
        return kt, bits, crypto.export_extension_private(key)


def private_key_from_psa(key_type: KeyType, bits: int, data: bytes) -> PrivateKey:
    """A `cryptography` private key from what PsaExportKey returned for a key pair."""
    with _key_type_errors():
        if key_type.is_key_pair and _extension(key_type):
            key: PrivateKey = crypto.load_extension_private(key_type, bits, data)  # type: ignore[assignment]
            return key
        if key_type.kind in (KeyKind.RSA_KEY_PAIR, KeyKind.ECC_KEY_PAIR):
            priv = crypto.load_private(data, KeyAttributes(key_type, bits))
            assert isinstance(priv, _PRIVATE_TYPES)
            return priv
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
